#include "master/op_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "common/durable_file.h"
#include "common/log.h"
#include "master/record_file.h"

namespace hafs::master {
namespace {

constexpr char kSegmentPrefix[] = "log.";

// Replays one segment; *end_of_records is where its records end, and *torn is set when
// they end in a torn or corrupt record.
Status ReplaySegment(const std::string& path, uint64_t after_position, const OpLog::ApplyFunction& apply,
                     uint64_t* end_of_records, bool* torn) {
  auto reader = RecordReader::Open(path);
  if (!reader) return reader.error();
  std::string payload;
  wire::LogRecord record;
  while (true) {
    RecordReader::Outcome outcome = reader->Next(&payload);
    *end_of_records = reader->good_bytes();
    if (outcome == RecordReader::Outcome::kEnd) return Status::Ok();
    if (outcome == RecordReader::Outcome::kRecord && !record.ParseFromString(payload)) {
      outcome = RecordReader::Outcome::kTorn;
    }
    if (outcome == RecordReader::Outcome::kTorn) {
      *torn = true;
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
  uint64_t end_of_records = 0;
  for (size_t i = 0; i < segments->size(); ++i) {
    const std::string& path = (*segments)[i].second;
    bool last = i + 1 == segments->size();
    // A segment whose successor starts at or before the first record we need is covered.
    if (!last && (*segments)[i + 1].first <= after_position + 1) continue;
    bool torn = false;
    if (Status status = ReplaySegment(path, after_position, apply, &end_of_records, &torn); !status.ok()) {
      return Fail(status);
    }
    if (!torn) continue;
    if (!last) {
      return Fail(EBADMSG, path + " is damaged at byte " + std::to_string(end_of_records) +
                               " but later segments exist; refusing to start (restore the data directory)");
    }
    LOG(WARNING) << path << ": torn or corrupt record at byte " << end_of_records << ", cutting the log there";
    if (::truncate(path.c_str(), static_cast<off_t>(end_of_records)) != 0) {
      return Fail(ErrnoStatus("cannot truncate " + path));
    }
  }
  Status status = segments->empty() ? log->StartSegment(after_position + 1)
                                    : log->OpenForAppend(segments->back().second, end_of_records);
  if (!status.ok()) return Fail(status);
  return log;
}

OpLog::~OpLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status OpLog::OpenForAppend(const std::string& path, uint64_t end_of_records) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return ErrnoStatus("cannot open " + path);
  off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) {
    Status status = ErrnoStatus("cannot size " + path);
    ::close(fd);
    return status;
  }
  // Makes a creation or a cut tail durable before anything is appended after it.
  if (::fsync(fd) != 0) {
    Status status = ErrnoStatus("cannot fsync " + path);
    ::close(fd);
    return status;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  path_ = path;
  write_offset_ = end_of_records;
  allocated_bytes_ = static_cast<uint64_t>(size);
  return FsyncPath(directory_);
}

Status OpLog::Append(const std::vector<wire::LogRecord>& records) {
  if (records.empty()) return Status::Ok();
  std::string buffer;
  for (const wire::LogRecord& record : records) AppendRecord(record, &buffer);
  if (Status status = Preallocate(write_offset_ + buffer.size()); !status.ok()) return status;
  if (Status status = PwriteAll(fd_, buffer, write_offset_, path_); !status.ok()) return status;
  if (::fdatasync(fd_) != 0) return ErrnoStatus("cannot fdatasync " + path_);
  write_offset_ += buffer.size();
  return Status::Ok();
}

Status OpLog::Preallocate(uint64_t bytes) {
  if (bytes <= allocated_bytes_) return Status::Ok();
  uint64_t target = (bytes / kPreallocateBytes + 1) * kPreallocateBytes;
  static const std::string kZeros(1024 * 1024, '\0');
  while (allocated_bytes_ < target) {
    std::string_view piece(kZeros.data(), std::min<uint64_t>(kZeros.size(), target - allocated_bytes_));
    if (Status status = PwriteAll(fd_, piece, allocated_bytes_, path_); !status.ok()) return status;
    allocated_bytes_ += piece.size();
  }
  // The new size must be durable before records in it are acknowledged.
  if (::fdatasync(fd_) != 0) return ErrnoStatus("cannot fdatasync " + path_);
  return Status::Ok();
}

Status OpLog::StartSegment(uint64_t first_position) {
  std::string path = NumberedPath(directory_, kSegmentPrefix, first_position);
  if (Status status = OpenForAppend(path, 0); !status.ok()) return status;
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
