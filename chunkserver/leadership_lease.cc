#include "chunkserver/leadership_lease.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/block_checksum.h"
#include "common/clock.h"
#include "common/durable_file.h"
#include "common/log.h"
#include "common/protocol_limits.h"

namespace hafs {
namespace {

constexpr char kMagicLine[] = "hafs-leadership 1";
constexpr size_t kMaxAddressBytes = 256;
constexpr char kNone[] = "-";

uint64_t TextChecksum(const std::string& text) {
  return RecordChecksum({reinterpret_cast<const std::byte*>(text.data()), text.size()});
}

// host:port as masters send it: non-empty, bounded, no whitespace (the file is
// whitespace-separated) and not the file's "none" marker.
bool ValidAddress(const std::string& address) {
  if (address.empty() || address.size() > kMaxAddressBytes || address == kNone) return false;
  return std::none_of(address.begin(), address.end(),
                      [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\0'; });
}


}  // namespace

Result<std::unique_ptr<LeadershipLease>> LeadershipLease::Open(LeadershipLeaseOptions options,
                                                               ChunkserverState& state) {
  std::unique_ptr<LeadershipLease> lease(new LeadershipLease(std::move(options), state));
  Status loaded = lease->Load();
  if (!loaded.ok()) return Fail(loaded);
  return lease;
}

int64_t LeadershipLease::Now() const { return options_.now_ms ? options_.now_ms() : MonotonicMs(); }

Status LeadershipLease::Load() {
  std::string path = options_.dir + "/" + kFileName;
  std::error_code exists_error;
  if (!std::filesystem::exists(path, exists_error)) {
    if (exists_error) return Status::Error(EIO, "cannot look for " + path + ": " + exists_error.message());
    return Status::Ok();  // never granted a lease (the first grant writes the file): no grace needed
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(EIO, "cannot open " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  auto damaged = [&](const std::string& why) {
    return Status::Error(EBADMSG, path + " is damaged (" + why +
                                      "); it holds this chunkserver's highest master epoch and out-of-sync mark, "
                                      "see docs/design.md before removing it");
  };
  size_t checksum_at = text.rfind("checksum ");
  if (checksum_at == std::string::npos || (checksum_at > 0 && text[checksum_at - 1] != '\n')) {
    return damaged("no checksum line");
  }
  uint64_t stored_checksum = 0;
  if (std::sscanf(text.c_str() + checksum_at, "checksum %" SCNx64, &stored_checksum) != 1) {
    return damaged("bad checksum line");
  }
  std::string body = text.substr(0, checksum_at);
  if (TextChecksum(body) != stored_checksum) return damaged("checksum mismatch");
  std::istringstream lines(body);
  std::string line;
  if (!std::getline(lines, line) || line != kMagicLine) return damaged("not a leadership file");
  Persisted persisted;
  int fields = 0;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value)) return damaged("bad line '" + line + "'");
    try {
      if (key == "highest_epoch") {
        persisted.highest_epoch = std::stoull(value);
      } else if (key == "out_of_sync_master") {
        persisted.out_of_sync_master = value == kNone ? "" : value;
      } else if (key == "out_of_sync_epoch") {
        persisted.out_of_sync_epoch = std::stoull(value);
      } else {
        continue;  // unknown keys from a later version are ignored
      }
    } catch (const std::exception&) {
      return damaged("bad number in '" + line + "'");
    }
    ++fields;
  }
  if (fields < 3) return damaged("missing fields");
  persisted_ = persisted;
  ever_granted_ = true;
  grace_until_ms_ = Now() + options_.grace_ms;
  state_.LearnEpoch(persisted_.highest_epoch);
  LOG(INFO) << "leadership state from " << path << ": highest epoch " << persisted_.highest_epoch
            << (persisted_.out_of_sync_master.empty()
                    ? std::string(", no master marked out of sync")
                    : ", master " + persisted_.out_of_sync_master + " marked out of sync at epoch " +
                          std::to_string(persisted_.out_of_sync_epoch))
            << "; no lease granted for " << options_.grace_ms << " ms";
  return Status::Ok();
}

Status LeadershipLease::Save(const Persisted& persisted) {
  // Appended piece by piece: g++ 12 warns falsely (-Warray-bounds) about a chain of + here.
  std::string body(kMagicLine);
  body += "\nhighest_epoch " + std::to_string(persisted.highest_epoch);
  body += "\nout_of_sync_master ";
  body += persisted.out_of_sync_master.empty() ? std::string(kNone) : persisted.out_of_sync_master;
  body += "\nout_of_sync_epoch " + std::to_string(persisted.out_of_sync_epoch) + "\n";
  char checksum[40];
  std::snprintf(checksum, sizeof checksum, "checksum %016" PRIx64 "\n", TextChecksum(body));
  return WriteFileAtomically(options_.dir + "/" + kFileName, body + checksum);
}

uint64_t LeadershipLease::HighestLocked() const { return std::max(persisted_.highest_epoch, state_.epoch()); }

std::string LeadershipLease::HolderLocked(int64_t now) const { return now < expiry_ms_ ? holder_ : std::string(); }

void LeadershipLease::FillReply(int64_t now, wire::Reply* reply) const {
  reply->set_lease_holder(HolderLocked(now));
  reply->set_highest_epoch(HighestLocked());
  reply->set_out_of_sync_master(persisted_.out_of_sync_master);
  reply->set_out_of_sync_epoch(persisted_.out_of_sync_epoch);
}

void LeadershipLease::Handle(const wire::LeadershipLeaseRequest& request, wire::Reply* reply) {
  std::lock_guard lock(mutex_);
  int64_t now = Now();
  reply->set_lease_granted(false);
  auto refuse = [&](int error, std::string message) {
    reply->set_error(error);
    reply->set_error_message(std::move(message));
    FillReply(now, reply);
  };
  const std::string& requester = request.master_address();
  if (!ValidAddress(requester)) return refuse(EINVAL, "leadership lease request without a valid master_address");
  if (!request.mark_out_of_sync().empty() && !ValidAddress(request.mark_out_of_sync())) {
    return refuse(EINVAL, "mark_out_of_sync is not a valid address");
  }
  if (!request.mark_out_of_sync().empty() && request.clear_out_of_sync()) {
    return refuse(EINVAL, "mark_out_of_sync and clear_out_of_sync in one request");
  }
  // A lie here would be persisted and fence out every master for good. The window is twice
  // the data requests': the fence may stand one window above what was learned, and the next
  // campaign asks one epoch past the fence.
  if (uint64_t learned = state_.learned_epoch();
      request.epoch() > kMaxEpoch || request.epoch() > learned + 2 * kEpochWindow) {
    return refuse(EINVAL, "epoch " + std::to_string(request.epoch()) + " is more than " +
                              std::to_string(2 * kEpochWindow) + " above the highest learned from a master (" +
                              std::to_string(learned) + ")");
  }
  uint64_t highest = HighestLocked();
  if (request.epoch() < highest) {
    LOG(DEBUG) << "leadership lease refused to " << requester << ": epoch " << request.epoch()
               << " is below the highest seen, " << highest;
    return refuse(ESTALE, "epoch " + std::to_string(request.epoch()) + " is older than " + std::to_string(highest));
  }
  std::string holder = HolderLocked(now);
  bool is_holder = !holder.empty() && holder == requester;
  if (request.release()) {
    if (is_holder) {
      LOG(INFO) << "leadership lease released by " << requester;
      holder_.clear();
      holder_epoch_ = 0;
      expiry_ms_ = 0;
    }
    FillReply(now, reply);
    return;
  }
  // A master recorded here as out of sync may lack acknowledged changes: it must not lead,
  // and its own request must not overwrite the mark that says so. Only the master that set
  // the mark clears it, once this one is back in sync.
  if (requester == persisted_.out_of_sync_master) {
    return refuse(EPERM, "master " + requester + " is recorded here as out of sync (since epoch " +
                             std::to_string(persisted_.out_of_sync_epoch) + ") and may not lead until it has caught up");
  }
  if (!is_holder) {
    if (now < grace_until_ms_) {
      return refuse(EBUSY, "this chunkserver restarted recently and grants no lease for another " +
                               std::to_string(grace_until_ms_ - now) + " ms");
    }
    if (!holder.empty()) return refuse(EBUSY, "the leadership lease is held by " + holder);
    if (request.duration_ms() == 0) return refuse(EINVAL, "leadership lease request with duration_ms 0");
  }
  Persisted next = persisted_;
  next.highest_epoch = std::max(next.highest_epoch, request.epoch());
  if (!request.mark_out_of_sync().empty()) {
    next.out_of_sync_master = request.mark_out_of_sync();
    next.out_of_sync_epoch = request.epoch();
  } else if (request.clear_out_of_sync()) {
    next.out_of_sync_master.clear();
    next.out_of_sync_epoch = 0;
  }
  bool changed = next.highest_epoch != persisted_.highest_epoch ||
                 next.out_of_sync_master != persisted_.out_of_sync_master ||
                 next.out_of_sync_epoch != persisted_.out_of_sync_epoch;
  if (changed || !ever_granted_) {
    Status saved = Save(next);
    if (!saved.ok()) {
      LOG(ERROR) << "cannot persist the leadership state, lease not granted: " << saved.ToString();
      return refuse(EIO, "cannot persist the leadership state: " + saved.message());
    }
    if (next.out_of_sync_master != persisted_.out_of_sync_master) {
      if (next.out_of_sync_master.empty()) {
        LOG(INFO) << "master " << persisted_.out_of_sync_master << " no longer marked out of sync (cleared by "
                  << requester << ", epoch " << request.epoch() << ")";
      } else {
        LOG(WARNING) << "master " << next.out_of_sync_master << " marked out of sync by " << requester << " (epoch "
                     << request.epoch() << ")";
      }
    }
    persisted_ = next;
    ever_granted_ = true;
  }
  state_.LearnEpoch(request.epoch());
  if (!is_holder) {
    LOG(INFO) << "leadership lease granted to " << requester << " (epoch " << request.epoch() << ", "
              << request.duration_ms() << " ms)";
  }
  holder_ = requester;
  holder_epoch_ = request.epoch();
  if (request.duration_ms() > 0) {
    expiry_ms_ = now + std::min<int64_t>(request.duration_ms(), options_.max_duration_ms);
  }
  reply->set_lease_granted(true);
  FillReply(now, reply);
}

std::string LeadershipLease::Holder() const {
  std::lock_guard lock(mutex_);
  return HolderLocked(Now());
}

bool LeadershipLease::EverGranted() const {
  std::lock_guard lock(mutex_);
  return ever_granted_;
}

uint64_t LeadershipLease::HighestEpoch() const {
  std::lock_guard lock(mutex_);
  return HighestLocked();
}

std::string LeadershipLease::OutOfSyncMaster() const {
  std::lock_guard lock(mutex_);
  return persisted_.out_of_sync_master;
}

uint64_t LeadershipLease::OutOfSyncEpoch() const {
  std::lock_guard lock(mutex_);
  return persisted_.out_of_sync_epoch;
}

}  // namespace hafs
