#include "master/namespace.h"

#include <sys/stat.h>

#include <algorithm>

#include "common/block_checksum.h"
#include "common/protocol_limits.h"

namespace hafs::master {
namespace {

constexpr uint32_t kDefaultReadDirEntries = 1024;
// More are cut to this (the client asks for the rest after the last name): a reply of a
// whole huge directory would be one unbounded message.
constexpr uint32_t kMaxReadDirEntries = 16384;

bool IsDir(const Inode& inode) { return S_ISDIR(inode.mode); }

Status CheckName(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) {
    return Status::Error(EINVAL, "invalid name '" + std::string(name) + "'");
  }
  if (name.size() > kMaxNameBytes) return Status::Error(ENAMETOOLONG, "name longer than 255 bytes");
  return Status::Ok();
}

}  // namespace

Namespace::Namespace(uint32_t default_goal) : default_goal_(static_cast<uint8_t>(default_goal)) {
  Clear(kRootInode + 1);
  Inode& root = inodes_.Insert(kRootInode);
  root.mode = S_IFDIR | 0755;
  root.nlink = 2;
  root.goal = default_goal_;
  root.parent = kRootInode;
  directories_[kRootInode];
}

wire::Attr Namespace::MakeAttr(uint64_t id, const Inode& inode) const {
  wire::Attr attr;
  attr.set_inode(id);
  attr.set_mode(inode.mode);
  attr.set_uid(inode.uid);
  attr.set_gid(inode.gid);
  attr.set_size(inode.size);
  attr.set_nlink(inode.nlink);
  attr.set_atime_ns(inode.atime_ns);
  attr.set_mtime_ns(inode.mtime_ns);
  attr.set_ctime_ns(inode.ctime_ns);
  attr.set_rdev(inode.rdev);
  attr.set_has_xattrs(xattrs_.Any(id));
  uint64_t extent = Extent(id, inode);
  if (extent > inode.size) attr.set_reserved_end(extent);
  if (auto chunks = chunk_ids_.find(id); chunks != chunk_ids_.end()) {
    uint64_t allocated = 0;
    for (uint64_t index = 0; index < chunks->second.size(); ++index) {
      uint64_t start = index * kChunkSize;
      if (chunks->second[index] != 0 && start < extent) allocated += std::min(kChunkSize, extent - start);
    }
    attr.set_allocated_bytes(allocated);
  }
  return attr;
}

uint64_t Namespace::Extent(uint64_t id, const Inode& inode) const {
  auto reserved = reserved_ends_.find(id);
  return reserved == reserved_ends_.end() ? inode.size : std::max(inode.size, reserved->second);
}

Result<wire::Attr> Namespace::GetAttr(uint64_t id) const {
  const Inode* inode = inodes_.Find(id);
  if (!inode) return Fail(ENOENT, "no inode " + std::to_string(id));
  return MakeAttr(id, *inode);
}

uint64_t Namespace::OnlyLinkParent(uint64_t id) const {
  const Inode* inode = inodes_.Find(id);
  if (!inode || id == kRootInode || !(IsDir(*inode) || (S_ISREG(inode->mode) && inode->nlink == 1))) return 0;
  return inode->parent;
}

Result<Directory*> Namespace::FindDirectory(uint64_t id) {
  const Inode* inode = inodes_.Find(id);
  if (!inode) return Fail(ENOENT, "no inode " + std::to_string(id));
  if (!IsDir(*inode)) return Fail(ENOTDIR, "inode " + std::to_string(id) + " is not a directory");
  return &directories_[id];
}

Result<wire::Attr> Namespace::Lookup(uint64_t parent, std::string_view name) const {
  const Inode* inode = inodes_.Find(parent);
  if (!inode) return Fail(ENOENT, "no inode " + std::to_string(parent));
  if (!IsDir(*inode)) return Fail(ENOTDIR, "inode " + std::to_string(parent) + " is not a directory");
  if (Status status = CheckName(name); !status.ok()) return Fail(status);
  const Directory& directory = directories_.at(parent);
  auto entry = directory.entries.find(name);
  if (entry == directory.entries.end()) return Fail(ENOENT, "no entry '" + std::string(name) + "'");
  return GetAttr(entry->inode);
}

Result<uint64_t> Namespace::ResolveDirectory(std::string_view path) const {
  uint64_t id = kRootInode;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view name = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (name.empty() || name == ".") continue;
    auto entry = Lookup(id, name);
    if (!entry) return Fail(entry.error());
    if (!S_ISDIR(entry->mode())) return Fail(ENOTDIR, "'" + std::string(name) + "' is not a directory");
    id = entry->inode();
  }
  return id;
}

Result<std::string> Namespace::Readlink(uint64_t id) const {
  auto target = symlink_targets_.find(id);
  if (target == symlink_targets_.end()) {
    if (!inodes_.Find(id)) return Fail(ENOENT, "no inode " + std::to_string(id));
    return Fail(EINVAL, "inode " + std::to_string(id) + " is not a symlink");
  }
  return target->second;
}

Status Namespace::ReadDir(const wire::ReadDirRequest& request, wire::Reply* reply) const {
  const Inode* inode = inodes_.Find(request.inode());
  if (!inode) return Status::Error(ENOENT, "no inode " + std::to_string(request.inode()));
  if (!IsDir(*inode)) return Status::Error(ENOTDIR, "not a directory");
  const Directory& directory = directories_.at(request.inode());
  uint32_t max_entries =
      request.max_entries() == 0 ? kDefaultReadDirEntries : std::min(request.max_entries(), kMaxReadDirEntries);
  auto entry = request.after_name().empty() ? directory.entries.begin()
                                            : directory.entries.upper_bound(std::string_view(request.after_name()));
  for (uint32_t count = 0; entry != directory.entries.end() && count < max_entries; ++entry, ++count) {
    wire::DirEntry* out = reply->add_entries();
    out->set_name(std::string(entry->name.view()));
    *out->mutable_attr() = MakeAttr(entry->inode, *inodes_.Find(entry->inode));
  }
  reply->set_end_of_directory(entry == directory.entries.end());
  return Status::Ok();
}

void Namespace::TouchDirectory(uint64_t directory, int64_t now_ns) {
  Inode* inode = inodes_.Find(directory);
  inode->mtime_ns = inode->ctime_ns = now_ns;
}

Result<Inode*> Namespace::NewInode(uint64_t parent, std::string_view name, uint32_t mode,
                                   const wire::Credentials& credentials, int64_t now_ns, uint64_t wanted,
                                   uint64_t* id) {
  if (Status status = CheckName(name); !status.ok()) return Fail(status);
  auto directory = FindDirectory(parent);
  if (!directory) return Fail(directory.error());
  if ((*directory)->entries.contains(name)) return Fail(EEXIST, "'" + std::string(name) + "' exists");
  const Inode& parent_inode = *inodes_.Find(parent);
  // Symlinks have no ACLs, and their mode is always 0777.
  auto inherited = S_ISLNK(mode) ? std::optional<PosixAcl>() : DefaultAcl(parent);
  if (!inherited) return Fail(inherited.error());
  uint32_t gid = credentials.gid();
  if (parent_inode.mode & S_ISGID) {
    gid = parent_inode.gid;
    if (S_ISDIR(mode)) mode |= S_ISGID;
  }
  if (wanted != 0 && (wanted >= next_inode_ || inodes_.Find(wanted) != nullptr)) {
    return Fail(EEXIST, "inode " + std::to_string(wanted) + " is taken or not set aside");
  }
  *id = wanted != 0 ? wanted : next_inode_++;
  Inode& inode = inodes_.Insert(*id);
  inode.mode = mode;
  inode.uid = credentials.uid();
  inode.gid = gid;
  inode.nlink = 1;
  inode.goal = parent_inode.goal;
  inode.atime_ns = inode.mtime_ns = inode.ctime_ns = now_ns;
  inode.parent = parent;
  if (!S_ISLNK(mode)) InheritAcls(*id, inode, *inherited, credentials.umask());
  (*directory)->entries.emplace(name, *id);
  entry_count_++;
  TouchDirectory(parent, now_ns);
  return &inode;
}

Result<wire::Attr> Namespace::Mknod(const wire::MknodRequest& request, int64_t now_ns) {
  uint32_t mode = request.mode();
  if ((mode & S_IFMT) == 0) mode |= S_IFREG;
  if (S_ISDIR(mode) || S_ISLNK(mode)) return Fail(EINVAL, "mknod cannot make directories or symlinks");
  if (!request.exclusive()) {
    auto existing = Lookup(request.parent(), request.name());
    if (existing && S_ISREG(existing->mode())) return existing;
  }
  uint64_t id;
  auto inode = NewInode(request.parent(), request.name(), mode, request.credentials(), now_ns, request.inode(), &id);
  if (!inode) return Fail(inode.error());
  (*inode)->rdev = request.rdev();
  return MakeAttr(id, **inode);
}

Result<wire::Attr> Namespace::Mkdir(const wire::MkdirRequest& request, int64_t now_ns) {
  uint64_t id;
  auto inode = NewInode(request.parent(), request.name(), S_IFDIR | (request.mode() & 07777), request.credentials(),
                        now_ns, request.inode(), &id);
  if (!inode) return Fail(inode.error());
  (*inode)->nlink = 2;
  directories_[id];  // its ".." is the inode's parent, set by NewInode
  inodes_.Find(request.parent())->nlink++;
  return MakeAttr(id, **inode);
}

Result<wire::Attr> Namespace::Symlink(const wire::SymlinkRequest& request, int64_t now_ns) {
  if (request.target().empty()) return Fail(ENOENT, "empty symlink target");
  if (request.target().size() >= 4096) return Fail(ENAMETOOLONG, "symlink target too long");
  uint64_t id;
  auto inode = NewInode(request.parent(), request.name(), S_IFLNK | 0777, request.credentials(), now_ns,
                        request.inode(), &id);
  if (!inode) return Fail(inode.error());
  (*inode)->size = request.target().size();
  symlink_targets_[id] = request.target();
  return MakeAttr(id, **inode);
}

Result<wire::Attr> Namespace::Link(const wire::LinkRequest& request, int64_t now_ns) {
  Inode* inode = inodes_.Find(request.inode());
  if (!inode) return Fail(ENOENT, "no inode " + std::to_string(request.inode()));
  if (IsDir(*inode)) return Fail(EPERM, "hard links to directories are not allowed");
  // As Linux: a file that lost its last name gets none back (linkat of an open descriptor).
  if (orphans_.contains(request.inode())) return Fail(ENOENT, "inode " + std::to_string(request.inode()) + " has no name left");
  if (Status status = CheckName(request.new_name()); !status.ok()) return Fail(status);
  auto directory = FindDirectory(request.new_parent());
  if (!directory) return Fail(directory.error());
  if ((*directory)->entries.contains(request.new_name())) return Fail(EEXIST, "'" + request.new_name() + "' exists");
  (*directory)->entries.emplace(request.new_name(), request.inode());
  entry_count_++;
  inode->nlink++;
  inode->ctime_ns = now_ns;
  link_parents_.Linked(request.inode(), request.new_parent(), &inode->parent);
  TouchDirectory(request.new_parent(), now_ns);
  return MakeAttr(request.inode(), *inode);
}

void Namespace::DropLink(uint64_t id, uint64_t parent, int64_t now_ns, bool keep_open_file,
                         std::vector<uint64_t>* freed_chunks) {
  Inode* inode = inodes_.Find(id);
  bool is_dir = IsDir(*inode);
  if (!is_dir && inode->nlink > 1) {
    inode->nlink--;
    inode->ctime_ns = now_ns;
    link_parents_.Unlinked(id, parent, &inode->parent);
    return;
  }
  if (keep_open_file && S_ISREG(inode->mode)) {
    // Open somewhere: it loses its name, not its bytes. Inode::parent stays, so that an
    // export still admits its open descriptors.
    inode->nlink = 0;
    inode->ctime_ns = now_ns;
    link_parents_.Forget(id);
    orphans_.insert(id);
    return;
  }
  Free(id, freed_chunks);
}

void Namespace::Free(uint64_t id, std::vector<uint64_t>* freed_chunks) {
  link_parents_.Forget(id);
  if (IsDir(*inodes_.Find(id))) {
    directories_.erase(id);
  } else if (auto chunks = chunk_ids_.find(id); chunks != chunk_ids_.end()) {
    for (uint64_t chunk_id : chunks->second) {
      if (chunk_id != 0) freed_chunks->push_back(chunk_id);
    }
    chunk_ids_.erase(chunks);
  }
  symlink_targets_.erase(id);
  reserved_ends_.erase(id);
  xattrs_.Forget(id);
  inodes_.Erase(id);
}

Status Namespace::ReleaseOrphan(const wire::ReleaseOrphan& release, std::vector<uint64_t>* freed_chunks) {
  if (orphans_.erase(release.inode()) == 0) {
    return Status::Error(ENOENT, "inode " + std::to_string(release.inode()) + " is not an open-unlinked file");
  }
  Free(release.inode(), freed_chunks);
  return Status::Ok();
}

Status Namespace::Unlink(const wire::UnlinkRequest& request, int64_t now_ns, std::vector<uint64_t>* freed_chunks) {
  auto directory = FindDirectory(request.parent());
  if (!directory) return directory.error();
  auto entry = (*directory)->entries.find(std::string_view(request.name()));
  if (entry == (*directory)->entries.end()) return Status::Error(ENOENT, "no entry '" + request.name() + "'");
  uint64_t id = entry->inode;
  if (IsDir(*inodes_.Find(id))) return Status::Error(EISDIR, "'" + request.name() + "' is a directory");
  (*directory)->entries.erase(entry);
  entry_count_--;
  TouchDirectory(request.parent(), now_ns);
  DropLink(id, request.parent(), now_ns, request.keep_open_file(), freed_chunks);
  return Status::Ok();
}

Status Namespace::Rmdir(const wire::RmdirRequest& request, int64_t now_ns) {
  auto directory = FindDirectory(request.parent());
  if (!directory) return directory.error();
  auto entry = (*directory)->entries.find(std::string_view(request.name()));
  if (entry == (*directory)->entries.end()) return Status::Error(ENOENT, "no entry '" + request.name() + "'");
  uint64_t id = entry->inode;
  if (!IsDir(*inodes_.Find(id))) return Status::Error(ENOTDIR, "'" + request.name() + "' is not a directory");
  if (!directories_.at(id).entries.empty()) return Status::Error(ENOTEMPTY, "'" + request.name() + "' is not empty");
  (*directory)->entries.erase(entry);
  entry_count_--;
  inodes_.Find(request.parent())->nlink--;
  TouchDirectory(request.parent(), now_ns);
  std::vector<uint64_t> no_chunks;
  DropLink(id, request.parent(), now_ns, /*keep_open_file=*/false, &no_chunks);
  return Status::Ok();
}

bool Namespace::IsUnder(uint64_t id, uint64_t subtree) const {
  // A file with several links is under the subtree when any of them is.
  for (uint64_t other_parent : link_parents_.Others(id)) {
    if (IsUnder(other_parent, subtree)) return true;
  }
  // Bounded by the number of inodes, so a parent cycle (which no mutation makes) cannot hang.
  for (uint64_t steps = 0; steps <= inodes_.size(); ++steps) {
    if (id == subtree) return true;
    const Inode* inode = inodes_.Find(id);
    if (inode == nullptr || id == kRootInode) return false;
    id = inode->parent;
  }
  return false;
}

void Namespace::MoveEntry(uint64_t id, Inode& inode, uint64_t old_parent, uint64_t new_parent) {
  link_parents_.Moved(id, old_parent, new_parent, &inode.parent);
  if (old_parent == new_parent || !IsDir(inode)) return;
  inodes_.Find(old_parent)->nlink--;
  inodes_.Find(new_parent)->nlink++;
}

Status Namespace::Rename(const wire::RenameRequest& request, int64_t now_ns, std::vector<uint64_t>* freed_chunks) {
  uint32_t flags = request.flags();
  if (flags & ~(kRenameNoReplace | kRenameExchange)) return Status::Error(EINVAL, "unknown rename flags");
  if ((flags & kRenameNoReplace) && (flags & kRenameExchange)) {
    return Status::Error(EINVAL, "RENAME_NOREPLACE and RENAME_EXCHANGE together");
  }
  if (Status status = CheckName(request.new_name()); !status.ok()) return status;
  auto source_dir = FindDirectory(request.parent());
  if (!source_dir) return source_dir.error();
  auto target_dir = FindDirectory(request.new_parent());
  if (!target_dir) return target_dir.error();
  auto source = (*source_dir)->entries.find(std::string_view(request.name()));
  if (source == (*source_dir)->entries.end()) return Status::Error(ENOENT, "no entry '" + request.name() + "'");
  auto target = (*target_dir)->entries.find(std::string_view(request.new_name()));
  bool target_exists = target != (*target_dir)->entries.end();
  uint64_t source_id = source->inode;
  Inode* source_inode = inodes_.Find(source_id);
  bool source_is_dir = IsDir(*source_inode);

  if (source_is_dir && IsUnder(request.new_parent(), source_id)) {
    return Status::Error(EINVAL, "cannot move a directory into itself");
  }
  if (flags & kRenameExchange) {
    if (!target_exists) return Status::Error(ENOENT, "no entry '" + request.new_name() + "'");
    uint64_t target_id = target->inode;
    Inode* target_inode = inodes_.Find(target_id);
    if (IsDir(*target_inode) && IsUnder(request.parent(), target_id)) {
      return Status::Error(EINVAL, "cannot move a directory into itself");
    }
    source->inode = target_id;
    target->inode = source_id;
    MoveEntry(source_id, *source_inode, request.parent(), request.new_parent());
    MoveEntry(target_id, *target_inode, request.new_parent(), request.parent());
    source_inode->ctime_ns = target_inode->ctime_ns = now_ns;
    TouchDirectory(request.parent(), now_ns);
    TouchDirectory(request.new_parent(), now_ns);
    return Status::Ok();
  }
  if (target_exists) {
    if (flags & kRenameNoReplace) return Status::Error(EEXIST, "'" + request.new_name() + "' exists");
    uint64_t target_id = target->inode;
    if (target_id == source_id) return Status::Ok();  // two links to one file: POSIX does nothing
    const Inode& target_inode = *inodes_.Find(target_id);
    if (source_is_dir && !IsDir(target_inode))
      return Status::Error(ENOTDIR, "'" + request.new_name() + "' is not a directory");
    if (!source_is_dir && IsDir(target_inode))
      return Status::Error(EISDIR, "'" + request.new_name() + "' is a directory");
    if (IsDir(target_inode)) {
      if (!directories_.at(target_id).entries.empty()) {
        return Status::Error(ENOTEMPTY, "'" + request.new_name() + "' is not empty");
      }
      inodes_.Find(request.new_parent())->nlink--;
    }
    // The target's entry now names the source; the source's old entry goes away.
    target->inode = source_id;
    (*source_dir)->entries.erase(source);
    entry_count_--;
    DropLink(target_id, request.new_parent(), now_ns, request.keep_open_file(), freed_chunks);
  } else {
    (*target_dir)->entries.emplace(request.new_name(), source_id);
    (*source_dir)->entries.erase(source);
  }
  MoveEntry(source_id, *source_inode, request.parent(), request.new_parent());
  source_inode->ctime_ns = now_ns;
  TouchDirectory(request.parent(), now_ns);
  TouchDirectory(request.new_parent(), now_ns);
  return Status::Ok();
}

Result<wire::Attr> Namespace::SetAttr(const wire::SetAttrRequest& request, int64_t now_ns,
                                      std::vector<uint64_t>* freed_chunks) {
  Inode* inode = inodes_.Find(request.inode());
  if (!inode) return Fail(ENOENT, "no inode " + std::to_string(request.inode()));
  uint32_t valid = request.valid();
  if (valid & wire::SET_ATTR_SIZE) {
    if (IsDir(*inode)) return Fail(EISDIR, "cannot truncate a directory");
    if (!S_ISREG(inode->mode)) return Fail(EINVAL, "only regular files have a size to set");
  }
  if (valid & wire::SET_ATTR_MODE) {
    if (Status status = ChmodAccessAcl(request.inode(), *inode, request.mode()); !status.ok()) return Fail(status);
    inode->mode = (inode->mode & S_IFMT) | (request.mode() & 07777);
  }
  if (valid & wire::SET_ATTR_UID) inode->uid = request.uid();
  if (valid & wire::SET_ATTR_GID) inode->gid = request.gid();
  if (valid & wire::SET_ATTR_SIZE) {
    if (request.size() != inode->size) {
      inode->mtime_ns = now_ns;
      if (request.size() < inode->size) {
        if (auto chunks = chunk_ids_.find(request.inode()); chunks != chunk_ids_.end()) {
          uint64_t keep = (request.size() + kChunkSize - 1) / kChunkSize;
          for (uint64_t index = keep; index < chunks->second.size(); ++index) {
            if (chunks->second[index] != 0) freed_chunks->push_back(chunks->second[index]);
          }
          if (keep < chunks->second.size()) chunks->second.resize(keep);
          while (!chunks->second.empty() && chunks->second.back() == 0) chunks->second.pop_back();
          if (chunks->second.empty()) chunk_ids_.erase(chunks);
        }
      }
    }
    // As ext4: a truncate that does not grow the file frees what was reserved past its end
    // (the chunks past it went above).
    if (request.size() <= inode->size) reserved_ends_.erase(request.inode());
    inode->size = request.size();
  }
  if (valid & wire::SET_ATTR_ATIME) inode->atime_ns = request.atime_ns();
  if (valid & wire::SET_ATTR_ATIME_NOW) inode->atime_ns = now_ns;
  if (valid & wire::SET_ATTR_MTIME) inode->mtime_ns = request.mtime_ns();
  if (valid & wire::SET_ATTR_MTIME_NOW) inode->mtime_ns = now_ns;
  inode->ctime_ns = (valid & wire::SET_ATTR_CTIME) ? request.ctime_ns() : now_ns;
  return MakeAttr(request.inode(), *inode);
}

Result<wire::Attr> Namespace::WriteDone(const wire::WriteDoneRequest& request) {
  Inode* inode = inodes_.Find(request.inode());
  if (!inode) return Fail(ENOENT, "no inode " + std::to_string(request.inode()));
  if (!S_ISREG(inode->mode)) return Fail(EINVAL, "not a regular file");
  inode->size = std::max(inode->size, request.end_offset());
  inode->mtime_ns = inode->ctime_ns = request.mtime_ns();
  return MakeAttr(request.inode(), *inode);
}

Result<wire::Reply> Namespace::Append(const wire::AppendRequest& request) {
  Inode* inode = inodes_.Find(request.inode());
  if (!inode) return Fail(ENOENT, "no inode " + std::to_string(request.inode()));
  if (!S_ISREG(inode->mode)) return Fail(EINVAL, "not a regular file");
  if (request.length() > kMaxFileBytes - std::min(inode->size, kMaxFileBytes)) {
    return Fail(EFBIG, "an append of " + std::to_string(request.length()) + " bytes would pass the largest file");
  }
  wire::Reply reply;
  reply.set_append_offset(inode->size);
  inode->size += request.length();
  inode->mtime_ns = inode->ctime_ns = request.mtime_ns();
  *reply.mutable_attr() = MakeAttr(request.inode(), *inode);
  return reply;
}

Result<const std::vector<uint64_t>*> Namespace::ChunkIds(uint64_t id) const {
  static const std::vector<uint64_t> kNoChunks;
  const Inode* inode = inodes_.Find(id);
  if (!inode) return Fail(ENOENT, "no inode " + std::to_string(id));
  if (!S_ISREG(inode->mode)) return Fail(EINVAL, "inode " + std::to_string(id) + " is not a regular file");
  auto chunks = chunk_ids_.find(id);
  return chunks == chunk_ids_.end() ? &kNoChunks : &chunks->second;
}

Status Namespace::SetChunk(uint64_t id, uint64_t chunk_index, uint64_t chunk_id) {
  if (auto chunks = ChunkIds(id); !chunks) return chunks.error();
  // Checked on requests already; here too for an op log written before that check, whose
  // record would otherwise size a table of gigabytes at every replay.
  if (chunk_index >= kMaxChunksPerFile) {
    return Status::Error(EFBIG, "chunk index " + std::to_string(chunk_index) + " is past the largest file");
  }
  std::vector<uint64_t>& chunks = chunk_ids_[id];
  if (chunk_index >= chunks.size()) chunks.resize(chunk_index + 1, 0);
  chunks[chunk_index] = chunk_id;
  return Status::Ok();
}

Status Namespace::ForEachCheckpointRecord(const std::function<Status(const wire::CheckpointRecord&)>& emit) const {
  Status status;
  wire::CheckpointRecord record;
  inodes_.ForEach([&](uint64_t id, const Inode& inode) {
    if (!status.ok()) return;
    record.Clear();
    wire::CheckpointInode* out = record.mutable_inode();
    *out->mutable_attr() = MakeAttr(id, inode);
    if (auto chunks = chunk_ids_.find(id); chunks != chunk_ids_.end()) {
      out->mutable_chunk_ids()->Add(chunks->second.begin(), chunks->second.end());
    }
    if (auto target = symlink_targets_.find(id); target != symlink_targets_.end())
      out->set_symlink_target(target->second);
    if (IsDir(inode) || orphans_.contains(id)) out->set_parent(inode.parent);
    out->set_goal(inode.goal);
    xattrs_.ForEach(id, [out](const std::string& name, const std::string& value) {
      wire::CheckpointXattr* xattr = out->add_xattrs();
      xattr->set_name(name);
      xattr->set_value(value);
    });
    status = emit(record);
  });
  for (const auto& [parent, directory] : directories_) {
    for (const DirEntry& entry : directory.entries) {
      if (!status.ok()) return status;
      record.Clear();
      wire::CheckpointDirEntry* out = record.mutable_entry();
      out->set_parent(parent);
      out->set_name(std::string(entry.name.view()));
      out->set_inode(entry.inode);
      status = emit(record);
    }
  }
  return status;
}

void Namespace::Clear(uint64_t next_inode) {
  inodes_.Clear();
  link_parents_ = LinkParents();
  directories_.clear();
  chunk_ids_.clear();
  symlink_targets_.clear();
  reserved_ends_.clear();
  xattrs_.Clear();
  orphans_.clear();
  next_inode_ = next_inode;
  entry_count_ = 0;
}

Status Namespace::Restore(const wire::CheckpointRecord& record) {
  if (record.has_inode()) {
    const wire::Attr& attr = record.inode().attr();
    if (attr.mode() == 0 || attr.inode() == 0 || inodes_.Find(attr.inode())) {
      return Status::Error(EBADMSG, "bad or duplicate inode " + std::to_string(attr.inode()) + " in checkpoint");
    }
    uint32_t goal = record.inode().goal();
    if (goal == 0) {
      goal = default_goal_;  // written before goals existed
    } else if (!ValidGoal(goal)) {
      return Status::Error(
          EBADMSG, "inode " + std::to_string(attr.inode()) + " has goal " + std::to_string(goal) + " in checkpoint");
    }
    Inode& inode = inodes_.Insert(attr.inode());
    inode = Inode{.mode = attr.mode(),
                  .uid = attr.uid(),
                  .gid = attr.gid(),
                  .nlink = attr.nlink(),
                  .rdev = attr.rdev(),
                  .goal = static_cast<uint8_t>(goal),
                  .size = attr.size(),
                  .atime_ns = attr.atime_ns(),
                  .mtime_ns = attr.mtime_ns(),
                  .ctime_ns = attr.ctime_ns()};
    if (S_ISDIR(attr.mode())) {
      inode.parent = record.inode().parent();
      directories_[attr.inode()];
    } else if (S_ISREG(attr.mode()) && attr.nlink() == 0) {
      inode.parent = record.inode().parent();
      orphans_.insert(attr.inode());
    }
    if (S_ISLNK(attr.mode())) symlink_targets_[attr.inode()] = record.inode().symlink_target();
    if (S_ISREG(attr.mode()) && attr.reserved_end() > attr.size()) {
      reserved_ends_[attr.inode()] = std::min(attr.reserved_end(), kMaxFileBytes);
    }
    for (const wire::CheckpointXattr& xattr : record.inode().xattrs()) {
      if (Status status = XattrStore::CheckName(xattr.name()); !status.ok()) return status;
      if (xattr.name().starts_with("system.") && !PosixAcl::Parse(xattr.value())) {
        return Status::Error(EBADMSG, "inode " + std::to_string(attr.inode()) + " has a bad POSIX ACL in checkpoint");
      }
      if (Status status = xattrs_.Set(attr.inode(), xattr.name(), xattr.value(), 0); !status.ok()) return status;
      if (xattr.name() == kAccessAclName) inode.has_access_acl = true;
    }
    if (record.inode().chunk_ids_size() > 0) {
      chunk_ids_[attr.inode()].assign(record.inode().chunk_ids().begin(), record.inode().chunk_ids().end());
    }
    return Status::Ok();
  }
  if (record.has_entry()) {
    auto directory = FindDirectory(record.entry().parent());
    if (!directory) return Status::Error(EBADMSG, "checkpoint entry in a missing directory");
    (*directory)->entries.emplace(record.entry().name(), record.entry().inode());
    entry_count_++;
    // A file's parents are not in the checkpoint: its entries say where its links are.
    if (Inode* child = inodes_.Find(record.entry().inode()); child && !IsDir(*child)) {
      link_parents_.Restored(record.entry().inode(), record.entry().parent(), &child->parent);
    }
    return Status::Ok();
  }
  return Status::Error(EBADMSG, "not a namespace record");
}

}  // namespace hafs::master
