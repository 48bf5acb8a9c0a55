#include "master/lock_table.h"

#include <algorithm>
#include <set>
#include <string>

#include "common/log.h"

namespace hafs::master {
namespace {

wire::Reply Error(int error, std::string message) {
  wire::Reply reply;
  reply.set_error(error);
  reply.set_error_message(std::move(message));
  return reply;
}

Status CheckRange(const wire::LockRange& range) {
  if (range.start() > range.end() || range.end() > kLockEnd) {
    return Status::Error(EINVAL, "lock range [" + std::to_string(range.start()) + ", " + std::to_string(range.end()) +
                                     "] is not within [0, 2^63-1]");
  }
  if (!wire::LockType_IsValid(range.type())) return Status::Error(EINVAL, "unknown lock type");
  return Status::Ok();
}

// A flock lock always covers the whole file.
wire::LockRange WholeFileForFlock(wire::LockKind kind, wire::LockRange range) {
  if (kind == wire::LOCK_KIND_FLOCK) {
    range.set_start(0);
    range.set_end(kLockEnd);
  }
  return range;
}

Status CheckRequest(const wire::LockRequest& request, const wire::LockRange& wanted, size_t most_held) {
  if (!wire::LockKind_IsValid(request.kind()) || !wire::LockOp_IsValid(request.op())) {
    return Status::Error(EINVAL, "unknown lock kind or operation");
  }
  if (request.op() == wire::LOCK_OP_SET || request.op() == wire::LOCK_OP_TEST) return CheckRange(wanted);
  if (request.op() != wire::LOCK_OP_REASSERT) return Status::Ok();
  if (static_cast<size_t>(request.held_size()) > most_held) {
    return Status::Error(ENOLCK, "more locks re-asserted than a session may hold");
  }
  for (const wire::LockRange& range : request.held()) {
    if (Status valid = CheckRange(range); !valid.ok()) return valid;
  }
  return Status::Ok();
}

// Who may lock the file: whoever may read it through the descriptor, or write it for one
// opened write-only (POSIX ties a lock's type to the descriptor's mode; Linux checks that
// before the mount hears of it).
Status MayLock(const Namespace& tree, const wire::LockRequest& request) {
  if (!tree.Exists(request.inode())) return Status::Error(ENOENT, "inode " + std::to_string(request.inode()));
  return request.write_only() ? tree.MayWriteData(request.inode(), request.credentials())
                              : tree.MayReadData(request.inode(), request.credentials());
}

// The answer to a request `owner` may not have: the lock in its way. A pid means something
// on the holder's own host only, so only its own mount learns it.
wire::Reply ConflictWith(const HeldLock& conflict, const LockOwner& owner) {
  wire::Reply reply;
  wire::LockRange* reported = reply.mutable_lock_conflict();
  reported->set_start(conflict.start);
  reported->set_end(conflict.end);
  reported->set_type(conflict.type);
  reported->set_pid(conflict.owner.session == owner.session ? conflict.pid : 0);
  return reply;
}

}  // namespace

wire::Reply LockTable::Handle(uint64_t session, bool session_known, const wire::LockRequest& request,
                              const Namespace& tree, int64_t now_ms) {
  MaybeExpireWaiters(now_ms);
  const LockOwner owner{session, request.owner()};
  const Key key{request.inode(), request.kind()};
  wire::LockRange wanted = WholeFileForFlock(key.kind, request.range());
  // What a request is, before whether it may be: a malformed one is final (EINVAL), not retried.
  if (Status valid = CheckRequest(request, wanted, limits_.locks_per_session); !valid.ok()) {
    return Error(valid.error(), valid.message());
  }
  if (!session_known) {
    return Error(EAGAIN, "session " + std::to_string(session) + " is not open here (yet): locks need a session");
  }
  bool in_grace = now_ms < grace_until_ms_;
  if (request.op() == wire::LOCK_OP_REASSERT && !in_grace) {
    return Error(ENOLCK, "a lock re-asserted after the grace period (the lock is lost)");
  }
  if (request.op() != wire::LOCK_OP_REASSERT && in_grace) {
    return Error(EAGAIN, "the locks of the previous active master are being re-asserted: retry");
  }
  bool locking = request.op() == wire::LOCK_OP_TEST || request.op() == wire::LOCK_OP_REASSERT ||
                 (request.op() == wire::LOCK_OP_SET && wanted.type() != wire::LOCK_TYPE_UNLOCK);
  if (locking) {
    if (Status allowed = MayLock(tree, request); !allowed.ok()) return Error(allowed.error(), allowed.message());
  }
  switch (request.op()) {
    case wire::LOCK_OP_SET:
      return Set(owner, key, wanted, request.wait_id(), now_ms);
    case wire::LOCK_OP_TEST:
      return Test(owner, key, wanted);
    case wire::LOCK_OP_REASSERT:
      return Reassert(owner, key, request);
    case wire::LOCK_OP_CANCEL_WAIT:
      ForgetWaiter(owner, request.wait_id());
      return wire::Reply{};
    default:  // LOCK_OP_RELEASE, which only shrinks: never past a bound
      (void)Replace(owner, key, {});
      return wire::Reply{};
  }
}

wire::Reply LockTable::Set(const LockOwner& owner, const Key& key, const wire::LockRange& wanted, uint64_t wait_id,
                           int64_t now_ms) {
  if (wanted.type() != wire::LOCK_TYPE_UNLOCK) {
    if (const HeldLock* conflict = FirstConflict(key, owner, wanted)) {
      if (wait_id != 0) {
        if (key.kind == wire::LOCK_KIND_POSIX && WouldDeadlock(owner, key, wanted, now_ms)) {
          ForgetWaiter(owner, wait_id);
          return Error(EDEADLK, "waiting would deadlock: a holder waits (perhaps through others) for this owner");
        }
        if (Status noted = NoteWaiter(owner, key, wanted, wait_id, now_ms); !noted.ok()) {
          return Error(noted.error(), noted.message());
        }
      }
      return ConflictWith(*conflict, owner);
    }
  }
  if (wait_id != 0) ForgetWaiter(owner, wait_id);
  if (Status replaced = Replace(owner, key, ApplyRange(OwnedBy(owner, key), owner, wanted)); !replaced.ok()) {
    return Error(replaced.error(), replaced.message());
  }
  return Held(owner, key);
}

wire::Reply LockTable::Test(const LockOwner& owner, const Key& key, const wire::LockRange& wanted) const {
  const HeldLock* conflict = wanted.type() == wire::LOCK_TYPE_UNLOCK ? nullptr : FirstConflict(key, owner, wanted);
  return conflict == nullptr ? wire::Reply{} : ConflictWith(*conflict, owner);
}

wire::Reply LockTable::Reassert(const LockOwner& owner, const Key& key, const wire::LockRequest& request) {
  std::vector<HeldLock> owned;
  for (const wire::LockRange& held : request.held()) {
    wire::LockRange range = WholeFileForFlock(key.kind, held);
    if (FirstConflict(key, owner, range) != nullptr) {
      return Error(ENOLCK, "a re-asserted lock conflicts with one held since (the lock is lost)");
    }
    owned = ApplyRange(owned, owner, range);
  }
  if (Status replaced = Replace(owner, key, std::move(owned)); !replaced.ok()) {
    return Error(replaced.error(), replaced.message());
  }
  return Held(owner, key);
}

const HeldLock* LockTable::FirstConflict(const Key& key, const LockOwner& owner, const wire::LockRange& wanted) const {
  auto found = locks_.find(key);
  if (found == locks_.end()) return nullptr;
  for (const HeldLock& held : found->second) {
    if (Conflicts(held, owner, wanted)) return &held;
  }
  return nullptr;
}

// Follows "waits for" from the holders `owner` would wait for: a holder that itself waits
// for a lock waits for that lock's holders, and so on. Reaching `owner` again is a cycle.
bool LockTable::WouldDeadlock(const LockOwner& owner, const Key& key, const wire::LockRange& wanted,
                              int64_t now_ms) const {
  std::vector<LockOwner> to_visit;
  auto add_holders = [&](const Key& on, const LockOwner& waiting, const wire::LockRange& range) {
    auto found = locks_.find(on);
    if (found == locks_.end()) return;
    for (const HeldLock& held : found->second) {
      if (Conflicts(held, waiting, range)) to_visit.push_back(held.owner);
    }
  };
  add_holders(key, owner, wanted);
  std::set<LockOwner> visited;
  while (!to_visit.empty() && visited.size() < kMaxDeadlockSearch) {
    LockOwner holder = to_visit.back();
    to_visit.pop_back();
    if (holder == owner) return true;
    if (!visited.insert(holder).second) continue;
    auto waiting = waiters_.find(holder);
    if (waiting == waiters_.end()) continue;
    for (const Waiter& waiter : waiting->second) {
      if (waiter.key.kind == wire::LOCK_KIND_POSIX && waiter.expires_ms > now_ms) {
        add_holders(waiter.key, holder, waiter.wanted);
      }
    }
  }
  return false;
}

Status LockTable::NoteWaiter(const LockOwner& owner, const Key& key, const wire::LockRange& wanted, uint64_t wait_id,
                             int64_t now_ms) {
  std::vector<Waiter>& waiting = waiters_[owner];
  auto same = std::find_if(waiting.begin(), waiting.end(), [&](const Waiter& w) { return w.wait_id == wait_id; });
  if (same != waiting.end()) {
    *same = {wait_id, key, wanted, now_ms + kWaiterLifetimeMs};
    return Status::Ok();
  }
  SessionCounts& counts = per_session_[owner.session];
  if (counts.waiters >= limits_.waiters_per_session) {
    if (waiting.empty()) waiters_.erase(owner);
    return Status::Error(ENOLCK, "too many blocked lock requests in this session");
  }
  waiting.push_back({wait_id, key, wanted, now_ms + kWaiterLifetimeMs});
  counts.waiters++;
  waiter_count_++;
  return Status::Ok();
}

void LockTable::ForgetWaiter(const LockOwner& owner, uint64_t wait_id) {
  auto waiting = waiters_.find(owner);
  if (waiting == waiters_.end()) return;
  size_t erased = std::erase_if(waiting->second, [&](const Waiter& w) { return w.wait_id == wait_id; });
  if (waiting->second.empty()) waiters_.erase(waiting);
  if (erased == 0) return;
  per_session_[owner.session].waiters -= erased;
  waiter_count_ -= erased;
  ForgetIfIdle(owner.session);
}

void LockTable::ForgetIfIdle(uint64_t session) {
  auto counts = per_session_.find(session);
  if (counts != per_session_.end() && counts->second.locks == 0 && counts->second.waiters == 0) {
    per_session_.erase(counts);
  }
}

void LockTable::MaybeExpireWaiters(int64_t now_ms) {
  if (now_ms - last_waiter_sweep_ms_ < kWaiterLifetimeMs / 4) return;
  last_waiter_sweep_ms_ = now_ms;
  for (auto waiting = waiters_.begin(); waiting != waiters_.end();) {
    size_t erased = std::erase_if(waiting->second, [&](const Waiter& w) { return w.expires_ms <= now_ms; });
    uint64_t session = waiting->first.session;
    per_session_[session].waiters -= erased;
    waiter_count_ -= erased;
    waiting = waiting->second.empty() ? waiters_.erase(waiting) : std::next(waiting);
    ForgetIfIdle(session);
  }
}

std::vector<HeldLock> LockTable::OwnedBy(const LockOwner& owner, const Key& key) const {
  std::vector<HeldLock> owned;
  auto found = locks_.find(key);
  if (found == locks_.end()) return owned;
  for (const HeldLock& held : found->second) {
    if (held.owner == owner) owned.push_back(held);
  }
  return owned;
}

Status LockTable::Replace(const LockOwner& owner, const Key& key, std::vector<HeldLock> owned) {
  std::vector<HeldLock>& all = locks_[key];
  size_t before = static_cast<size_t>(
      std::count_if(all.begin(), all.end(), [&](const HeldLock& held) { return held.owner == owner; }));
  SessionCounts& counts = per_session_[owner.session];
  if (owned.size() > before) {
    size_t added = owned.size() - before;
    if (counts.locks + added > limits_.locks_per_session || lock_count_ + added > limits_.locks) {
      if (all.empty()) locks_.erase(key);
      ForgetIfIdle(owner.session);
      return Status::Error(ENOLCK, "too many locks (" + std::to_string(counts.locks) + " in this session, " +
                                       std::to_string(lock_count_) + " in all)");
    }
  }
  std::erase_if(all, [&](const HeldLock& held) { return held.owner == owner; });
  counts.locks = counts.locks - before + owned.size();
  lock_count_ = lock_count_ - before + owned.size();
  all.insert(all.end(), owned.begin(), owned.end());
  if (all.empty()) locks_.erase(key);
  ForgetIfIdle(owner.session);
  return Status::Ok();
}

wire::Reply LockTable::Held(const LockOwner& owner, const Key& key) const {
  wire::Reply reply;
  for (const HeldLock& held : OwnedBy(owner, key)) {
    wire::LockRange* range = reply.add_locks_held();
    range->set_start(held.start);
    range->set_end(held.end);
    range->set_type(held.type);
    range->set_pid(held.pid);
  }
  return reply;
}

void LockTable::ReleaseSession(uint64_t session) {
  auto counts = per_session_.find(session);
  if (counts == per_session_.end()) return;
  if (counts->second.locks > 0) {
    for (auto key = locks_.begin(); key != locks_.end();) {
      size_t erased = std::erase_if(key->second, [&](const HeldLock& held) { return held.owner.session == session; });
      lock_count_ -= erased;
      key = key->second.empty() ? locks_.erase(key) : std::next(key);
    }
  }
  for (auto waiting = waiters_.lower_bound({session, 0});
       waiting != waiters_.end() && waiting->first.session == session;) {
    waiter_count_ -= waiting->second.size();
    waiting = waiters_.erase(waiting);
  }
  LOG(INFO) << "session " << session << " ended: released its " << counts->second.locks << " locks";
  per_session_.erase(counts);
}

void LockTable::StartServing(uint64_t epoch, int64_t now_ms) {
  Clear();
  if (epoch <= 1) return;
  grace_until_ms_ = now_ms + session_timeout_ms_ / 3 + kGraceMarginMs;
  LOG(INFO) << "locks: grace period of " << grace_until_ms_ - now_ms << " ms for the mounts to re-assert theirs";
}

void LockTable::Clear() {
  locks_.clear();
  waiters_.clear();
  per_session_.clear();
  lock_count_ = 0;
  waiter_count_ = 0;
  grace_until_ms_ = 0;
}

}  // namespace hafs::master
