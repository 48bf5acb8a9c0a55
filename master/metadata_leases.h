// Metadata leases at the active master (docs/design.md, "Metadata leases"): which mount may
// cache what, and until when. A mount's kernel caches an inode's attributes, and a
// directory's names (negative ones included), only under a lease: a lease time counted from
// the request, after which its kernel asks again. Before another mount's change to what a
// lease covers is answered, the holder is recalled (NameWatch carries the recall) and the
// change waits for its acknowledgement, or for the lease's end if the holder is gone or hung.
//
// An attributes lease ends with its recall (the holder's kernel drops them); a directory's
// lease stays (its kernel drops only the changed name). A holder that leaves a recall
// unanswered for kHungAfterMs, until its lease ran out, gets no leases for kUnresponsiveMs,
// so a hung mount delays others by about one lease time in all, not one per change.
//
// Takeover: leases are volatile, but the sessions that may hold them are logged
// (MasterState::lease_holders). A new active waits, before answering any change, until each
// of them said its kernel dropped everything earlier masters granted (the session renewal's
// kernel_cache_epoch) or until one lease time has passed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace hafs::master {

class MetadataLeases {
 public:
  // Bounds: past them no lease is granted (the mount then caches nothing new).
  static constexpr size_t kMaxPerSession = size_t{1} << 18;
  static constexpr size_t kMaxLeases = size_t{1} << 21;
  static constexpr int64_t kUnresponsiveMs = 30000;
  // A recalled mount that has not answered within this long is taken as hung (a live one
  // answers within a round trip); a lease that merely ended sooner says nothing.
  static constexpr int64_t kHungAfterMs = 1000;

  enum class Kind { kAttr, kEntries };

  // lease_ms 0: no leases at all (every mount asks the master each time).
  explicit MetadataLeases(int64_t lease_ms) : lease_ms_(lease_ms) {}

  // This master starts serving at now_ms; `holders` may hold leases an earlier master granted.
  void StartServing(const std::vector<uint64_t>& holders, int64_t now_ms);
  // `session`'s kernel dropped everything earlier masters granted.
  void Confirmed(uint64_t session);
  // Until when a change must wait for earlier masters' leases (0: it need not), leaving out
  // the sessions `excused` says need not be waited for.
  int64_t OldLeasesUntil(int64_t now_ms, const std::function<bool(uint64_t)>& excused = nullptr) const;

  // Grants `session` a lease of `kind` on `inode` (a directory for kEntries) from now_ms;
  // the milliseconds granted, 0 for none.
  uint32_t Grant(uint64_t session, uint64_t inode, Kind kind, int64_t now_ms);
  // A change by `origin` to what leases of `kind` on `inode` cover: `recall(session,
  // until_ms)` for every other session whose lease lasts past now_ms.
  void Recall(uint64_t origin, uint64_t inode, Kind kind, int64_t now_ms,
              const std::function<void(uint64_t session, int64_t until_ms)>& recall);
  // Whether a session other than `session` holds a lease of either kind on `inode` past now_ms
  // (a directory is delegated only when nobody else caches any of it).
  bool HeldByOthers(uint64_t session, uint64_t inode, int64_t now_ms) const;
  // A recall to `session` ran out unanswered.
  void Unresponsive(uint64_t session, int64_t now_ms);

  // The sessions that hold leases or may (earlier masters'), when that set has grown since
  // the last Logged, or has shrunk and `shrunk_too`; else none. The service logs it.
  std::optional<std::vector<uint64_t>> HoldersToLog(bool shrunk_too, int64_t now_ms) const;
  void Logged(std::vector<uint64_t> holders);

  // Drops leases that ended (amortized: each lease is looked at about once per lease time).
  void Expire(int64_t now_ms);
  void Forget(uint64_t session);
  void Clear();

  size_t size() const { return total_; }
  int64_t lease_ms() const { return lease_ms_; }

 private:
  struct Holding {
    uint64_t session = 0;
    int64_t attr_until_ms = 0;
    int64_t entries_until_ms = 0;
  };
  struct Expiry {
    int64_t at_ms;
    uint64_t inode;
    uint64_t session;
  };
  struct Session {
    size_t leases = 0;
    int64_t unresponsive_until_ms = 0;
  };
  std::vector<uint64_t> Holders(int64_t now_ms) const;

  const int64_t lease_ms_;
  std::unordered_map<uint64_t, std::vector<Holding>> by_inode_;
  std::deque<Expiry> expiries_;  // about in order: a renewed lease goes back in when its first end comes
  std::unordered_map<uint64_t, Session> sessions_;
  size_t total_ = 0;
  std::unordered_set<uint64_t> unconfirmed_;  // may hold an earlier master's leases
  int64_t old_leases_until_ms_ = 0;
  std::unordered_set<uint64_t> logged_;
};

}  // namespace hafs::master
