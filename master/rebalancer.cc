#include "master/rebalancer.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "master/chunkserver_modes.h"

namespace hafs::master {
namespace {

// See Rebalancer::Plan: a chunk in any transition (leased, copied, under or over its goal,
// a stale replica, a holder down or not in normal mode) is left to the rest of self-healing.
bool Movable(const ChunkRegistry& registry, const RepairPlanner& planner, uint64_t chunk_id, const ChunkState& chunk,
             int64_t now_ms) {
  if (chunk.lease_expiry_ms > now_ms || planner.BeingCopied(chunk_id) || chunk.replicas.size() != chunk.goal) {
    return false;
  }
  return std::all_of(chunk.replicas.begin(), chunk.replicas.end(), [&](const Replica& replica) {
    return Readable(registry, chunk, replica, now_ms) && registry.Mode(replica.chunkserver_id) == wire::MODE_NORMAL;
  });
}

bool Holds(const ChunkState& chunk, uint32_t chunkserver_id) {
  return std::any_of(chunk.replicas.begin(), chunk.replicas.end(),
                     [chunkserver_id](const Replica& replica) { return replica.chunkserver_id == chunkserver_id; });
}

// Whether moving the chunk's replica from `from` to a chunkserver labelled `label` keeps
// as many distinct failure-domain labels as the chunk has.
bool KeepsLabels(const ChunkRegistry& registry, const ChunkState& chunk, uint32_t from, const std::string& label) {
  std::set<std::string> before, after{label};
  for (const Replica& replica : chunk.replicas) {
    const std::string& holder_label = registry.chunkservers().at(replica.chunkserver_id).label;
    before.insert(holder_label);
    if (replica.chunkserver_id != from) after.insert(holder_label);
  }
  return after.size() >= before.size();
}

void SetReplicas(ChunkserverLoad* load, uint64_t replicas) {
  load->replicas = replicas;
  load->stored_bytes = static_cast<double>(replicas) * load->chunk_bytes;
}

}  // namespace

std::vector<ChunkserverLoad> Rebalancer::Loads(const ChunkRegistry& registry, const RepairPlanner& planner,
                                               int64_t now_ms) const {
  std::unordered_map<uint32_t, uint64_t> replicas = registry.ReplicasByChunkserver();
  for (const auto& [chunk_id, move] : planner.moves_in_flight()) {
    replicas[move.destination]++;
    if (replicas[move.move_from] > 0) replicas[move.move_from]--;
  }
  std::vector<ChunkserverLoad> loads;
  double used_bytes = 0, chunk_count = 0;
  for (const auto& [id, chunkserver] : registry.chunkservers()) {
    if (!registry.IsUp(chunkserver, now_ms) || registry.Mode(id) != wire::MODE_NORMAL) continue;
    ChunkserverLoad load;
    load.chunkserver_id = id;
    load.label = chunkserver.label;
    load.full = chunkserver.full;
    load.capacity_bytes = static_cast<double>(chunkserver.space.used_bytes() + chunkserver.space.free_bytes());
    if (chunkserver.chunk_count > 0 && chunkserver.space.used_bytes() > 0) {
      load.chunk_bytes = static_cast<double>(chunkserver.space.used_bytes()) / chunkserver.chunk_count;
    }
    used_bytes += chunkserver.space.used_bytes();
    chunk_count += chunkserver.chunk_count;
    loads.push_back(load);
    loads.back().replicas = replicas[id];
  }
  if (loads.size() < 2 || used_bytes <= 0 || chunk_count <= 0) return {};
  double cluster_chunk_bytes = used_bytes / chunk_count;
  double stored = 0, capacity = 0;
  for (ChunkserverLoad& load : loads) {
    // A chunkserver without chunks yet (a new one) is assumed to get chunks of the usual size.
    if (load.chunk_bytes <= 0) load.chunk_bytes = cluster_chunk_bytes;
    SetReplicas(&load, load.replicas);
    stored += load.stored_bytes;
    capacity += load.capacity_bytes;
  }
  if (capacity <= 0) return {};
  double mean_usage = stored / capacity;
  for (ChunkserverLoad& load : loads) {
    load.target_bytes = mean_usage * load.capacity_bytes;
    load.band_bytes = std::max(options_.margin * load.target_bytes, cluster_chunk_bytes);
  }
  return loads;
}

std::vector<CopyOrder> Rebalancer::Plan(const ChunkRegistry& registry, const RepairPlanner& planner,
                                        int64_t now_ms) const {
  std::vector<CopyOrder> orders;
  if (planner.moves_in_flight().size() >= options_.max_moves) return orders;
  std::vector<ChunkserverLoad> loads = Loads(registry, planner, now_ms);
  // Balanced (the usual case): no need to look at the chunks.
  if (std::none_of(loads.begin(), loads.end(),
                   [](const ChunkserverLoad& load) { return std::abs(load.deviation()) > load.band_bytes; })) {
    return orders;
  }
  std::unordered_map<uint32_t, std::vector<uint64_t>> movable;  // by holder
  for (const auto& [chunk_id, chunk] : registry.chunks()) {
    if (!Movable(registry, planner, chunk_id, chunk, now_ms)) continue;
    for (const Replica& replica : chunk.replicas) movable[replica.chunkserver_id].push_back(chunk_id);
  }
  std::unordered_map<uint32_t, uint32_t> busy;  // copies this plan adds
  auto has_room = [&](uint32_t id) { return planner.Busy(id) + busy[id] < planner.copies_per_chunkserver(); };
  std::unordered_set<uint64_t> planned;
  // The first chunk `from` may give to `to`, if any.
  auto pick_chunk = [&](const ChunkserverLoad& from, const ChunkserverLoad& to) -> std::optional<uint64_t> {
    for (uint64_t chunk_id : movable[from.chunkserver_id]) {
      const ChunkState& chunk = registry.chunks().at(chunk_id);
      if (planned.contains(chunk_id) || Holds(chunk, to.chunkserver_id) ||
          registry.DeletionUnderway(to.chunkserver_id, chunk_id)) {
        continue;
      }
      if (KeepsLabels(registry, chunk, from.chunkserver_id, to.label)) return chunk_id;
    }
    return std::nullopt;
  };
  // A move from the first donor with room to the first receiver it is worth a chunk to.
  auto find_move = [&](const std::vector<ChunkserverLoad*>& donors,
                       const std::vector<ChunkserverLoad*>& receivers) -> std::optional<CopyOrder> {
    for (ChunkserverLoad* from : donors) {
      if (!has_room(from->chunkserver_id)) continue;
      for (ChunkserverLoad* to : receivers) {
        if (to == from || !has_room(to->chunkserver_id)) continue;
        bool outside = from->deviation() > from->band_bytes || to->deviation() < -to->band_bytes;
        bool worth_a_chunk = from->deviation() - to->deviation() > std::max(from->chunk_bytes, to->chunk_bytes);
        if (!outside || !worth_a_chunk) continue;
        if (std::optional<uint64_t> chunk_id = pick_chunk(*from, *to)) {
          SetReplicas(from, from->replicas - 1);
          SetReplicas(to, to->replicas + 1);
          const ChunkState& chunk = registry.chunks().at(*chunk_id);
          return CopyOrder{*chunk_id, chunk.version, from->chunkserver_id, to->chunkserver_id, chunk.goal,
                           from->chunkserver_id};
        }
      }
    }
    return std::nullopt;
  };
  while (planner.moves_in_flight().size() + orders.size() < options_.max_moves) {
    // The furthest above its band gives first, the furthest below receives first.
    std::vector<ChunkserverLoad*> donors, receivers;
    for (ChunkserverLoad& load : loads) {
      donors.push_back(&load);
      if (!load.full) receivers.push_back(&load);
    }
    std::sort(donors.begin(), donors.end(), [](const ChunkserverLoad* a, const ChunkserverLoad* b) {
      return a->deviation() - a->band_bytes > b->deviation() - b->band_bytes;
    });
    std::sort(receivers.begin(), receivers.end(), [](const ChunkserverLoad* a, const ChunkserverLoad* b) {
      return a->deviation() + a->band_bytes < b->deviation() + b->band_bytes;
    });
    std::optional<CopyOrder> move = find_move(donors, receivers);
    if (!move) break;
    planned.insert(move->chunk_id);
    busy[move->source]++;
    busy[move->destination]++;
    orders.push_back(*move);
  }
  return orders;
}

bool FinishMove(ChunkRegistry& registry, const CopyOrder& order, int64_t now_ms) {
  const ChunkState* chunk = registry.Find(order.chunk_id);
  if (chunk == nullptr || chunk->version != order.version) return false;
  uint32_t others = 0;
  bool copied = false;
  for (const Replica& replica : chunk->replicas) {
    copied |= replica.chunkserver_id == order.destination && replica.version == chunk->version;
    if (replica.chunkserver_id != order.move_from && CountsAndIsUp(registry, *chunk, replica, now_ms)) others++;
  }
  if (!copied || others < chunk->goal) return false;
  registry.DropReplica(order.chunk_id, order.move_from);
  return true;
}

}  // namespace hafs::master
