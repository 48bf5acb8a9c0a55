// MasterState's chunk and chunkserver requests: write leases, chunk locations, register,
// heartbeat and the status reports. Lease and version rules: docs/notes/master.md.
#include <algorithm>

#include "common/block_checksum.h"
#include "common/fallocate_range.h"
#include "common/log.h"
#include "common/space_total.h"
#include "master/chunkserver_modes.h"
#include "master/master_state.h"
#include "master/placement.h"

namespace hafs::master {
namespace {

constexpr uint32_t kMaxChunksPerReply = 1024;

bool Contains(const google::protobuf::RepeatedField<uint32_t>& ids, uint32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

void MasterState::AddUpReplicas(uint64_t chunk_id, const ChunkState& chunk, int64_t now_ms,
                                wire::ChunkLocation* location) {
  location->set_chunk_id(chunk_id);
  location->set_chunk_version(chunk.version);
  for (const Replica& replica : chunk.replicas) {
    ChunkserverState* chunkserver = registry_.FindChunkserver(replica.chunkserver_id);
    if (replica.version != chunk.version || !chunkserver || !registry_.IsUp(*chunkserver, now_ms)) continue;
    AddressOf(*chunkserver, location->add_replicas());
  }
}

void MasterState::AddressOf(const ChunkserverState& chunkserver, wire::ChunkserverAddress* address) {
  address->set_chunkserver_id(chunkserver.id);
  address->set_address(chunkserver.address);
  address->set_public_key(chunkserver.public_key);
  address->set_plain_data_address(chunkserver.plain_data_address);
}

Result<std::vector<uint32_t>> MasterState::PlaceChain(const wire::WriteLeaseRequest& request, uint32_t goal,
                                                      int64_t now_ms) {
  std::vector<PlacementCandidate> candidates;
  for (const auto& [id, chunkserver] : registry_.chunkservers()) {
    if (!TakesNewChunks(registry_, chunkserver, now_ms) || Contains(request.failed_chunkservers(), id)) {
      continue;
    }
    candidates.push_back({id, chunkserver.space.free_bytes(), chunkserver.requests_in_flight, chunkserver.label});
  }
  std::vector<uint32_t> chain = PickChunkservers(std::move(candidates), goal, random_);
  if (chain.size() < MinWriteReplicas(goal)) {
    return Fail(UntilEveryoneRegistered(ENOSPC, now_ms), "cannot place a new chunk: " + std::to_string(chain.size()) +
                            " chunkservers are up and not full, a chain needs " +
                            std::to_string(MinWriteReplicas(goal)) + " (--min-write-replicas, at most the goal)");
  }
  return chain;
}

void MasterState::GrantChain(uint64_t chunk_id, const std::vector<uint32_t>& chain, uint64_t version,
                             uint64_t client_id, int64_t now_ms, wire::Reply* reply) {
  for (uint32_t chunkserver_id : chain) registry_.AddReplica(chunk_id, chunkserver_id, version);
  ChunkState* chunk = registry_.Find(chunk_id);
  HoldLease(chunk, client_id, /*extend=*/false, now_ms, reply);
  AddUpReplicas(chunk_id, *chunk, now_ms, reply->mutable_location());
}

void MasterState::HoldLease(ChunkState* chunk, uint64_t client_id, bool extend, int64_t now_ms, wire::Reply* reply) {
  chunk->lease_shared = extend && (chunk->lease_shared || chunk->lease_holder != client_id);
  chunk->lease_holder = client_id;
  chunk->lease_token = next_lease_token_++;
  chunk->lease_expiry_ms = now_ms + options_.lease_ms;  // the client counts from now too
  reply->set_lease_token(chunk->lease_token);
}

void MasterState::ReleaseLeases(const google::protobuf::RepeatedPtrField<wire::LeaseToRelease>& leases,
                                uint64_t client_id, int64_t now_ms) {
  for (const wire::LeaseToRelease& release : leases) {
    ChunkState* chunk = registry_.Find(release.chunk_id());
    if (!chunk || chunk->lease_expiry_ms <= now_ms || chunk->lease_shared || chunk->lease_holder != client_id ||
        chunk->lease_token != release.lease_token()) {
      continue;
    }
    chunk->lease_expiry_ms = now_ms;
  }
}

bool MasterState::NeverWrittenDurably(uint64_t inode, uint64_t chunk_index) const {
  auto attr = namespace_.GetAttr(inode);
  return attr && attr->size() <= chunk_index * kChunkSize;
}

Result<wire::Reply> MasterState::WriteLease(const wire::WriteLeaseRequest& request, uint64_t client_id, int64_t now_ms,
                                            int64_t now_ns, std::vector<wire::LogRecord>* records) {
  auto chunk_ids = namespace_.ChunkIds(request.inode());
  if (!chunk_ids) return Fail(chunk_ids.error());
  uint64_t index = request.chunk_index();
  uint64_t chunk_id = index < (*chunk_ids)->size() ? (**chunk_ids)[index] : 0;
  uint32_t goal = *namespace_.Goal(request.inode());  // its chunks' goal too
  wire::Reply reply;
  reply.set_replication_goal(goal);
  reply.set_min_write_replicas(MinWriteReplicas(goal));
  reply.set_write_lease_ms(static_cast<uint32_t>(options_.lease_ms));

  if (chunk_id == 0) {
    auto chain = PlaceChain(request, goal, now_ms);
    if (!chain) return Fail(chain.error());
    wire::LogRecord record;
    wire::ChunkAllocated* allocated = record.mutable_chunk_allocated();
    allocated->set_inode(request.inode());
    allocated->set_chunk_index(index);
    allocated->set_chunk_id(next_chunk_id_);
    allocated->set_chunk_version(1);
    SetChainUuids(*chain, allocated->mutable_replica_uuids());
    chunk_id = next_chunk_id_;
    if (auto applied = Log(std::move(record), now_ns, records); !applied) return Fail(applied.error());
    GrantChain(chunk_id, *chain, 1, client_id, now_ms, &reply);
    return reply;
  }

  ChunkState* chunk = registry_.Find(chunk_id);
  if (!chunk) return Fail(EIO, "chunk " + std::to_string(chunk_id) + " is unknown to the master");
  // No replica at all, valid or stale, on any registered chunkserver once the grace
  // period is over: typically a chunk allocated (ChunkAllocated logged) whose lease ended
  // before any write, or whose master restarted first; chunkservers create a chunk on
  // its first write, so nobody holds it. It gets a new chain as a new chunk would, at a
  // version above any it had. This is safe only if no data of it was acknowledged: a
  // client sends WriteDone (size = max(size, end)) on flush, fsync and close, and a
  // truncation below the chunk frees it, so a file size at or below the chunk's start
  // means no write into it was ever reported durable. Otherwise (the holders may just be
  // down for longer than the grace period) the chain check below refuses with EIO and
  // the data waits for its chunkservers instead of being replaced by an empty chunk.
  if (chunk->replicas.empty() && GracePeriodOver(now_ms) && NeverWrittenDurably(request.inode(), index)) {
    auto chain = PlaceChain(request, goal, now_ms);
    if (!chain) return Fail(chain.error());
    uint64_t new_version = chunk->highest_version + 1;
    wire::LogRecord record;
    record.mutable_chunk_version_bumped()->set_chunk_id(chunk_id);
    record.mutable_chunk_version_bumped()->set_chunk_version(new_version);
    SetChainUuids(*chain, record.mutable_chunk_version_bumped()->mutable_replica_uuids());
    if (auto applied = Log(std::move(record), now_ns, records); !applied) return Fail(applied.error());
    LOG(INFO) << "chunk " << chunk_id << " (inode " << request.inode() << ", index " << index
              << ") has no replica and was never written: placing it again at version " << new_version;
    GrantChain(chunk_id, *chain, new_version, client_id, now_ms, &reply);
    return reply;
  }
  bool dropped = false;
  for (uint32_t failed : request.failed_chunkservers()) {
    bool held = std::any_of(chunk->replicas.begin(), chunk->replicas.end(),
                            [failed](const Replica& replica) { return replica.chunkserver_id == failed; });
    if (!held) continue;
    registry_.DropReplica(chunk_id, failed);
    dropped = true;
  }
  size_t valid_count = std::count_if(chunk->replicas.begin(), chunk->replicas.end(),
                                     [chunk](const Replica& replica) { return replica.version == chunk->version; });
  wire::ChunkLocation chain;
  AddUpReplicas(chunk_id, *chunk, now_ms, &chain);
  if (static_cast<uint32_t>(chain.replicas_size()) < MinWriteReplicas(goal)) {
    return Fail(UntilEveryoneRegistered(EIO, now_ms), "chunk " + std::to_string(chunk_id) + " has " + std::to_string(chain.replicas_size()) +
                         " up-to-date replicas on up chunkservers, a chain needs " +
                         std::to_string(MinWriteReplicas(goal)) + " (--min-write-replicas, at most the goal)");
  }
  // A replica that went down during the lease changes the chain as much as a failed one.
  bool chain_unchanged = !dropped && static_cast<size_t>(chain.replicas_size()) == valid_count;
  if (now_ms < chunk->lease_expiry_ms && chain_unchanged) {
    HoldLease(chunk, client_id, /*extend=*/true, now_ms, &reply);
    *reply.mutable_location() = std::move(chain);
    return reply;
  }
  uint64_t new_version = chunk->highest_version + 1;
  wire::LogRecord record;
  record.mutable_chunk_version_bumped()->set_chunk_id(chunk_id);
  record.mutable_chunk_version_bumped()->set_chunk_version(new_version);
  std::vector<uint32_t> chain_ids;
  for (const wire::ChunkserverAddress& member : chain.replicas()) chain_ids.push_back(member.chunkserver_id());
  SetChainUuids(chain_ids, record.mutable_chunk_version_bumped()->mutable_replica_uuids());
  if (auto applied = Log(std::move(record), now_ns, records); !applied) return Fail(applied.error());
  for (const wire::ChunkserverAddress& member : chain.replicas()) {
    registry_.AddReplica(chunk_id, member.chunkserver_id(), new_version);
  }
  HoldLease(chunk, client_id, /*extend=*/false, now_ms, &reply);
  chain.set_chunk_version(new_version);
  *reply.mutable_location() = std::move(chain);
  return reply;
}

Result<wire::Reply> MasterState::GetChunks(const wire::GetChunksRequest& request, int64_t now_ms) {
  auto chunk_ids = namespace_.ChunkIds(request.inode());
  if (!chunk_ids) return Fail(chunk_ids.error());
  wire::Reply reply;
  uint32_t count = std::min(request.count(), kMaxChunksPerReply);
  for (uint64_t index = request.first_index(); index < request.first_index() + count; ++index) {
    wire::ChunkLocation* location = reply.add_locations();
    uint64_t chunk_id = index < (*chunk_ids)->size() ? (**chunk_ids)[index] : 0;
    if (chunk_id == 0) continue;
    if (const ChunkState* chunk = registry_.Find(chunk_id)) {
      AddUpReplicas(chunk_id, *chunk, now_ms, location);
    } else {
      location->set_chunk_id(chunk_id);
    }
  }
  return reply;
}

Result<wire::Reply> MasterState::FileInfo(const wire::FileInfoRequest& request, int64_t now_ms) {
  auto chunk_ids = namespace_.ChunkIds(request.inode());
  if (!chunk_ids) return Fail(chunk_ids.error());
  wire::Reply reply;
  if (auto attr = namespace_.GetAttr(request.inode())) *reply.mutable_attr() = *attr;
  reply.set_goal(*namespace_.Goal(request.inode()));
  for (uint64_t index = 0; index < (*chunk_ids)->size(); ++index) {
    uint64_t chunk_id = (**chunk_ids)[index];
    if (chunk_id == 0) continue;
    wire::ChunkInfo* info = reply.add_chunks();
    info->set_chunk_index(index);
    info->set_chunk_id(chunk_id);
    const ChunkState* chunk = registry_.Find(chunk_id);
    if (!chunk) continue;
    info->set_chunk_version(chunk->version);
    info->set_lease_ms_left(std::max<int64_t>(0, chunk->lease_expiry_ms - now_ms));
    for (const Replica& replica : chunk->replicas) {
      wire::ReplicaInfo* out = info->add_replicas();
      out->set_chunkserver_id(replica.chunkserver_id);
      ChunkserverState* chunkserver = registry_.FindChunkserver(replica.chunkserver_id);
      if (chunkserver) out->set_address(chunkserver->address);
      if (!chunkserver || !registry_.IsUp(*chunkserver, now_ms)) {
        out->set_state("down");
      } else {
        out->set_state(replica.version == chunk->version ? "valid" : "stale");
      }
    }
  }
  return reply;
}

wire::Reply MasterState::ClusterStatus(int64_t now_ms) {
  wire::Reply reply;
  wire::MasterInfo* master = reply.add_masters();
  master->set_address(options_.address);
  master->set_role("active");
  master->set_epoch(epoch_);
  master->set_log_position(position_);
  // Every registered chunkserver, and members in a mode that have not registered with this
  // master (down since before it started): their mode holds, so it is shown.
  std::vector<uint32_t> ids;
  for (const auto& [id, chunkserver] : registry_.chunkservers()) ids.push_back(id);
  for (const auto& [uuid, member] : members_) {
    if (!registry_.FindChunkserver(member.id) && registry_.Mode(member.id) != wire::MODE_NORMAL) {
      ids.push_back(member.id);
    }
  }
  std::sort(ids.begin(), ids.end());
  std::unordered_map<uint32_t, uint64_t> replicas = registry_.ReplicasByChunkserver();
  for (uint32_t id : ids) FillChunkserverInfo(id, replicas[id], now_ms, reply.add_chunkservers());
  uint64_t healthy = 0, under_replicated = 0, corrupt = 0, over_replicated = 0, missing = 0, copies_missing = 0;
  for (const auto& [chunk_id, chunk] : registry_.chunks()) {
    uint32_t valid = CountValidReplicas(registry_, chunk, now_ms);
    if (valid > chunk.goal) {
      over_replicated++;
    } else if (valid == chunk.goal) {
      healthy++;
    } else if (valid > 0 || AnyReadable(registry_, chunk, now_ms)) {  // e.g. only on a decommissioning one
      (chunk.replica_reported_bad ? corrupt : under_replicated)++;
      copies_missing += chunk.goal - valid;
    } else {
      missing++;
    }
  }
  reply.set_chunks_healthy(healthy);
  reply.set_chunks_under_replicated(under_replicated);
  reply.set_chunks_corrupt(corrupt);
  reply.set_chunks_missing(missing);
  reply.set_chunks_over_replicated(over_replicated);
  reply.set_bytes_to_copy(copies_missing * kChunkSize);
  reply.set_inode_count(namespace_.inode_count());
  reply.set_open_unlinked_files(namespace_.orphans().size());
  return reply;
}

wire::Reply MasterState::StatFs(int64_t now_ms) {
  wire::Reply reply;
  SpaceTotal space;
  for (const auto& [id, chunkserver] : registry_.chunkservers()) {
    if (registry_.IsUp(chunkserver, now_ms)) space.Add(chunkserver.space);
  }
  reply.set_total_bytes(space.total_bytes());
  reply.set_free_bytes(space.free_bytes());
  reply.set_reserved_bytes(space.reserved_bytes());
  reply.set_inode_count(namespace_.inode_count());
  return reply;
}

Status MasterState::CheckFallocate(const wire::FallocateRequest& request, int64_t now_ms) {
  if (Status range = CheckFallocateRange(request.offset(), request.length()); !range.ok()) return range;
  if (request.mode() == wire::FALLOCATE_PUNCH_HOLE) return Status::Ok();
  auto goal = namespace_.Goal(request.inode());
  if (!goal) return Status::Ok();  // the mutation itself answers for a missing inode
  // An upper bound: bytes of the range already stored are counted again.
  uint64_t free_bytes = StatFs(now_ms).free_bytes();
  if (request.length() > free_bytes / std::max<uint32_t>(1, *goal)) {
    return Status::Error(ENOSPC, "fallocate of " + std::to_string(request.length()) + " bytes at goal " +
                                     std::to_string(*goal) + ": the chunkservers have " + std::to_string(free_bytes) +
                                     " bytes free");
  }
  return Status::Ok();
}

wire::Reply MasterState::Register(const wire::RegisterRequest& request, int64_t now_ms, int64_t now_ns,
                                  std::vector<wire::LogRecord>* records) {
  std::vector<ChunkVersion> newer;
  auto member = members_.find(request.chunkserver_uuid());
  if (member != members_.end() && !member->second.public_key.empty() &&
      member->second.public_key != request.public_key()) {
    // Someone else's key, or this chunkserver's new one: not without the operator.
    wire::Reply refused;
    refused.set_error(EACCES);
    refused.set_error_message("chunkserver " + request.chunkserver_uuid() + " joined with the key " +
                              member->second.public_key + ", not " + request.public_key());
    return refused;
  }
  uint32_t id = MemberId(request.chunkserver_uuid(), request.address(), request.public_key(), now_ns, records);
  if (id == 0) {
    // Its id comes from the active's ChunkserverJoined; the chunkserver retries.
    wire::Reply refused;
    refused.set_error(EAGAIN);
    refused.set_error_message("not a member of the cluster yet as far as this standby knows; retry");
    return refused;
  }
  registry_.Register(request, id, now_ms, now_ns, &newer,
                     [this](uint64_t chunk_id) { return placements_.Holds(chunk_id); });
  // A standby logs nothing of its own: newer versions are adopted by the active.
  if (!active_) newer.clear();
  for (const ChunkVersion& adopted : newer) {
    LOG(INFO) << "chunkserver " << id << " has chunk " << adopted.chunk_id << " at version " << adopted.version
              << ", newer than the master's: adopting it";
    wire::LogRecord record;
    record.mutable_chunk_version_bumped()->set_chunk_id(adopted.chunk_id);
    record.mutable_chunk_version_bumped()->set_chunk_version(adopted.version);
    if (!Log(std::move(record), now_ns, records)) continue;
    registry_.AddReplica(adopted.chunk_id, id, adopted.version);
    registry_.DropStaleReplicas(adopted.chunk_id);
  }
  LOG(INFO) << "chunkserver " << id << " (" << request.address() << ", uuid " << request.chunkserver_uuid()
            << ") registered with " << request.chunks_size() << " chunks";
  wire::Reply reply;
  reply.set_chunkserver_id(id);
  reply.set_heartbeat_interval_ms(options_.heartbeat_interval_ms);
  if (!active_) return reply;
  AddChunkserverWork(id, &reply);
  return reply;
}

void MasterState::ResolveStaleChunks(int64_t now_ms, int64_t now_ns, std::vector<wire::LogRecord>* records) {
  if (!GracePeriodOver(now_ms)) return;
  for (const ChunkVersion& recovered : registry_.StaleChunksToRecover(now_ms)) {
    uint64_t lost_version = registry_.Find(recovered.chunk_id)->version;
    wire::LogRecord record;
    record.mutable_chunk_version_bumped()->set_chunk_id(recovered.chunk_id);
    record.mutable_chunk_version_bumped()->set_chunk_version(recovered.version);
    if (!Log(std::move(record), now_ns, records)) continue;
    registry_.DropStaleReplicas(recovered.chunk_id);
    // A lease from before must not go on at the recovered version: the next one bumps.
    registry_.Find(recovered.chunk_id)->lease_expiry_ms = 0;
    LOG(WARNING) << "chunk " << recovered.chunk_id << " has no replica at its version " << lost_version
                 << " (a lease bumped it but no write reached a replica, or their chunkservers are gone) "
                 << "and the master has served for over " << options_.heartbeat_timeout_ms << " ms: recovering version "
                 << recovered.version << ", the highest stale one on "
                 << registry_.Find(recovered.chunk_id)->replicas.size() << " replicas";
  }
}

void MasterState::CopyFinished(const CopyOrder& order, int64_t now_ns, std::vector<wire::LogRecord>* records) {
  ChunkserverState* destination = registry_.FindChunkserver(order.destination);
  if (destination == nullptr) return;
  const ChunkState* chunk = registry_.Find(order.chunk_id);
  if (chunk != nullptr && chunk->version == order.version) {
    wire::LogRecord record;
    record.mutable_replica_copied()->set_chunk_id(order.chunk_id);
    record.mutable_replica_copied()->set_chunk_version(order.version);
    record.mutable_replica_copied()->set_replica_uuid(destination->uuid);
    if (Log(std::move(record), now_ns, records)) return;
  }
  LOG(INFO) << "chunk " << order.chunk_id << " changed while it was copied to chunkserver " << order.destination
            << ": dropping the copy";
  registry_.DropReplica(order.chunk_id, order.destination);
}

uint32_t MasterState::MemberId(const std::string& uuid, const std::string& address, const std::string& public_key,
                               int64_t now_ns, std::vector<wire::LogRecord>* records) {
  auto member = members_.find(uuid);
  // A member that joined without CURVE is given the key it proves now, once.
  bool first_key = member != members_.end() && member->second.public_key.empty() && !public_key.empty();
  if (member != members_.end() && !first_key) return member->second.id;
  if (!active_) return 0;
  uint32_t id = 1;
  for (const auto& [other_uuid, other] : members_) id = std::max(id, other.id + 1);
  if (first_key) id = member->second.id;
  wire::LogRecord joined;
  joined.mutable_chunkserver_joined()->set_chunkserver_uuid(uuid);
  joined.mutable_chunkserver_joined()->set_address(first_key ? member->second.address : address);
  joined.mutable_chunkserver_joined()->set_chunkserver_id(id);
  joined.mutable_chunkserver_joined()->set_public_key(public_key);
  if (!Log(std::move(joined), now_ns, records)) return 0;
  if (first_key) return id;
  LOG(INFO) << "chunkserver " << uuid << " (" << address << ") joined the cluster as chunkserver " << id << ": "
            << members_.size() << " members, quorum " << Quorum(members_.size());
  return id;
}

Result<wire::Reply> MasterState::Heartbeat(const wire::HeartbeatRequest& request, int64_t now_ms, int64_t now_ns,
                                           std::vector<wire::LogRecord>* records) {
  if (Status status = registry_.Heartbeat(request, now_ms, now_ns); !status.ok()) return Fail(status);
  wire::Reply reply;
  if (!active_) return reply;
  AddChunkserverWork(request.chunkserver_id(), &reply);
  return reply;
}

void MasterState::AddChunkserverWork(uint32_t chunkserver_id, wire::Reply* reply) {
  for (uint64_t chunk_id : registry_.TakePendingDeletions(chunkserver_id)) reply->add_delete_chunks(chunk_id);
  for (uint64_t chunk_id : registry_.TakePendingVerifications(chunkserver_id)) reply->add_verify_chunks(chunk_id);
}

}  // namespace hafs::master
