// A directory listing taken at opendir and served from memory until releasedir, so
// readdir offsets stay stable while the directory changes (POSIX allows entries added
// or removed after opendir to be missing or present). Entry i has offset i + 1, the
// offset the kernel passes back to continue after it; "." and ".." come first.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs::mount {

// One page of a listing: the entries after `after_name` (ReadDir).
using ReadDirPage = std::function<Result<wire::Reply>(const std::string& after_name)>;

class DirSnapshot {
 public:
  // Lists the whole directory `self` (parent `parent`) by paging `read_page`.
  static Result<DirSnapshot> Take(uint64_t self, uint64_t parent, const ReadDirPage& read_page);

  size_t size() const { return entries_.size(); }
  const wire::DirEntry& entry(size_t index) const { return entries_[index]; }
  static bool IsDotOrDotDot(size_t index) { return index < 2; }
  // The shortest metadata leases of its pages (docs/design.md, "Metadata leases"): how long
  // the kernel may cache the entries' names and their attributes, from the first page's request.
  uint32_t entry_lease_ms() const { return entry_lease_ms_; }
  uint32_t attr_lease_ms() const { return attr_lease_ms_; }

 private:
  std::vector<wire::DirEntry> entries_;
  uint32_t entry_lease_ms_ = UINT32_MAX;
  uint32_t attr_lease_ms_ = UINT32_MAX;
};

}  // namespace hafs::mount
