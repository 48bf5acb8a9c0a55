#include "chunkserver/disk_error_window.h"

#include <cerrno>

namespace hafs {

bool IsDiskFailure(int error) {
  return error == EIO || error == EROFS || error == EUCLEAN || error == ENODEV || error == ENXIO;
}

bool DiskErrorWindow::Record(int error, int64_t now_ms) {
  if (error == EROFS || error == ENODEV || error == ENXIO) return true;
  recent_ms_.push_back(now_ms);
  while (!recent_ms_.empty() && recent_ms_.front() <= now_ms - window_ms_) recent_ms_.pop_front();
  return static_cast<int>(recent_ms_.size()) >= limit_;
}

}  // namespace hafs
