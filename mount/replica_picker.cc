#include "mount/replica_picker.h"

#include <algorithm>
#include <tuple>

namespace hafs::mount {

namespace {

// splitmix64's finalizer: consecutive chunk ids spread evenly over any number of replicas.
uint64_t Mix(uint64_t value) {
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

}  // namespace

std::vector<size_t> ReplicaPicker::Order(const std::vector<std::string>& addresses, uint64_t chunk_id, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  size_t count = addresses.size();
  size_t start = count == 0 ? 0 : Mix(chunk_id ^ salt_) % count;
  // Sort key: (suspect, outstanding, position after the chunk's preferred replica).
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
