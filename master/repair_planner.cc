#include "master/repair_planner.h"

#include <algorithm>
#include <set>

#include "master/chunkserver_modes.h"
#include "master/placement.h"

namespace hafs::master {

uint32_t CountValidReplicas(const ChunkRegistry& registry, const ChunkState& chunk, int64_t now_ms) {
  uint32_t count = 0;
  for (const Replica& replica : chunk.replicas) count += CountsTowardGoal(registry, chunk, replica, now_ms) ? 1 : 0;
  return count;
}

uint32_t RepairPlanner::Busy(uint32_t chunkserver_id) const {
  auto busy = copies_by_chunkserver_.find(chunkserver_id);
  return busy == copies_by_chunkserver_.end() ? 0 : busy->second;
}

std::vector<CopyOrder> RepairPlanner::PlanCopies(const ChunkRegistry& registry, int64_t now_ms,
                                                 std::mt19937_64& random) const {
  struct Needy {
    uint32_t valid;
    uint64_t chunk_id;
  };
  std::vector<Needy> needy;
  for (const auto& [chunk_id, chunk] : registry.chunks()) {
    if (chunk.lease_expiry_ms > now_ms || chunks_in_flight_.contains(chunk_id)) continue;
    // A chunk with no counting replica may still be readable on a decommissioning
    // chunkserver; one that is not is skipped below for want of a source.
    uint32_t valid = CountValidReplicas(registry, chunk, now_ms);
    if (valid < chunk.goal) needy.push_back({valid, chunk_id});
  }
  std::sort(needy.begin(), needy.end(), [](const Needy& a, const Needy& b) {
    return a.valid != b.valid ? a.valid < b.valid : a.chunk_id < b.chunk_id;
  });
  // Copies this plan adds, on top of those in flight.
  std::unordered_map<uint32_t, uint32_t> busy;
  auto has_room = [&](uint32_t id) { return Busy(id) + busy[id] < copies_per_chunkserver_; };
  std::vector<CopyOrder> orders;
  for (const Needy& entry : needy) {
    const ChunkState& chunk = registry.chunks().at(entry.chunk_id);
    const Replica* source = nullptr;
    std::set<std::string> labels_used;
    std::unordered_set<uint32_t> holders;
    for (const Replica& replica : chunk.replicas) {
      holders.insert(replica.chunkserver_id);
      if (CountsTowardGoal(registry, chunk, replica, now_ms)) {
        labels_used.insert(registry.chunkservers().at(replica.chunkserver_id).label);
      }
      if (!Readable(registry, chunk, replica, now_ms)) continue;
      if (has_room(replica.chunkserver_id) &&
          (source == nullptr || Busy(replica.chunkserver_id) + busy[replica.chunkserver_id] <
                                    Busy(source->chunkserver_id) + busy[source->chunkserver_id])) {
        source = &replica;
      }
    }
    if (source == nullptr) continue;
    // A chunkserver on a label the chunk does not use yet, if any takes new chunks, even
    // when all such are busy: then the chunk waits for one rather than doubling up a label.
    auto eligible = [&](uint32_t id, const ChunkserverState& chunkserver) {
      return !holders.contains(id) && TakesNewChunks(registry, chunkserver, now_ms) &&
             !registry.DeletionUnderway(id, entry.chunk_id);
    };
    std::set<std::string> open_labels;
    for (const auto& [id, chunkserver] : registry.chunkservers()) {
      if (eligible(id, chunkserver) && !labels_used.contains(chunkserver.label)) open_labels.insert(chunkserver.label);
    }
    std::vector<PlacementCandidate> candidates;
    for (const auto& [id, chunkserver] : registry.chunkservers()) {
      if (!eligible(id, chunkserver) || !has_room(id)) continue;
      if (!open_labels.empty() && !open_labels.contains(chunkserver.label)) continue;
      candidates.push_back({id, chunkserver.space.free_bytes(), chunkserver.requests_in_flight, chunkserver.label});
    }
    std::vector<uint32_t> picked = PickChunkservers(std::move(candidates), 1, random, labels_used);
    if (picked.empty()) continue;
    orders.push_back({entry.chunk_id, chunk.version, source->chunkserver_id, picked.front(), entry.valid});
    busy[source->chunkserver_id]++;
    busy[picked.front()]++;
  }
  return orders;
}

std::vector<SurplusReplica> RepairPlanner::PlanTrims(const ChunkRegistry& registry, int64_t now_ms) const {
  std::vector<SurplusReplica> trims;
  for (const auto& [chunk_id, chunk] : registry.chunks()) {
    if (chunk.lease_expiry_ms > now_ms || chunks_in_flight_.contains(chunk_id)) continue;
    std::vector<const ChunkserverState*> holders;
    for (const Replica& replica : chunk.replicas) {
      if (CountsAndIsUp(registry, chunk, replica, now_ms)) {
        holders.push_back(&registry.chunkservers().at(replica.chunkserver_id));
      }
    }
    // The chunk has its goal without its replicas on decommissioning chunkservers: they go.
    if (holders.size() >= chunk.goal) {
      for (const Replica& replica : chunk.replicas) {
        if (registry.Mode(replica.chunkserver_id) == wire::MODE_DECOMMISSION) {
          trims.push_back({chunk_id, replica.chunkserver_id});
        }
      }
    }
    if (holders.size() <= chunk.goal) continue;
    // Drop from the fullest first, but never the only holder of a label.
    std::sort(holders.begin(), holders.end(), [](const ChunkserverState* a, const ChunkserverState* b) {
      return a->space.free_bytes() != b->space.free_bytes() ? a->space.free_bytes() < b->space.free_bytes()
                                                            : a->id < b->id;
    });
    std::multiset<std::string> labels;
    for (const ChunkserverState* holder : holders) labels.insert(holder->label);
    size_t surplus = holders.size() - chunk.goal;
    for (int pass = 0; pass < 2 && surplus > 0; ++pass) {
      for (auto holder = holders.begin(); holder != holders.end() && surplus > 0;) {
        if (pass == 0 && labels.count((*holder)->label) < 2) {
          ++holder;
          continue;
        }
        labels.erase(labels.find((*holder)->label));
        trims.push_back({chunk_id, (*holder)->id});
        holder = holders.erase(holder);
        --surplus;
      }
    }
  }
  return trims;
}

void RepairPlanner::Started(const CopyOrder& order) {
  chunks_in_flight_.insert(order.chunk_id);
  if (order.move_from != 0) moves_in_flight_[order.chunk_id] = order;
  copies_by_chunkserver_[order.source]++;
  copies_by_chunkserver_[order.destination]++;
}

void RepairPlanner::Finished(const CopyOrder& order) {
  if (chunks_in_flight_.erase(order.chunk_id) == 0) return;
  moves_in_flight_.erase(order.chunk_id);
  for (uint32_t id : {order.source, order.destination}) {
    if (--copies_by_chunkserver_[id] == 0) copies_by_chunkserver_.erase(id);
  }
}

void RepairPlanner::Clear() {
  chunks_in_flight_.clear();
  copies_by_chunkserver_.clear();
  moves_in_flight_.clear();
}

}  // namespace hafs::master
