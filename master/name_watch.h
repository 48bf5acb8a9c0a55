// The recall channel of metadata leases, at the active master (docs/design.md, "Metadata
// leases"): what each mount's kernel must drop because another mount changed it, names
// (a directory's entry made, removed or replaced) and inodes' attributes. Each mount keeps a
// WatchNamesRequest held here; it is answered as soon as its session has something queued,
// or when its hold runs out.
//
// MetadataLeases decides whom a change recalls; this queues the recall and says when it is
// acknowledged: a mount acknowledges what it dropped with its next watch, and the change is
// answered once every recalled mount did, or once the recalled lease ended (a mount that is
// gone or hung: its kernel stops using what it cached then).
//
// Queues are bounded, per session and in all: past that the session is told that recalls
// were lost, and it drops everything it caches under leases before it acknowledges.
// Volatile: a new active knows no watches, and the mounts watch again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/proto/hafs.pb.h"

namespace hafs::master {

class NameWatch {
 public:
  static constexpr size_t kMaxPerSession = 1024;
  static constexpr size_t kMaxQueued = 262144;
  static constexpr int64_t kMaxHoldMs = 5000;

  // What a change waits for: `session`'s acknowledgement of `sequence`, or until_ms.
  struct Ack {
    uint64_t session;
    uint64_t sequence;
    int64_t until_ms;
    bool operator==(const Ack&) const = default;
  };
  using Acks = std::vector<Ack>;

  // Session `session` waits for recalls until monotonic `now_ms` + `hold_ms` (at most
  // kMaxHoldMs); the watch acknowledges the recalls up to `acked_through`.
  void Watch(uint64_t session, const wire::WatchNamesRequest& request, int64_t now_ms);
  // Whether `session` watches (leases go only to a mount a recall can reach).
  bool Watching(uint64_t session) const { return watchers_.contains(session); }
  // Queues for `session` the name `name` in directory `parent`, or `inode`'s attributes, to
  // drop; the change then waits for the Ack added to *acks (until_ms: the lease's end).
  void RecallName(uint64_t session, uint64_t parent, std::string_view name, int64_t until_ms, Acks* acks);
  void RecallAttr(uint64_t session, uint64_t inode, int64_t until_ms, Acks* acks);
  // Asks `session` to flush its changes in `dir` and release its delegation (DirDelegations:
  // the release is the answer, nothing waits for an ack).
  void RecallDelegation(uint64_t session, uint64_t dir);
  // Whether every ack of `acks` came, or its session is gone, or its lease ended, or
  // `excused(session)`.
  bool Acknowledged(const Acks& acks, int64_t now_ms, const std::function<bool(uint64_t)>& excused) const;
  // The sessions of `acks` that have not acknowledged (and are not gone).
  std::vector<uint64_t> Unacknowledged(const Acks& acks) const;
  // The waiting sessions to answer now: those with recalls queued, or whose hold ran out.
  std::vector<uint64_t> Ready(int64_t now_ms) const;
  // Moves session's queued recalls into `reply`; the session waits no more.
  void Answer(uint64_t session, wire::Reply* reply);
  void Forget(uint64_t session);
  void Clear();

  size_t queued() const { return queued_; }

 private:
  struct Watcher {
    int64_t waiting_until_ms = -1;  // -1: no watch held
    std::deque<wire::InvalidatedName> names;
    std::vector<uint64_t> attrs;
    std::vector<uint64_t> dirs;  // delegations recalled (each once: bounded by DirDelegations)
    bool lost = false;
    uint64_t queued_through = 0;    // sequence number of the last recall queued
    uint64_t answered_through = 0;  // ... sent to the mount
    uint64_t acked_through = 0;
  };
  // Makes room for one recall of `session` (or marks it lost); its sequence number.
  uint64_t Enqueue(Watcher& watcher, bool* room);

  std::unordered_map<uint64_t, Watcher> watchers_;
  size_t queued_ = 0;
};

}  // namespace hafs::master
