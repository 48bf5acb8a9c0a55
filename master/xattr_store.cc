#include "master/xattr_store.h"

#include <cerrno>

#include "master/posix_acl.h"

namespace hafs::master {

Status XattrStore::CheckName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Status::Error(ERANGE, "an extended attribute's name must be 1-255 bytes");
  }
  for (std::string_view prefix : {"user.", "trusted.", "security."}) {
    if (name.starts_with(prefix) && name.size() > prefix.size()) return Status::Ok();
  }
  if (name == kAccessAclName || name == kDefaultAclName) return Status::Ok();
  return Status::Error(EOPNOTSUPP, "only user.*, trusted.*, security.* and POSIX ACL extended attributes are kept");
}

Status XattrStore::Set(uint64_t inode, std::string_view name, std::string_view value, uint32_t flags) {
  if (flags & ~(kXattrCreate | kXattrReplace)) return Status::Error(EINVAL, "unknown setxattr flags");
  if (value.size() > kMaxValueBytes) return Status::Error(E2BIG, "an extended attribute's value is at most 64 KiB");
  Attributes& attributes = by_inode_[inode];
  auto existing = attributes.values.find(name);
  Status refused;
  if (existing != attributes.values.end() && (flags & kXattrCreate)) {
    refused = Status::Error(EEXIST, "the extended attribute exists (XATTR_CREATE)");
  } else if (existing == attributes.values.end() && (flags & kXattrReplace)) {
    refused = Status::Error(ENODATA, "no such extended attribute (XATTR_REPLACE)");
  } else {
    size_t old_bytes = existing == attributes.values.end() ? 0 : name.size() + existing->second.size();
    if (attributes.bytes - old_bytes + name.size() + value.size() > kMaxBytesPerInode) {
      refused = Status::Error(ENOSPC, "an inode's extended attributes are at most 1 MiB together");
    }
  }
  if (!refused.ok()) {
    if (attributes.values.empty()) by_inode_.erase(inode);
    return refused;
  }
  if (existing == attributes.values.end()) {
    attributes.values.emplace(std::string(name), std::string(value));
    attributes.bytes += name.size() + value.size();
  } else {
    attributes.bytes = attributes.bytes - existing->second.size() + value.size();
    existing->second.assign(value);
  }
  return Status::Ok();
}

Status XattrStore::Remove(uint64_t inode, std::string_view name) {
  auto attributes = by_inode_.find(inode);
  if (attributes == by_inode_.end()) return Status::Error(ENODATA, "no such extended attribute");
  auto existing = attributes->second.values.find(name);
  if (existing == attributes->second.values.end()) return Status::Error(ENODATA, "no such extended attribute");
  attributes->second.bytes -= existing->first.size() + existing->second.size();
  attributes->second.values.erase(existing);
  if (attributes->second.values.empty()) by_inode_.erase(attributes);
  return Status::Ok();
}

const std::string* XattrStore::Find(uint64_t inode, std::string_view name) const {
  auto attributes = by_inode_.find(inode);
  if (attributes == by_inode_.end()) return nullptr;
  auto existing = attributes->second.values.find(name);
  return existing == attributes->second.values.end() ? nullptr : &existing->second;
}

std::vector<std::string> XattrStore::Names(uint64_t inode) const {
  std::vector<std::string> names;
  ForEach(inode, [&names](const std::string& name, const std::string&) { names.push_back(name); });
  return names;
}

void XattrStore::ForEach(uint64_t inode,
                         const std::function<void(const std::string&, const std::string&)>& visit) const {
  auto attributes = by_inode_.find(inode);
  if (attributes == by_inode_.end()) return;
  for (const auto& [name, value] : attributes->second.values) visit(name, value);
}

}  // namespace hafs::master
