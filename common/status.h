// Errors as values. A Status is success or a Linux errno value with a message;
// Result<T> is a T or the Status that explains why there is none. Every boundary
// (wire, disk, FUSE) passes these up instead of throwing.
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <utility>

namespace hafs {

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(int error, std::string message) { return Status(error, std::move(message)); }

  bool ok() const { return error_ == 0; }
  int error() const { return error_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(int error, std::string message) : error_(error), message_(std::move(message)) {}
  int error_ = 0;
  std::string message_;
};

// Status alone builds with clang 14 (the libFuzzer build), whose libstdc++ 12 lacks
// std::expected; everything that uses Result builds with g++.
#if defined(__cpp_lib_expected)
template <typename T>
using Result = std::expected<T, Status>;

// Shorthand for returning a failed Result or Status: `return Fail(ENOENT, "no such chunk")`.
inline std::unexpected<Status> Fail(int error, std::string message) {
  return std::unexpected(Status::Error(error, std::move(message)));
}
inline std::unexpected<Status> Fail(Status status) { return std::unexpected(std::move(status)); }
#endif

// errno of the last failed system call, as a Status naming what was being done.
Status ErrnoStatus(const std::string& what);

}  // namespace hafs
