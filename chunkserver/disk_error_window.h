// When a data directory counts as failing, so that the chunk store takes it out of
// service (docs/design.md, "Failing data directories").
//
// Which errors count (IsDiskFailure): those that say the device or its file system is
// failing. EIO: the device gave up on a read, a write or a writeback (reported by fsync)
// after the kernel's and the drive's own retries. EROFS: the file system turned itself
// read-only after an error. EUCLEAN: the file system found its own structures damaged.
// ENODEV, ENXIO: the device is gone. Not counted: ENOENT (an unknown or deleted chunk),
// ENOSPC and EDQUOT (full: the space check and the heartbeat's `full` handle that),
// EBADMSG (one replica's checksum: that replica is reported lost, the disk is not
// blamed), ESTALE and EINVAL (the request's fault), EMFILE, ENFILE and ENOMEM (this
// process's limits, not the disk's).
//
// How many (DiskErrorWindow::Record): EROFS, ENODEV and ENXIO take the directory out at
// once: they describe a state the directory stays in, and nothing written there can
// succeed again. EIO and EUCLEAN take it out when `limit` of them (default 2) fall within
// `window_ms` (default 10 minutes; MooseFS's chunkserver defaults to the same, 2 errors in
// 600 s). A single EIO is most often one unreadable sector: the chunk that hit it is
// reported lost and copied back, and a drive remaps a bad sector when it is written again.
// Evicting the whole disk for it would re-replicate everything on it and leave each of
// those chunks a copy short meanwhile. A disk that is really dying fails the next
// operation as well (a client read, a write, the scrubber), so the threshold delays its
// eviction by one request.
//
// Not thread-safe: the chunk store calls it under its own lock.
#pragma once

#include <cstdint>
#include <deque>

namespace hafs {

bool IsDiskFailure(int error);

class DiskErrorWindow {
 public:
  DiskErrorWindow(int limit, int64_t window_ms) : limit_(limit), window_ms_(window_ms) {}

  // Records one failed operation whose errno IsDiskFailure, at `now_ms` of a monotonic
  // clock; true when the directory must go out of service.
  bool Record(int error, int64_t now_ms);

 private:
  const int limit_;
  const int64_t window_ms_;
  std::deque<int64_t> recent_ms_;  // errors within the window, oldest first
};

}  // namespace hafs
