// A directory's entries, sorted by name (ReadDir pages by name). An entry is 24 bytes:
// names up to 15 bytes sit inline, longer ones (at most 255) in one heap block.
#pragma once

#include <cstdint>
#include <cstring>
#include <set>
#include <string_view>

namespace hafs::master {

inline constexpr size_t kMaxNameBytes = 255;

class CompactName {
 public:
  explicit CompactName(std::string_view name);
  CompactName(CompactName&& other) noexcept;
  CompactName(const CompactName&) = delete;
  CompactName& operator=(const CompactName&) = delete;
  CompactName& operator=(CompactName&&) = delete;
  ~CompactName();

  std::string_view view() const;

 private:
  static constexpr size_t kInlineBytes = 15;
  bool on_heap() const { return length_ > kInlineBytes; }
  char* heap() const;
  // Inline: the name's bytes. On the heap: a char* to them in the first 8 bytes.
  char bytes_[kInlineBytes];
  uint8_t length_;
};

struct DirEntry {
  DirEntry(std::string_view name_bytes, uint64_t inode_id) : name(name_bytes), inode(inode_id) {}
  CompactName name;
  mutable uint64_t inode;  // not part of the ordering
};

struct DirEntryLess {
  using is_transparent = void;
  bool operator()(const DirEntry& a, const DirEntry& b) const { return a.name.view() < b.name.view(); }
  bool operator()(const DirEntry& a, std::string_view b) const { return a.name.view() < b; }
  bool operator()(std::string_view a, const DirEntry& b) const { return a < b.name.view(); }
};

struct Directory {
  std::set<DirEntry, DirEntryLess> entries;  // its ".." is its Inode's parent
};

}  // namespace hafs::master
