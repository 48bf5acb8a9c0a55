#include "common/space_total.h"

namespace hafs {

void SpaceTotal::Add(const wire::DiskSpace& space) {
  if (space.file_systems_size() == 0) {
    unnamed_total_bytes_ += space.total_bytes();
    unnamed_free_bytes_ += space.free_bytes();
    return;
  }
  for (const wire::DiskSpace::FileSystem& file_system : space.file_systems()) {
    file_systems_[file_system.id()] = file_system;
  }
}

uint64_t SpaceTotal::total_bytes() const {
  uint64_t total = unnamed_total_bytes_;
  for (const auto& [id, file_system] : file_systems_) total += file_system.total_bytes();
  return total;
}

uint64_t SpaceTotal::free_bytes() const {
  uint64_t free = unnamed_free_bytes_;
  for (const auto& [id, file_system] : file_systems_) free += file_system.free_bytes();
  return free;
}

uint64_t SpaceTotal::reserved_bytes() const {
  uint64_t reserved = 0;
  for (const auto& [id, file_system] : file_systems_) reserved += file_system.reserved_bytes();
  return reserved;
}

}  // namespace hafs
