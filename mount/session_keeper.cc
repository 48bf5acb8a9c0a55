#include "mount/session_keeper.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/log.h"
#include "common/rpc.h"

namespace hafs::mount {

void SessionKeeper::Start() { thread_ = std::thread([this] { Run(); }); }

void SessionKeeper::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  wire::Envelope request;
  *request.mutable_session() = about_;
  request.mutable_session()->set_end(true);
  if (auto ended = master_.CallOnce(std::move(request)); !ended) {
    LOG(WARNING) << "session not ended at the master (it ends by itself when not renewed): "
                 << ended.error().ToString();
  }
}

void SessionKeeper::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    int64_t next_ms = Renew();
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(next_ms), [this] { return stopping_ || renew_now_; });
    renew_now_ = false;
  }
}

void SessionKeeper::RenewNow() {
  {
    std::lock_guard lock(mutex_);
    renew_now_ = true;
  }
  wake_.notify_all();
}

int64_t SessionKeeper::Renew() {
  wire::Envelope request;
  *request.mutable_session() = about_;
  uint64_t generation = 0;
  std::vector<uint64_t> open = inodes_.OpenInodes(&generation);
  request.mutable_session()->mutable_open_inodes()->Add(open.begin(), open.end());
  request.mutable_session()->set_open_generation(generation);
  uint64_t cache_epoch = kernel_cache_epoch_ ? kernel_cache_epoch_() : 0;
  request.mutable_session()->set_kernel_cache_epoch(cache_epoch);
  auto reply = master_.CallOnce(std::move(request));
  if (!reply) {
    static LogRateLimit failures(1, 10000);
    rpc::LogAtRate(failures, "session not renewed, trying again", reply.error());
    return kRetryMs;
  }
  if (reply->session_reopened() && std::exchange(opened_, true)) {
    LOG(WARNING) << "the master did not know this mount's session (a takeover?): it is open again";
    for (const auto& listener : reopened_listeners_) listener();
  }
  opened_ = true;
  // A master of a newer epoch answered: it waits for this mount to say its kernel dropped
  // what earlier masters granted (the next renewal, at once, says so).
  if (kernel_cache_epoch_ && master_.epoch() > cache_epoch) return 0;
  return reply->session_timeout_ms() > 0 ? std::max<int64_t>(reply->session_timeout_ms() / 3, 100) : kDefaultRenewMs;
}

}  // namespace hafs::mount
