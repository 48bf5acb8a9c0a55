#include "mount/master_client.h"

#include <chrono>
#include <random>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "common/rpc.h"

namespace hafs::mount {
namespace {

// Pause between passes over the master list, so a cluster electing a new master is
// not hammered.
constexpr int kPassPauseMs = 200;

uint64_t RandomClientId() {
  std::random_device device;
  uint64_t id = (static_cast<uint64_t>(device()) << 32) | device();
  return id == 0 ? 1 : id;
}

}  // namespace

MasterClient::MasterClient(std::vector<std::string> masters, int timeout_ms, int retry_s)
    : masters_(std::move(masters)), timeout_ms_(timeout_ms), retry_s_(retry_s), client_id_(RandomClientId()) {}

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

bool MasterClient::IsRetryable(int error) {
  switch (error) {
    case ETIMEDOUT:     // no answer
    case EAGAIN:        // master busy or not ready yet
    case ENOTCONN:      // a standby: not the active master
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ESTALE:        // a fenced (old) active master
    case EROFS:         // a standby refusing mutations
      return true;
    default:
      return false;
  }
}

Result<wire::Reply> MasterClient::CallFor(wire::Envelope request, int64_t retry_ms) {
  request.set_client_id(client_id_);
  request.set_sequence(next_sequence_.fetch_add(1));
  int64_t deadline_ms = MonotonicMs() + retry_ms;
  Status last_error;
  while (true) {
    size_t first = current_master_.load();
    for (size_t attempt = 0; attempt < masters_.size(); ++attempt) {
      size_t index = (first + attempt) % masters_.size();
      const std::string& address = masters_[index];
      request.set_epoch(epoch_.load());
      request.set_request_id(0);  // a fresh id per attempt; the sequence stays
      auto answer = rpc::ThreadConnection(address).Call(request, timeout_ms_);
      if (!answer) {
        last_error = answer.error();
        continue;
      }
      if (!ObserveEpoch(answer->envelope.epoch())) {
        last_error = Status::Error(ESTALE, "master " + address + " answered with an old epoch");
        continue;
      }
      const wire::Reply& reply = answer->envelope.reply();
      if (reply.error() != 0 && IsRetryable(reply.error())) {
        last_error = rpc::ReplyStatus(reply);
        continue;
      }
      current_master_.store(index);
      if (reply.error() != 0) return Fail(rpc::ReplyStatus(reply));
      return reply;
    }
    if (MonotonicMs() >= deadline_ms) break;
    LOG(DEBUG) << "no master answered (" << last_error.ToString() << "), retrying";
    std::this_thread::sleep_for(std::chrono::milliseconds(kPassPauseMs));
  }
  LOG(WARNING) << "giving up on master call: " << last_error.ToString();
  return Fail(EIO, "no master answered: " + last_error.ToString());
}

}  // namespace hafs::mount
