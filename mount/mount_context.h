// Everything one mounted hafs file system holds, reachable from every FUSE request
// (fuse_req_userdata). Built once in main.cc, lives until unmount.
#pragma once

#include "mount/fuse_api.h"

#include "mount/chunk_location_cache.h"
#include "mount/chunk_reader.h"
#include "mount/chunk_writer.h"
#include "mount/inode_table.h"
#include "mount/master_client.h"
#include "mount/mount_options.h"
#include "mount/replica_picker.h"

namespace hafs::mount {

struct MountContext {
  explicit MountContext(MountOptions mount_options)
      : options(std::move(mount_options)),
        master(options.masters, options.master_timeout_ms, options.master_retry_s),
        locations(master),
        reader(master, locations, picker, options.read_timeout_ms),
        writer(master, locations, picker, options) {}

  const MountOptions options;
  MasterClient master;
  ChunkLocationCache locations;
  ReplicaPicker picker;
  ChunkReader reader;
  ChunkWriter writer;
  InodeTable inodes;
  fuse_session* session = nullptr;  // set once mounted, for cache invalidations
};

}  // namespace hafs::mount
