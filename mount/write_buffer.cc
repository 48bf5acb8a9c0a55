#include "mount/write_buffer.h"

#include <algorithm>
#include <iterator>

namespace hafs::mount {

void WriteBuffer::Add(uint64_t offset, std::string_view data) {
  if (data.empty()) return;
  uint64_t start = offset;
  uint64_t end = offset + data.size();
  // The first extent that may touch [start, end): the last one starting at or before it.
  auto first = extents_.upper_bound(start);
  if (first != extents_.begin() && std::prev(first)->first + std::prev(first)->second.size() >= start) --first;
  auto last = first;
  while (last != extents_.end() && last->first <= end) ++last;
  if (first == last) {
    extents_.emplace(start, std::string(data));
    bytes_ += data.size();
    return;
  }
  // One extent covering the touched ones and the new bytes, the new bytes on top.
  uint64_t merged_start = std::min(start, first->first);
  auto before_last = std::prev(last);
  uint64_t merged_end = std::max(end, before_last->first + before_last->second.size());
  std::string merged(merged_end - merged_start, '\0');
  for (auto it = first; it != last; ++it) {
    merged.replace(it->first - merged_start, it->second.size(), it->second);
    bytes_ -= it->second.size();
  }
  merged.replace(start - merged_start, data.size(), data);
  extents_.erase(first, last);
  bytes_ += merged.size();
  extents_.emplace(merged_start, std::move(merged));
}

bool WriteBuffer::Overlaps(uint64_t offset, uint64_t length) const {
  if (length == 0) return false;
  auto after = extents_.lower_bound(offset + length);  // the first extent starting past the range
  if (after == extents_.begin()) return false;
  auto candidate = std::prev(after);
  return candidate->first + candidate->second.size() > offset;
}

std::vector<WriteBuffer::Extent> WriteBuffer::Take() {
  std::vector<Extent> taken;
  taken.reserve(extents_.size());
  for (auto& [offset, data] : extents_) taken.push_back({offset, std::move(data)});
  extents_.clear();
  bytes_ = 0;
  return taken;
}

}  // namespace hafs::mount
