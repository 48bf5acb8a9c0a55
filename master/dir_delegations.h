// Directory delegations at the active master (docs/design.md, "Write-back namespace
// changes"): a mount holding a directory's delegation is the only one that looks into it or
// changes it, so it answers lookups in it from its own copy and applies creates and removals
// there locally, shipping them later (ChangeBatchRequest).
//
// Another mount's request that names a delegated directory recalls the delegation (NameWatch
// carries the recall) and is answered EAGAIN until the holder flushed its changes and
// released it, or until a lease time after the recall (a holder that is gone or hung: it
// stops using a delegation a lease time after the last watch answer that did not recall it,
// and its later changes there are refused).
//
// Takeover: delegations are volatile, but the sessions that may hold them are logged with the
// lease holders. A new active answers no namespace request of any other session until each of
// them flushed what it made under the old active's delegations (its session renewal's
// kernel_cache_epoch), or a lease time passed. What such a session ships later (it reached the
// new active late) is still applied in a directory nobody else has named since the takeover:
// then nobody can have seen the directory without it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace hafs::master {

class DirDelegations {
 public:
  static constexpr size_t kMaxPerSession = 4096;
  static constexpr size_t kMaxDelegations = 65536;

  explicit DirDelegations(int64_t lease_ms) : lease_ms_(lease_ms) {}

  // A directory whose recall was answered is not delegated again for this long, so that the
  // mount that needed it gets in; a holder that let a recall run out gets none for kUnresponsiveMs.
  static constexpr int64_t kCoolingMs = 1000;
  static constexpr int64_t kUnresponsiveMs = 30000;

  // Delegates `dir` to `session`: false when another session holds it, it was recalled
  // lately, `session` let a recall run out, or past the bounds.
  bool Grant(uint64_t session, uint64_t dir, int64_t now_ms);
  // The session `dir` is delegated to (0: none).
  uint64_t Holder(uint64_t dir) const;
  // `requester` needs `dir`: when another session holds it, that holder (and *newly true the
  // first time, when the recall must be sent); 0 when the request may go on.
  uint64_t Recall(uint64_t dir, uint64_t requester, int64_t now_ms, bool* newly);
  void Release(uint64_t session, uint64_t dir, int64_t now_ms);
  // Whether `session` may ship a change in `dir`: it holds the delegation, or it is one of
  // an earlier master's delegating sessions that has not yet flushed, nobody holds `dir`, and
  // no other session named it since the takeover.
  bool MayChange(uint64_t session, uint64_t dir) const;
  // `session` named `dir` in a request (looked into it or changed it): from now on, an earlier
  // master's delegating session that has not flushed may no longer change it.
  void Named(uint64_t dir, uint64_t session);
  // Drops delegations recalled more than a lease time ago.
  void Expire(int64_t now_ms);
  void Forget(uint64_t session);
  void Clear();

  // Takeover (see above).
  void StartServing(const std::vector<uint64_t>& delegating, int64_t now_ms);
  void Confirmed(uint64_t session);
  // Whether a namespace request of `requester` must wait for an earlier master's delegations.
  // Not one of those sessions' own: they flush first, and the kernel of such a mount may hold
  // a directory's lock for its own request while it drops what earlier masters let it cache.
  bool OldDelegationsBlock(uint64_t requester, int64_t now_ms) const {
    return !unconfirmed_.empty() && now_ms < old_until_ms_ && !unconfirmed_.contains(requester);
  }

  // The sessions that hold delegations or may (earlier masters'): logged with the lease
  // holders when that set grew since Logged (or shrank, with `shrunk_too`).
  std::optional<std::vector<uint64_t>> HoldersToLog(bool shrunk_too) const;
  void Logged(std::vector<uint64_t> holders);

  size_t size() const { return by_dir_.size(); }

 private:
  struct Delegation {
    uint64_t session = 0;
    int64_t recalled_ms = -1;  // -1: not recalled
  };
  std::vector<uint64_t> Holders() const;

  const int64_t lease_ms_;
  std::unordered_map<uint64_t, Delegation> by_dir_;
  std::unordered_map<uint64_t, std::unordered_set<uint64_t>> by_session_;
  std::unordered_map<uint64_t, int64_t> cooling_until_ms_;        // by directory
  std::unordered_map<uint64_t, int64_t> unresponsive_until_ms_;   // by session
  std::unordered_set<uint64_t> unconfirmed_;
  int64_t old_until_ms_ = 0;
  // While unconfirmed_ is not empty: the first session that named each directory since the
  // takeover. Past kMaxNamed, the unconfirmed sessions may change nothing more.
  static constexpr size_t kMaxNamed = 65536;
  std::unordered_map<uint64_t, uint64_t> named_by_;
  std::unordered_set<uint64_t> logged_;
};

}  // namespace hafs::master
