// Everything one mounted hafs file system holds, reachable from every FUSE request
// (fuse_req_userdata). Built once in main.cc, lives until unmount.
#pragma once

#include <algorithm>

#include "mount/fuse_api.h"

#include "mount/chunk_location_cache.h"
#include "mount/chunk_reader.h"
#include "mount/chunk_writer.h"
#include "mount/close_reporter.h"
#include "mount/inode_mapping.h"
#include "mount/inode_table.h"
#include "mount/lease_ledger.h"
#include "mount/lock_client.h"
#include "mount/master_client.h"
#include "mount/mount_export.h"
#include "mount/mount_options.h"
#include "mount/replica_picker.h"
#include "mount/write_back.h"

namespace hafs::mount {

struct MountContext {
  explicit MountContext(MountOptions mount_options)
      : options(std::move(mount_options)),
        master(options.masters, options.master_timeout_ms, options.master_retry_s),
        locations(master),
        reader(master, locations, picker, options.read_timeout_ms),
        writer(master, locations, picker, options),
        // Blocked lock requests hold worker threads: half of them may wait, the rest serve.
        locks(master, static_cast<size_t>(std::max(1, options.max_threads / 2))),
        closes(master),
        ledger(options.entry_timeout_s, options.attr_timeout_s),
        write_back(master, !options.sync_metadata, options.metadata_flush_ms, options.master_retry_s * 1000LL,
                   [this](uint64_t dir) { DropKernelDirectory(dir); }) {
    master.BeforeCalls([this](const wire::Envelope& request) { return write_back.BeforeCall(request); });
  }

  const MountOptions options;
  MasterClient master;
  ChunkLocationCache locations;
  ReplicaPicker picker;
  ChunkReader reader;
  ChunkWriter writer;
  LockClient locks;
  InodeTable inodes;  // keyed by master inode numbers
  CloseReporter closes;  // last closes, for the master's open files
  LeaseLedger ledger;    // what the kernel caches under metadata leases
  WriteBack write_back;  // namespace changes made here, on their way to the master
  // The master's answer to MountRequest and the inode numbering it implies; main.cc sets
  // both before the FUSE session serves, and they do not change after.
  MountedExport mounted_export;
  InodeMapping inode_mapping;
  fuse_session* session = nullptr;  // set once mounted, for cache invalidations

  // The kernel drops what it was told in directory `dir` under a write-back delegation.
  void DropKernelDirectory(uint64_t dir) {
    fuse_ino_t kernel_dir = inode_mapping.ToKernel(dir);
    ledger.DropDirectory(
        dir,
        [&](const std::string& name) {
          if (session != nullptr) fuse_lowlevel_notify_inval_entry(session, kernel_dir, name.data(), name.size());
        },
        [&] {
          if (session != nullptr) fuse_lowlevel_notify_inval_inode(session, kernel_dir, -1, 0);
        });
  }
};

}  // namespace hafs::mount
