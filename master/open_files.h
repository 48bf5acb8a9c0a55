// Which files each mount session holds open, at the active master (docs/design.md, "Open
// files"), so that an unlink or a rename over a file some mount still has open leaves it as an
// open-unlinked file (an orphan: nlink 0, no name) until the last close, as POSIX has it.
//
// A mount holds an inode when it opens it (GetAttrRequest / MknodRequest.open_generation) and
// lets go at its last close (CloseFilesRequest); each renewal of its session sends the whole
// set, which re-asserts the holdings at a new active and repairs a lost message. Generations,
// counted by the mount, order these: a hold or close older than the inode's last change in that
// session is stale and ignored, so a late close never drops a newer open's hold.
//
// Volatile, like the sessions: a new active (or a restarted master) keeps every file that drops
// its last link for a grace period, the time the mounts take to re-assert what they hold (a
// renewal period, a third of the session timeout, and a margin, as for locks), and only then
// releases orphans that nobody holds. The first active of a new cluster has no grace: no
// mount can hold anything from before it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs::master {

class OpenFiles {
 public:
  // Bounds against a client that holds ever more inodes, or under ever new session ids.
  static constexpr size_t kMaxPerSession = 65536;
  static constexpr size_t kMaxSessions = 65536;

  explicit OpenFiles(int64_t session_timeout_ms) : timeout_ms_(session_timeout_ms) {}

  // The grace period's margin past a renewal period.
  static constexpr int64_t kGraceMarginMs = 2000;

  // This master starts answering for the cluster at `epoch`, at monotonic `now_ms` (holdings
  // are learnt anew from here), or stops (it holds none).
  void StartServing(uint64_t epoch, int64_t now_ms);
  void Clear();

  // Session `session` opened `inode` (ENFILE past the bounds).
  Status Hold(uint64_t session, uint64_t inode, uint64_t generation, int64_t now_ms);
  void Close(uint64_t session, const wire::CloseFilesRequest& request);
  // A renewal's full set: holds it at `generation`; drops the holdings older than it that
  // are not in the set. At most kMaxPerSession inodes are taken.
  void Replace(uint64_t session, const wire::SessionRequest& request, int64_t now_ms);
  // The session ended: it holds nothing.
  void EndSession(uint64_t session);
  // Holdings of sessions that `known` does not list and that did nothing for a session
  // timeout (a mount that never opened its session, or whose end went unseen) are dropped.
  template <typename Known>
  void ExpireUnknown(Known&& known, int64_t now_ms);

  // Whether dropping the last link of `inode` must keep it: a session holds it, or this
  // master has not yet heard every mount re-assert its holdings.
  bool MustKeep(uint64_t inode, int64_t now_ms) const { return holders_.contains(inode) || InGrace(now_ms); }
  // The orphans of `orphans` that may go now: nobody holds them and the grace is over.
  std::vector<uint64_t> Releasable(const std::unordered_set<uint64_t>& orphans, int64_t now_ms) const;

  size_t held_inodes() const { return holders_.size(); }

 private:
  // One inode in one session: open, or closed at `generation` (kept until the next full set,
  // so that a hold older than the close is known to be stale).
  struct Entry {
    uint64_t generation = 0;
    bool open = false;
  };
  struct Holdings {
    std::unordered_map<uint64_t, Entry> entries;  // by inode
    int64_t seen_ms = 0;
  };
  bool InGrace(int64_t now_ms) const { return now_ms < grace_until_ms_; }
  void Set(Holdings& holdings, uint64_t inode, Entry entry);
  // Every open entry of `holdings` stops counting in holders_.
  void DropAll(const Holdings& holdings);

  const int64_t timeout_ms_;
  int64_t grace_until_ms_ = 0;
  std::unordered_map<uint64_t, Holdings> sessions_;
  std::unordered_map<uint64_t, uint32_t> holders_;  // inode -> how many sessions hold it
};

template <typename Known>
void OpenFiles::ExpireUnknown(Known&& known, int64_t now_ms) {
  for (auto session = sessions_.begin(); session != sessions_.end();) {
    if (known(session->first) || now_ms - session->second.seen_ms < timeout_ms_) {
      ++session;
      continue;
    }
    DropAll(session->second);
    session = sessions_.erase(session);
  }
}

}  // namespace hafs::master
