// What a FUSE file handle (fuse_file_info::fh) points at: for files, the inode's shared
// write state; for directories, the listing snapshot taken at opendir.
#pragma once

#include <cstdint>
#include <memory>

#include "mount/dir_snapshot.h"
#include "mount/lease_ledger.h"
#include "mount/open_file.h"

namespace hafs::mount {

struct FileHandle {
  uint64_t inode;
  int open_flags;
  std::shared_ptr<OpenFile> file;
  wire::Credentials opener;  // who opened it: the master checks reads through it against them
};

struct DirHandle {
  DirSnapshot snapshot;
  LeaseLedger::Ticket ticket;  // taken before the listing's first page was asked for
};

}  // namespace hafs::mount
