#include "master/op_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "common/log.h"
#include "master/record_file.h"

namespace hafs::master {
namespace {

constexpr char kSegmentPrefix[] = "log.";

// Replays one segment; *torn_at is set to the good length when the segment ends in a
// torn or corrupt record.
Status ReplaySegment(const std::string& path, uint64_t after_position, const OpLog::ApplyFunction& apply,
                     std::optional<uint64_t>* torn_at) {
  auto reader = RecordReader::Open(path);
  if (!reader) return reader.error();
  std::string payload;
  wire::LogRecord record;
  while (true) {
    RecordReader::Outcome outcome = reader->Next(&payload);
    if (outcome == RecordReader::Outcome::kEnd) return Status::Ok();
    if (outcome == RecordReader::Outcome::kRecord && !record.ParseFromString(payload)) {
      outcome = RecordReader::Outcome::kTorn;
    }
    if (outcome == RecordReader::Outcome::kTorn) {
      *torn_at = reader->good_bytes();
      return Status::Ok();
    }
    if (record.position() <= after_position) continue;
    if (Status status = apply(record); !status.ok()) {
      return Status::Error(status.error(), path + ": " + status.message());
    }
  }
}

}  // namespace

Result<std::unique_ptr<OpLog>> OpLog::Open(const std::string& directory, uint64_t after_position,
                                           const ApplyFunction& apply) {
  auto segments = ListNumberedFiles(directory, kSegmentPrefix);
  if (!segments) return Fail(segments.error());
  std::unique_ptr<OpLog> log(new OpLog(directory));
  for (size_t i = 0; i < segments->size(); ++i) {
    const std::string& path = (*segments)[i].second;
    bool last = i + 1 == segments->size();
    // A segment whose successor starts at or before the first record we need is covered.
    if (!last && (*segments)[i + 1].first <= after_position + 1) continue;
    std::optional<uint64_t> torn_at;
    if (Status status = ReplaySegment(path, after_position, apply, &torn_at); !status.ok()) return Fail(status);
    if (!torn_at) continue;
    if (!last) {
      return Fail(EBADMSG, path + " is damaged at byte " + std::to_string(*torn_at) +
                               " but later segments exist; refusing to start (restore the data directory)");
    }
    LOG(WARNING) << path << ": torn or corrupt record at byte " << *torn_at << ", cutting the log there";
    if (::truncate(path.c_str(), static_cast<off_t>(*torn_at)) != 0) {
      return Fail(ErrnoStatus("cannot truncate " + path));
    }
  }
  Status status =
      segments->empty() ? log->StartSegment(after_position + 1) : log->OpenForAppend(segments->back().second);
  if (!status.ok()) return Fail(status);
  return log;
}

OpLog::~OpLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status OpLog::OpenForAppend(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot open " + path);
  // Makes a creation or a cut tail durable before anything is appended after it.
  if (::fsync(fd) != 0) {
    Status status = ErrnoStatus("cannot fsync " + path);
    ::close(fd);
    return status;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  path_ = path;
  return SyncDirectory(directory_);
}

Status OpLog::Append(const std::vector<wire::LogRecord>& records) {
  if (records.empty()) return Status::Ok();
  std::string buffer;
  for (const wire::LogRecord& record : records) AppendRecord(record, &buffer);
  if (Status status = WriteAll(fd_, buffer, path_); !status.ok()) return status;
  if (::fdatasync(fd_) != 0) return ErrnoStatus("cannot fdatasync " + path_);
  return Status::Ok();
}

Status OpLog::StartSegment(uint64_t first_position) {
  std::string path = NumberedPath(directory_, kSegmentPrefix, first_position);
  if (Status status = OpenForAppend(path); !status.ok()) return status;
  auto segments = ListNumberedFiles(directory_, kSegmentPrefix);
  if (!segments) return segments.error();
  for (const auto& [first, old_path] : *segments) {
    if (first < first_position && std::remove(old_path.c_str()) != 0) {
      LOG(WARNING) << "cannot remove old log segment " << old_path;
    }
  }
  return Status::Ok();
}

}  // namespace hafs::master
