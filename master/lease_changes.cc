#include "master/lease_changes.h"

#include <algorithm>

#include "master/namespace.h"

namespace hafs::master {
namespace {

using Kind = MetadataLeases::Kind;

// A name made, removed or replaced in `parent`: the name, the directory's own attributes
// (mtime, nlink) and those of the inode it named before (nlink, ctime).
void NameChanged(uint64_t parent, const std::string& name, const Namespace& tree, std::vector<CachedMetadata>* changed) {
  changed->push_back({parent, Kind::kEntries, name});
  changed->push_back({parent, Kind::kAttr, {}});
  if (auto target = tree.Lookup(parent, name)) changed->push_back({target->inode(), Kind::kAttr, {}});
}

}  // namespace

std::vector<CachedMetadata> ChangedBy(const wire::Envelope& request, const Namespace& tree) {
  std::vector<CachedMetadata> changed;
  auto attr = [&](uint64_t inode) { changed.push_back({inode, Kind::kAttr, {}}); };
  switch (request.body_case()) {
    case wire::Envelope::kMknod:
      NameChanged(request.mknod().parent(), request.mknod().name(), tree, &changed);
      break;
    case wire::Envelope::kMkdir:
      NameChanged(request.mkdir().parent(), request.mkdir().name(), tree, &changed);
      break;
    case wire::Envelope::kSymlink:
      NameChanged(request.symlink().parent(), request.symlink().name(), tree, &changed);
      break;
    case wire::Envelope::kLink:
      NameChanged(request.link().new_parent(), request.link().new_name(), tree, &changed);
      attr(request.link().inode());
      break;
    case wire::Envelope::kUnlink:
      NameChanged(request.unlink().parent(), request.unlink().name(), tree, &changed);
      break;
    case wire::Envelope::kRmdir:
      NameChanged(request.rmdir().parent(), request.rmdir().name(), tree, &changed);
      break;
    case wire::Envelope::kRename:
      NameChanged(request.rename().parent(), request.rename().name(), tree, &changed);
      NameChanged(request.rename().new_parent(), request.rename().new_name(), tree, &changed);
      break;
    case wire::Envelope::kSetAttr:
      attr(request.set_attr().inode());
      break;
    case wire::Envelope::kWriteDone:
      attr(request.write_done().inode());
      break;
    case wire::Envelope::kAppend:
      attr(request.append().inode());
      break;
    case wire::Envelope::kFallocate:
      attr(request.fallocate().inode());
      break;
    case wire::Envelope::kSetXattr:  // ctime, and an ACL the kernel keeps with the attributes
      attr(request.set_xattr().inode());
      break;
    case wire::Envelope::kRemoveXattr:
      attr(request.remove_xattr().inode());
      break;
    default:
      break;
  }
  return changed;
}

void GrantLeases(uint64_t session, const wire::Envelope& request, int64_t now_ms, MetadataLeases& leases,
                 wire::Reply* reply) {
  auto entries = [&](uint64_t directory) {
    reply->set_entry_lease_ms(leases.Grant(session, directory, Kind::kEntries, now_ms));
  };
  auto attr = [&] {
    if (reply->has_attr()) reply->set_attr_lease_ms(leases.Grant(session, reply->attr().inode(), Kind::kAttr, now_ms));
  };
  switch (request.body_case()) {
    case wire::Envelope::kLookup:
      entries(request.lookup().parent());
      attr();
      break;
    case wire::Envelope::kMknod:
      entries(request.mknod().parent());
      attr();
      break;
    case wire::Envelope::kMkdir:
      entries(request.mkdir().parent());
      attr();
      break;
    case wire::Envelope::kSymlink:
      entries(request.symlink().parent());
      attr();
      break;
    case wire::Envelope::kLink:
      entries(request.link().new_parent());
      attr();
      break;
    case wire::Envelope::kRename:  // the kernel moves its entry into the new directory
      entries(request.rename().new_parent());
      break;
    case wire::Envelope::kGetAttr:
    case wire::Envelope::kSetAttr:
      attr();
      break;
    case wire::Envelope::kReadDir: {
      entries(request.read_dir().inode());
      uint32_t shortest = reply->entry_lease_ms();
      for (const wire::DirEntry& entry : reply->entries()) {
        shortest = std::min(shortest, leases.Grant(session, entry.attr().inode(), Kind::kAttr, now_ms));
      }
      reply->set_attr_lease_ms(shortest);
      break;
    }
    default:
      break;
  }
}

}  // namespace hafs::master
