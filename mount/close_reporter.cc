#include "mount/close_reporter.h"

#include <chrono>
#include <utility>

#include "common/log.h"
#include "common/rpc.h"

namespace hafs::mount {

void CloseReporter::Start() { thread_ = std::thread([this] { Run(); }); }

void CloseReporter::Stop() {
  wire::CloseFilesRequest last;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  {
    std::lock_guard lock(mutex_);
    last = std::exchange(queued_, {});
  }
  if (last.closed_size() > 0) Send(std::move(last), /*once=*/true);
}

void CloseReporter::Closed(uint64_t inode, uint64_t generation) {
  std::lock_guard lock(mutex_);
  if (static_cast<size_t>(queued_.closed_size()) >= kMaxBatch) return;  // the renewal's full set covers it
  wire::ClosedFile* closed = queued_.add_closed();
  closed->set_inode(inode);
  closed->set_generation(generation);
  if (queued_.closed_size() == 1) wake_.notify_all();
}

void CloseReporter::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait(lock, [this] { return stopping_ || queued_.closed_size() > 0; });
    if (stopping_) break;
    // Let the closes of a burst (rm -r of open files, a process exiting) join this batch.
    wake_.wait_for(lock, std::chrono::milliseconds(kBatchMs), [this] { return stopping_; });
    wire::CloseFilesRequest batch = std::exchange(queued_, {});
    lock.unlock();
    Send(std::move(batch), /*once=*/false);
    lock.lock();
  }
}

void CloseReporter::Send(wire::CloseFilesRequest batch, bool once) {
  wire::Envelope request;
  *request.mutable_close_files() = std::move(batch);
  auto sent = once ? master_.CallOnce(std::move(request)) : master_.Call(std::move(request));
  if (!sent) {
    static LogRateLimit failures(1, 10000);
    rpc::LogAtRate(failures, "closed files not reported (the next session renewal reports what is open)",
                   sent.error());
  }
}

}  // namespace hafs::mount
