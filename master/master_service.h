// The master's service loop: one thread owns the MasterState, a ROUTER socket and the
// op log. Each turn drains every request that is ready, applies it in memory, writes
// the batch's log records with one write + fdatasync (group commit), and only then
// sends the batch's replies. Periodic work (stale chunk recovery, checkpoints) runs
// between turns.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <zmq.hpp>

#include "common/metrics_endpoint.h"
#include "common/log.h"
#include "common/status.h"
#include "master/copy_dispatcher.h"
#include "master/leadership.h"
#include "master/lock_table.h"
#include "master/liveness_probe.h"
#include "master/master_state.h"
#include "master/op_log.h"
#include "master/rebalancer.h"
#include "master/repair_planner.h"
#include "master/replication.h"
#include "master/export_guard.h"
#include "master/change_waits.h"
#include "master/dir_delegations.h"
#include "master/metadata_leases.h"
#include "master/name_watch.h"
#include "master/open_files.h"
#include "master/pending_reply.h"
#include "master/session_table.h"
#include "master/token_issuer.h"

namespace hafs::master {

struct ServiceOptions {
  std::string listen_address = "127.0.0.1:9420";
  std::string data_directory = "/var/lib/hafs/master";
  std::string port_file;  // empty: none
  MasterOptions master;
  uint64_t checkpoint_every_records = 100000;
  int64_t checkpoint_interval_s = 3600;
  // Failover (docs/design.md, "Master failover"). peer "" = single-master mode.
  std::string cluster_id = "hafs";
  std::string peer;
  std::string advertise_address;  // "" = the bound address
  bool bootstrap = false;
  int64_t leadership_lease_ms = 1200;
  int64_t takeover_after_ms = 600;
  int64_t standby_timeout_ms = 500;
  // Self-healing (docs/design.md, "Self-healing").
  uint32_t copies_per_chunkserver = 2;
  int64_t copy_timeout_ms = 30000;
  RebalanceOptions rebalance;
  // Chunk access tokens (docs/design.md, "Chunk access tokens"); no key: none issued.
  std::optional<TokenKey> token_key;
  int64_t token_lifetime_ms = kDefaultTokenLifetimeMs;
  // Exports (docs/exports.md); "" = every client key may mount everything read-write.
  std::string exports_file;
  // Mount sessions (docs/design.md, "Sessions"): ended when not renewed for this long.
  int64_t session_timeout_ms = 60'000;
  // Metadata leases (docs/design.md, "Metadata leases"): how long a mount may cache what it
  // was told; 0: nothing is cached.
  int64_t metadata_lease_ms = 10'000;
};

enum class Role { kActive, kStandby };

class MasterService {
 public:
  explicit MasterService(ServiceOptions options);
  ~MasterService();
  MasterService(const MasterService&) = delete;
  MasterService& operator=(const MasterService&) = delete;

  // Locks the data directory, loads the checkpoint, replays the log, starts the next
  // epoch, binds the socket and writes the port file.
  Status Start();
  // Serves until Stop(); an error means the op log could not be written (the state in
  // memory is ahead of the disk, so the process must not go on).
  Status Run();
  // Asks Run to finish its batch and return. Async-signal-safe.
  void Stop() { stop_requested_.store(true); }

  const std::string& bound_address() const { return bound_address_; }
  const MasterState& state() const { return *state_; }
  Role role() const { return role_.load(); }
  // What this master is known as to its peer and the chunkservers.
  const std::string& self_address() const { return self_address_; }
  // For /health, from any thread: serving as active or as an in-sync standby, or why not.
  Health health() const;

 private:
  Status CheckClusterId();
  bool HasPeer() const { return !options_.peer.empty(); }
  // Master <-> master requests (any role) and what a standby answers to everything else.
  bool HandlePeerRequest(const wire::Envelope& request, PendingReply* pending);
  wire::Reply HandleAppendLog(const wire::Envelope& request);
  wire::Reply HandleFetchCheckpoint(const wire::FetchCheckpointRequest& request, PendingReply* pending);
  wire::Reply Hello(const wire::Envelope& request);
  // True the first time a master of another cluster (named by `peer`) is refused.
  bool FirstRefusal(const std::string& peer);
  void FillMasters(wire::Reply* reply);
  // Whether a quorum of leadership leases is trusted now (always, in single-master mode
  // and for a bootstrap master without members).
  bool LeaseTrusted(int64_t now_ms);
  // Active side of log shipping around one batch; false: the batch's replies must not go.
  // Sends the batch to an in-sync standby (0: not sent).
  uint64_t ShipInSync(const std::vector<wire::LogRecord>& records);
  bool FinishShipping(uint64_t request_id);
  // Before acknowledging without the standby: the mark at a quorum.
  bool EnsurePeerMarked();
  // Periodic failover work: hellos, catch-up shipping, takeover, step-down.
  Status Tick(int64_t now_ms);
  void ShipCatchUp(int64_t now_ms);
  void SendHello(int64_t now_ms);
  Status MaybeTakeOver(int64_t now_ms);
  Status BecomeActive(uint64_t epoch, int64_t now_ms);
  void StepDown(const std::string& why);
  // Standby: fresh checkpoint + log from the active, discarding this master's state.
  Status Resync();
  Status ResetState(const std::string& checkpoint_file, uint64_t position);
  void UpdateMembers(int64_t now_ms);
  void SeenEpoch(uint64_t epoch);

  Status LockDataDirectory();
  Status WritePortFile();
  // Handles one turn's requests; false when there was nothing to read.
  Status ServeBatch();
  // What a request must pass before it is handled: its client's export (none for other
  // roles), and for a bad-replica report, the read token it was read with.
  Status Admit(const std::optional<ExportClient>& client, wire::Envelope* request) const;
  // Group commit of one turn's records; an error means memory is ahead of the disk.
  Status AppendRecords(const std::vector<wire::LogRecord>& records);
  // Writes (and, on an active with a peer, ships) one batch; *may_reply false: the
  // batch's replies must not be sent.
  Status CommitBatch(const std::vector<wire::LogRecord>& records, bool* may_reply);
  // A namespace request after the Admit checks: applied (or answered), its recalls of other
  // mounts' leases added to *wait; `now_ns` is when it happened (a write-back change's time).
  wire::Reply HandleChange(wire::Envelope& request, const std::string& peer_key, int64_t now_ns,
                           std::vector<wire::LogRecord>* records, ChangeWaits::Wait* wait);
  // Write-back (docs/design.md, "Write-back namespace changes"): EAGAIN while a directory the
  // request names is delegated to another mount (recalled here), or (not `in_batch`) an earlier
  // master's delegations may hold unflushed changes; otherwise the directories are noted as
  // named (DirDelegations::Named).
  Status AwaitDelegations(const wire::Envelope& request, bool in_batch);
  // A ChangeBatchRequest: each change in order through the same checks, under the batch's
  // session, stopping at the first that must wait (EAGAIN).
  wire::Reply ApplyChangeBatch(wire::Envelope& batch, const std::string& peer_key,
                               const std::optional<ExportClient>& client, std::vector<wire::LogRecord>* records,
                               ChangeWaits::Wait* wait);
  // Sends the replies to changes whose recalls every mount acknowledged (or whose leases
  // ended), and answers the held name watches that have recalls, or whose hold ran out.
  void AnswerWatches(int64_t now_ms);
  // Logs the sessions that may hold metadata leases when that set grew (or, with
  // `shrunk_too`, shrank): before the replies that granted them go out.
  void LogLeaseHolders(bool shrunk_too, int64_t now_ms, std::vector<wire::LogRecord>* records);
  // A session ended: the files it held open, its locks and its name watch go.
  void ReleaseHoldings(uint64_t session);
  // Ends the sessions not renewed in time with what they held; every sweep, logs the
  // release of the open-unlinked files nobody holds (OpenFiles::Releasable).
  Status MaybeReleaseOrphans(int64_t now_ms);
  // Every kResolveStaleEveryMs: MasterState::ResolveStaleChunks, its records logged.
  Status MaybeResolveStaleChunks(int64_t now_ms);
  void MaybeCheckpoint(int64_t now_ms);
  // Every kPublishMetricsEveryMs (service_metrics.cc): the gauges of MasterMetrics and the
  // health answer, from the same view as `hafs status`.
  void MaybePublishMetrics(int64_t now_ms);
  Health HealthFromStatus(const wire::Reply& status) const;
  // Self-healing (self_healing.cc): on the active, collects finished copies and, every
  // kRepairPlanEveryMs after the registration grace period, starts new copies (repairs,
  // else rebalancing moves) and drops surplus replicas. A master that is not active
  // forgets its copies in flight.
  Status MaybeRepair(int64_t now_ms);
  void NoteRepair(std::string line);
  // Sends each copy to its destination and tells the planner about those that went out.
  void StartCopies(const std::vector<CopyOrder>& orders, int64_t now_ms);
  // cluster_status: chunks being copied and recent repairs.
  void FillRepairs(wire::Reply* reply);

  ServiceOptions options_;
  const TokenIssuer token_issuer_{options_.token_key, options_.token_lifetime_ms};
  ExportGuard export_guard_{options_.exports_file};
  SessionTable sessions_{options_.session_timeout_ms};
  OpenFiles open_files_{options_.session_timeout_ms};
  int64_t last_orphan_sweep_ms_ = 0;
  NameWatch name_watch_;
  std::unordered_map<uint64_t, PendingReply> held_watches_;  // by session
  MetadataLeases leases_{options_.metadata_lease_ms};
  DirDelegations delegations_{options_.metadata_lease_ms};  // write-back directories
  ChangeWaits change_waits_;  // replies to changes, until the other mounts dropped what they cached
  LockTable locks_{options_.session_timeout_ms};
  std::unique_ptr<MasterState> state_;
  std::unique_ptr<OpLog> log_;
  zmq::socket_t router_;
  std::string bound_address_;
  int lock_fd_ = -1;
  uint64_t records_since_checkpoint_ = 0;
  int64_t last_checkpoint_ms_ = 0;
  int64_t last_stale_check_ms_ = 0;
  std::atomic<bool> stop_requested_{false};
  // Metrics and health: the loop's last turn (0: not running yet) shows a stalled loop.
  std::atomic<int64_t> last_turn_ms_{0};
  int64_t last_metrics_ms_ = 0;
  mutable std::mutex health_mutex_;
  Health health_;  // as of the last publication

  // Self-healing.
  RepairPlanner repair_planner_;
  Rebalancer rebalancer_;
  CopyDispatcher copy_dispatcher_;
  LivenessProbe liveness_probe_;
  int64_t last_repair_plan_ms_ = 0;
  int64_t last_liveness_probe_ms_ = 0;
  std::deque<std::string> recent_repairs_;  // newest last
  std::mt19937_64 random_{std::random_device{}()};

  // Failover.
  std::atomic<Role> role_{Role::kActive};
  Status fatal_;  // a standby whose own log cannot be written
  LogRateLimit refusal_log_{20, 10000};  // malformed requests: any peer can send them at will
  std::string self_address_;
  std::unique_ptr<Leadership> leadership_;
  std::unique_ptr<PeerChannel> ship_channel_;   // AppendLog to the standby
  std::unique_ptr<PeerChannel> hello_channel_;  // MasterHello
  RecordRing ring_;
  uint64_t last_checksum_ = 0;  // of our last log record (0 = unknown)
  uint64_t highest_epoch_seen_ = 0;
  // Active: the standby as we see it.
  StandbySync standby_sync_ = StandbySync::kOutOfSync;
  uint64_t standby_position_ = 0;
  bool standby_position_known_ = false;
  uint64_t catchup_request_ = 0;
  int64_t catchup_sent_ms_ = 0;
  int64_t last_ship_ms_ = 0;
  // Standby.
  int64_t last_heard_active_ms_ = 0;
  uint64_t active_position_ = 0;           // the active's log end, from its last AppendLog
  bool resync_needed_ = false;             // our state must not be trusted: fetch a checkpoint
  bool resync_when_active_found_ = false;  // started or stepped down: resync from an active peer
  int64_t next_resync_ms_ = 0;
  uint64_t campaign_epoch_ = 0;
  int64_t last_refusal_log_ms_ = 0;
  int64_t started_ms_ = 0;
  // The peer, from hellos and AppendLog answers.
  std::string peer_role_;
  uint64_t peer_epoch_ = 0;
  uint64_t peer_position_ = 0;
  int64_t peer_heard_ms_ = 0;
  uint64_t hello_request_ = 0;
  int64_t hello_sent_ms_ = 0;
  bool cluster_mismatch_logged_ = false;
  // Masters of another cluster refused so far (their hello: address and cluster id; their
  // AppendLog: cluster id). They try again every few hundred ms: one log line each.
  std::set<std::string> foreign_peers_logged_;
  // Members as last given to the leadership thread.
  std::vector<rpc::Peer> lease_members_;  // whom leadership leases are asked of
  int64_t members_changed_ms_ = 0;
  // The checkpoint served to a resyncing standby.
  std::string sync_checkpoint_path_;
  uint64_t sync_checkpoint_position_ = 0;
};

}  // namespace hafs::master
