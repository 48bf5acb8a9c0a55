#include "mount/read_ahead.h"

#include <fstream>

#include "common/mountinfo.h"

namespace hafs::mount {

Status SetReadAhead(const std::string& resolved_mountpoint, int read_ahead_kb) {
  std::string device;
  // The last entry at this mount point is ours (mounts stack).
  for (const MountEntry& mount : ParseMountinfo(ReadMountinfo())) {
    if (mount.mount_point == resolved_mountpoint && mount.fstype == "fuse.hafs") device = mount.device;
  }
  if (device.empty()) return Status::Error(ENOENT, "no hafs mount at " + resolved_mountpoint + " in mountinfo");
  std::string path = "/sys/class/bdi/" + device + "/read_ahead_kb";
  std::ofstream file(path);
  file << read_ahead_kb << '\n';
  file.close();
  if (!file) return ErrnoStatus("cannot write " + path);
  return Status::Ok();
}

}  // namespace hafs::mount
