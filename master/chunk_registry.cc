#include "master/chunk_registry.h"

#include <algorithm>

namespace hafs::master {

void ChunkRegistry::AddChunk(uint64_t chunk_id, uint64_t version, uint32_t goal, uint64_t highest_version) {
  ChunkState& chunk = chunks_[chunk_id];
  chunk.version = version;
  chunk.highest_version = std::max(version, highest_version);
  chunk.goal = static_cast<uint8_t>(goal);
}

void ChunkRegistry::SetGoal(std::span<const uint64_t> chunk_ids, uint32_t goal) {
  for (uint64_t chunk_id : chunk_ids) {
    if (ChunkState* chunk = Find(chunk_id)) chunk->goal = static_cast<uint8_t>(goal);
  }
}

void ChunkRegistry::SetVersion(uint64_t chunk_id, uint64_t version) {
  if (ChunkState* chunk = Find(chunk_id)) {
    chunk->version = version;
    chunk->highest_version = std::max(chunk->highest_version, version);
  }
}

void ChunkRegistry::RemoveChunks(std::span<const uint64_t> chunk_ids) {
  for (uint64_t chunk_id : chunk_ids) {
    auto chunk = chunks_.find(chunk_id);
    if (chunk == chunks_.end()) continue;
    for (const Replica& replica : chunk->second.replicas) QueueDeletion(replica.chunkserver_id, chunk_id);
    chunks_.erase(chunk);
    stale_chunks_.erase(chunk_id);
  }
}

ChunkState* ChunkRegistry::Find(uint64_t chunk_id) {
  auto chunk = chunks_.find(chunk_id);
  return chunk == chunks_.end() ? nullptr : &chunk->second;
}

void ChunkRegistry::Register(const wire::RegisterRequest& request, uint32_t id, int64_t now_ms, int64_t now_ns,
                             std::vector<ChunkVersion>* newer, const std::function<bool(uint64_t)>& placed_ahead) {
  chunkserver_ids_[request.chunkserver_uuid()] = id;
  ChunkserverState& chunkserver = chunkservers_[id];
  chunkserver.id = id;
  chunkserver.uuid = request.chunkserver_uuid();
  chunkserver.address = request.address();
  chunkserver.public_key = request.public_key();
  chunkserver.plain_data_address = request.plain_data_address();
  chunkserver.label = request.label();
  chunkserver.space = request.space();
  chunkserver.chunk_count = request.chunks_size();
  chunkserver.full = false;
  chunkserver.last_heartbeat_ms = now_ms;
  chunkserver.last_heartbeat_ns = now_ns;
  chunkserver.must_register = false;
  // It reports everything it has, so what we thought it had is replaced.
  chunkserver.pending_deletions.clear();
  for (auto& [chunk_id, chunk] : chunks_) {
    std::erase_if(chunk.replicas, [id](const Replica& replica) { return replica.chunkserver_id == id; });
  }
  for (const wire::ChunkReport& report : request.chunks()) {
    ChunkState* chunk = Find(report.chunk_id());
    if (!chunk) {
      if (!placed_ahead || !placed_ahead(report.chunk_id())) QueueDeletion(id, report.chunk_id());
    } else if (report.chunk_version() < chunk->version) {
      if (HasValidReplica(*chunk)) {
        QueueDeletion(id, report.chunk_id());
      } else {
        AddReplica(report.chunk_id(), id, report.chunk_version());
        stale_chunks_.insert(report.chunk_id());
      }
    } else if (report.chunk_version() == chunk->version) {
      AddReplica(report.chunk_id(), id, report.chunk_version());
      DropStaleReplicas(report.chunk_id());
    } else {
      newer->push_back({report.chunk_id(), report.chunk_version()});
    }
  }
}

Status ChunkRegistry::Heartbeat(const wire::HeartbeatRequest& request, int64_t now_ms, int64_t now_ns) {
  ChunkserverState* chunkserver = FindChunkserver(request.chunkserver_id());
  if (!chunkserver || chunkserver->must_register) {
    return Status::Error(ENOENT, (chunkserver ? "chunkserver " : "unknown chunkserver ") +
                                     std::to_string(request.chunkserver_id()) + ", register again");
  }
  if (request.public_key() != chunkserver->public_key) {
    return Status::Error(EACCES, "a heartbeat for chunkserver " + std::to_string(request.chunkserver_id()) +
                                     " from a key it did not register with");
  }
  chunkserver->space = request.space();
  chunkserver->chunk_count = request.chunk_count();
  chunkserver->requests_in_flight = request.requests_in_flight();
  chunkserver->full = request.full();
  chunkserver->last_heartbeat_ms = now_ms;
  chunkserver->last_heartbeat_ns = now_ns;
  for (const wire::ChunkReport& lost : request.lost_chunks()) DropBadReplica(lost.chunk_id(), chunkserver->id);
  return Status::Ok();
}

void ChunkRegistry::RequireRegistration() {
  for (auto& [id, chunkserver] : chunkservers_) chunkserver.must_register = true;
}

void ChunkRegistry::AddReplica(uint64_t chunk_id, uint32_t chunkserver_id, uint64_t version) {
  ChunkState* chunk = Find(chunk_id);
  if (!chunk) return;
  for (Replica& replica : chunk->replicas) {
    if (replica.chunkserver_id == chunkserver_id) {
      replica.version = version;
      return;
    }
  }
  chunk->replicas.push_back({chunkserver_id, version});
  chunk->replica_reported_bad = false;
}

void ChunkRegistry::DropBadReplica(uint64_t chunk_id, uint32_t chunkserver_id) {
  if (ChunkState* chunk = Find(chunk_id)) chunk->replica_reported_bad = true;
  DropReplica(chunk_id, chunkserver_id);
}

void ChunkRegistry::DropReplica(uint64_t chunk_id, uint32_t chunkserver_id) {
  if (ChunkState* chunk = Find(chunk_id)) {
    std::erase_if(chunk->replicas,
                  [chunkserver_id](const Replica& replica) { return replica.chunkserver_id == chunkserver_id; });
  }
  QueueDeletion(chunkserver_id, chunk_id);
}

void ChunkRegistry::DropStaleReplicas(uint64_t chunk_id) {
  stale_chunks_.erase(chunk_id);
  ChunkState* chunk = Find(chunk_id);
  if (!chunk) return;
  auto stale = [chunk](const Replica& replica) { return replica.version < chunk->version; };
  for (const Replica& replica : chunk->replicas) {
    if (stale(replica)) QueueDeletion(replica.chunkserver_id, chunk_id);
  }
  std::erase_if(chunk->replicas, stale);
}

std::vector<ChunkVersion> ChunkRegistry::StaleChunksToRecover(int64_t now_ms) {
  std::vector<ChunkVersion> recoverable;
  for (auto chunk_id = stale_chunks_.begin(); chunk_id != stale_chunks_.end();) {
    ChunkState* chunk = Find(*chunk_id);
    if (!chunk || chunk->replicas.empty()) {  // the chunkservers lost them or registered without them
      chunk_id = stale_chunks_.erase(chunk_id);
      continue;
    }
    uint64_t best_version = 0;
    for (const Replica& replica : chunk->replicas) {
      if (IsUp(replica.chunkserver_id, now_ms)) best_version = std::max(best_version, replica.version);
    }
    if (best_version != 0) recoverable.push_back({*chunk_id, best_version});
    ++chunk_id;
  }
  return recoverable;
}

bool ChunkRegistry::HasValidReplica(const ChunkState& chunk) {
  return std::any_of(chunk.replicas.begin(), chunk.replicas.end(),
                     [&chunk](const Replica& replica) { return replica.version == chunk.version; });
}

void ChunkRegistry::QueueDeletion(uint32_t chunkserver_id, uint64_t chunk_id) {
  if (ChunkserverState* chunkserver = FindChunkserver(chunkserver_id)) {
    chunkserver->pending_deletions.push_back(chunk_id);
  }
}

std::vector<uint64_t> ChunkRegistry::TakePendingDeletions(uint32_t chunkserver_id) {
  ChunkserverState* chunkserver = FindChunkserver(chunkserver_id);
  if (!chunkserver) return {};
  chunkserver->deletions_sent = std::exchange(chunkserver->pending_deletions, {});
  return chunkserver->deletions_sent;
}

void ChunkRegistry::RequestVerification(uint64_t chunk_id, uint32_t chunkserver_id) {
  ChunkserverState* chunkserver = FindChunkserver(chunkserver_id);
  const ChunkState* chunk = Find(chunk_id);
  if (!chunkserver || !chunk) return;
  auto here = [chunkserver_id](const Replica& replica) { return replica.chunkserver_id == chunkserver_id; };
  std::vector<uint64_t>& pending = chunkserver->pending_verifications;
  bool queued = std::find(pending.begin(), pending.end(), chunk_id) != pending.end();
  if (std::none_of(chunk->replicas.begin(), chunk->replicas.end(), here) || queued ||
      pending.size() >= kMaxPendingVerifications) {
    return;
  }
  pending.push_back(chunk_id);
}

std::vector<uint64_t> ChunkRegistry::TakePendingVerifications(uint32_t chunkserver_id) {
  ChunkserverState* chunkserver = FindChunkserver(chunkserver_id);
  return chunkserver ? std::exchange(chunkserver->pending_verifications, {}) : std::vector<uint64_t>{};
}

bool ChunkRegistry::DeletionUnderway(uint32_t chunkserver_id, uint64_t chunk_id) const {
  auto chunkserver = chunkservers_.find(chunkserver_id);
  if (chunkserver == chunkservers_.end()) return false;
  auto has = [chunk_id](const std::vector<uint64_t>& ids) {
    return std::find(ids.begin(), ids.end(), chunk_id) != ids.end();
  };
  return has(chunkserver->second.pending_deletions) || has(chunkserver->second.deletions_sent);
}

ChunkserverState* ChunkRegistry::FindChunkserver(uint32_t chunkserver_id) {
  auto chunkserver = chunkservers_.find(chunkserver_id);
  return chunkserver == chunkservers_.end() ? nullptr : &chunkserver->second;
}

bool ChunkRegistry::IsUp(const ChunkserverState& chunkserver, int64_t now_ms) const {
  return now_ms - chunkserver.last_heartbeat_ms <= heartbeat_timeout_ms_ &&
         chunkserver.refused_ms <= chunkserver.last_heartbeat_ms;
}

bool ChunkRegistry::MarkRefused(uint32_t chunkserver_id, int64_t heartbeat_ms, int64_t now_ms) {
  ChunkserverState* chunkserver = FindChunkserver(chunkserver_id);
  if (!chunkserver || chunkserver->last_heartbeat_ms != heartbeat_ms) return false;
  chunkserver->refused_ms = std::max(now_ms, heartbeat_ms + 1);
  return true;
}

bool ChunkRegistry::IsUp(uint32_t chunkserver_id, int64_t now_ms) {
  ChunkserverState* chunkserver = FindChunkserver(chunkserver_id);
  return chunkserver && IsUp(*chunkserver, now_ms);
}

void ChunkRegistry::SetMode(uint32_t chunkserver_id, wire::ChunkserverMode mode) {
  if (mode == wire::MODE_NORMAL) {
    modes_.erase(chunkserver_id);
  } else {
    modes_[chunkserver_id] = mode;
  }
}

wire::ChunkserverMode ChunkRegistry::Mode(uint32_t chunkserver_id) const {
  auto mode = modes_.find(chunkserver_id);
  return mode == modes_.end() ? wire::MODE_NORMAL : mode->second;
}

std::unordered_map<uint32_t, uint64_t> ChunkRegistry::ReplicasByChunkserver() const {
  std::unordered_map<uint32_t, uint64_t> counts;
  for (const auto& [chunk_id, chunk] : chunks_) {
    for (const Replica& replica : chunk.replicas) counts[replica.chunkserver_id]++;
  }
  return counts;
}

ChunkserverState* ChunkRegistry::FindChunkserverByUuid(const std::string& uuid) {
  auto id = chunkserver_ids_.find(uuid);
  return id == chunkserver_ids_.end() ? nullptr : FindChunkserver(id->second);
}

}  // namespace hafs::master
