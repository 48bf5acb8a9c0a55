// Chunks (id -> version, replicas, lease) and the chunkservers that hold them. Only
// chunk ids and versions, and the chunkservers' modes, are persistent (op log,
// checkpoint); replica locations come from chunkservers when they register, and
// chunkserver ids are member ids, the same at every master. A replica is valid when its
// version equals the chunk's version, stale when it is lower (kept only while the chunk
// has no valid replica: see Register).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs::master {

struct Replica {
  uint32_t chunkserver_id = 0;
  uint64_t version = 0;
};

struct ChunkState {
  uint64_t version = 0;
  // The highest version this chunk ever had. Recovering stale replicas lowers the
  // version, but a replica may have taken writes at the higher one and come back later,
  // so the next bump goes above this one: one version never names two contents.
  uint64_t highest_version = 0;
  std::vector<Replica> replicas;
  int64_t lease_expiry_ms = 0;  // monotonic; a write lease is active before this
  // The lease's holder (client id) and the token of its latest grant or extension. A
  // lease extended for a second client is shared: only its expiry ends it (see
  // MasterState::ReleaseLeases).
  uint64_t lease_holder = 0;
  uint64_t lease_token = 0;
  bool lease_shared = false;
  uint8_t goal = 0;  // its file's replication goal (1..9), kept in step by SetGoal
  // A chunkserver reported a replica of it lost (bad checksum or failed disk) since it last
  // gained a replica: while under its goal, `hafs status` counts it as corrupt.
  bool replica_reported_bad = false;
};

struct ChunkserverState {
  uint32_t id = 0;
  std::string uuid;
  std::string address;
  std::string public_key;  // CURVE (Z85) it proved registering; "" without CURVE
  std::string plain_data_address;  // its plain data port as it registered it; "" when none
  std::string label;
  wire::DiskSpace space;
  uint64_t chunk_count = 0;
  uint32_t requests_in_flight = 0;
  bool full = false;
  int64_t last_heartbeat_ms = 0;  // monotonic
  int64_t last_heartbeat_ns = 0;  // wall clock, for status displays
  int64_t refused_ms = 0;         // monotonic: a connect was refused after the last heartbeat
  std::vector<uint64_t> pending_deletions;
  // Deletions in the last heartbeat or registration reply: the chunkserver carries them
  // out before it sends the next heartbeat, which replaces this list.
  std::vector<uint64_t> deletions_sent;
  // Replicas here a client reported bad, for the next answer to ask the chunkserver to
  // check (Reply.verify_chunks); at most kMaxPendingVerifications.
  std::vector<uint64_t> pending_verifications;
  bool must_register = false;  // see RequireRegistration
};

// A chunk a chunkserver holds at a higher version than the master knows.
struct ChunkVersion {
  uint64_t chunk_id = 0;
  uint64_t version = 0;
};

class ChunkRegistry {
 public:
  explicit ChunkRegistry(int64_t heartbeat_timeout_ms) : heartbeat_timeout_ms_(heartbeat_timeout_ms) {}

  // Persistent part (op-log replay and live).
  // highest_version: the highest version ever handed out (a checkpoint keeps it).
  void AddChunk(uint64_t chunk_id, uint64_t version, uint32_t goal, uint64_t highest_version = 0);
  // Gives these chunks (a file's, whose goal changed) the goal; unknown ids are skipped.
  void SetGoal(std::span<const uint64_t> chunk_ids, uint32_t goal);
  void SetVersion(uint64_t chunk_id, uint64_t version);
  // Forgets chunks (their file was freed or truncated) and queues their replicas' deletion.
  void RemoveChunks(std::span<const uint64_t> chunk_ids);
  ChunkState* Find(uint64_t chunk_id);
  const std::unordered_map<uint64_t, ChunkState>& chunks() const { return chunks_; }
  void Clear() {
    chunks_.clear();
    stale_chunks_.clear();
    modes_.clear();
  }
  // A chunkserver's mode (chunkserver_modes.h), by member id: kept apart from the
  // registered chunkservers because a chunkserver in maintenance may be down since before
  // this master started, and its mode must hold all the same.
  void SetMode(uint32_t chunkserver_id, wire::ChunkserverMode mode);
  wire::ChunkserverMode Mode(uint32_t chunkserver_id) const;

  // Chunkservers. Register reconciles the reported chunks: unknown ones are queued for
  // deletion, unless `placed_ahead` says a mount may be writing them before it attaches them
  // to a file (ChunkPlacements; the attach adds their replicas); equal versions become valid replicas (and drop the chunk's stale ones);
  // lower versions are queued for deletion if the chunk has a valid replica, else kept
  // as stale replicas (a version bump for a lease may have reached no replica: see
  // StaleChunksToRecover); higher versions are returned in *newer for the caller to
  // log, then AddReplica and DropStaleReplicas.
  // `id` is the chunkserver's member id (the same at every master).
  void Register(const wire::RegisterRequest& request, uint32_t id, int64_t now_ms, int64_t now_ns,
                std::vector<ChunkVersion>* newer, const std::function<bool(uint64_t)>& placed_ahead = {});
  Status Heartbeat(const wire::HeartbeatRequest& request, int64_t now_ms, int64_t now_ns);
  // For a standby that takes over: its replica lists came from registrations and the log,
  // but the deletions the old active ordered (trims, bad replicas, lost chunks) never
  // reached it, so a replica it lists may be gone. Every chunkserver's next heartbeat is
  // answered ENOENT until it registers again with what it really holds; the heartbeats
  // refused meanwhile do not keep it up, so once a heartbeat timeout has passed every up
  // chunkserver is listed as it is, before self-healing trims or copies from it.
  void RequireRegistration();
  void AddReplica(uint64_t chunk_id, uint32_t chunkserver_id, uint64_t version);
  // Drops a replica from the chunk's set and queues its deletion on that chunkserver.
  void DropReplica(uint64_t chunk_id, uint32_t chunkserver_id);
  // DropReplica of a replica found bad (checksum or disk): marks the chunk corrupt until it
  // gains a replica again.
  void DropBadReplica(uint64_t chunk_id, uint32_t chunkserver_id);
  // Drops the chunk's replicas below its version and queues their deletion.
  void DropStaleReplicas(uint64_t chunk_id);
  std::vector<uint64_t> TakePendingDeletions(uint32_t chunkserver_id);
  // A client reported the chunkserver's replica of the chunk bad: the chunkserver is asked
  // to check it, and only its own report drops it. Ignored unless the master counts such a
  // replica, when one is queued already, or past kMaxPendingVerifications (a client can
  // report at will, and reports again at its next failed read).
  void RequestVerification(uint64_t chunk_id, uint32_t chunkserver_id);
  std::vector<uint64_t> TakePendingVerifications(uint32_t chunkserver_id);
  static constexpr size_t kMaxPendingVerifications = 1024;
  // Whether the chunkserver has a deletion of the chunk queued or not yet carried out: a
  // copy to it now could be deleted right after it was made (self-healing waits).
  bool DeletionUnderway(uint32_t chunkserver_id, uint64_t chunk_id) const;

  // Chunks with no valid replica whose stale replicas include some on up chunkservers,
  // each with the highest such version. Forgets chunks that have no replica left.
  std::vector<ChunkVersion> StaleChunksToRecover(int64_t now_ms);
  size_t stale_chunk_count() const { return stale_chunks_.size(); }

  ChunkserverState* FindChunkserver(uint32_t chunkserver_id);
  ChunkserverState* FindChunkserverByUuid(const std::string& uuid);
  // Up: heard from within the heartbeat timeout, and no connect refused since.
  bool IsUp(const ChunkserverState& chunkserver, int64_t now_ms) const;
  // Marks a chunkserver down whose connect was refused after the heartbeat at
  // heartbeat_ms (LivenessProbe); false if it was heard from again meanwhile.
  bool MarkRefused(uint32_t chunkserver_id, int64_t heartbeat_ms, int64_t now_ms);
  bool IsUp(uint32_t chunkserver_id, int64_t now_ms);
  const std::unordered_map<uint32_t, ChunkserverState>& chunkservers() const { return chunkservers_; }
  // How many replicas (any version) each chunkserver holds as far as this master knows.
  std::unordered_map<uint32_t, uint64_t> ReplicasByChunkserver() const;
  // Tells the chunkserver (in its next register or heartbeat answer) to delete the chunk.
  void QueueDeletion(uint32_t chunkserver_id, uint64_t chunk_id);

 private:
  static bool HasValidReplica(const ChunkState& chunk);

  int64_t heartbeat_timeout_ms_;
  std::unordered_map<uint64_t, ChunkState> chunks_;
  // Chunks whose replicas are all stale (kept by Register), so the periodic recovery
  // looks at these instead of every chunk.
  std::unordered_set<uint64_t> stale_chunks_;
  std::unordered_map<uint32_t, ChunkserverState> chunkservers_;
  std::unordered_map<std::string, uint32_t> chunkserver_ids_;  // by uuid
  std::unordered_map<uint32_t, wire::ChunkserverMode> modes_;  // absent: normal
};

}  // namespace hafs::master
