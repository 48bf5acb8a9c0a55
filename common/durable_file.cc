#include "common/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace hafs {

Status FsyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open " + path);
  Status status = ::fsync(fd) == 0 ? Status::Ok() : ErrnoStatus("cannot fsync " + path);
  ::close(fd);
  return status;
}

Result<bool> MakePrivateDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), kPrivateDirMode) == 0) return true;
  Status failed = ErrnoStatus("cannot make directory " + path);
  std::error_code error;
  if (failed.error() == EEXIST && std::filesystem::is_directory(path, error)) return false;
  return Fail(failed);
}

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  std::string temporary = path + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return ErrnoStatus("cannot create " + temporary);
  Status status;
  while (status.ok() && !contents.empty()) {
    ssize_t written = ::write(fd, contents.data(), contents.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) status = ErrnoStatus("cannot write " + temporary);
    else contents.remove_prefix(static_cast<size_t>(written));
  }
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus("cannot fsync " + temporary);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus("cannot close " + temporary);
  if (status.ok() && std::rename(temporary.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("cannot rename " + temporary + " to " + path);
  }
  if (!status.ok()) {
    std::remove(temporary.c_str());
    return status;
  }
  std::string directory = std::filesystem::path(path).parent_path().string();
  return FsyncPath(directory.empty() ? "." : directory);
}

}  // namespace hafs
