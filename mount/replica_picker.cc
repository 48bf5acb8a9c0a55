#include "mount/replica_picker.h"

#include <algorithm>
#include <tuple>

namespace hafs::mount {

std::vector<size_t> ReplicaPicker::Order(const std::vector<std::string>& addresses, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  size_t count = addresses.size();
  size_t start = count == 0 ? 0 : rotation_++ % count;
  // Sort key: (suspect, outstanding, position after the rotating start).
  std::vector<std::tuple<bool, int, size_t, size_t>> keyed;
  for (size_t i = 0; i < count; ++i) {
    const ServerState& state = servers_[addresses[i]];
    keyed.emplace_back(state.suspect_until_ms > now_ms, state.outstanding, (i + count - start) % count, i);
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<size_t> order;
  for (const auto& key : keyed) order.push_back(std::get<3>(key));
  return order;
}

void ReplicaPicker::Started(const std::string& address) {
  std::lock_guard lock(mutex_);
  servers_[address].outstanding++;
}

void ReplicaPicker::Finished(const std::string& address) {
  std::lock_guard lock(mutex_);
  servers_[address].outstanding--;
}

void ReplicaPicker::Failed(const std::string& address, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  servers_[address].suspect_until_ms = now_ms + suspect_ms_;
}

}  // namespace hafs::mount
