#include "master/leadership.h"

#include <chrono>
#include <map>
#include <memory>

#include "common/clock.h"
#include "common/log.h"
#include "common/protocol_limits.h"
#include "common/rpc.h"

namespace hafs::master {
namespace {

size_t QuorumOf(size_t members) { return members / 2 + 1; }

}  // namespace

Leadership::Leadership(LeadershipOptions options) : options_(std::move(options)) {}

Leadership::~Leadership() { Stop(); }

void Leadership::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void Leadership::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Leadership::SetMembers(std::vector<rpc::Peer> members) {
  std::lock_guard lock(mutex_);
  if (members == members_) return;
  members_ = std::move(members);
  // A confirmation counted over the old member set no longer proves a quorum of the new one.
  peer_mark_confirmed_.store(false);
  peer_mark_cleared_.store(false);
  wake_.notify_all();
}

void Leadership::Hold(uint64_t epoch) {
  std::lock_guard lock(mutex_);
  if (epoch == epoch_) return;
  epoch_ = epoch;
  // Leases of another epoch say nothing about this one.
  trusted_until_ms_.store(0);
  wake_.notify_all();
}

void Leadership::SetPeerMark(PeerMark mark) {
  std::lock_guard lock(mutex_);
  if (mark == mark_peer_) return;
  mark_peer_ = mark;
  peer_mark_confirmed_.store(false);
  peer_mark_cleared_.store(false);
  wake_.notify_all();
}

bool Leadership::WaitPeerMarked(int64_t timeout_ms) {
  int64_t deadline = MonotonicMs() + timeout_ms;
  while (!peer_mark_confirmed_.load()) {
    if (MonotonicMs() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::string Leadership::last_problem() const {
  std::lock_guard lock(mutex_);
  return last_problem_;
}

void Leadership::Loop() {
  uint64_t held_epoch = 0;
  while (true) {
    std::vector<rpc::Peer> members;
    uint64_t epoch;
    PeerMark mark;
    {
      std::unique_lock lock(mutex_);
      if (stop_) break;
      members = members_;
      epoch = epoch_;
      mark = mark_peer_;
      if (epoch != held_epoch) holding_ = false;
    }
    int64_t started = MonotonicMs();
    if (epoch == 0) {
      if (held_epoch != 0 && !members.empty()) Round(members, held_epoch, PeerMark::kLeave, /*release=*/true);
      held_epoch = 0;
    } else if (!members.empty()) {
      Round(members, epoch, mark, false);
      held_epoch = epoch;
    }
    rounds_.fetch_add(1);
    int64_t period = (epoch != 0 && holding_) ? options_.lease_ms / 5 : options_.campaign_retry_ms;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, started + period - MonotonicMs())),
                   [&] { return stop_ || epoch_ != epoch || mark_peer_ != mark || members_ != members; });
  }
}

void Leadership::Round(const std::vector<rpc::Peer>& members, uint64_t epoch, PeerMark mark, bool release) {
  // One connection per member, kept between rounds (a timed-out call resets its socket).
  thread_local std::map<std::string, std::unique_ptr<rpc::Connection>> connections;
  // Long enough for a chunkserver on a saturated machine; rounds start every lease/5 from
  // the previous start, and a grant is trusted for 0.8 lease from its send.
  int timeout_ms = static_cast<int>(std::max<int64_t>(50, options_.lease_ms * 3 / 10));
  int64_t sent_ms = MonotonicMs();
  std::vector<std::pair<rpc::Connection*, uint64_t>> calls;
  for (const rpc::Peer& member : members) {
    auto& connection = connections[member.address + " " + member.public_key];
    if (!connection) connection = std::make_unique<rpc::Connection>(member);
    wire::Envelope request;
    request.set_epoch(std::max(epoch, highest_epoch_seen_.load()));
    wire::LeadershipLeaseRequest* lease = request.mutable_leadership_lease();
    lease->set_master_address(options_.self_address);
    lease->set_epoch(epoch);
    lease->set_duration_ms(static_cast<uint32_t>(options_.lease_ms));
    if (mark == PeerMark::kMark && !options_.peer_address.empty()) lease->set_mark_out_of_sync(options_.peer_address);
    if (mark == PeerMark::kClear && holding_ && !options_.peer_address.empty()) lease->set_clear_out_of_sync(true);
    lease->set_release(release);
    auto id = connection->Send(std::move(request), nullptr, timeout_ms);
    if (id) calls.push_back({connection.get(), *id});
  }
  if (release) {
    for (auto& [connection, id] : calls) (void)connection->Wait(id);
    trusted_until_ms_.store(0);
    return;
  }
  size_t granted = 0, marked = 0, unmarked = 0, answered = 0;
  bool self_marked = false;
  std::string problem;
  for (auto& [connection, id] : calls) {
    auto answer = connection->Wait(id);
    if (!answer) {
      problem = connection->address() + ": " + answer.error().message();
      continue;
    }
    answered++;
    const wire::Reply& reply = answer->envelope.reply();
    uint64_t seen = std::max(reply.highest_epoch(), answer->envelope.epoch());
    if (seen >= kMaxEpoch) seen = 0;  // a lie: the next campaign, one above, would pass the cap
    uint64_t highest = highest_epoch_seen_.load();
    while (seen > highest && !highest_epoch_seen_.compare_exchange_weak(highest, seen)) {
    }
    if (reply.out_of_sync_master() == options_.self_address && !options_.self_address.empty()) self_marked = true;
    if (mark == PeerMark::kMark && reply.out_of_sync_master() == options_.peer_address) marked++;
    if (mark == PeerMark::kClear && reply.lease_granted() && reply.out_of_sync_master() != options_.peer_address) {
      unmarked++;
    }
    if (reply.error() == 0 && reply.lease_granted()) {
      granted++;
    } else {
      problem = connection->address() + " refused: " +
                (reply.error_message().empty() ? "lease held by " + reply.lease_holder() : reply.error_message());
    }
  }
  size_t quorum = QuorumOf(members.size());
  self_marked_.store(self_marked);
  // A chunkserver never grants to a master it has recorded as out of sync, so a quorum of
  // grants is enough: a stale master is marked at a quorum, which every quorum meets. (A
  // leftover mark at a minority, which the active failed to clear, does not block it.)
  bool ok = granted >= quorum;
  if (ok) {
    int64_t until = sent_ms + options_.lease_ms * 8 / 10;
    std::lock_guard lock(mutex_);
    // Only for the epoch asked for (Hold may have moved on meanwhile).
    if (epoch_ == epoch) {
      trusted_until_ms_.store(until);
      holding_ = true;
      if (mark == PeerMark::kMark && marked >= quorum && mark_peer_ == mark) peer_mark_confirmed_.store(true);
      if (mark == PeerMark::kClear && unmarked >= quorum && mark_peer_ == mark) peer_mark_cleared_.store(true);
    }
    last_problem_.clear();
  } else {
    std::lock_guard lock(mutex_);
    last_problem_ = !holding_ && self_marked
                        ? "this master is recorded as out of sync at a chunkserver: it may lack acknowledged changes"
                        : std::to_string(granted) + " of " + std::to_string(members.size()) +
                              " members granted the lease (quorum " + std::to_string(quorum) + ")" +
                              (problem.empty() ? "" : "; " + problem);
    (void)answered;
  }
}

}  // namespace hafs::master
