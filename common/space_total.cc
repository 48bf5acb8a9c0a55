#include "common/space_total.h"

namespace hafs {

void SpaceTotal::Add(const wire::DiskSpace& space) {
  if (space.file_systems_size() == 0) {
    unnamed_total_bytes_ += space.total_bytes();
    unnamed_free_bytes_ += space.free_bytes();
    return;
  }
  for (const wire::DiskSpace::FileSystem& file_system : space.file_systems()) {
    file_systems_[file_system.id()] = {file_system.total_bytes(), file_system.free_bytes()};
  }
}

uint64_t SpaceTotal::total_bytes() const {
  uint64_t total = unnamed_total_bytes_;
  for (const auto& [id, space] : file_systems_) total += space.first;
  return total;
}

uint64_t SpaceTotal::free_bytes() const {
  uint64_t free = unnamed_free_bytes_;
  for (const auto& [id, space] : file_systems_) free += space.second;
  return free;
}

}  // namespace hafs
