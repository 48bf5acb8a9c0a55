// The append-only operation log: segment files "log.<first position>" in the data
// directory, each a sequence of framed LogRecords (record_file.h). Append writes a whole
// batch with one write and one fdatasync (group commit). A new segment starts after
// each checkpoint; segments the checkpoint covers are removed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs::master {

class OpLog {
 public:
  using ApplyFunction = std::function<Status(const wire::LogRecord&)>;

  // Replays every record after `after_position` through `apply`, in order. A torn or
  // corrupt tail of the last segment is logged and cut off; damage anywhere else is an
  // error. Then opens the last segment (or a new one) for appending.
  static Result<std::unique_ptr<OpLog>> Open(const std::string& directory, uint64_t after_position,
                                             const ApplyFunction& apply);
  ~OpLog();
  OpLog(const OpLog&) = delete;
  OpLog& operator=(const OpLog&) = delete;

  // Appends the records with one write and one fdatasync.
  Status Append(const std::vector<wire::LogRecord>& records);
  // Starts the segment for records from first_position on; removes all older segments.
  Status StartSegment(uint64_t first_position);

 private:
  explicit OpLog(std::string directory) : directory_(std::move(directory)) {}
  Status OpenForAppend(const std::string& path);

  std::string directory_;
  std::string path_;
  int fd_ = -1;
};

}  // namespace hafs::master
