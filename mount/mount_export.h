// Mount time: asking the master for the subtree to mount (MountRequest). The master's
// exports decide (master/exports.h): whether this client key may mount it, read-only or
// not, and the replication goals it may set there.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "mount/master_client.h"
#include "mount/squash.h"

namespace hafs::mount {

// What the export that admitted this mount grants.
struct MountedExport {
  uint64_t root = 0;  // the master's inode of the mounted directory (0: the whole file system)
  bool read_only = false;
  uint32_t min_goal = 0;  // the replication goals this mount may set
  uint32_t max_goal = 0;
  Squashing squashing;  // whom the master squashes, for the mount's own open checks
};

// Asks the masters (retrying as `master` does, up to `retry_ms` for one to answer) to
// mount `subdir` ("/" or "/a/b"). The error says whether no master answered or the master
// refused, naming `subdir`.
Result<MountedExport> RequestMount(MasterClient& master, const std::string& subdir, int64_t retry_ms);

}  // namespace hafs::mount
