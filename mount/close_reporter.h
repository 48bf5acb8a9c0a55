// Tells the master which files this mount closed for the last time (CloseFilesRequest), so
// that an open-unlinked file goes once no mount holds it (docs/design.md, "Open files").
// Closes are batched on a thread of their own: a close never waits for the master, and a
// burst of closes costs one request. A batch that no master takes is dropped: the next
// session renewal's full set of open files says the same.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "mount/master_client.h"

namespace hafs::mount {

class CloseReporter {
 public:
  explicit CloseReporter(MasterClient& master) : master_(master) {}
  ~CloseReporter() { Stop(); }
  CloseReporter(const CloseReporter&) = delete;
  CloseReporter& operator=(const CloseReporter&) = delete;

  void Start();
  // Sends what is queued (one try) and stops the thread.
  void Stop();
  // `inode` closed for the last time here at `generation` (InodeTable::Close).
  void Closed(uint64_t inode, uint64_t generation);

 private:
  // Closes that follow within this long go in the same request.
  static constexpr int64_t kBatchMs = 20;
  // At most this many per request (the master's bound on one message).
  static constexpr size_t kMaxBatch = 65536;

  void Run();
  void Send(wire::CloseFilesRequest batch, bool once);

  MasterClient& master_;
  std::mutex mutex_;
  std::condition_variable wake_;
  wire::CloseFilesRequest queued_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hafs::mount
