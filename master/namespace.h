// The file system tree in memory: inodes, directories, symlinks, hard links and each
// regular file's chunk ids. Every mutation is a pure function of (request, now_ns) and
// the current state, so the op-log replay applies the very same code. A mutation that
// fails changes nothing. Permissions are checked apart, before a request is answered or
// logged (MayLookup, MayReadDir, Authorize), never by the mutations: replay must not check.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/goal.h"
#include "common/proto/hafs.pb.h"
#include "common/status.h"
#include "master/directory.h"
#include "master/inode_table.h"
#include "master/link_parents.h"
#include "master/posix_acl.h"
#include "master/xattr_store.h"

namespace hafs::master {

inline constexpr uint64_t kRootInode = 1;
// RenameRequest.flags, as renameat2(2).
inline constexpr uint32_t kRenameNoReplace = 1;
inline constexpr uint32_t kRenameExchange = 2;

class AccessCheck;

class Namespace {
 public:
  // Just the root directory, whose goal is `default_goal`; inodes restored from a
  // checkpoint written before goals existed get it too.
  explicit Namespace(uint32_t default_goal = kDefaultGoal);

  // Queries.
  Result<wire::Attr> GetAttr(uint64_t inode) const;
  // The directory that holds a regular file's only name, or a directory's name; 0 for
  // anything else (a write-back change of the inode needs that directory's delegation).
  uint64_t OnlyLinkParent(uint64_t inode) const;
  Result<wire::Attr> Lookup(uint64_t parent, std::string_view name) const;
  Result<std::string> Readlink(uint64_t inode) const;
  Status ReadDir(const wire::ReadDirRequest& request, wire::Reply* reply) const;
  uint64_t inode_count() const { return inodes_.size(); }
  bool Exists(uint64_t id) const { return inodes_.Find(id) != nullptr; }
  // True when inode `id` is `subtree` or lies below it, following each inode's parent (a
  // file with several links: the directory of its newest link).
  bool IsUnder(uint64_t id, uint64_t subtree) const;
  // The directory at `path` ("/" or "/a/b", as bytes), or ENOENT / ENOTDIR.
  Result<uint64_t> ResolveDirectory(std::string_view path) const;

  // Permission checks (namespace_access.cc): whether the request's credentials allow it,
  // EACCES or EPERM if not. Authorize takes a mutation's record before it is logged and
  // may leave it as Linux applies it (set-id bits a chown or chmod drops, a new file's
  // S_ISGID in another group's setgid directory), so the record holds the effective change.
  Status MayLookup(const wire::LookupRequest& request) const;
  Status MayReadDir(const wire::ReadDirRequest& request) const;
  // Data requests through an open descriptor (AccessCheck::MayReadData, MayWriteData).
  Status MayReadData(uint64_t inode, const wire::Credentials& credentials) const;
  Status MayWriteData(uint64_t inode, const wire::Credentials& credentials) const;
  Status Authorize(wire::LogRecord* record) const;

  // Extended attributes (namespace_xattr.cc). Set and remove are mutations, checked by
  // Authorize; get and list check the request's credentials themselves (AccessCheck).
  // system.posix_acl_access and _default are POSIX ACLs (namespace_acl.cc): validated, and
  // an access ACL sets the mode's permission bits (and is not kept when they say it all).
  Status SetXattr(const wire::SetXattrRequest& request, int64_t now_ns);
  Status RemoveXattr(const wire::RemoveXattrRequest& request, int64_t now_ns);
  Status GetXattr(const wire::GetXattrRequest& request, wire::Reply* reply) const;
  Status ListXattr(const wire::ListXattrRequest& request, wire::Reply* reply) const;

  // Mutations. Chunk ids a mutation drops (freed files, truncated tails) are appended
  // to *freed_chunks.
  Result<wire::Attr> Mknod(const wire::MknodRequest& request, int64_t now_ns);
  Result<wire::Attr> Mkdir(const wire::MkdirRequest& request, int64_t now_ns);
  Result<wire::Attr> Symlink(const wire::SymlinkRequest& request, int64_t now_ns);
  Result<wire::Attr> Link(const wire::LinkRequest& request, int64_t now_ns);
  Status Unlink(const wire::UnlinkRequest& request, int64_t now_ns, std::vector<uint64_t>* freed_chunks);
  Status Rmdir(const wire::RmdirRequest& request, int64_t now_ns);
  Status Rename(const wire::RenameRequest& request, int64_t now_ns, std::vector<uint64_t>* freed_chunks);
  Result<wire::Attr> SetAttr(const wire::SetAttrRequest& request, int64_t now_ns, std::vector<uint64_t>* freed_chunks);
  Result<wire::Attr> WriteDone(const wire::WriteDoneRequest& request);
  // Reserves request.length() bytes at the end of the file: answers append_offset (the old
  // size) and the attributes with the new size.
  Result<wire::Reply> Append(const wire::AppendRequest& request);
  // fallocate(2)'s namespace part (namespace_fallocate.cc, docs/design.md "fallocate"): the
  // size or the reserved end grows, or the chunks a punched hole covers go to *freed_chunks.
  Result<wire::Attr> Fallocate(const wire::FallocateRequest& request, std::vector<uint64_t>* freed_chunks);
  // Open-unlinked files (docs/design.md, "Open files"): an unlink or rename with
  // keep_open_file leaves the file it drops the last link of as an orphan (nlink 0, no
  // name) until ReleaseOrphan.
  Status ReleaseOrphan(const wire::ReleaseOrphan& release, std::vector<uint64_t>* freed_chunks);
  const std::unordered_set<uint64_t>& orphans() const { return orphans_; }

  // Chunks of regular files. ChunkIds is empty for a file without chunks.
  Result<const std::vector<uint64_t>*> ChunkIds(uint64_t inode) const;
  Status SetChunk(uint64_t inode, uint64_t chunk_index, uint64_t chunk_id);

  // Replication goals (goals.cc). SetGoal changes the inode's goal, with `recursive` its
  // whole tree's, and says in *change what it did: how many inodes changed, how many were
  // skipped (another owner's), and the chunk ids of the files that changed, so that their
  // chunks can follow.
  struct GoalChange {
    uint64_t changed = 0;
    uint64_t not_permitted = 0;
    std::vector<uint64_t> chunk_ids;
  };
  Result<uint32_t> Goal(uint64_t inode) const;
  Status SetGoal(const wire::SetGoalRequest& request, GoalChange* change);

  // Checkpoint support: every inode (with its chunks / target / parent) and every
  // directory entry, and the inverse.
  uint64_t next_inode() const { return next_inode_; }
  // Sets `count` inode numbers aside for a mount's write-back creates: the first of them.
  uint64_t ReserveInodes(uint32_t count) {
    uint64_t first = next_inode_;
    next_inode_ += count;
    return first;
  }
  uint64_t entry_count() const { return entry_count_; }
  Status ForEachCheckpointRecord(const std::function<Status(const wire::CheckpointRecord&)>& emit) const;
  void Clear(uint64_t next_inode);  // no inodes at all, before a restore
  Status Restore(const wire::CheckpointRecord& record);

 private:
  wire::Attr MakeAttr(uint64_t id, const Inode& inode) const;
  // Where the file's bytes end: its size, or the end of the space reserved past it.
  uint64_t Extent(uint64_t id, const Inode& inode) const;
  // POSIX ACLs (namespace_acl.cc). Access: a check of `credentials` that follows the
  // inodes' access ACLs.
  AccessCheck Access(const wire::Credentials& credentials) const;
  // Sets an ACL from a setxattr (EINVAL malformed, EACCES a default ACL on a non-directory).
  Status SetAcl(const wire::SetXattrRequest& request, Inode& inode);
  // Makes `acl` the access ACL of `id` and its permission bits the mode's; one equivalent to
  // the mode bits is not kept.
  Status KeepAccessAcl(uint64_t id, Inode& inode, const PosixAcl& acl);
  // A chmod to `mode`: the stored access ACL's USER_OBJ, MASK (or GROUP_OBJ) and OTHER follow.
  Status ChmodAccessAcl(uint64_t id, Inode& inode, uint32_t mode);
  // The default ACL of `directory`, if it has one.
  Result<std::optional<PosixAcl>> DefaultAcl(uint64_t directory) const;
  // A new file or directory `id` in a directory with default ACL `inherited`: it gets an
  // access ACL from it masked by its mode (a directory the default ACL too), as
  // posix_acl_create; without one, the caller's umask applies to the mode.
  void InheritAcls(uint64_t id, Inode& inode, const std::optional<PosixAcl>& inherited, uint32_t umask);
  // Permission check helpers (namespace_access.cc). Null when there is no such directory
  // or entry; `parent` of FindEntryInode must be a directory.
  const Inode* FindDirectoryInode(uint64_t id) const;
  const Inode* FindEntryInode(uint64_t parent, std::string_view name) const;
  Status MayCreate(const AccessCheck& access, uint64_t parent, std::string_view name, uint32_t mode = 0) const;
  Status MayRemove(const AccessCheck& access, uint64_t parent, std::string_view name) const;
  Status MayRename(const wire::RenameRequest& request) const;
  Result<Directory*> FindDirectory(uint64_t inode);
  // `wanted`: the number a write-back create brings (granted ahead, below next_inode_); 0:
  // the next one.
  Result<Inode*> NewInode(uint64_t parent, std::string_view name, uint32_t mode, const wire::Credentials& credentials,
                          int64_t now_ns, uint64_t wanted, uint64_t* id);
  void TouchDirectory(uint64_t directory, int64_t now_ns);
  // Drops one link to `id` (whose entry in `parent` is already gone); when none remain, frees
  // it, or with `keep_open_file` keeps a regular file as an orphan.
  void DropLink(uint64_t id, uint64_t parent, int64_t now_ns, bool keep_open_file,
                std::vector<uint64_t>* freed_chunks);
  // Removes inode `id` with everything it owns.
  void Free(uint64_t id, std::vector<uint64_t>* freed_chunks);
  void SetInodeGoal(uint64_t id, Inode& inode, uint8_t goal, GoalChange* change);
  // Records that an entry of inode `id` moved from old_parent to new_parent (a directory's
  // ".." and the parents' link counts with it).
  void MoveEntry(uint64_t id, Inode& inode, uint64_t old_parent, uint64_t new_parent);

  InodeTable inodes_;
  LinkParents link_parents_;  // the other links' directories of files with several
  XattrStore xattrs_;
  std::unordered_set<uint64_t> orphans_;  // open-unlinked files
  std::unordered_map<uint64_t, Directory> directories_;
  std::unordered_map<uint64_t, std::vector<uint64_t>> chunk_ids_;
  std::unordered_map<uint64_t, std::string> symlink_targets_;
  // Files with space reserved past their size (FALLOC_FL_KEEP_SIZE): where it ends.
  std::unordered_map<uint64_t, uint64_t> reserved_ends_;
  uint8_t default_goal_;
  uint64_t next_inode_ = kRootInode + 1;
  uint64_t entry_count_ = 0;
};

}  // namespace hafs::master
