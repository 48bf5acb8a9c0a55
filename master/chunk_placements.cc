#include "master/chunk_placements.h"

#include <algorithm>
#include <map>
#include <utility>

namespace hafs::master {

uint32_t ChunkPlacements::MayGrant(uint64_t session, uint32_t want) const {
  auto held = per_session_.find(session);
  uint32_t session_room = kMaxPerSession - (held == per_session_.end() ? 0 : held->second);
  size_t total_room = kMaxTotal - std::min(kMaxTotal, placements_.size());
  return static_cast<uint32_t>(std::min<size_t>({want, kMaxPerGrant, session_room, total_room}));
}

void ChunkPlacements::Add(const wire::ChunksPlaced& placed, int64_t expiry_ms) {
  for (const wire::PlacedChunk& chunk : placed.chunks()) {
    Placement placement{placed.session(), placed.goal(),
                        std::vector<std::string>(chunk.replica_uuids().begin(), chunk.replica_uuids().end()),
                        expiry_ms};
    if (placements_.insert_or_assign(chunk.chunk_id(), std::move(placement)).second) per_session_[placed.session()]++;
  }
}

const ChunkPlacements::Placement* ChunkPlacements::Find(uint64_t chunk_id) const {
  auto found = placements_.find(chunk_id);
  return found == placements_.end() ? nullptr : &found->second;
}

void ChunkPlacements::Take(uint64_t chunk_id) {
  auto found = placements_.find(chunk_id);
  if (found == placements_.end()) return;
  auto held = per_session_.find(found->second.session);
  if (held != per_session_.end() && --held->second == 0) per_session_.erase(held);
  placements_.erase(found);
}

std::vector<uint64_t> ChunkPlacements::Expired(int64_t now_ms, size_t limit) const {
  std::vector<uint64_t> expired;
  for (const auto& [chunk_id, placement] : placements_) {
    if (expired.size() >= limit) break;
    if (placement.expiry_ms <= now_ms) expired.push_back(chunk_id);
  }
  return expired;
}

std::vector<wire::ChunksPlaced> ChunkPlacements::All() const {
  std::map<std::pair<uint64_t, uint32_t>, wire::ChunksPlaced> grouped;
  for (const auto& [chunk_id, placement] : placements_) {
    wire::ChunksPlaced& placed = grouped[{placement.session, placement.goal}];
    placed.set_session(placement.session);
    placed.set_goal(placement.goal);
    wire::PlacedChunk* chunk = placed.add_chunks();
    chunk->set_chunk_id(chunk_id);
    for (const std::string& uuid : placement.replica_uuids) chunk->add_replica_uuids(uuid);
  }
  std::vector<wire::ChunksPlaced> all;
  for (auto& [key, placed] : grouped) all.push_back(std::move(placed));
  return all;
}

void ChunkPlacements::Clear() {
  placements_.clear();
  per_session_.clear();
}

}  // namespace hafs::master
