#include "master/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "common/durable_file.h"
#include "common/log.h"
#include "master/record_file.h"

namespace hafs::master {
namespace {

constexpr char kCheckpointPrefix[] = "checkpoint.";
constexpr size_t kFlushBytes = 1 << 20;

}  // namespace

Status WriteCheckpoint(const std::string& directory, const MasterState& state) {
  std::string temporary = directory + "/checkpoint.tmp";
  std::string path = NumberedPath(directory, kCheckpointPrefix, state.position());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return ErrnoStatus("cannot create " + temporary);
  std::string buffer;
  uint64_t offset = 0;
  auto flush = [&] {
    Status written = PwriteAll(fd, buffer, offset, temporary);
    offset += buffer.size();
    buffer.clear();
    return written;
  };
  Status status = state.ForEachCheckpointRecord([&](const wire::CheckpointRecord& record) {
    AppendRecord(record, &buffer);
    return buffer.size() < kFlushBytes ? Status::Ok() : flush();
  });
  if (status.ok()) status = flush();
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus("cannot fsync " + temporary);
  ::close(fd);
  if (status.ok() && std::rename(temporary.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("cannot rename " + temporary);
  }
  if (status.ok()) status = FsyncPath(directory);
  if (!status.ok()) {
    std::remove(temporary.c_str());
    return status;
  }
  auto checkpoints = ListNumberedFiles(directory, kCheckpointPrefix);
  if (!checkpoints) return checkpoints.error();
  for (const auto& [position, old_path] : *checkpoints) {
    if (position < state.position()) std::remove(old_path.c_str());
  }
  return Status::Ok();
}

Result<bool> LoadNewestCheckpoint(const std::string& directory, MasterState* state) {
  auto checkpoints = ListNumberedFiles(directory, kCheckpointPrefix);
  if (!checkpoints) return Fail(checkpoints.error());
  if (checkpoints->empty()) return false;
  const std::string& path = checkpoints->back().second;
  auto reader = RecordReader::Open(path);
  if (!reader) return Fail(reader.error());
  std::string payload;
  wire::CheckpointRecord record;
  wire::CheckpointHeader header;
  uint64_t inodes = 0, entries = 0, chunks = 0, members = 0, results = 0;
  bool have_header = false;
  while (true) {
    RecordReader::Outcome outcome = reader->Next(&payload);
    if (outcome == RecordReader::Outcome::kEnd) break;
    if (outcome == RecordReader::Outcome::kTorn || !record.ParseFromString(payload)) {
      return Fail(EBADMSG, path + " is damaged at byte " + std::to_string(reader->good_bytes()));
    }
    if (record.has_header() != !have_header) return Fail(EBADMSG, path + ": the header must come first, once");
    if (record.has_header()) {
      header = record.header();
      have_header = true;
    }
    inodes += record.has_inode();
    entries += record.has_entry();
    chunks += record.has_chunk();
    members += record.has_member();
    results += record.has_recent_result();
    if (Status status = state->Restore(record); !status.ok()) {
      return Fail(status.error(), path + ": " + status.message());
    }
  }
  if (!have_header) return Fail(EBADMSG, path + " is empty");
  if (inodes != header.inode_count() || entries != header.entry_count() || chunks != header.chunk_count() ||
      members != header.member_count() || results != header.recent_result_count()) {
    return Fail(EBADMSG, path + " is incomplete: its header promises " + std::to_string(header.inode_count()) +
                             " inodes, " + std::to_string(header.entry_count()) + " entries, " +
                             std::to_string(header.chunk_count()) + " chunks");
  }
  LOG(INFO) << "loaded " << path << ": position " << header.position() << ", " << inodes << " inodes, " << chunks
            << " chunks";
  return true;
}

}  // namespace hafs::master
