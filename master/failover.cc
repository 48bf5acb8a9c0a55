// MasterService's failover half (docs/design.md, "Master failover"): roles, hellos, log
// shipping (active side), applying AppendLog and resynchronising (standby side), takeover
// and stepping down. master_service.cc is the loop that calls these.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/clock.h"
#include "common/durable_file.h"
#include "common/log.h"
#include "master/checkpoint.h"
#include "master/master_metrics.h"
#include "master/master_service.h"
#include "master/record_file.h"

namespace hafs::master {
namespace {

constexpr int64_t kHeartbeatEveryMs = 200;
constexpr int64_t kHelloTimeoutMs = 1000;
constexpr size_t kShipBytes = 4 << 20;
constexpr uint32_t kCheckpointPiece = 4 << 20;
constexpr int kFetchTimeoutMs = 10000;

}  // namespace

Status MasterService::CheckClusterId() {
  std::string path = options_.data_directory + "/CLUSTER_ID";
  std::ifstream in(path);
  std::string stored;
  if (in >> stored) {
    if (stored != options_.cluster_id) {
      return Status::Error(EINVAL, "the data directory " + options_.data_directory + " belongs to cluster \"" + stored +
                                       "\", not \"" + options_.cluster_id + "\" (--cluster-id)");
    }
    return Status::Ok();
  }
  return WriteFileAtomically(path, options_.cluster_id + "\n");
}

void MasterService::SeenEpoch(uint64_t epoch) {
  highest_epoch_seen_ = std::max(highest_epoch_seen_, epoch);
  if (HasPeer() && role_.load() == Role::kActive && epoch > state_->epoch()) {
    StepDown("epoch " + std::to_string(epoch) + " seen, above this master's " + std::to_string(state_->epoch()));
  }
}

void MasterService::UpdateMembers(int64_t now_ms) {
  std::vector<rpc::Peer> members;
  for (const auto& [uuid, member] : state_->members()) {
    ChunkserverState* registered = state_->registry().FindChunkserverByUuid(uuid);
    members.push_back({registered ? registered->address : member.address, member.public_key});
  }
  if (members == lease_members_) return;
  lease_members_ = members;
  members_changed_ms_ = now_ms;
  leadership_->SetMembers(std::move(members));
}

bool MasterService::LeaseTrusted(int64_t now_ms) {
  if (!HasPeer()) return true;
  UpdateMembers(now_ms);
  if (lease_members_.empty()) return options_.bootstrap;
  if (leadership_->Trusted(now_ms)) return true;
  // Just after a member joined (or the set changed) the thread needs a round to count it.
  if (now_ms - members_changed_ms_ < options_.leadership_lease_ms) {
    int64_t deadline = now_ms + options_.leadership_lease_ms / 2;
    while (MonotonicMs() < deadline) {
      if (leadership_->Trusted(MonotonicMs())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  return leadership_->Trusted(MonotonicMs());
}

bool MasterService::EnsurePeerMarked() {
  if (lease_members_.empty()) return options_.bootstrap;  // no other master can be active
  leadership_->SetPeerMark(Leadership::PeerMark::kMark);
  if (leadership_->WaitPeerMarked(options_.leadership_lease_ms)) return true;
  LOG(WARNING) << "cannot record the standby as out of sync at a quorum of chunkservers: not acknowledging ("
               << leadership_->last_problem() << ")";
  return false;
}

uint64_t MasterService::ShipInSync(const std::vector<wire::LogRecord>& records) {
  if (standby_sync_ != StandbySync::kInSync) return 0;
  wire::Envelope request;
  request.set_epoch(state_->epoch());
  wire::AppendLogRequest* append = request.mutable_append_log();
  append->set_cluster_id(options_.cluster_id);
  append->set_first_position(records.front().position());
  append->set_previous_record_checksum(last_checksum_);
  append->set_active_position(records.back().position());
  for (const wire::LogRecord& record : records) append->add_records(record.SerializeAsString());
  last_ship_ms_ = MonotonicMs();
  catchup_request_ = 0;  // an outstanding heartbeat's answer is not waited for
  return ship_channel_->Send(std::move(request));
}

bool MasterService::FinishShipping(uint64_t request_id) {
  if (request_id != 0) {
    int wait = static_cast<int>(std::max<int64_t>(0, last_ship_ms_ + options_.standby_timeout_ms - MonotonicMs()));
    auto answer = ship_channel_->Receive(request_id, wait);
    if (answer && answer->reply().error() == 0 && answer->reply().log_position() == state_->position()) {
      standby_position_ = state_->position();
      peer_heard_ms_ = MonotonicMs();
      return true;
    }
    LOG(WARNING) << "standby " << options_.peer << " "
                 << (answer ? "answered " + std::to_string(answer->reply().error()) + " " +
                                  answer->reply().error_message() + " at position " +
                                  std::to_string(answer->reply().log_position())
                            : "did not answer within " + std::to_string(options_.standby_timeout_ms) + " ms")
                 << ": the active goes on without it (degraded)";
    if (answer) {
      SeenEpoch(answer->epoch());
      standby_position_ = answer->reply().log_position();
    } else {
      ship_channel_->Reset();
    }
    standby_sync_ = StandbySync::kOutOfSync;
  } else if (standby_sync_ == StandbySync::kInSync) {
    return true;
  }
  if (role_.load() != Role::kActive) return false;
  return EnsurePeerMarked();
}

void MasterService::ShipCatchUp(int64_t now_ms) {
  if (catchup_request_ != 0) {
    auto answer = ship_channel_->Receive(catchup_request_, 0);
    if (!answer) {
      if (now_ms - catchup_sent_ms_ <= options_.standby_timeout_ms) return;
      catchup_request_ = 0;
      ship_channel_->Reset();
      standby_position_known_ = false;
      if (standby_sync_ == StandbySync::kInSync) {
        LOG(WARNING) << "standby " << options_.peer << " silent for " << options_.standby_timeout_ms
                     << " ms: degraded until it catches up";
        leadership_->SetPeerMark(Leadership::PeerMark::kMark);
      }
      standby_sync_ = StandbySync::kOutOfSync;
    } else {
      catchup_request_ = 0;
      peer_heard_ms_ = now_ms;
      const wire::Reply& reply = answer->reply();
      if (reply.error() == ESTALE) SeenEpoch(answer->epoch());
      if (role_.load() != Role::kActive) return;
      if (reply.error() != 0) {
        standby_position_known_ = false;
        if (standby_sync_ == StandbySync::kInSync) leadership_->SetPeerMark(Leadership::PeerMark::kMark);
        standby_sync_ = StandbySync::kCatchingUp;
      } else {
        standby_position_ = reply.log_position();
        standby_position_known_ = true;
        if (standby_position_ == state_->position()) {
          if (standby_sync_ != StandbySync::kInSync) {
            LOG(INFO) << "standby " << options_.peer << " is in sync at log position " << standby_position_;
            leadership_->SetPeerMark(Leadership::PeerMark::kClear);
          }
          standby_sync_ = StandbySync::kInSync;
        } else if (standby_sync_ != StandbySync::kInSync) {
          standby_sync_ = StandbySync::kCatchingUp;
        }
      }
    }
  }
  bool behind = standby_position_known_ && standby_position_ < state_->position();
  if (!behind && now_ms - last_ship_ms_ < kHeartbeatEveryMs) return;
  wire::Envelope request;
  request.set_epoch(state_->epoch());
  wire::AppendLogRequest* append = request.mutable_append_log();
  append->set_cluster_id(options_.cluster_id);
  append->set_active_position(state_->position());
  if (behind && ring_.Has(standby_position_ + 1)) {
    ring_.Fill(standby_position_ + 1, kShipBytes, append);
  } else {
    append->set_resync(behind);
    append->set_first_position(state_->position() + 1);
    append->set_previous_record_checksum(last_checksum_);
  }
  catchup_request_ = ship_channel_->Send(std::move(request));
  catchup_sent_ms_ = now_ms;
  last_ship_ms_ = now_ms;
}

void MasterService::SendHello(int64_t now_ms) {
  if (hello_request_ != 0) {
    auto answer = hello_channel_->Receive(hello_request_, 0);
    if (answer) {
      hello_request_ = 0;
      const wire::Reply& reply = answer->reply();
      if (reply.error() == EINVAL && reply.cluster_id() != options_.cluster_id) {
        if (!cluster_mismatch_logged_) {
          LOG(ERROR) << "cluster id mismatch: peer " << options_.peer << " is in cluster \"" << reply.cluster_id()
                     << "\", not \"" << options_.cluster_id
                     << "\": refusing to work with it (check --peer and --cluster-id)";
        }
        cluster_mismatch_logged_ = true;
        return;
      }
      peer_heard_ms_ = now_ms;
      peer_role_ = reply.role();
      peer_epoch_ = answer->epoch();
      peer_position_ = reply.log_position();
      if (peer_role_ == "active") {
        SeenEpoch(peer_epoch_);
        if (role_.load() == Role::kStandby && peer_epoch_ >= state_->epoch()) {
          last_heard_active_ms_ = now_ms;
          if (resync_when_active_found_) {
            resync_when_active_found_ = false;
            resync_needed_ = true;
          }
        }
      }
    } else if (now_ms - hello_sent_ms_ > kHelloTimeoutMs) {
      hello_request_ = 0;
      hello_channel_->Reset();
    }
    return;
  }
  if (now_ms - hello_sent_ms_ < kHeartbeatEveryMs) return;
  wire::Envelope request;
  request.set_epoch(std::max(state_->epoch(), highest_epoch_seen_));
  wire::MasterHelloRequest* hello = request.mutable_master_hello();
  hello->set_cluster_id(options_.cluster_id);
  hello->set_address(self_address_);
  hello->set_role(role_.load() == Role::kActive ? "active" : "standby");
  hello->set_log_position(state_->position());
  hello_request_ = hello_channel_->Send(std::move(request));
  hello_sent_ms_ = now_ms;
}

Status MasterService::Tick(int64_t now_ms) {
  UpdateMembers(now_ms);
  SendHello(now_ms);
  SeenEpoch(leadership_->highest_epoch_seen());
  if (role_.load() == Role::kActive) {
    if (!LeaseTrusted(now_ms)) {
      StepDown("the leadership lease quorum is no longer trusted: " + leadership_->last_problem());
      return Status::Ok();
    }
    ShipCatchUp(now_ms);
    return Status::Ok();
  }
  if (resync_needed_ && now_ms >= next_resync_ms_) {
    if (Status status = Resync(); !status.ok()) {
      if (status.error() == EIO) return status;  // our own files: cannot go on
      LOG(WARNING) << "resynchronisation from " << options_.peer << " failed, retrying: " << status.ToString();
      next_resync_ms_ = MonotonicMs() + 500;
    }
    return Status::Ok();
  }
  return MaybeTakeOver(now_ms);
}

Status MasterService::MaybeTakeOver(int64_t now_ms) {
  int64_t silence = now_ms - std::max(last_heard_active_ms_, started_ms_);
  if (silence < options_.takeover_after_ms) {
    if (campaign_epoch_ != 0) {
      LOG(INFO) << "the active master answers again: not taking over";
      leadership_->Hold(0);
      campaign_epoch_ = 0;
    }
    return Status::Ok();
  }
  auto refuse = [&](const std::string& why) {
    if (now_ms - last_refusal_log_ms_ < 2000) return Status::Ok();
    last_refusal_log_ms_ = now_ms;
    LOG(WARNING) << "no active master for " << silence << " ms, but not taking over: " << why;
    return Status::Ok();
  };
  if (resync_needed_) return refuse("this master is resynchronising and its state is incomplete");
  if (active_position_ > state_->position()) {
    return refuse("this standby is behind (log position " + std::to_string(state_->position()) + ", the active had " +
                  std::to_string(active_position_) + ")");
  }
  if (lease_members_.empty()) {
    if (options_.bootstrap) return BecomeActive(std::max(state_->epoch(), highest_epoch_seen_) + 1, now_ms);
    return refuse("no chunkserver has joined yet and this master was not started with --bootstrap");
  }
  uint64_t highest = std::max({state_->epoch(), highest_epoch_seen_, leadership_->highest_epoch_seen()});
  if (campaign_epoch_ == 0 || highest > campaign_epoch_) {
    campaign_epoch_ = highest + 1;
    LOG(INFO) << "no active master for " << silence << " ms: asking " << lease_members_.size()
              << " members for the leadership lease at epoch " << campaign_epoch_;
    // No mark while campaigning (Leadership::PeerMark): a won campaign marks the peer
    // before its first acknowledgement, one that is lost must leave the peer free to lead.
    leadership_->SetPeerMark(Leadership::PeerMark::kLeave);
    leadership_->Hold(campaign_epoch_);
  }
  if (leadership_->Trusted(MonotonicMs())) return BecomeActive(campaign_epoch_, now_ms);
  if (leadership_->self_marked_out_of_sync()) return refuse(leadership_->last_problem());
  if (!leadership_->last_problem().empty()) return refuse(leadership_->last_problem());
  return Status::Ok();
}

Status MasterService::BecomeActive(uint64_t epoch, int64_t now_ms) {
  state_->set_active(true);
  state_->ClearPendingDeletions();
  state_->registry().RequireRegistration();
  std::vector<wire::LogRecord> records;
  state_->StartEpochAt(epoch, now_ms, WallClockNs(), &records);
  open_files_.StartServing(state_->epoch(), now_ms);
  role_.store(Role::kActive);
  locks_.StartServing(state_->epoch(), now_ms);
  leases_.StartServing(state_->lease_holders(), now_ms);
  delegations_.StartServing(state_->delegating_holders(), now_ms);
  Metrics().takeovers.Increment();
  standby_sync_ = StandbySync::kOutOfSync;
  standby_position_known_ = false;
  catchup_request_ = 0;
  campaign_epoch_ = 0;
  leadership_->Hold(state_->epoch());
  if (Status status = AppendRecords(records); !status.ok()) return status;
  LOG(WARNING) << "this master is now ACTIVE at epoch " << state_->epoch() << ", log position " << state_->position()
               << " (" << lease_members_.size() << " members, quorum "
               << MasterState::Quorum(lease_members_.size()) << ")";
  return Status::Ok();
}

void MasterService::StepDown(const std::string& why) {
  if (role_.load() != Role::kActive) return;
  LOG(WARNING) << "stepping down to standby: " << why;
  role_.store(Role::kStandby);
  state_->set_active(false);
  sessions_.Clear();  // the next active learns them from the mounts' renewals
  open_files_.Clear();
  name_watch_.Clear();
  held_watches_.clear();  // unanswered: their mounts time out and watch the next active
  change_waits_.Clear();  // like every reply of a master that steps down: the clients retry
  leases_.Clear();        // the next active waits for them (MetadataLeases::StartServing)
  delegations_.Clear();   // ... and for these (DirDelegations::StartServing)
  locks_.Clear();     // ... and the locks from their re-assertions
  leadership_->Hold(0);
  // Our log may hold records that were never acknowledged: resynchronise from the next active.
  resync_when_active_found_ = true;
  last_heard_active_ms_ = MonotonicMs();
  catchup_request_ = 0;
  campaign_epoch_ = 0;
}

bool MasterService::HandlePeerRequest(const wire::Envelope& request, PendingReply* pending) {
  wire::Reply* reply = pending->envelope.mutable_reply();
  switch (request.body_case()) {
    case wire::Envelope::kMasterHello:
      *reply = Hello(request);
      return true;
    case wire::Envelope::kAppendLog:
      *reply = HandleAppendLog(request);
      return true;
    case wire::Envelope::kFetchCheckpoint:
      *reply = HandleFetchCheckpoint(request.fetch_checkpoint(), pending);
      return true;
    default:
      return false;
  }
}

bool MasterService::FirstRefusal(const std::string& peer) {
  // Bounded: a flood of made-up cluster ids must not grow it without end.
  return foreign_peers_logged_.size() < 64 && foreign_peers_logged_.insert(peer).second;
}

wire::Reply MasterService::Hello(const wire::Envelope& request) {
  wire::Reply reply;
  reply.set_cluster_id(options_.cluster_id);
  const wire::MasterHelloRequest& hello = request.master_hello();
  if (hello.cluster_id() != options_.cluster_id) {
    if (FirstRefusal("hello " + hello.address() + " " + hello.cluster_id())) {
      LOG(ERROR) << "cluster id mismatch: master " << hello.address() << " of cluster \"" << hello.cluster_id()
                 << "\" said hello; this is cluster \"" << options_.cluster_id << "\": refused (logged once)";
    }
    reply.set_error(EINVAL);
    reply.set_error_message("cluster id mismatch: this is cluster \"" + options_.cluster_id + "\"");
    return reply;
  }
  int64_t now_ms = MonotonicMs();
  peer_heard_ms_ = now_ms;
  peer_role_ = hello.role();
  peer_position_ = hello.log_position();
  peer_epoch_ = request.epoch();
  if (hello.role() == "active") {
    SeenEpoch(request.epoch());
    if (role_.load() == Role::kStandby && request.epoch() >= state_->epoch()) last_heard_active_ms_ = now_ms;
  }
  reply.set_role(role_.load() == Role::kActive ? "active" : "standby");
  reply.set_log_position(state_->position());
  return reply;
}

wire::Reply MasterService::HandleAppendLog(const wire::Envelope& request) {
  const wire::AppendLogRequest& append = request.append_log();
  wire::Reply reply;
  reply.set_cluster_id(options_.cluster_id);
  auto answer = [&](int error, const std::string& message) {
    reply.set_error(error);
    reply.set_error_message(message);
    reply.set_log_position(state_->position());
    return reply;
  };
  if (append.cluster_id() != options_.cluster_id) {
    // An active of another cluster ships a heartbeat every 200 ms: one line per cluster.
    if (FirstRefusal("AppendLog " + append.cluster_id())) {
      LOG(ERROR) << "cluster id mismatch: AppendLog from a master of cluster \"" << append.cluster_id()
                 << "\"; this is cluster \"" << options_.cluster_id << "\": refused (logged once)";
    }
    return answer(EINVAL, "cluster id mismatch: this is cluster \"" + options_.cluster_id + "\"");
  }
  uint64_t ours = std::max(state_->epoch(), highest_epoch_seen_);
  if (request.epoch() < ours) {
    return answer(ESTALE, "epoch " + std::to_string(request.epoch()) + " is below " + std::to_string(ours));
  }
  if (role_.load() == Role::kActive) {
    if (request.epoch() <= state_->epoch()) return answer(ESTALE, "this master is the active one");
    StepDown("AppendLog from an active at epoch " + std::to_string(request.epoch()));
  }
  highest_epoch_seen_ = std::max(highest_epoch_seen_, request.epoch());
  int64_t now_ms = MonotonicMs();
  last_heard_active_ms_ = now_ms;
  peer_heard_ms_ = now_ms;
  peer_role_ = "active";
  peer_epoch_ = request.epoch();
  peer_position_ = append.active_position();
  active_position_ = append.active_position();
  if (resync_when_active_found_) {
    resync_when_active_found_ = false;
    resync_needed_ = true;
  }
  if (append.resync() && !resync_needed_) {
    LOG(WARNING) << "the active no longer holds the records after position " << state_->position()
                 << ": resynchronising from a checkpoint";
    resync_needed_ = true;
  }
  if (resync_needed_) return answer(EAGAIN, "resynchronising from a checkpoint");
  uint64_t position = state_->position();
  uint64_t first = append.first_position();
  if (first == 0) return answer(EINVAL, "first_position 0");
  if (first > position + 1) return answer(0, "");  // a gap: the active resends from our position
  // A heartbeat sent before our checkpoint was taken: nothing to compare.
  if (append.records_size() == 0 && append.active_position() < position) return answer(0, "");
  if (append.active_position() < position) {
    resync_needed_ = true;
    LOG(WARNING) << "this standby's log (position " << position << ") goes past the active's ("
                 << append.active_position() << "): diverged, resynchronising";
    return answer(EBADMSG, "log diverged: resynchronising");
  }
  size_t skip = position + 1 - first;
  if (skip > static_cast<size_t>(append.records_size())) return answer(0, "");
  uint64_t previous = skip == 0 ? append.previous_record_checksum() : SerializedChecksum(append.records(skip - 1));
  if (previous != 0 && last_checksum_ != 0 && previous != last_checksum_) {
    resync_needed_ = true;
    LOG(WARNING) << "record " << position << " differs from the active's: diverged, resynchronising";
    return answer(EBADMSG, "log diverged at position " + std::to_string(position) + ": resynchronising");
  }
  std::vector<wire::LogRecord> records;
  for (int i = static_cast<int>(skip); i < append.records_size(); ++i) {
    wire::LogRecord record;
    if (!record.ParseFromString(append.records(i)) || record.position() != position + 1 + records.size()) {
      LOG(WARNING) << "AppendLog record " << first + i << " is damaged: asking for it again";
      return answer(0, "");
    }
    records.push_back(std::move(record));
  }
  if (records.empty()) return answer(0, "");
  if (Status status = log_->Append(records); !status.ok()) {
    LOG(ERROR) << "standby op log write failed: " << status.ToString();
    fatal_ = Status::Error(EIO, status.message());
    return answer(EIO, status.message());
  }
  for (const wire::LogRecord& record : records) {
    if (Status status = state_->Replay(record); !status.ok()) {
      resync_needed_ = true;
      return answer(EBADMSG, "record " + std::to_string(record.position()) + " did not apply: " + status.message());
    }
    ring_.Add(record);
  }
  last_checksum_ = SerializedChecksum(append.records(append.records_size() - 1));
  records_since_checkpoint_ += records.size();
  return answer(0, "");
}

wire::Reply MasterService::HandleFetchCheckpoint(const wire::FetchCheckpointRequest& request, PendingReply* pending) {
  wire::Reply reply;
  reply.set_cluster_id(options_.cluster_id);
  if (request.cluster_id() != options_.cluster_id) {
    reply.set_error(EINVAL);
    reply.set_error_message("cluster id mismatch: this is cluster \"" + options_.cluster_id + "\"");
    return reply;
  }
  if (role_.load() != Role::kActive) {
    reply.set_error(ENOTCONN);
    reply.set_error_message("not the active master");
    return reply;
  }
  std::string directory = options_.data_directory + "/sync";
  if (request.offset() == 0) {
    auto made = MakePrivateDirectory(directory);
    Status status = made ? WriteCheckpoint(directory, *state_) : made.error();
    if (!status.ok()) {
      reply.set_error(status.error());
      reply.set_error_message("cannot write a checkpoint for the standby: " + status.message());
      return reply;
    }
    sync_checkpoint_position_ = state_->position();
    sync_checkpoint_path_ = NumberedPath(directory, "checkpoint.", sync_checkpoint_position_);
    LOG(INFO) << "wrote a checkpoint at position " << sync_checkpoint_position_ << " for the standby";
  } else if (request.checkpoint_position() != sync_checkpoint_position_ || sync_checkpoint_path_.empty()) {
    reply.set_error(ESTALE);
    reply.set_error_message("that checkpoint is gone: start again at offset 0");
    return reply;
  }
  std::error_code error;
  uint64_t size = std::filesystem::file_size(sync_checkpoint_path_, error);
  int fd = ::open(sync_checkpoint_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (error || fd < 0) {
    if (fd >= 0) ::close(fd);
    reply.set_error(EIO);
    reply.set_error_message("cannot read " + sync_checkpoint_path_);
    return reply;
  }
  uint64_t length =
      std::min<uint64_t>(std::min<uint32_t>(request.length() ? request.length() : kCheckpointPiece, kCheckpointPiece),
                         size > request.offset() ? size - request.offset() : 0);
  pending->data.rebuild(length);
  ssize_t got = length ? ::pread(fd, pending->data.data(), length, static_cast<off_t>(request.offset())) : 0;
  ::close(fd);
  if (got != static_cast<ssize_t>(length)) {
    reply.set_error(EIO);
    reply.set_error_message("short read of " + sync_checkpoint_path_);
    return reply;
  }
  pending->has_data = true;
  reply.set_checkpoint_position(sync_checkpoint_position_);
  reply.set_checkpoint_size(size);
  return reply;
}

Status MasterService::Resync() {
  LOG(INFO) << "resynchronising from the active " << options_.peer << ": fetching a checkpoint";
  rpc::Connection connection(rpc::MasterPeer(options_.peer));
  std::string temporary = options_.data_directory + "/resync.tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return Status::Error(EIO, "cannot create " + temporary);
  uint64_t offset = 0, size = 0, position = 0;
  Status status;
  do {
    wire::Envelope request;
    request.set_epoch(std::max(state_->epoch(), highest_epoch_seen_));
    wire::FetchCheckpointRequest* fetch = request.mutable_fetch_checkpoint();
    fetch->set_cluster_id(options_.cluster_id);
    fetch->set_checkpoint_position(position);
    fetch->set_offset(offset);
    fetch->set_length(kCheckpointPiece);
    auto answer = connection.Call(request, kFetchTimeoutMs);
    if (!answer) {
      status = answer.error();
      break;
    }
    const wire::Reply& reply = answer->envelope.reply();
    if (reply.error() != 0) {
      status = Status::Error(reply.error() == EIO ? EAGAIN : reply.error(), reply.error_message());
      break;
    }
    if (offset == 0) {
      position = reply.checkpoint_position();
      size = reply.checkpoint_size();
    } else if (reply.checkpoint_position() != position) {
      status = Status::Error(ESTALE, "the checkpoint changed while fetching it");
      break;
    }
    if (!answer->has_data || (answer->data.size() == 0 && offset < size)) {
      status = Status::Error(EBADMSG, "checkpoint piece without data");
      break;
    }
    status = PwriteAll(fd, std::string_view(static_cast<const char*>(answer->data.data()), answer->data.size()), offset,
                       temporary);
    if (!status.ok()) {
      status = Status::Error(EIO, status.message());
      break;
    }
    offset += answer->data.size();
  } while (offset < size);
  if (status.ok() && ::fsync(fd) != 0) status = Status::Error(EIO, "cannot fsync " + temporary);
  ::close(fd);
  if (!status.ok()) {
    std::remove(temporary.c_str());
    return status;
  }
  if (Status reset = ResetState(temporary, position); !reset.ok()) return Status::Error(EIO, reset.message());
  resync_needed_ = false;
  LOG(INFO) << "resynchronised from " << options_.peer << ": checkpoint at position " << position << " (" << size
            << " bytes) loaded, receiving the log from there";
  return Status::Ok();
}

Status MasterService::ResetState(const std::string& checkpoint_file, uint64_t position) {
  log_.reset();
  for (const char* prefix : {"log.", "checkpoint."}) {
    auto files = ListNumberedFiles(options_.data_directory, prefix);
    if (!files) return files.error();
    for (const auto& [number, path] : *files) std::remove(path.c_str());
  }
  std::string path = NumberedPath(options_.data_directory, "checkpoint.", position);
  if (std::rename(checkpoint_file.c_str(), path.c_str()) != 0) return ErrnoStatus("cannot rename " + checkpoint_file);
  if (Status status = FsyncPath(options_.data_directory); !status.ok()) return status;
  state_ = std::make_unique<MasterState>(options_.master);
  state_->set_address(self_address_);
  state_->set_active(false);
  auto loaded = LoadNewestCheckpoint(options_.data_directory, state_.get());
  if (!loaded) return loaded.error();
  if (!*loaded) return Status::Error(EBADMSG, "the fetched checkpoint did not load");
  auto log = OpLog::Open(options_.data_directory, state_->position(),
                         [this](const wire::LogRecord& record) { return state_->Replay(record); });
  if (!log) return log.error();
  log_ = std::move(*log);
  ring_.Clear();
  last_checksum_ = 0;  // unknown: the next record is accepted as the continuation
  records_since_checkpoint_ = 0;
  lease_members_.clear();
  UpdateMembers(MonotonicMs());
  return Status::Ok();
}

void MasterService::FillMasters(wire::Reply* reply) {
  reply->clear_masters();
  int64_t now_ms = MonotonicMs();
  bool active = role_.load() == Role::kActive;
  wire::MasterInfo* self = reply->add_masters();
  self->set_address(self_address_);
  self->set_role(active ? "active" : "standby");
  self->set_epoch(state_->epoch());
  self->set_log_position(state_->position());
  self->set_reachable(true);
  if (active) {
    self->set_sync(standby_sync_ == StandbySync::kInSync ? "ok" : "degraded");
  } else {
    bool behind = resync_needed_ || active_position_ > state_->position();
    self->set_sync(resync_needed_ ? "out of sync" : behind ? "catching up" : "in sync");
    self->set_lag_records(active_position_ > state_->position() ? active_position_ - state_->position() : 0);
  }
  wire::MasterInfo* peer = reply->add_masters();
  peer->set_address(options_.peer);
  peer->set_reachable(peer_heard_ms_ != 0 && now_ms - peer_heard_ms_ < 2000);
  peer->set_role(active ? "standby" : peer_role_);
  peer->set_epoch(peer_epoch_);
  if (active) {
    peer->set_log_position(standby_position_known_ || standby_sync_ == StandbySync::kInSync ? standby_position_
                                                                                            : peer_position_);
    // "in sync" once it could also be promoted: its out-of-sync mark is gone at a quorum.
    bool promotable = standby_sync_ != StandbySync::kInSync || leadership_->peer_mark_cleared();
    peer->set_sync(promotable ? StandbySyncName(standby_sync_) : "clearing its out-of-sync mark");
    peer->set_lag_records(state_->position() - std::min(state_->position(), peer->log_position()));
  } else {
    peer->set_log_position(peer_position_);
  }
}

}  // namespace hafs::master
