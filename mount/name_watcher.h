// Applies the master's recalls of metadata leases (docs/design.md, "Metadata leases"): a
// thread keeps one WatchNamesRequest at the active master, which answers it as soon as another
// mount changed a name or attributes this mount's kernel caches; the kernel drops them
// (fuse_lowlevel_notify_inval_entry, _inval_inode) and the next watch acknowledges them,
// which lets the master answer the change. Without it the kernel would use them until their
// lease ran out.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "mount/mount_context.h"

namespace hafs::mount {

// Drops everything the kernel caches under leases (LeaseLedger::DropAll).
void DropKernelCache(MountContext& context);
// The epoch through which this mount's kernel caches nothing an earlier master granted, for
// the session renewal (SessionRequest.kernel_cache_epoch): when the mount has seen a newer
// epoch than *dropped_through, it drops the kernel's cache first.
uint64_t KernelCacheEpoch(MountContext& context, uint64_t* dropped_through);

class NameWatcher {
 public:
  // `renew_session`: asks for the session at once (a master that knows none answers a watch
  // ENOENT, after a takeover).
  NameWatcher(MountContext& context, std::function<void()> renew_session)
      : context_(context), renew_session_(std::move(renew_session)) {}
  ~NameWatcher() { Stop(); }
  NameWatcher(const NameWatcher&) = delete;
  NameWatcher& operator=(const NameWatcher&) = delete;

  void Start();
  // Returns within about 1 s (the longest hold, WriteBack::WatchHoldMs) + --master-timeout-ms
  // (a watch under way is not cut short).
  void Stop();

 private:
  // After a failed watch (no master, no session yet): try again this soon.
  static constexpr int64_t kRetryMs = 300;

  void Run();
  // One watch; false when it failed.
  bool WatchOnce();

  MountContext& context_;
  const std::function<void()> renew_session_;
  uint64_t acked_through_ = 0;  // the watcher thread's own
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hafs::mount
