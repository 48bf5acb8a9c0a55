// The mount's session at the active master (docs/design.md, "Sessions"): opened once the
// file system is mounted, renewed every third of the master's --session-timeout-s (a renewal
// also re-asserts the session at a new active after a takeover), ended at unmount. On a
// thread of its own, so that an idle mount keeps its session too. Each renewal carries every
// file open here (docs/design.md, "Open files"), which re-asserts them at a new active.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <vector>
#include <mutex>
#include <thread>

#include "common/proto/hafs.pb.h"
#include "mount/inode_table.h"
#include "mount/master_client.h"

namespace hafs::mount {

class SessionKeeper {
 public:
  // `about`: what the session says of this mount (host, mount point, version, subdir);
  // `inodes`: what it has open.
  SessionKeeper(MasterClient& master, InodeTable& inodes, wire::SessionRequest about)
      : master_(master), inodes_(inodes), about_(std::move(about)) {}
  ~SessionKeeper() { Stop(); }
  SessionKeeper(const SessionKeeper&) = delete;
  SessionKeeper& operator=(const SessionKeeper&) = delete;

  // `listener` runs on the keeper's thread after a renewal the master answered with
  // session_reopened (a new active, or a master that had ended the session), never for the
  // first open. Register before Start.
  void OnReopened(std::function<void()> listener) { reopened_listeners_.push_back(std::move(listener)); }
  // Each renewal carries `epoch()` as its kernel_cache_epoch (KernelCacheEpoch, name_watcher.h).
  // Set before Start.
  void ReportKernelCacheEpoch(std::function<uint64_t()> epoch) { kernel_cache_epoch_ = std::move(epoch); }
  void Start();
  // Renews at once, not at the next third of the timeout: a master said it does not know
  // this session (a new active, which learns the mount's open files and locks from it).
  void RenewNow();
  // Ends the session at the master (one try: an unmount does not wait for a master) and
  // stops the thread.
  void Stop();

 private:
  // Until the first answer says the master's timeout: a third of the default 60 s.
  static constexpr int64_t kDefaultRenewMs = 20'000;
  // After a failed renewal (no master answered one pass): try again this soon.
  static constexpr int64_t kRetryMs = 500;

  void Run();
  // One SessionRequest; the next renewal's delay.
  int64_t Renew();

  MasterClient& master_;
  InodeTable& inodes_;
  const wire::SessionRequest about_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool renew_now_ = false;
  std::thread thread_;
  std::vector<std::function<void()>> reopened_listeners_;
  std::function<uint64_t()> kernel_cache_epoch_;
  bool opened_ = false;  // a first answer came: later session_reopened answers are re-opens
};

}  // namespace hafs::mount
