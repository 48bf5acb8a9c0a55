#include "mount/name_watcher.h"

#include <chrono>

#include "common/clock.h"
#include "common/log.h"
#include "common/rpc.h"

namespace hafs::mount {

void DropKernelCache(MountContext& context) {
  fuse_session* session = context.session;
  context.ledger.DropAll(
      [&](uint64_t parent, const std::string& name) {
        if (session != nullptr) {
          fuse_lowlevel_notify_inval_entry(session, context.inode_mapping.ToKernel(parent), name.data(), name.size());
        }
      },
      [&](uint64_t inode) {
        if (session != nullptr) fuse_lowlevel_notify_inval_inode(session, context.inode_mapping.ToKernel(inode), -1, 0);
      });
}

uint64_t KernelCacheEpoch(MountContext& context, uint64_t* dropped_through) {
  uint64_t epoch = context.master.epoch();
  if (epoch > *dropped_through) {
    // What an earlier active granted may be recalled by nobody now: drop it all.
    if (*dropped_through != 0) DropKernelCache(context);
    *dropped_through = epoch;
  }
  return *dropped_through;
}

void NameWatcher::Start() { thread_ = std::thread([this] { Run(); }); }

void NameWatcher::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void NameWatcher::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    bool watched = WatchOnce();
    lock.lock();
    if (!watched) wake_.wait_for(lock, std::chrono::milliseconds(kRetryMs), [this] { return stopping_; });
  }
}

bool NameWatcher::WatchOnce() {
  wire::Envelope request;
  int hold_ms = context_.write_back.WatchHoldMs();
  request.mutable_watch_names()->set_hold_ms(hold_ms);
  request.mutable_watch_names()->set_acked_through(acked_through_);
  int64_t sent_ms = MonotonicMs();
  auto reply = context_.master.CallHeld(std::move(request), hold_ms);
  if (!reply) {
    if (reply.error().error() == ENOENT) renew_session_();
    static LogRateLimit failures(1, 30000);
    rpc::LogAtRate(failures, "name watch failed (what this mount caches stays until its leases end)",
                   reply.error());
    return false;
  }
  if (reply->names_lost()) {
    static LogRateLimit lost(1, 30000);
    rpc::LogAtRate(lost, "the master dropped recalls meant for this mount",
                   Status::Error(EOVERFLOW, "dropping everything the kernel caches under leases"));
    DropKernelCache(context_);
  } else {
    context_.ledger.Recall([&] {
      fuse_session* session = context_.session;
      if (session == nullptr) return;
      for (const wire::InvalidatedName& name : reply->invalidated_names()) {
        fuse_ino_t parent = context_.inode_mapping.ToKernel(name.parent());
        // ENOENT: the kernel has no such entry cached; nothing to drop.
        fuse_lowlevel_notify_inval_entry(session, parent, name.name().data(), name.name().size());
      }
      // Attributes only (offset < 0): no page locks taken.
      for (uint64_t inode : reply->recalled_attrs()) {
        fuse_lowlevel_notify_inval_inode(session, context_.inode_mapping.ToKernel(inode), -1, 0);
      }
    });
  }
  // Dropped: the next watch says so, and the change that removed them is answered.
  acked_through_ = reply->names_through();
  context_.write_back.Watched(sent_ms, context_.master.epoch(),
                              {reply->recalled_dirs().begin(), reply->recalled_dirs().end()});
  return true;
}

}  // namespace hafs::mount
