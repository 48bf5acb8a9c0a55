// The framing of the master's files (op-log segments and checkpoints): a sequence of
//   [u32 payload length][u64 XXH3-64 of the payload (RecordChecksum)][payload]
// little-endian, the payload a serialized protobuf message. A reader stops at the first
// record that is cut short or fails its checksum: everything before it is good. An
// all-zero header ends the file cleanly: op-log segments are preallocated with zeros
// (op_log.h), and no real record has length 0.
#pragma once

#include <google/protobuf/message_lite.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/durable_file.h"
#include "common/status.h"

namespace hafs::master {

inline constexpr size_t kRecordHeaderBytes = 12;
inline constexpr uint32_t kMaxRecordBytes = 64 * 1024 * 1024;

// Appends `message` as one framed record to *buffer.
void AppendRecord(const google::protobuf::MessageLite& message, std::string* buffer);

// Writes all of `bytes` at `offset` of fd (`path` names it in errors).
Status PwriteAll(int fd, std::string_view bytes, uint64_t offset, const std::string& path);
// Files in `directory` named "<prefix><number>", sorted by number.
Result<std::vector<std::pair<uint64_t, std::string>>> ListNumberedFiles(const std::string& directory,
                                                                        const std::string& prefix);
// "<directory>/<prefix><number, 20 digits>"
std::string NumberedPath(const std::string& directory, const std::string& prefix, uint64_t number);

class RecordReader {
 public:
  static Result<RecordReader> Open(const std::string& path);

  enum class Outcome { kRecord, kEnd, kTorn };
  // kRecord: *payload holds the next record. kEnd: the file ended cleanly (at its end or
  // at zeros), good_bytes() is where the records end. kTorn: a short or corrupt record
  // starts at good_bytes().
  Outcome Next(std::string* payload);
  uint64_t good_bytes() const { return good_bytes_; }

 private:
  struct CloseFile {
    void operator()(FILE* file) const { std::fclose(file); }
  };
  std::unique_ptr<FILE, CloseFile> file_;
  uint64_t good_bytes_ = 0;
};

}  // namespace hafs::master
