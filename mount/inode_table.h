// Per-inode bookkeeping of this mount, keyed by the master's inode number (the FUSE
// ops translate the kernel's numbers, inode_mapping.h):
//  - the size and mtime this mount last saw for the inode, so open() can tell whether
//    another client changed the file and the kernel's cache must be dropped
//    (close-to-open consistency);
//  - the kernel's lookup count, only to know when that record may be dropped;
//  - a directory's parent (for "..");
//  - whether it has extended attributes, as the master last said (Attr.has_xattrs);
//  - the OpenFile write state while the file is open here.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "mount/open_file.h"

namespace hafs::mount {

class InodeTable {
 public:
  // Makes `attr` what the kernel should see (the size includes writes not yet reported
  // to the master) and remembers its size and mtime. Returns true when size or mtime
  // differ from what this mount saw before.
  bool Observe(wire::Attr* attr);
  // Observe for a change this mount made itself (its own write's report, an append): what
  // the kernel cached of the file stays right.
  void ObserveOwn(wire::Attr* attr);
  // Whether another's change to the file was observed since its last open here (a lookup
  // can see it first), or the file was not known here; cleared: the open drops the kernel's
  // pages and the chunk locations (close-to-open).
  bool TakeChangedSinceOpen(uint64_t inode);
  // Observe, plus one kernel lookup reference (an entry reply).
  bool ObserveEntry(wire::Attr* attr, uint64_t parent);
  void Forget(uint64_t inode, uint64_t lookups);

  // A directory never looked up here is the mount's root: its own parent, as the root
  // of any file system is.
  uint64_t Parent(uint64_t directory);

  // The write state of `inode`, created on the first open; Close drops it after the last.
  // Each open, and each last close, takes the next generation of this mount: the master
  // orders what it hears of a file's opens and closes by them (master/open_files.h).
  // *generation (when not null): the open's.
  std::shared_ptr<OpenFile> Open(uint64_t inode, uint64_t* generation = nullptr);
  // The generation of this close when it was the last here, else 0.
  uint64_t Close(uint64_t inode);
  // A generation for an open whose inode is not known yet (a create): taken before the
  // master is asked, so that it orders before every later close.
  uint64_t NextGeneration();
  // Every inode open here, as of *generation (a session renewal's full set).
  std::vector<uint64_t> OpenInodes(uint64_t* generation);
  std::shared_ptr<OpenFile> FindOpen(uint64_t inode);
  // Handles of `inode` open in this mount.
  int Opens(uint64_t inode);

  // False only when the master's last attributes of `inode` said it has no extended
  // attributes: a getxattr of security.capability, which the kernel asks for before every
  // write, is then answered ENODATA here, without a round trip.
  bool MayHaveXattrs(uint64_t inode);
  // This mount just gave it one.
  void NoteXattrs(uint64_t inode);

 private:
  struct Record {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    bool seen = false;
    bool changed_since_open = false;
    bool has_xattrs = true;  // until the master says
    uint64_t lookups = 0;
    uint64_t parent = 0;  // 0: not looked up here
    int opens = 0;
    std::shared_ptr<OpenFile> open_file;
  };
  void DropIfUnused(uint64_t inode, const Record& record);
  // Observe's work; `own`: not a change to drop caches for.
  bool Note(wire::Attr* attr, bool own);

  std::mutex mutex_;
  std::unordered_map<uint64_t, Record> records_;
  uint64_t generation_ = 0;
};

}  // namespace hafs::mount
