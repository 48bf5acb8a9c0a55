#include "mount/dir_snapshot.h"

#include <sys/stat.h>

#include <algorithm>

namespace hafs::mount {
namespace {

wire::DirEntry Dot(const char* name, uint64_t inode) {
  wire::DirEntry entry;
  entry.set_name(name);
  entry.mutable_attr()->set_inode(inode);
  entry.mutable_attr()->set_mode(S_IFDIR);
  return entry;
}

}  // namespace

Result<DirSnapshot> DirSnapshot::Take(uint64_t self, uint64_t parent, const ReadDirPage& read_page) {
  DirSnapshot snapshot;
  snapshot.entries_.push_back(Dot(".", self));
  snapshot.entries_.push_back(Dot("..", parent));
  std::string after_name;
  while (true) {
    auto page = read_page(after_name);
    if (!page) return Fail(page.error());
    for (const auto& entry : page->entries()) snapshot.entries_.push_back(entry);
    snapshot.entry_lease_ms_ = std::min(snapshot.entry_lease_ms_, page->entry_lease_ms());
    snapshot.attr_lease_ms_ = std::min(snapshot.attr_lease_ms_, page->attr_lease_ms());
    // A page without entries ends the listing even if the master forgot to say so.
    if (page->end_of_directory() || page->entries_size() == 0) break;
    after_name = page->entries(page->entries_size() - 1).name();
  }
  return snapshot;
}

}  // namespace hafs::mount
