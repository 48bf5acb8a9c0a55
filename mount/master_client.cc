#include "mount/master_client.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>
#include <utility>

#include "common/clock.h"
#include "common/log.h"
#include "common/rpc.h"
#include "mount/mount_metrics.h"

namespace hafs::mount {
namespace {

// Pause between passes over the master list (each master either did not answer or said
// "not me"), so a cluster electing a new master is not hammered. Never taken while a
// master of the list is untried in the current pass.
constexpr int kPassPauseMs = 100;
// A master whose last call timed out is "suspect": while another master answers at all
// (a standby saying ENOTCONN during a takeover), the suspect is asked at most this often,
// so each pass does not wait a whole --master-timeout-ms for a dead master.
constexpr int64_t kSuspectRetryMs = 2000;

uint64_t RandomClientId() {
  std::random_device device;
  uint64_t id = (static_cast<uint64_t>(device()) << 32) | device();
  return id == 0 ? 1 : id;
}

}  // namespace

MasterClient::MasterClient(std::vector<std::string> masters, int timeout_ms, int retry_s)
    : masters_(std::move(masters)),
      timeout_ms_(timeout_ms),
      retry_s_(retry_s),
      client_id_(RandomClientId()),
      silent_since_ms_(std::make_unique<std::atomic<int64_t>[]>(masters_.size())) {
  for (size_t i = 0; i < masters_.size(); ++i) silent_since_ms_[i].store(0);
}

size_t MasterClient::IndexOf(const std::string& address) const {
  for (size_t i = 0; i < masters_.size(); ++i) {
    if (masters_[i] == address) return i;
  }
  return masters_.size();
}

bool MasterClient::SkipSuspect(size_t index, int64_t now_ms) const {
  int64_t silent_since = silent_since_ms_[index].load();
  if (silent_since == 0 || now_ms - silent_since >= kSuspectRetryMs) return false;
  for (size_t i = 0; i < masters_.size(); ++i) {
    if (i != index && silent_since_ms_[i].load() == 0) return true;  // someone else answers
  }
  return false;
}

bool MasterClient::ObserveEpoch(uint64_t epoch) {
  uint64_t known = epoch_.load();
  while (epoch > known) {
    if (epoch_.compare_exchange_weak(known, epoch)) return true;
  }
  return epoch == 0 || epoch >= known;
}

std::string MasterClient::MasterList() const {
  std::string list;
  for (const std::string& master : masters_) list += (list.empty() ? "" : ",") + master;
  return list;
}

int64_t MasterClient::UnansweredForMs(int64_t now_ms) const {
  int64_t since = unanswered_since_ms_.load();
  return since == 0 ? 0 : std::max<int64_t>(now_ms - since, 1);
}

bool MasterClient::IsRetryable(int error) {
  switch (error) {
    case ETIMEDOUT:  // no answer
    case EAGAIN:     // master busy or not ready yet
    case ENOTCONN:   // a standby: not the active master
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ESTALE:  // a fenced (old) active master
      return true;
    // Not EROFS: that is a read-only export's answer (docs/exports.md), final on any master.
    default:
      return false;
  }
}

Result<wire::Reply> MasterClient::CallFor(wire::Envelope request, int64_t retry_ms, int held_ms) {
  // One (client_id, sequence) for every attempt of this call, on every master: the active
  // applies a retried mutation (create, rename, write lease, write done, ...) only once.
  if (before_call_) {
    if (auto answered = before_call_(request)) return std::move(*answered);
  }
  request.set_client_id(client_id_);
  request.set_sequence(next_sequence_.fetch_add(1));
  request.set_mount_root(mount_root_.load());
  int64_t deadline_ms = MonotonicMs() + retry_ms;
  Status last_error;
  bool first_attempt = true;
  while (true) {
    std::vector<bool> tried(masters_.size(), false);
    size_t next = current_master_.load();
    for (size_t attempt = 0; attempt < masters_.size(); ++attempt) {
      // The master named by the last "not me" answer, else the next untried one in order.
      if (next >= masters_.size() || tried[next]) {
        next = current_master_.load();
        while (tried[next]) next = (next + 1) % masters_.size();
      }
      size_t index = next;
      next = masters_.size();
      tried[index] = true;
      const std::string& address = masters_[index];
      if (SkipSuspect(index, MonotonicMs())) continue;
      request.set_epoch(epoch_.load());
      request.set_request_id(0);  // a fresh id per attempt; the sequence stays
      if (!std::exchange(first_attempt, false)) Metrics().master_retries.Increment();
      auto answer = rpc::ThreadConnection(rpc::MasterPeer(address)).Call(request, timeout_ms_ + held_ms);
      if (!answer) {
        last_error = answer.error();
        int64_t expected = 0;
        silent_since_ms_[index].compare_exchange_strong(expected, MonotonicMs());
        continue;
      }
      silent_since_ms_[index].store(0);
      if (!ObserveEpoch(answer->envelope.epoch())) {
        last_error = Status::Error(ESTALE, "master " + address + " answered with an old epoch");
        continue;
      }
      const wire::Reply& reply = answer->envelope.reply();
      if (reply.error() != 0 && IsRetryable(reply.error())) {
        last_error = rpc::ReplyStatus(reply);
        // A standby names the active when it knows it: ask that one next, at once.
        if (!reply.active_address().empty()) next = IndexOf(reply.active_address());
        continue;
      }
      current_master_.store(index);
      unanswered_since_ms_.store(0);
      if (reply.error() != 0) return Fail(rpc::ReplyStatus(reply));
      return reply;
    }
    int64_t no_answer_since = 0;
    unanswered_since_ms_.compare_exchange_strong(no_answer_since, MonotonicMs());
    if (MonotonicMs() >= deadline_ms) break;
    LOG(DEBUG) << "no master answered (" << last_error.ToString() << "), retrying";
    std::this_thread::sleep_for(std::chrono::milliseconds(kPassPauseMs));
  }
  LOG(WARNING) << "giving up on master call: " << last_error.ToString();
  return Fail(EIO, "no master answered: " + last_error.ToString());
}

}  // namespace hafs::mount
