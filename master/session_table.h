// Mount sessions at the active master (docs/design.md, "Sessions"): which mounts have the
// file system mounted, where and since when, each renewed by its mount every third of the
// timeout. A session is named by its mount's client_id and owned by the key that opened it:
// another key cannot renew or end it. Later holdings of a mount (open files, locks) belong
// to its session and end with it.
//
// Volatile, like MooseFS's sessions between its master's restarts: a new active learns the
// sessions again as the mounts renew theirs (a renewal of an unknown session re-asserts it),
// within a third of the timeout; a standby holds none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "common/rpc.h"

namespace hafs::master {

// Who asks: the client key (its name, for listings) and the address the master saw.
struct SessionOwner {
  std::string key;
  std::string name;
  std::string address;
};

// The owner of a request's session: its sender's key, as the handshake proved it.
SessionOwner SessionOwnerOf(const rpc::Incoming& incoming);

class SessionTable {
 public:
  // Bounds against a client that opens sessions under ever new client ids: ENOSPC past them.
  static constexpr size_t kMaxSessions = 65536;
  static constexpr size_t kMaxSessionsPerKey = 4096;

  explicit SessionTable(int64_t timeout_ms) : timeout_ms_(timeout_ms) {}

  // A SessionRequest of the mount with client_id `id`: opens, renews (or re-asserts) or,
  // with `end`, ends its session. Answers session_timeout_ms, or EACCES when another key
  // owns the session, ENOSPC past the bounds; session_reopened when this master did not know
  // the session (a first open, or a mount re-asserting its session here).
  wire::Reply Handle(uint64_t id, const wire::SessionRequest& request, const SessionOwner& owner, int64_t now_ms,
                     int64_t wall_ms);
  // Whether session `id` is open and owned by `key` (a lock request must come from its owner).
  bool OwnedBy(uint64_t id, const std::string& key) const;
  // The sessions, oldest first.
  wire::Reply List(int64_t now_ms) const;
  // Ends every session not renewed for the timeout at monotonic `now_ms`; their ids.
  std::vector<uint64_t> Expire(int64_t now_ms);
  // Expire, at most every kSweepEveryMs (the service loop turns far more often).
  std::vector<uint64_t> MaybeExpire(int64_t now_ms);
  static constexpr int64_t kSweepEveryMs = 200;
  // A master that steps down holds none: the next active learns them from the mounts.
  void Clear();

  bool Known(uint64_t id) const { return sessions_.contains(id); }
  // Whether a request of `key` may change what session `id` holds: the session is its own,
  // or not open (yet, or any more: its holdings then expire with it, OpenFiles).
  bool MayActFor(uint64_t id, const std::string& key) const { return !Known(id) || OwnedBy(id, key); }

  size_t size() const { return sessions_.size(); }
  int64_t timeout_ms() const { return timeout_ms_; }

 private:
  struct Session {
    wire::SessionInfo info;
    std::string owner_key;
    int64_t renewed_ms = 0;  // monotonic
  };
  void Erase(std::unordered_map<uint64_t, Session>::iterator session);

  const int64_t timeout_ms_;
  int64_t last_sweep_ms_ = 0;
  std::unordered_map<uint64_t, Session> sessions_;
  std::unordered_map<std::string, size_t> per_key_;
};

}  // namespace hafs::master
