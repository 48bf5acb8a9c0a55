// The kernel's read-ahead window for this mount. FUSE mounts get the default 128 KiB, so
// a sequential reader asks for 128 KiB at a time, one round trip each; a window of a few
// MiB lets the kernel ask for several MiB at once (measured here: 354 MB/s at 128 KiB,
// 838 MB/s at 4 MiB for a cold 512 MiB file). The window is the bdi's read_ahead_kb in sysfs.
#pragma once

#include <string>

#include "common/status.h"

namespace hafs::mount {

// Sets read_ahead_kb of the hafs mount at `resolved_mountpoint` (an absolute path without
// symlinks, resolved before mounting: resolving it afterwards would ask this very mount,
// which does not serve yet). Needs root.
Status SetReadAhead(const std::string& resolved_mountpoint, int read_ahead_kb);

}  // namespace hafs::mount
