// The space of several chunkservers added up, a file system they share counted once: three
// chunkservers on one disk report it three times (DiskSpace.file_systems names it), and
// `df` on a mount must show the disk, not three of it. Used by the master's statfs answer
// and by `hafs status`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "common/proto/hafs.pb.h"

namespace hafs {

class SpaceTotal {
 public:
  // One chunkserver's report; one that names no file system adds its own totals.
  void Add(const wire::DiskSpace& space);
  uint64_t total_bytes() const;
  uint64_t free_bytes() const;
  uint64_t reserved_bytes() const;  // free for root only (reported per file system)

 private:
  uint64_t unnamed_total_bytes_ = 0;
  uint64_t unnamed_free_bytes_ = 0;
  std::map<std::string, wire::DiskSpace::FileSystem> file_systems_;  // by id
};

}  // namespace hafs
