// Everything the master knows, owned by one thread: the namespace, the chunks and the
// chunkservers, plus the log position and epoch. Mutations are LogRecords applied by
// Apply(), the same code live and in op-log replay; Handle() answers one request and
// hands back the records that must be on disk before its reply is sent.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/goal.h"
#include "common/proto/hafs.pb.h"
#include "common/status.h"
#include "master/chunk_registry.h"
#include "master/repair_planner.h"
#include "master/chunk_placements.h"
#include "master/inode_grants.h"
#include "master/namespace.h"
#include "master/recent_results.h"

namespace hafs::master {

struct MasterOptions {
  std::string address;           // this master's "host:port", for ClusterStatus
  uint32_t goal = kDefaultGoal;  // the root directory's in a new cluster (logged then)
  uint32_t min_write_replicas = 2;
  int64_t heartbeat_timeout_ms = 2500;
  uint32_t heartbeat_interval_ms = 1000;  // told to chunkservers when they register
  int64_t lease_ms = 10000;
};

class MasterState {
 public:
  explicit MasterState(MasterOptions options);

  // Applies one mutation; record.position must be position() + 1. On failure nothing
  // changed (and the record must not be logged).
  Result<wire::Reply> Apply(const wire::LogRecord& record);
  // Applies a record read back from the op log. Records are logged only after they
  // applied cleanly, so a failure means divergence: it is logged and the position advances.
  Status Replay(const wire::LogRecord& record);

  // Answers one request at (now_ms monotonic, now_ns wall clock). Records to persist
  // before the reply goes out are appended to *records.
  wire::Reply Handle(const wire::Envelope& request, int64_t now_ms, int64_t now_ns,
                     std::vector<wire::LogRecord>* records);
  // Logs the release of these open-unlinked files (no session holds them): they go, with
  // their chunks.
  void ReleaseOrphans(const std::vector<uint64_t>& inodes, int64_t now_ns, std::vector<wire::LogRecord>* records);
  // Logs the sessions that may hold metadata leases (MetadataLeases::HoldersToLog): a new
  // active waits for them before it answers a change.
  // `delegating`: those that may hold directory delegations (DirDelegations::HoldersToLog).
  void LogLeaseHolders(const std::vector<uint64_t>& sessions, const std::vector<uint64_t>& delegating, int64_t now_ns,
                       std::vector<wire::LogRecord>* records);
  const std::vector<uint64_t>& lease_holders() const { return lease_holders_; }
  const std::vector<uint64_t>& delegating_holders() const { return delegating_holders_; }
  // Logs a range of `count` inode numbers for `session`'s write-back creates: its first.
  Result<uint64_t> GrantInodes(uint64_t session, uint32_t count, int64_t now_ns, std::vector<wire::LogRecord>* records);
  const InodeGrants& inode_grants() const { return inode_grants_; }
  // Places up to `want` chunks ahead for `session`'s files under `dir` (at its goal), logged,
  // into reply->placements: each with its chain at version 1; and what their writes need
  // (replication_goal, min_write_replicas, write_lease_ms). None when no chain can be made now
  // (master_state_placements.cc).
  void PlaceAhead(uint64_t session, uint64_t dir, uint32_t want, int64_t now_ms, int64_t now_ns, wire::Reply* reply,
                  std::vector<wire::LogRecord>* records);
  // Logs the end of placements never attached, past their time (active only).
  void ExpirePlacements(int64_t now_ms, int64_t now_ns, std::vector<wire::LogRecord>* records);
  const ChunkPlacements& placements() const { return placements_; }
  // Moves to the next epoch (called once at start, before serving) and starts the grace
  // period (--heartbeat-timeout-ms from now_ms) in which every live chunkserver registers.
  void StartEpoch(int64_t now_ms, int64_t now_ns, std::vector<wire::LogRecord>* records);
  // Periodic: after the grace period, a chunk with no valid replica but stale ones on up
  // chunkservers gets the highest of those versions back (logged in *records), and its
  // lower replicas are queued for deletion. See docs/notes/master.md.
  void ResolveStaleChunks(int64_t now_ms, int64_t now_ns, std::vector<wire::LogRecord>* records);

  // Active (the default) or hot standby. A standby applies what the active ships and keeps
  // replica locations from registrations, but logs nothing of its own (no
  // ChunkserverJoined, no adopted versions) and sends no deletions.
  void set_active(bool active) { active_ = active; }
  bool active() const { return active_; }
  // Drops every queued replica deletion (a standby that becomes active: its queue was
  // built against a state that may have lagged).
  void ClearPendingDeletions();
  // Sets the epoch without logging (a master that takes over logs EpochStarted itself
  // through StartEpochAt).
  void StartEpochAt(uint64_t epoch, int64_t now_ms, int64_t now_ns, std::vector<wire::LogRecord>* records);

  // Member chunkservers (uuid -> address), from ChunkserverJoined records.
  // Member chunkservers by uuid: their address when they joined and their id.
  struct Member {
    std::string address;
    uint32_t id = 0;
    std::string public_key;  // CURVE (Z85); "" for a cluster run --insecure
    bool operator==(const Member&) const = default;
  };
  const std::map<std::string, Member>& members() const { return members_; }
  // A majority of the members: members / 2 + 1.
  static size_t Quorum(size_t members) { return members / 2 + 1; }
  const RecentResults& recent_results() const { return recent_; }

  // The address ClusterStatus reports, known once the service has bound its socket.
  void set_address(std::string address) { options_.address = std::move(address); }

  // Whether every live chunkserver has had time to register since this master started
  // serving (until then, a chunk's missing replicas may just not be reported yet).
  bool GracePeriodOver(int64_t now_ms) const { return now_ms - serving_since_ms_ > options_.heartbeat_timeout_ms; }
  // `error` for a write lease that finds too few chunkservers up, or EAGAIN (the client asks
  // again) during the grace period: a new active hears from each chunkserver only once it
  // registers again, and a lease asked for in that second is not the cluster's answer.
  int UntilEveryoneRegistered(int error, int64_t now_ms) const { return GracePeriodOver(now_ms) ? error : EAGAIN; }
  // Whether self-healing may copy chunks: the grace period is over, and so is any write
  // lease granted before this master started serving (lease times are not replicated, and
  // a chunk must not be copied while a client may still write at its version).
  bool RepairsAllowed(int64_t now_ms) const {
    return GracePeriodOver(now_ms) && now_ms - serving_since_ms_ > options_.lease_ms;
  }
  // A finished self-healing copy: logs ReplicaCopied while the chunk still has the copied
  // version, else queues the copy's deletion (a write lease moved the chunk on meanwhile).
  void CopyFinished(const CopyOrder& order, int64_t now_ns, std::vector<wire::LogRecord>* records);

  // What `hafs status` shows (and the service's metrics publish): this master, the
  // chunkservers and the chunks by state (master_state_chunks.cc).
  wire::Reply ClusterStatus(int64_t now_ms);

  uint64_t position() const { return position_; }
  uint64_t epoch() const { return epoch_; }
  const Namespace& name_space() const { return namespace_; }
  ChunkRegistry& registry() { return registry_; }

  // Checkpoint: header, then every inode, entry and chunk; Restore takes them back in
  // that order (the header first).
  Status ForEachCheckpointRecord(const std::function<Status(const wire::CheckpointRecord&)>& emit) const;
  Status Restore(const wire::CheckpointRecord& record);

 private:
  // Applies `record` stamped with the next position and now_ns; logs it on success.
  Result<wire::Reply> Log(wire::LogRecord record, int64_t now_ns, std::vector<wire::LogRecord>* records);
  Result<wire::Reply> ApplyEvent(const wire::LogRecord& record);
  // A create with a write-back inode number (0: none): only one granted to the record's
  // session and not used yet; `create` applies it, and the number is used on success.
  Result<wire::Reply> TakeGrantedInode(const wire::LogRecord& record, uint64_t inode,
                                       const std::function<Result<wire::Reply>()>& create);
  void FreeChunks(const std::vector<uint64_t>& freed_chunks);

  // Goals (goals.cc).
  Result<wire::Reply> ApplySetGoal(const wire::SetGoalRequest& request);
  Result<wire::Reply> GetGoal(const wire::GetGoalRequest& request) const;
  // Logs the root's goal (--goal): the first thing a new cluster does after its epoch.
  void LogRootGoal(int64_t now_ns, std::vector<wire::LogRecord>* records);
  // A write chain of a chunk with `goal` needs min(--min-write-replicas, goal) replicas:
  // a file with goal 1 is written with one.
  uint32_t MinWriteReplicas(uint32_t goal) const { return std::min(options_.min_write_replicas, goal); }

  // Chunk requests (master_state_chunks.cc).
  Result<wire::Reply> WriteLease(const wire::WriteLeaseRequest& request, uint64_t client_id, int64_t now_ms,
                                 int64_t now_ns, std::vector<wire::LogRecord>* records);
  // A chunk placed ahead for `client_id` becomes chunk `chunk_index` of the file, under its
  // write lease (master_state_placements.cc).
  Result<wire::Reply> AttachChunk(const wire::AttachChunkRequest& request, uint64_t client_id, int64_t now_ms,
                                  int64_t now_ns, std::vector<wire::LogRecord>* records);
  // Starts (or, with `extend`, prolongs) the chunk's write lease for `client_id`.
  void HoldLease(ChunkState* chunk, uint64_t client_id, bool extend, int64_t now_ms, wire::Reply* reply);
  // Ends the leases `client_id` released (WriteDone at close) that are still exactly as
  // granted to it: not extended since, not shared with another client.
  void ReleaseLeases(const google::protobuf::RepeatedPtrField<wire::LeaseToRelease>& leases, uint64_t client_id,
                     int64_t now_ms);
  // `goal` up, non-full chunkservers for a new chain (not the request's failed ones);
  // ENOSPC when fewer than MinWriteReplicas(goal).
  Result<std::vector<uint32_t>> PlaceChain(const wire::WriteLeaseRequest& request, uint32_t goal, int64_t now_ms);
  // Makes `chain` the chunk's replicas at `version` (already logged) under a new lease.
  void GrantChain(uint64_t chunk_id, const std::vector<uint32_t>& chain, uint64_t version, uint64_t client_id,
                  int64_t now_ms, wire::Reply* reply);
  // Whether no write to this chunk can have been acknowledged: see WriteLease.
  bool NeverWrittenDurably(uint64_t inode, uint64_t chunk_index) const;
  Result<wire::Reply> GetChunks(const wire::GetChunksRequest& request, int64_t now_ms);
  Result<wire::Reply> FileInfo(const wire::FileInfoRequest& request, int64_t now_ms);
  // Chunkserver modes (master_state_modes.cc). `replica_count`: replicas listed on it.
  void FillChunkserverInfo(uint32_t id, uint64_t replica_count, int64_t now_ms, wire::ChunkserverInfo* info) const;
  Result<wire::Reply> SetChunkserverMode(const wire::ChunkserverModeRequest& request, int64_t now_ms, int64_t now_ns,
                                         std::vector<wire::LogRecord>* records);
  Result<wire::Reply> ApplyModeChanged(const wire::ChunkserverModeChanged& changed);
  // The uuid of the member named by `name`: its id, "host:port" or uuid.
  Result<std::string> FindMember(const std::string& name) const;
  wire::Reply StatFs(int64_t now_ms);
  // A fallocate's range (EINVAL, EFBIG) and, when it reserves space, ENOSPC when the up
  // chunkservers' free space cannot hold the range `goal` times (docs/design.md, "fallocate").
  Status CheckFallocate(const wire::FallocateRequest& request, int64_t now_ms);
  wire::Reply Register(const wire::RegisterRequest& request, int64_t now_ms, int64_t now_ns,
                       std::vector<wire::LogRecord>* records);
  Result<wire::Reply> Heartbeat(const wire::HeartbeatRequest& request, int64_t now_ms, int64_t now_ns,
                                std::vector<wire::LogRecord>* records);
  // What a chunkserver's register or heartbeat answer carries for it to do: the deletions
  // and the checks of replicas clients reported bad (only the active sends them).
  void AddChunkserverWork(uint32_t chunkserver_id, wire::Reply* reply);
  // The member id of `uuid`; on the active, a chunkserver that is not a member yet joins
  // (logged), with the CURVE key it proved. 0 when it is not a member and this master is
  // not active.
  uint32_t MemberId(const std::string& uuid, const std::string& address, const std::string& public_key,
                    int64_t now_ns, std::vector<wire::LogRecord>* records);
  // Where a client reaches `chunkserver`.
  static void AddressOf(const ChunkserverState& chunkserver, wire::ChunkserverAddress* address);
  // The replicas of `chunk` at its current version on up chunkservers, in replica order.
  void AddUpReplicas(uint64_t chunk_id, const ChunkState& chunk, int64_t now_ms, wire::ChunkLocation* location);

  // Adds the chain's chunkservers (by uuid) as replicas at `version` (hot standby).
  void AddReplicasByUuid(uint64_t chunk_id, const google::protobuf::RepeatedPtrField<std::string>& uuids,
                         uint64_t version);
  void SetChainUuids(const std::vector<uint32_t>& chain, google::protobuf::RepeatedPtrField<std::string>* uuids);

  MasterOptions options_;
  bool active_ = true;
  std::map<std::string, Member> members_;
  RecentResults recent_;
  std::vector<uint64_t> lease_holders_;  // LeaseHolders
  std::vector<uint64_t> delegating_holders_;
  InodeGrants inode_grants_;
  ChunkPlacements placements_;
  Namespace namespace_;
  ChunkRegistry registry_;
  uint64_t position_ = 0;
  uint64_t epoch_ = 0;
  uint64_t next_chunk_id_ = 1;
  uint64_t next_lease_token_ = 1;  // volatile, like the leases
  int64_t serving_since_ms_ = 0;  // monotonic; set by StartEpoch
  std::mt19937_64 random_;
};

}  // namespace hafs::master
