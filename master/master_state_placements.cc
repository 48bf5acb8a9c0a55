// MasterState's chunks placed ahead (docs/design.md, "Placements granted ahead"): granted to a
// session with their chains, attached to its files by the batches that ship them, dropped when
// never attached in time. The bookkeeping is ChunkPlacements'.
#include "common/log.h"
#include "master/master_state.h"

namespace hafs::master {

void MasterState::PlaceAhead(uint64_t session, uint64_t dir, uint32_t want, int64_t now_ms, int64_t now_ns,
                             wire::Reply* reply, std::vector<wire::LogRecord>* records) {
  auto goal = namespace_.Goal(dir);
  if (!goal) return;
  uint32_t count = placements_.MayGrant(session, want);
  wire::LogRecord record;
  wire::ChunksPlaced* placed = record.mutable_chunks_placed();
  placed->set_session(session);
  placed->set_goal(*goal);
  std::vector<std::vector<uint32_t>> chains;
  for (uint32_t i = 0; i < count; ++i) {
    auto chain = PlaceChain(wire::WriteLeaseRequest(), *goal, now_ms);
    if (!chain) break;  // none now (chunkservers down or full): the mount asks the master per chunk
    wire::PlacedChunk* chunk = placed->add_chunks();
    chunk->set_chunk_id(next_chunk_id_ + i);
    SetChainUuids(*chain, chunk->mutable_replica_uuids());
    chains.push_back(std::move(*chain));
  }
  if (chains.empty()) return;
  uint64_t first = next_chunk_id_;
  if (!Log(std::move(record), now_ns, records)) return;
  for (size_t i = 0; i < chains.size(); ++i) {
    wire::ChunkLocation* location = reply->add_placements();
    location->set_chunk_id(first + i);
    location->set_chunk_version(1);
    for (uint32_t id : chains[i]) AddressOf(*registry_.FindChunkserver(id), location->add_replicas());
  }
  reply->set_replication_goal(*goal);
  reply->set_min_write_replicas(MinWriteReplicas(*goal));
  reply->set_write_lease_ms(static_cast<uint32_t>(options_.lease_ms));
}

Result<wire::Reply> MasterState::AttachChunk(const wire::AttachChunkRequest& request, uint64_t client_id,
                                             int64_t now_ms, int64_t now_ns, std::vector<wire::LogRecord>* records) {
  const ChunkPlacements::Placement* placement = placements_.Find(request.chunk_id());
  if (!placement || placement->session != client_id) {
    return Fail(EACCES, "chunk " + std::to_string(request.chunk_id()) + " was not placed for this session");
  }
  auto chunk_ids = namespace_.ChunkIds(request.inode());
  if (!chunk_ids) return Fail(chunk_ids.error());
  uint64_t index = request.chunk_index();
  if (index < (*chunk_ids)->size() && (**chunk_ids)[index] != 0) {
    return Fail(EEXIST, "chunk " + std::to_string(index) + " of inode " + std::to_string(request.inode()) +
                            " exists already");
  }
  wire::LogRecord record;
  wire::ChunkAllocated* allocated = record.mutable_chunk_allocated();
  allocated->set_inode(request.inode());
  allocated->set_chunk_index(index);
  allocated->set_chunk_id(request.chunk_id());
  allocated->set_chunk_version(1);
  for (const std::string& uuid : placement->replica_uuids) allocated->add_replica_uuids(uuid);
  if (auto applied = Log(std::move(record), now_ns, records); !applied) return Fail(applied.error());
  wire::Reply reply;
  ChunkState* chunk = registry_.Find(request.chunk_id());
  HoldLease(chunk, client_id, /*extend=*/false, now_ms, &reply);
  // The mount wrote with the placement and never saw this grant: its release at close names
  // token 0, which matches only while the lease is still exactly this one (a renewal makes a
  // new token), so self-healing need not wait for the lease to run out.
  chunk->lease_token = 0;
  reply.set_lease_token(0);
  AddUpReplicas(request.chunk_id(), *chunk, now_ms, reply.mutable_location());
  return reply;
}

void MasterState::ExpirePlacements(int64_t now_ms, int64_t now_ns, std::vector<wire::LogRecord>* records) {
  if (!active_) return;
  std::vector<uint64_t> expired = placements_.Expired(now_ms, ChunkPlacements::kMaxPerGrant * 16);
  if (expired.empty()) return;
  // Whatever was written to them goes now, not at the chunkservers' next registration: a
  // session could otherwise fill disks with chunks no file counts.
  for (uint64_t chunk_id : expired) {
    for (const std::string& uuid : placements_.Find(chunk_id)->replica_uuids) {
      if (const ChunkserverState* chunkserver = registry_.FindChunkserverByUuid(uuid)) {
        registry_.QueueDeletion(chunkserver->id, chunk_id);
      }
    }
  }
  wire::LogRecord record;
  record.mutable_placements_expired()->mutable_chunk_ids()->Add(expired.begin(), expired.end());
  if (Log(std::move(record), now_ns, records)) {
    LOG(INFO) << expired.size() << " chunks placed ahead were never attached in time: dropped";
  }
}

}  // namespace hafs::master
