#include "mount/lock_client.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include "common/log.h"

namespace hafs::mount {

void WaitInterrupt::Interrupt() {
  {
    std::lock_guard lock(mutex_);
    interrupted_ = true;
  }
  wake_.notify_all();
}

bool WaitInterrupt::SleepFor(int64_t ms) {
  std::unique_lock lock(mutex_);
  return wake_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return interrupted_; });
}

wire::Envelope LockClient::Request(const LockTarget& target, wire::LockOp op) {
  wire::Envelope request;
  wire::LockRequest* lock = request.mutable_lock();
  lock->set_inode(target.inode);
  lock->set_kind(target.kind);
  lock->set_owner(target.owner);
  lock->set_op(op);
  *lock->mutable_credentials() = target.credentials;
  lock->set_write_only(target.write_only);
  return request;
}

std::mutex& LockClient::StripeOf(uint64_t inode, uint64_t owner) {
  return stripes_[std::hash<uint64_t>{}(inode * 31 + owner) % stripes_.size()];
}

Result<bool> LockClient::TrySet(const LockTarget& target, const wire::LockRange& range, uint64_t wait_id) {
  wire::Envelope request = Request(target, wire::LOCK_OP_SET);
  *request.mutable_lock()->mutable_range() = range;
  request.mutable_lock()->set_wait_id(wait_id);
  std::lock_guard serial(StripeOf(target.inode, target.owner));
  auto reply = master_.Call(std::move(request));
  if (!reply) return Fail(reply.error());
  if (reply->has_lock_conflict()) return false;
  Key key{target.inode, target.kind, target.owner};
  std::lock_guard lock(mutex_);
  if (reply->locks_held().empty()) {
    held_.erase(key);
  } else {
    held_[key] = {
        target.handle, target.credentials, target.write_only, {reply->locks_held().begin(), reply->locks_held().end()}};
  }
  return true;
}

Status LockClient::Set(const LockTarget& target, const wire::LockRange& range) {
  auto granted = TrySet(target, range, 0);
  if (!granted) return granted.error();
  return *granted ? Status::Ok() : Status::Error(EAGAIN, "another owner holds a conflicting lock");
}

Status LockClient::SetAndWait(const LockTarget& target, const wire::LockRange& range, WaitInterrupt& interrupt) {
  if (waiting_.fetch_add(1) >= max_waiters_) {
    waiting_--;
    return Status::Error(ENOLCK, "too many blocked lock requests on this mount");
  }
  struct Leave {
    std::atomic<size_t>& waiting;
    ~Leave() { waiting--; }
  } leave{waiting_};
  uint64_t wait_id = next_wait_id_.fetch_add(1);
  for (int64_t retry_ms = kFirstRetryMs;; retry_ms = std::min(2 * retry_ms, kMaxRetryMs)) {
    auto granted = TrySet(target, range, wait_id);
    if (!granted) return granted.error();
    if (*granted) return Status::Ok();
    if (interrupt.SleepFor(retry_ms)) break;
  }
  wire::Envelope cancel = Request(target, wire::LOCK_OP_CANCEL_WAIT);
  cancel.mutable_lock()->set_wait_id(wait_id);
  // Best effort: a waiter the master still remembers is forgotten within 2 s anyway.
  (void)master_.CallOnce(std::move(cancel));
  return Status::Error(EINTR, "interrupted while waiting for a lock");
}

Result<std::optional<wire::LockRange>> LockClient::Test(const LockTarget& target, const wire::LockRange& range) {
  wire::Envelope request = Request(target, wire::LOCK_OP_TEST);
  *request.mutable_lock()->mutable_range() = range;
  auto reply = master_.Call(std::move(request));
  if (!reply) return Fail(reply.error());
  if (!reply->has_lock_conflict()) return std::nullopt;
  return reply->lock_conflict();
}

void LockClient::Release(const Key& key) {
  LockTarget target{key.inode, key.kind, key.owner, 0, {}, false};
  auto released = master_.Call(Request(target, wire::LOCK_OP_RELEASE));
  if (!released) {
    // The master ends them with this mount's session if it never hears of the close.
    LOG(WARNING) << "locks of inode " << key.inode << " not released at the master: " << released.error().ToString();
  }
  std::lock_guard lock(mutex_);
  held_.erase(key);
}

void LockClient::ReleaseOwner(uint64_t inode, uint64_t owner) {
  Key key{inode, wire::LOCK_KIND_POSIX, owner};
  std::lock_guard serial(StripeOf(inode, owner));
  {
    std::lock_guard lock(mutex_);
    if (!held_.contains(key)) return;  // the usual close: nothing to tell the master
  }
  Release(key);
}

void LockClient::ReleaseHandle(uint64_t inode, uint64_t handle) {
  std::vector<Key> through_handle;
  {
    std::lock_guard lock(mutex_);
    for (auto held = held_.lower_bound({inode}); held != held_.end() && held->first.inode == inode; ++held) {
      if (held->second.handle == handle) through_handle.push_back(held->first);
    }
  }
  for (const Key& key : through_handle) {
    std::lock_guard serial(StripeOf(key.inode, key.owner));
    Release(key);
  }
}

void LockClient::Reassert() {
  std::map<Key, Held> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = held_;
  }
  if (snapshot.empty()) return;
  size_t lost = 0;
  for (const auto& [key, held] : snapshot) {
    LockTarget target{key.inode, key.kind, key.owner, held.handle, held.credentials, held.write_only};
    wire::Envelope request = Request(target, wire::LOCK_OP_REASSERT);
    for (const wire::LockRange& range : held.ranges) *request.mutable_lock()->add_held() = range;
    auto reply = master_.Call(std::move(request));
    if (reply) continue;
    LOG(ERROR) << "a lock on inode " << key.inode
               << " is lost (the master refused to re-assert it): " << reply.error().ToString();
    lost++;
    std::lock_guard lock(mutex_);
    held_.erase(key);
  }
  LOG(INFO) << "re-asserted " << snapshot.size() - lost << " of " << snapshot.size()
            << " lock owners' locks at the master";
}

}  // namespace hafs::mount
