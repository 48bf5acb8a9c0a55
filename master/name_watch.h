// Names that mounts must drop from their kernels' caches, at the active master (docs/design.md,
// "Name invalidation"). A mount's kernel keeps a name for its entry timeout; when another mount
// removes or replaces it (unlink, rmdir, rename), this queues the name for every other session
// that watches, and each watch (a WatchNamesRequest the service holds) is answered as soon as
// its session has names queued, or when its hold runs out.
//
// The change is answered once every live watcher has dropped the names (it acknowledges them
// with its next watch), so that when an unlink or rename returns, no other live mount resolves
// the old name any more: "seen at once". A watcher that does not come back within
// kAckWaitMs is not waited for longer; one that has not watched for kLiveMs is not waited for.
//
// A session sees only names under the subtree it mounted (an export must not learn names
// outside it). Queues are bounded, per session and in all: past that the session is told that
// names were lost, and its kernel's entry timeout bounds how long it may use them.
// Volatile: a new active knows no watches, and the mounts watch again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/proto/hafs.pb.h"

namespace hafs::master {

class Namespace;

class NameWatch {
 public:
  static constexpr size_t kMaxPerSession = 1024;
  static constexpr size_t kMaxQueued = 262144;
  static constexpr int64_t kMaxHoldMs = 5000;
  // A session that has not watched for this long gets nothing queued (its mount stopped
  // watching, or is gone and its session not ended yet).
  static constexpr int64_t kForgetAfterMs = 30000;
  // A session with no watch held that was last answered longer ago than this is not live
  // (a mount watches again within a round trip of each answer).
  static constexpr int64_t kLiveMs = 1500;
  // The longest a change waits for the acknowledgements of its names: well below a mount's
  // --master-timeout-ms (500 ms by default), after which it would ask again.
  static constexpr int64_t kAckWaitMs = 200;

  // Names a change queued: (session, sequence number) pairs to acknowledge.
  using Acks = std::vector<std::pair<uint64_t, uint64_t>>;

  // Session `session`, mounted at `mount_root` (0: the whole tree), waits for names until
  // monotonic `now_ms` + `hold_ms` (at most kMaxHoldMs).
  // The watch acknowledges the names up to `acked_through`.
  void Watch(uint64_t session, uint64_t mount_root, const wire::WatchNamesRequest& request, int64_t now_ms);
  // The request of session `origin` removed or replaced `name` in directory `parent` (its own
  // kernel knows already); adds to *acks what live sessions must acknowledge.
  void Changed(uint64_t origin, uint64_t parent, std::string_view name, const Namespace& tree, int64_t now_ms,
               Acks* acks);
  // Whether every ack of `acks` came, or its session is gone or no longer live.
  bool Acknowledged(const Acks& acks, int64_t now_ms) const;
  // The waiting sessions to answer now: those with names queued, or whose hold ran out.
  std::vector<uint64_t> Ready(int64_t now_ms) const;
  // Moves session's queued names into `reply`; the session waits no more.
  void Answer(uint64_t session, int64_t now_ms, wire::Reply* reply);
  void Forget(uint64_t session);
  void Clear();

  size_t queued() const { return queued_; }

 private:
  struct Watcher {
    uint64_t mount_root = 0;
    int64_t last_watch_ms = 0;
    int64_t last_answer_ms = 0;
    int64_t waiting_until_ms = -1;  // -1: no watch held
    std::deque<wire::InvalidatedName> names;
    bool lost = false;
    uint64_t queued_through = 0;    // sequence number of the last name queued
    uint64_t answered_through = 0;  // ... sent to the mount
    uint64_t acked_through = 0;
  };
  bool Live(const Watcher& watcher, int64_t now_ms) const {
    return watcher.waiting_until_ms >= 0 || now_ms - watcher.last_answer_ms < kLiveMs;
  }

  std::unordered_map<uint64_t, Watcher> watchers_;
  size_t queued_ = 0;
};

}  // namespace hafs::master
