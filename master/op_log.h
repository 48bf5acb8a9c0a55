// The append-only operation log: segment files "log.<first position>" in the data
// directory, each a sequence of framed LogRecords (record_file.h). Append writes a whole
// batch with one write and one fdatasync (group commit). A new segment starts after
// each checkpoint; segments the checkpoint covers are removed.
//
// Segments are preallocated with written zeros, kPreallocateBytes at a time, and records
// overwrite them in place: then fdatasync flushes only data, where an append that grows
// the file would also wait for a file-system journal commit (about three times as long
// here). A reader stops at the first all-zero header (record_file.h).
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
  static constexpr uint64_t kPreallocateBytes = 8 * 1024 * 1024;

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
  // Byte offset in the current segment where its records end.
  uint64_t end_of_records() const { return write_offset_; }
  // Starts the segment for records from first_position on; removes all older segments.
  Status StartSegment(uint64_t first_position);

 private:
  explicit OpLog(std::string directory) : directory_(std::move(directory)) {}
  // Opens `path` to write records from byte `end_of_records` on.
  Status OpenForAppend(const std::string& path, uint64_t end_of_records);
  // Makes sure the segment has zeros written up to at least `bytes`.
  Status Preallocate(uint64_t bytes);

  std::string directory_;
  std::string path_;
  int fd_ = -1;
  uint64_t write_offset_ = 0;     // where the next record goes
  uint64_t allocated_bytes_ = 0;  // the segment's size, zeros past write_offset_
};

}  // namespace hafs::master
