// The leadership lease (docs/design.md, "Master failover"): a thread of its own that asks
// every member chunkserver for the lease at this master's epoch, in parallel, every
// lease/5 while holding (every 100 ms while campaigning), and publishes until when a
// quorum (members / 2 + 1) of leases is trusted on the monotonic clock: a lease granted
// for D ms is trusted for 0.8 D from when the request was SENT. The main loop checks
// Trusted(now) before sending any reply, so a slow fsync or a slow standby never delays
// a renewal. The same requests carry the "peer out of sync" mark (and its clearing).
// Own zmq sockets (one per member), used only by the thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/rpc.h"

namespace hafs::master {

struct LeadershipOptions {
  std::string self_address;  // this master as chunkservers know it (--advertise-address)
  std::string peer_address;  // the other master ("" in single-master mode)
  int64_t lease_ms = 1500;
  int64_t campaign_retry_ms = 100;
};

class Leadership {
 public:
  explicit Leadership(LeadershipOptions options);
  ~Leadership();
  Leadership(const Leadership&) = delete;
  Leadership& operator=(const Leadership&) = delete;

  void Start();
  void Stop();

  // The member chunkservers' addresses (the quorum is counted over these).
  void SetMembers(std::vector<rpc::Peer> members);
  // Asks for (or renews) the lease at `epoch`; 0 stops asking and releases what is held.
  void Hold(uint64_t epoch);
  // What the requests say of the peer: kMark asks chunkservers to record it as out of
  // sync, kClear (from a holder only) clears that, kLeave says nothing. A candidate leaves
  // the mark alone: marking while campaigning once let two candidates mark each other, and
  // one that never won had left the other unable to lead, with no active master for
  // minutes; clearing could free a stale peer before this master re-marks it. The active
  // marks before it acknowledges anything without the peer (MasterService::EnsurePeerMarked).
  enum class PeerMark { kLeave, kMark, kClear };
  void SetPeerMark(PeerMark mark);

  // Whether a quorum of leases is trusted at monotonic now_ms.
  bool Trusted(int64_t now_ms) const { return now_ms < trusted_until_ms_.load(); }
  int64_t trusted_until_ms() const { return trusted_until_ms_.load(); }
  // Highest epoch any chunkserver reported.
  uint64_t highest_epoch_seen() const { return highest_epoch_seen_.load(); }
  // A quorum recorded the peer as out of sync since SetPeerMark(kMark).
  bool peer_mark_confirmed() const { return peer_mark_confirmed_.load(); }
  // A quorum holds no mark on the peer since SetPeerMark(kClear): the peer may be
  // promoted (until then a crash of this master would leave the cluster waiting for it).
  bool peer_mark_cleared() const { return peer_mark_cleared_.load(); }
  // Waits up to timeout_ms for peer_mark_confirmed().
  bool WaitPeerMarked(int64_t timeout_ms);
  // The last round found this master recorded as out of sync at some chunkserver.
  bool self_marked_out_of_sync() const { return self_marked_.load(); }
  // Why the last round did not give a quorum ("" when it did).
  std::string last_problem() const;
  uint64_t rounds() const { return rounds_.load(); }

 private:
  void Loop();
  void Round(const std::vector<rpc::Peer>& members, uint64_t epoch, PeerMark mark, bool release);

  LeadershipOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<rpc::Peer> members_;
  uint64_t epoch_ = 0;
  PeerMark mark_peer_ = PeerMark::kLeave;
  bool holding_ = false;  // a quorum was granted at epoch_ (only the thread writes it)
  std::string last_problem_;
  bool stop_ = false;
  std::thread thread_;
  std::atomic<int64_t> trusted_until_ms_{0};
  std::atomic<uint64_t> highest_epoch_seen_{0};
  std::atomic<bool> peer_mark_confirmed_{false};
  std::atomic<bool> peer_mark_cleared_{false};
  std::atomic<bool> self_marked_{false};
  std::atomic<uint64_t> rounds_{0};
};

}  // namespace hafs::master
