// Test helper (header-only): a chunkserver that only answers LeadershipLease, granting like
// a real one (one holder at a time, own monotonic clock, epochs never go back, out-of-sync
// mark), plus Register/Heartbeat answered OK. Can be told to refuse everything or go silent.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/rpc.h"

namespace hafs::master::testing {

class FakeChunkserver {
 public:
  FakeChunkserver() {
    auto router = rpc::BindRouter("127.0.0.1:0", &address_);
    router_ = std::move(*router);
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeChunkserver() {
    stop_ = true;
    thread_.join();
  }
  const std::string& address() const { return address_; }
  void set_refuse(bool refuse) { refuse_ = refuse; }
  void set_silent(bool silent) { silent_ = silent; }
  void set_out_of_sync(const std::string& master) {
    std::lock_guard lock(mutex_);
    out_of_sync_ = master;
  }
  std::string out_of_sync() {
    std::lock_guard lock(mutex_);
    return out_of_sync_;
  }
  std::string holder() {
    std::lock_guard lock(mutex_);
    return MonotonicMs() < expiry_ms_ ? holder_ : "";
  }
  uint64_t highest_epoch() {
    std::lock_guard lock(mutex_);
    return highest_epoch_;
  }
  // Lease requests handled from `master` so far.
  int lease_requests_from(const std::string& master) {
    std::lock_guard lock(mutex_);
    return lease_requests_[master];
  }

 private:
  void Loop() {
    while (!stop_) {
      zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      auto incoming = rpc::ReceiveRequest(router_);
      if (!incoming || silent_) continue;
      wire::Envelope reply = rpc::MakeReply(incoming->message.envelope);
      const wire::Envelope& request = incoming->message.envelope;
      {
        std::lock_guard lock(mutex_);
        if (request.has_leadership_lease()) Lease(request.leadership_lease(), reply.mutable_reply());
        reply.set_epoch(highest_epoch_);
      }
      (void)rpc::SendReply(router_, incoming->identity, reply);
    }
  }
  void Lease(const wire::LeadershipLeaseRequest& lease, wire::Reply* reply) {
    int64_t now = MonotonicMs();
    ++lease_requests_[lease.master_address()];
    bool mine = holder_ == lease.master_address();
    bool free = holder_.empty() || now >= expiry_ms_ || mine;
    if (lease.release()) {
      if (mine) expiry_ms_ = 0;
    } else if (lease.master_address() == out_of_sync_) {
      reply->set_error(EPERM);  // a master recorded as out of sync may not lead
      reply->set_error_message("recorded here as out of sync");
    } else if (!refuse_ && free && lease.epoch() >= highest_epoch_) {
      highest_epoch_ = lease.epoch();
      holder_ = lease.master_address();
      expiry_ms_ = now + lease.duration_ms();
      reply->set_lease_granted(true);
      if (!lease.mark_out_of_sync().empty()) out_of_sync_ = lease.mark_out_of_sync();
      if (lease.clear_out_of_sync()) out_of_sync_.clear();
    } else if (lease.epoch() < highest_epoch_) {
      reply->set_error(ESTALE);
      reply->set_error_message("epoch " + std::to_string(lease.epoch()) + " is below " +
                               std::to_string(highest_epoch_));
    }
    reply->set_lease_holder(now < expiry_ms_ ? holder_ : "");
    reply->set_highest_epoch(highest_epoch_);
    reply->set_out_of_sync_master(out_of_sync_);
  }

  std::string address_;
  zmq::socket_t router_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> refuse_{false};
  std::atomic<bool> silent_{false};
  std::mutex mutex_;
  std::string holder_;
  int64_t expiry_ms_ = 0;
  uint64_t highest_epoch_ = 0;
  std::string out_of_sync_;
  std::map<std::string, int> lease_requests_;
};

}  // namespace hafs::master::testing
