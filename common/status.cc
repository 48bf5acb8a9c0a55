#include "common/status.h"

#include <cstring>

namespace hafs {

std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_ + " (" + std::strerror(error_) + ")";
}

Status ErrnoStatus(const std::string& what) {
  int error = errno;
  return Status::Error(error == 0 ? EIO : error, what);
}

}  // namespace hafs
