// Replies to changes that wait for mounts to drop what they cached (docs/design.md, "Metadata
// leases"): until each recalled mount acknowledged (NameWatch::Acks) and, after a takeover,
// until the sessions that may hold an earlier master's leases dropped them.
//
// A wait may last up to a lease time, far past a mount's --master-timeout-ms. So a reply
// that waited kAnswerAgainAfterMs is answered EAGAIN ("ask again") and the wait goes on
// without it; the mount asks again with the same (client_id, sequence), and that request
// takes the wait's place instead of being answered from the deduplicated result (which
// would not wait).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <utility>
#include <vector>

#include "master/name_watch.h"
#include "master/pending_reply.h"

namespace hafs::master {

class ChangeWaits {
 public:
  static constexpr int64_t kAnswerAgainAfterMs = 300;  // below a mount's default --master-timeout-ms, 500

  struct Wait {
    NameWatch::Acks acks;
    bool old_leases = false;  // waits for earlier masters' leases too (but the origin's own)
    uint64_t origin = 0;      // the session whose change it is
    int64_t since_ms = 0;     // set by Add
  };
  // Whether a wait is over.
  using Settled = std::function<bool(const Wait&)>;

  // `reply` answers the change (client_id, sequence) once `wait` is settled.
  void Add(uint64_t client_id, uint64_t sequence, PendingReply reply, Wait wait, int64_t now_ms);
  // A retry of a change that still waits: `retry` (its identity and request id) gets the
  // answer instead; false when no such change waits.
  bool Reattach(const wire::Envelope& request, PendingReply* retry, int64_t now_ms);
  // The replies to send now: settled ones, and EAGAIN for those that waited too long.
  // `done(wait)` is called for each wait that ends.
  std::vector<PendingReply> Due(int64_t now_ms, const Settled& settled, const std::function<void(const Wait&)>& done);
  void Clear();

  // Whether a change of `session` waits here.
  bool Waits(uint64_t session) const;
  size_t size() const { return waiting_.size(); }

 private:
  struct Waiting {
    std::pair<uint64_t, uint64_t> request;  // (client_id, sequence)
    PendingReply reply;                     // its envelope: the answer, kept for a retry
    bool attached = true;                   // false: answered EAGAIN, waiting for the retry
    Wait wait;
    int64_t attached_ms = 0;
  };
  std::list<Waiting> waiting_;
  std::map<std::pair<uint64_t, uint64_t>, std::list<Waiting>::iterator> by_request_;
};

}  // namespace hafs::master
