#include "master/master_service.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "common/clock.h"
#include "common/durable_file.h"
#include "common/log.h"
#include "common/message_codec.h"
#include "common/protocol_limits.h"
#include "common/rpc.h"
#include "master/checkpoint.h"
#include "master/delegation_requests.h"
#include "master/lease_changes.h"
#include "master/master_metrics.h"
#include "master/record_file.h"

namespace hafs::master {
namespace {

constexpr int kPollMs = 100;
constexpr int kMaxBatchRequests = 1000;
constexpr int64_t kResolveStaleEveryMs = 500;

constexpr int kPeerPollMs = 20;
// How often silent chunkservers are probed and probes collected (LivenessProbe).
constexpr int64_t kLivenessProbeEveryMs = 50;

// A request the checks let through that still throws is answered EIO and logged: no
// peer's bytes may stop the master (and then its standby, which the client tries next).
wire::Reply HandleGuarded(MasterState& state, const wire::Envelope& request, int64_t now_ns,
                          std::vector<wire::LogRecord>* records) {
  try {
    return state.Handle(request, MonotonicMs(), now_ns, records);
  } catch (const std::exception& error) {
    LOG(ERROR) << "handling a " << RequestName(request) << " request threw: " << error.what();
    wire::Reply reply;
    reply.set_error(EIO);
    reply.set_error_message(std::string("internal error: ") + error.what());
    return reply;
  }
}

// A chunkserver is known by the key it proved in its handshake, not by what it says.
void StampPeerKey(rpc::Incoming& incoming) {
  wire::Envelope& request = incoming.message.envelope;
  if (request.has_register_()) request.mutable_register_()->set_public_key(incoming.peer_key);
  if (request.has_heartbeat()) request.mutable_heartbeat()->set_public_key(incoming.peer_key);
}

// An unlink or a rename over a file: the active decides whether the file it may drop the last
// link of stays as an open-unlinked file, and the logged record says so (a client's word on
// it is overwritten), so that replay on a standby keeps the same orphans.
void DecideKeepOpenFile(wire::Envelope* request, const Namespace& tree, const OpenFiles& open_files, int64_t now_ms) {
  auto must_keep = [&](uint64_t parent, const std::string& name) {
    auto target = tree.Lookup(parent, name);
    return target && open_files.MustKeep(target->inode(), now_ms);
  };
  if (request->has_unlink()) {
    wire::UnlinkRequest* unlink = request->mutable_unlink();
    unlink->set_keep_open_file(must_keep(unlink->parent(), unlink->name()));
  } else if (request->has_rename()) {
    wire::RenameRequest* rename = request->mutable_rename();
    rename->set_keep_open_file(must_keep(rename->new_parent(), rename->new_name()));
  }
}

// Recalls from every other mount what `changed` makes wrong (MetadataLeases::Recall): the
// change's reply waits for *acks.
void RecallChanged(uint64_t origin, const std::vector<CachedMetadata>& changed, int64_t now_ms, MetadataLeases& leases,
                   NameWatch& watch, NameWatch::Acks* acks) {
  for (const CachedMetadata& item : changed) {
    leases.Recall(origin, item.inode, item.kind, now_ms, [&](uint64_t session, int64_t until_ms) {
      if (item.kind == MetadataLeases::Kind::kEntries) {
        watch.RecallName(session, item.inode, item.name, until_ms, acks);
      } else {
        watch.RecallAttr(session, item.inode, until_ms, acks);
      }
    });
  }
}

// A lookup that asked for it answers a missing name without an error (the mount caches the
// absence under the directory's lease).
void AnswerNegativeLookup(const wire::Envelope& request, wire::Reply* reply) {
  if (request.has_lookup() && request.lookup().negative_reply() && reply->error() == ENOENT) reply->Clear();
}

// The open_generation of a request that opens a file (0: it opens none).
uint64_t OpenGeneration(const wire::Envelope& request) {
  if (request.has_get_attr()) return request.get_attr().open_generation();
  if (request.has_mknod()) return request.mknod().open_generation();
  return 0;
}

// A write-back change happened when its mount applied it, within reason: a mount's clock may
// be off, not its changes' order, so a time far from the master's is the master's.
int64_t ChangeTimeNs(const wire::Envelope& request) {
  constexpr int64_t kTrustedSkewNs = 5'000'000'000;
  int64_t now_ns = WallClockNs();
  int64_t claimed = request.change_time_ns();
  if (claimed == 0 || claimed > now_ns + kTrustedSkewNs || claimed < now_ns - 60 * kTrustedSkewNs) return now_ns;
  return claimed;
}

wire::Reply Refusal(int error, const std::string& message) {
  wire::Reply reply;
  reply.set_error(error);
  reply.set_error_message(message);
  return reply;
}

bool FromMaster(wire::Envelope::BodyCase kind) {
  return kind == wire::Envelope::kMasterHello || kind == wire::Envelope::kAppendLog ||
         kind == wire::Envelope::kFetchCheckpoint;
}

}  // namespace

MasterService::MasterService(ServiceOptions options)
    : options_(std::move(options)),
      repair_planner_(options_.copies_per_chunkserver),
      rebalancer_(options_.rebalance),
      copy_dispatcher_(options_.copy_timeout_ms),
      // Two heartbeats missed: one late heartbeat is not worth a probe.
      liveness_probe_(2 * int64_t{options_.master.heartbeat_interval_ms}) {
  state_ = std::make_unique<MasterState>(options_.master);
}

MasterService::~MasterService() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status MasterService::LockDataDirectory() {
  std::error_code error;
  // A new data directory is private (kPrivateDirMode); one that exists is left as it is.
  if (std::filesystem::create_directories(options_.data_directory, error) && !error) {
    std::filesystem::permissions(options_.data_directory, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, error);
  }
  if (error) {
    return Status::Error(error.value(), "cannot create data directory " + options_.data_directory);
  }
  std::string path = options_.data_directory + "/LOCK";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kPrivateFileMode);
  if (lock_fd_ < 0) return ErrnoStatus("cannot open " + path + " (is the data directory writable?)");
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return ErrnoStatus("another process holds " + path + ": is a master already running on this data directory?");
  }
  return Status::Ok();
}

Status MasterService::WritePortFile() {
  if (options_.port_file.empty()) return Status::Ok();
  return WriteFileAtomically(options_.port_file, bound_address_ + "\n");
}

Status MasterService::Start() {
  if (Status status = LockDataDirectory(); !status.ok()) return status;
  if (Status status = export_guard_.Load(); !status.ok()) return status;
  if (Status status = CheckClusterId(); !status.ok()) return status;
  auto loaded = LoadNewestCheckpoint(options_.data_directory, state_.get());
  if (!loaded) return loaded.error();
  auto log = OpLog::Open(options_.data_directory, state_->position(), [this](const wire::LogRecord& record) {
    Status status = state_->Replay(record);
    if (status.ok()) {
      ring_.Add(record);
      last_checksum_ = ring_.ChecksumOf(record.position());
    }
    return status;
  });
  if (!log) return log.error();
  log_ = std::move(*log);
  if (!HasPeer()) {
    std::vector<wire::LogRecord> records;
    state_->StartEpoch(MonotonicMs(), WallClockNs(), &records);
    open_files_.StartServing(state_->epoch(), MonotonicMs());
    if (Status status = log_->Append(records); !status.ok()) return status;
    locks_.StartServing(state_->epoch(), MonotonicMs());
    leases_.StartServing(state_->lease_holders(), MonotonicMs());
    delegations_.StartServing(state_->delegating_holders(), MonotonicMs());
  }
  records_since_checkpoint_ = 0;
  last_checkpoint_ms_ = MonotonicMs();
  auto router = rpc::BindRouter(options_.listen_address, &bound_address_);
  if (!router) return router.error();
  router_ = std::move(*router);
  self_address_ = options_.advertise_address.empty() ? bound_address_ : options_.advertise_address;
  state_->set_address(self_address_);
  if (HasPeer()) {
    role_.store(Role::kStandby);
    state_->set_active(false);
    LeadershipOptions leadership;
    leadership.self_address = self_address_;
    leadership.peer_address = options_.peer;
    leadership.lease_ms = options_.leadership_lease_ms;
    leadership_ = std::make_unique<Leadership>(leadership);
    leadership_->Start();
    ship_channel_ = std::make_unique<PeerChannel>(options_.peer);
    hello_channel_ = std::make_unique<PeerChannel>(options_.peer);
    resync_when_active_found_ = true;
    started_ms_ = MonotonicMs();
    UpdateMembers(started_ms_);
  }
  if (Status status = WritePortFile(); !status.ok()) return status;
  LOG(INFO) << "master serving on " << bound_address_ << " as " << (HasPeer() ? "standby (peer " + options_.peer + ")" : "the only master")
            << ", cluster " << options_.cluster_id << ", epoch " << state_->epoch() << ", log position "
            << state_->position() << ", " << state_->name_space().inode_count() << " inodes, "
            << state_->members().size() << " members";
  return Status::Ok();
}

Status MasterService::Run() {
  while (!stop_requested_.load()) {
    zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(HasPeer() ? kPeerPollMs : kPollMs));
    } catch (const zmq::error_t& error) {
      if (error.num() != EINTR) return Status::Error(error.num(), std::string("poll failed: ") + error.what());
    }
    if (item.revents & ZMQ_POLLIN) {
      if (Status status = ServeBatch(); !status.ok()) return status;
    }
    if (HasPeer()) {
      if (Status status = Tick(MonotonicMs()); !status.ok()) return status;
    }
    if (role_.load() == Role::kActive) {
      if (Status status = MaybeResolveStaleChunks(MonotonicMs()); !status.ok()) return status;
      if (Status status = MaybeReleaseOrphans(MonotonicMs()); !status.ok()) return status;
      AnswerWatches(MonotonicMs());
    }
    if (int64_t now_ms = MonotonicMs(); now_ms - last_liveness_probe_ms_ >= kLivenessProbeEveryMs) {
      last_liveness_probe_ms_ = now_ms;
      liveness_probe_.Run(state_->registry(), now_ms);
    }
    if (Status status = MaybeRepair(MonotonicMs()); !status.ok()) return status;
    MaybeCheckpoint(MonotonicMs());
    MaybePublishMetrics(MonotonicMs());
    export_guard_.MaybeReload();
  }
  LOG(INFO) << "master stopping at log position " << state_->position();
  if (leadership_) leadership_->Hold(0);
  if (leadership_) leadership_->Stop();
  return Status::Ok();
}

Status MasterService::ServeBatch() {
  std::vector<PendingReply> replies;
  // Replies that wait for other mounts to drop what they cached (ChangeWaits).
  std::vector<std::tuple<uint64_t, uint64_t, PendingReply, ChangeWaits::Wait>> waits;  // (client_id, sequence, ...)
  std::vector<wire::LogRecord> records;
  Role role_at_start = role_.load();
  for (int count = 0; count < kMaxBatchRequests; ++count) {
    Result<rpc::Incoming> incoming = Fail(EAGAIN, "");
    try {
      incoming = rpc::ReceiveRequest(router_);
    } catch (const zmq::error_t& error) {
      LOG(WARNING) << "receive failed: " << error.what();
      break;
    }
    if (!incoming) {
      if (incoming.error().error() == EAGAIN) break;
      rpc::LogAtRate(refusal_log_, "dropped a request", incoming.error());
      continue;
    }
    StampPeerKey(*incoming);
    const wire::Envelope& request = incoming->message.envelope;
    PendingReply pending{std::move(incoming->identity), rpc::MakeReply(request), {}, false, &RequestName(request)};
    Metrics().requests.With(*pending.op).Increment();
    wire::Envelope& reply = pending.envelope;
    auto kind = request.body_case();
    bool held = false;  // a name watch, answered later (AnswerWatches)
    bool reattached = false;  // a retry of a change that still waits: it takes the wait's place
    ChangeWaits::Wait wait;
    // A standby answers cluster status itself only while it hears no active: otherwise the
    // active's view (is this standby in sync, and promotable?) is the one to show.
    bool active_peer_alive = peer_role_ == "active" && MonotonicMs() - peer_heard_ms_ < options_.takeover_after_ms;
    bool chunkserver_or_admin = kind == wire::Envelope::kRegister || kind == wire::Envelope::kHeartbeat ||
                                (kind == wire::Envelope::kClusterStatus && !active_peer_alive);
    if (Status malformed = rpc::CheckReceived(*incoming); !malformed.ok()) {
      rpc::LogAtRate(refusal_log_, "refused a malformed " + *pending.op + " request", malformed);
      reply.mutable_reply()->set_error(malformed.error());
      reply.mutable_reply()->set_error_message(malformed.message());
    } else if (uint64_t learned = FromMaster(kind) ? kMaxEpoch : state_->epoch();
               !EpochBelievable(request.epoch(), learned)) {
      // Believed, it would make this master step down and campaign past it (a wrap at 2^64).
      // The other master's epoch is only capped: a standby that was down for long, or is new,
      // may be far behind the active it must hear from.
      Status unbelievable = Status::Error(EINVAL, "epoch " + std::to_string(request.epoch()) +
                                                      " is past what this master believes (its own epoch " +
                                                      std::to_string(state_->epoch()) + " + " +
                                                      std::to_string(kEpochWindow) + ")");
      rpc::LogAtRate(refusal_log_, "refused a " + *pending.op + " request", unbelievable);
      reply.mutable_reply()->set_error(unbelievable.error());
      reply.mutable_reply()->set_error_message(unbelievable.message());
    } else if (HasPeer() && HandlePeerRequest(request, &pending)) {
      // master <-> master, answered above
    } else if (request.epoch() > state_->epoch() && !(HasPeer() && chunkserver_or_admin && role_.load() == Role::kStandby)) {
      if (HasPeer() && role_.load() == Role::kActive) {
        StepDown("a request carries epoch " + std::to_string(request.epoch()) + ", above this master's " +
                 std::to_string(state_->epoch()));
      }
      SeenEpoch(request.epoch());
      // A client has seen a newer master: this one must not answer for the cluster.
      reply.mutable_reply()->set_error(ESTALE);
      reply.mutable_reply()->set_error_message("this master's epoch " + std::to_string(state_->epoch()) +
                                               " is older than " + std::to_string(request.epoch()));
    } else if (HasPeer() && role_.load() == Role::kStandby && !chunkserver_or_admin) {
      reply.mutable_reply()->set_error(ENOTCONN);
      reply.mutable_reply()->set_error_message("not the active master (this is the standby)");
      if (peer_role_ == "active") reply.mutable_reply()->set_active_address(options_.peer);
    } else if (std::optional<ExportClient> client = ExportClientOf(*incoming); kind == wire::Envelope::kMount) {
      auto mounted = export_guard_.Mount(client ? &*client : nullptr, request.mount(), state_->name_space());
      if (!mounted) rpc::LogAtRate(refusal_log_, "refused a mount", mounted.error());
      *reply.mutable_reply() = mounted ? *mounted : rpc::MakeReply(request, mounted.error()).reply();
    } else if (Status admitted = Admit(client, &incoming->message.envelope); !admitted.ok()) {
      rpc::LogAtRate(refusal_log_, "refused a " + *pending.op + " request", admitted);
      reply.mutable_reply()->set_error(admitted.error());
      reply.mutable_reply()->set_error_message(admitted.message());
    } else if (kind == wire::Envelope::kSession) {
      *reply.mutable_reply() =
          sessions_.Handle(request.client_id(), request.session(), SessionOwnerOf(*incoming), MonotonicMs(), WallClockMs());
      if (reply.reply().error() == 0 && request.session().end()) ReleaseHoldings(request.client_id());
      if (reply.reply().error() == 0 && !request.session().end()) {
        open_files_.Replace(request.client_id(), request.session(), MonotonicMs());
        if (request.session().kernel_cache_epoch() >= state_->epoch()) {
          leases_.Confirmed(request.client_id());
          delegations_.Confirmed(request.client_id());
        }
      }
    } else if (kind == wire::Envelope::kCloseFiles) {
      if (sessions_.MayActFor(request.client_id(), incoming->peer_key)) {
        open_files_.Close(request.client_id(), request.close_files());
      }
    } else if (kind == wire::Envelope::kLock) {
      *reply.mutable_reply() = locks_.Handle(request.client_id(), sessions_.OwnedBy(request.client_id(), incoming->peer_key),
                                             request.lock(), state_->name_space(), MonotonicMs());
    } else if (kind == wire::Envelope::kWatchNames) {
      if (sessions_.OwnedBy(request.client_id(), incoming->peer_key)) {
        name_watch_.Watch(request.client_id(), request.watch_names(), MonotonicMs());
        held = true;
      } else {
        reply.mutable_reply()->set_error(ENOENT);
        reply.mutable_reply()->set_error_message("no session of this key to watch names for");
      }
    } else if (kind == wire::Envelope::kListSessions) {
      *reply.mutable_reply() = sessions_.List(MonotonicMs());
    } else if (change_waits_.Reattach(request, &pending, MonotonicMs())) {
      reattached = true;
    } else if (kind == wire::Envelope::kDelegation) {
      bool owned = sessions_.OwnedBy(request.client_id(), incoming->peer_key) && name_watch_.Watching(request.client_id());
      *reply.mutable_reply() =
          owned ? AnswerDelegation(request.client_id(), request.delegation(), *state_, delegations_, leases_,
                                   MonotonicMs(), &records)
                : Refusal(ENOENT, "no watched session of this key to delegate to");
      token_issuer_.AddTokens(request, reply.mutable_reply(), WallClockMs());
    } else if (kind == wire::Envelope::kChangeBatch) {
      *reply.mutable_reply() = ApplyChangeBatch(incoming->message.envelope, incoming->peer_key, client, &records, &wait);
    } else if (Status held_back = AwaitDelegations(request, /*in_batch=*/false); !held_back.ok()) {
      *reply.mutable_reply() = Refusal(held_back.error(), held_back.message());
    } else {
      // An inode number of a write-back create comes only in a batch, whose session is checked.
      if (request.has_mknod()) incoming->message.envelope.mutable_mknod()->clear_inode();
      if (request.has_mkdir()) incoming->message.envelope.mutable_mkdir()->clear_inode();
      if (request.has_symlink()) incoming->message.envelope.mutable_symlink()->clear_inode();
      *reply.mutable_reply() =
          HandleChange(incoming->message.envelope, incoming->peer_key, WallClockNs(), &records, &wait);
      if (kind == wire::Envelope::kClusterStatus && HasPeer()) FillMasters(reply.mutable_reply());
      if (kind == wire::Envelope::kClusterStatus) FillRepairs(reply.mutable_reply());
      if (reply.reply().error() != 0) {
        LOG(DEBUG) << "request " << request.body_case() << " failed: " << reply.reply().error_message();
      }
    }
    reply.set_epoch(state_->epoch());
    if (held) {
      held_watches_[request.client_id()] = std::move(pending);  // a watch it replaces timed out at its mount
    } else if (reattached) {
      // answered by AnswerWatches
    } else if (!wait.acks.empty() || wait.old_leases) {
      waits.emplace_back(request.client_id(), request.sequence(), std::move(pending), std::move(wait));
    } else {
      replies.push_back(std::move(pending));
    }
  }
  if (fatal_.error() != 0) return fatal_;
  if (role_.load() == Role::kActive) LogLeaseHolders(/*shrunk_too=*/false, MonotonicMs(), &records);
  bool may_reply = true;
  if (Status status = CommitBatch(records, &may_reply); !status.ok()) return status;
  if (HasPeer() && role_at_start == Role::kActive) {
    if (role_.load() != Role::kActive) {
      may_reply = false;
    } else if ((!replies.empty() || !waits.empty()) && !LeaseTrusted(MonotonicMs())) {
      StepDown("the leadership lease quorum is no longer trusted: " + leadership_->last_problem());
      may_reply = false;
    }
  }
  if (!may_reply) {
    LOG(WARNING) << "dropping " << replies.size() + waits.size() << " replies (clients retry elsewhere)";
    return Status::Ok();
  }
  for (PendingReply& pending : replies) {
    Metrics().request_duration.With(*pending.op).Observe(metrics::SecondsSince(pending.received));
    if (Status status = rpc::SendReply(router_, pending.identity, pending.envelope, pending.has_data ? &pending.data : nullptr);
        !status.ok()) {
      LOG(WARNING) << "reply not sent: " << status.ToString();
    }
  }
  for (auto& [client_id, sequence, pending, wait] : waits) {
    change_waits_.Add(client_id, sequence, std::move(pending), std::move(wait), MonotonicMs());
  }
  AnswerWatches(MonotonicMs());
  return Status::Ok();
}

wire::Reply MasterService::HandleChange(wire::Envelope& request, const std::string& peer_key, int64_t now_ns,
                                       std::vector<wire::LogRecord>* records, ChangeWaits::Wait* wait) {
  DecideKeepOpenFile(&request, state_->name_space(), open_files_, MonotonicMs());
  std::vector<CachedMetadata> changed = ChangedBy(request, state_->name_space());
  uint64_t removed_dir = 0;  // its delegation goes with it
  if (request.has_rmdir()) {
    if (auto entry = state_->name_space().Lookup(request.rmdir().parent(), request.rmdir().name())) {
      removed_dir = entry->inode();
    }
  }
  wire::Reply reply = HandleGuarded(*state_, request, now_ns, records);
  if (removed_dir != 0 && reply.error() == 0) delegations_.Release(delegations_.Holder(removed_dir), removed_dir, MonotonicMs());
  AnswerNegativeLookup(request, &reply);
  if (reply.error() == 0) {
    RecallChanged(request.client_id(), changed, MonotonicMs(), leases_, name_watch_, &wait->acks);
    wait->old_leases = wait->old_leases || (!changed.empty() && leases_.OldLeasesUntil(MonotonicMs()) != 0);
    wait->origin = request.client_id();
    if (name_watch_.Watching(request.client_id()) && sessions_.OwnedBy(request.client_id(), peer_key)) {
      GrantLeases(request.client_id(), request, MonotonicMs(), leases_, &reply);
    }
  }
  if (uint64_t generation = OpenGeneration(request); generation != 0 && reply.error() == 0 &&
                                                      request.client_id() != 0 && S_ISREG(reply.attr().mode())) {
    if (Status holding = open_files_.Hold(request.client_id(), reply.attr().inode(), generation, MonotonicMs());
        !holding.ok()) {
      reply = rpc::MakeReply(request, holding).reply();
    }
  }
  token_issuer_.AddTokens(request, &reply, WallClockMs());
  return reply;
}

Status MasterService::AwaitDelegations(const wire::Envelope& request, bool in_batch) {
  std::vector<uint64_t> dirs = DirsNamedBy(request, state_->name_space());
  if (dirs.empty()) return Status::Ok();
  int64_t now_ms = MonotonicMs();
  // A batch is how a mount that has not confirmed a new epoch flushes: it waits for nobody's.
  if (!in_batch && delegations_.OldDelegationsBlock(request.client_id(), now_ms)) {
    return Status::Error(EAGAIN, "an earlier master's write-back delegations are not flushed yet");
  }
  for (uint64_t dir : dirs) {
    bool newly = false;
    if (uint64_t holder = delegations_.Recall(dir, request.client_id(), now_ms, &newly); holder != 0) {
      if (newly) name_watch_.RecallDelegation(holder, dir);
      return Status::Error(EAGAIN, "directory " + std::to_string(dir) + " is delegated to another mount");
    }
  }
  for (uint64_t dir : dirs) delegations_.Named(dir, request.client_id());
  return Status::Ok();
}

wire::Reply MasterService::ApplyChangeBatch(wire::Envelope& batch, const std::string& peer_key,
                                            const std::optional<ExportClient>& client,
                                            std::vector<wire::LogRecord>* records, ChangeWaits::Wait* wait) {
  uint64_t session = batch.client_id();
  if (!sessions_.OwnedBy(session, peer_key)) return Refusal(ENOENT, "no session of this key to ship changes for");
  if (batch.change_batch().changes_size() > kMaxBatchChanges) {
    return Refusal(EMSGSIZE, "more than " + std::to_string(kMaxBatchChanges) + " changes in one batch");
  }
  wire::Reply reply;
  bool stopped = false;
  for (wire::Envelope& change : *batch.mutable_change_batch()->mutable_changes()) {
    wire::Reply* answer = reply.add_batch_replies();
    if (stopped) {
      *answer = Refusal(EAGAIN, "an earlier change of the batch was not applied");
      continue;
    }
    // The batch's identity, not the change's claim, says whose change this is.
    change.set_client_id(session);
    change.set_epoch(batch.epoch());
    change.set_mount_root(batch.mount_root());
    // Sent again after a lost reply (a takeover): answered as it was applied, before any check
    // that the state since (delegations, inode numbers taken) would now fail.
    if (const wire::Reply* recorded = state_->recent_results().Find(session, change.sequence())) {
      *answer = *recorded;
      continue;
    }
    // A write lease for a file the batch makes rides at its end; leases given back, and the
    // holds of opens (a getattr with an open_generation) and their closes, go in order with
    // the changes: requests checked as if sent alone.
    bool rider = change.has_write_lease() || change.has_release_leases() || change.has_get_attr();
    if (change.has_close_files()) {
      open_files_.Close(session, change.close_files());  // the batch's session is the peer's own
      continue;
    }
    std::vector<uint64_t> dirs = rider ? std::vector<uint64_t>() : WriteBackDirs(change, state_->name_space());
    auto not_held = std::find_if(dirs.begin(), dirs.end(),
                                 [&](uint64_t dir) { return !delegations_.MayChange(session, dir); });
    if (!rider && dirs.empty()) {
      *answer = Refusal(EINVAL, "not a change a mount may write back");
    } else if (not_held != dirs.end()) {
      *answer = Refusal(ENOLCK, "the mount no longer holds directory " + std::to_string(*not_held) + "'s delegation");
    } else if (Status admitted = Admit(client, &change); !admitted.ok()) {
      *answer = Refusal(admitted.error(), admitted.message());
    } else if (Status held_back = AwaitDelegations(change, /*in_batch=*/true); !held_back.ok()) {
      // It names a directory another mount holds (a rename over it, an rmdir of it).
      *answer = Refusal(held_back.error(), held_back.message());
    } else {
      *answer = HandleChange(change, peer_key, ChangeTimeNs(change), records, wait);
      // A directory made under a delegation is its maker's too: nobody else knows it yet.
      if (change.has_mkdir() && answer->error() == 0) delegations_.Grant(session, answer->attr().inode(), MonotonicMs());
    }
    stopped = answer->error() == EAGAIN;
  }
  return reply;
}

void MasterService::AnswerWatches(int64_t now_ms) {
  leases_.Expire(now_ms);
  delegations_.Expire(now_ms);
  // A mount whose own change waits here is not waited for: its kernel may hold the directory
  // locked for that change, so its recall cannot be applied before it is answered, and two
  // mounts changing one directory would each wait for the other until a lease ran out.
  // The same holds for a mount that has to drop what earlier masters granted; and a change
  // need not wait for its own mount's old leases (its kernel follows its own changes).
  auto own_change_waits = [&](uint64_t session) { return change_waits_.Waits(session); };
  auto settled = [&](const ChangeWaits::Wait& wait) {
    auto excused = [&](uint64_t session) { return session == wait.origin || own_change_waits(session); };
    return name_watch_.Acknowledged(wait.acks, now_ms, own_change_waits) &&
           (!wait.old_leases || leases_.OldLeasesUntil(now_ms, excused) == 0);
  };
  auto done = [&](const ChangeWaits::Wait& wait) {
    if (now_ms - wait.since_ms < MetadataLeases::kHungAfterMs) return;
    for (uint64_t session : name_watch_.Unacknowledged(wait.acks)) {
      static LogRateLimit unresponsive(1, 30000);
      rpc::LogAtRate(unresponsive, "a mount let a metadata recall run out",
                     Status::Error(ETIMEDOUT, "session " + std::to_string(session) + " gets no leases for " +
                                                  std::to_string(MetadataLeases::kUnresponsiveMs / 1000) + " s"));
      Metrics().recalls_timed_out.Increment();
      leases_.Unresponsive(session, now_ms);
    }
  };
  for (PendingReply& due : change_waits_.Due(now_ms, settled, done)) {
    Metrics().request_duration.With(*due.op).Observe(metrics::SecondsSince(due.received));
    if (Status status = rpc::SendReply(router_, due.identity, due.envelope, nullptr); !status.ok()) {
      LOG(WARNING) << "reply not sent: " << status.ToString();
    }
  }
  for (uint64_t session : name_watch_.Ready(now_ms)) {
    auto held = held_watches_.find(session);
    if (held == held_watches_.end()) continue;
    name_watch_.Answer(session, held->second.envelope.mutable_reply());
    held->second.envelope.set_epoch(state_->epoch());
    if (Status status = rpc::SendReply(router_, held->second.identity, held->second.envelope, nullptr); !status.ok()) {
      LOG(WARNING) << "name watch answer not sent: " << status.ToString();
    }
    held_watches_.erase(held);
  }
}

Status MasterService::Admit(const std::optional<ExportClient>& client, wire::Envelope* request) const {
  if (client) {
    if (Status admitted = export_guard_.Admit(*client, request, state_->name_space()); !admitted.ok()) return admitted;
  }
  if (request->has_report_bad_replica()) return token_issuer_.CheckReport(request->report_bad_replica(), WallClockMs());
  return Status::Ok();
}

Status MasterService::AppendRecords(const std::vector<wire::LogRecord>& records) {
  bool may_reply = true;
  return CommitBatch(records, &may_reply);
}

Status MasterService::CommitBatch(const std::vector<wire::LogRecord>& records, bool* may_reply) {
  if (records.empty()) return Status::Ok();
  bool shipping = HasPeer() && role_.load() == Role::kActive;
  uint64_t request_id = 0;
  if (shipping) request_id = ShipInSync(records);
  if (Status status = log_->Append(records); !status.ok()) {
    LOG(ERROR) << "op log write failed, stopping without acknowledging: " << status.ToString();
    return status;
  }
  for (const wire::LogRecord& record : records) ring_.Add(record);
  last_checksum_ = ring_.ChecksumOf(records.back().position());
  records_since_checkpoint_ += records.size();
  if (shipping) *may_reply = FinishShipping(request_id);
  return Status::Ok();
}

void MasterService::LogLeaseHolders(bool shrunk_too, int64_t now_ms, std::vector<wire::LogRecord>* records) {
  std::optional<std::vector<uint64_t>> holders = leases_.HoldersToLog(shrunk_too, now_ms);
  std::optional<std::vector<uint64_t>> delegating = delegations_.HoldersToLog(shrunk_too);
  if (!holders && !delegating) return;
  if (!holders) holders = state_->lease_holders();
  if (!delegating) delegating = state_->delegating_holders();
  state_->LogLeaseHolders(*holders, *delegating, WallClockNs(), records);
  leases_.Logged(std::move(*holders));
  delegations_.Logged(std::move(*delegating));
}

void MasterService::ReleaseHoldings(uint64_t session) {
  open_files_.EndSession(session);
  locks_.ReleaseSession(session);
  leases_.Forget(session);
  delegations_.Forget(session);
  name_watch_.Forget(session);
  held_watches_.erase(session);
}

Status MasterService::MaybeReleaseOrphans(int64_t now_ms) {
  for (uint64_t ended : sessions_.MaybeExpire(now_ms)) ReleaseHoldings(ended);
  if (now_ms - last_orphan_sweep_ms_ < SessionTable::kSweepEveryMs) return Status::Ok();
  last_orphan_sweep_ms_ = now_ms;
  std::vector<wire::LogRecord> holders;
  LogLeaseHolders(/*shrunk_too=*/true, now_ms, &holders);
  if (Status status = AppendRecords(holders); !status.ok()) return status;
  open_files_.ExpireUnknown([this](uint64_t session) { return sessions_.Known(session); }, now_ms);
  std::vector<uint64_t> releasable = open_files_.Releasable(state_->name_space().orphans(), now_ms);
  if (releasable.empty()) return Status::Ok();
  std::vector<wire::LogRecord> records;
  state_->ReleaseOrphans(releasable, WallClockNs(), &records);
  LOG(INFO) << "released " << records.size() << " open-unlinked files: no mount holds them open";
  return AppendRecords(records);
}

Status MasterService::MaybeResolveStaleChunks(int64_t now_ms) {
  if (now_ms - last_stale_check_ms_ < kResolveStaleEveryMs) return Status::Ok();
  last_stale_check_ms_ = now_ms;
  std::vector<wire::LogRecord> records;
  // The deletions it queues go out in later replies, after this append.
  state_->ResolveStaleChunks(now_ms, WallClockNs(), &records);
  state_->ExpirePlacements(now_ms, WallClockNs(), &records);
  return AppendRecords(records);
}

void MasterService::MaybeCheckpoint(int64_t now_ms) {
  if (records_since_checkpoint_ == 0) return;
  bool due = records_since_checkpoint_ >= options_.checkpoint_every_records ||
             now_ms - last_checkpoint_ms_ >= options_.checkpoint_interval_s * 1000;
  if (!due) return;
  last_checkpoint_ms_ = now_ms;
  auto started = std::chrono::steady_clock::now();
  Status status = WriteCheckpoint(options_.data_directory, *state_);
  if (status.ok()) status = log_->StartSegment(state_->position() + 1);
  if (!status.ok()) {
    LOG(ERROR) << "checkpoint failed (the op log still has everything): " << status.ToString();
    return;
  }
  records_since_checkpoint_ = 0;
  auto took_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  LOG(INFO) << "checkpoint at log position " << state_->position() << " took " << took_ms << " ms";
}

}  // namespace hafs::master
