#include "master/record_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "common/block_checksum.h"

namespace hafs::master {

void AppendRecord(const google::protobuf::MessageLite& message, std::string* buffer) {
  size_t start = buffer->size();
  buffer->resize(start + kRecordHeaderBytes);
  message.AppendToString(buffer);
  uint32_t length = static_cast<uint32_t>(buffer->size() - start - kRecordHeaderBytes);
  uint64_t checksum = RecordChecksum(std::as_bytes(std::span(buffer->data() + start + kRecordHeaderBytes, length)));
  std::memcpy(buffer->data() + start, &length, sizeof length);  // the host is little-endian (x86-64, arm64)
  std::memcpy(buffer->data() + start + sizeof length, &checksum, sizeof checksum);
}

Status PwriteAll(int fd, std::string_view bytes, uint64_t offset, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t written = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write " + path);
    }
    bytes.remove_prefix(written);
    offset += written;
  }
  return Status::Ok();
}


Result<std::vector<std::pair<uint64_t, std::string>>> ListNumberedFiles(const std::string& directory,
                                                                        const std::string& prefix) {
  std::vector<std::pair<uint64_t, std::string>> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || name.size() == prefix.size()) continue;
    std::string digits = name.substr(prefix.size());
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    files.emplace_back(std::stoull(digits), entry.path().string());
  }
  if (error) return Fail(error.value(), "cannot list " + directory + ": " + error.message());
  std::sort(files.begin(), files.end());
  return files;
}

std::string NumberedPath(const std::string& directory, const std::string& prefix, uint64_t number) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(number));
  return directory + "/" + prefix + digits;
}

Result<RecordReader> RecordReader::Open(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return Fail(ErrnoStatus("cannot open " + path));
  RecordReader reader;
  reader.file_.reset(file);
  return reader;
}

RecordReader::Outcome RecordReader::Next(std::string* payload) {
  char header[kRecordHeaderBytes];
  size_t got = std::fread(header, 1, sizeof header, file_.get());
  if (std::all_of(header, header + got, [](char byte) { return byte == 0; })) return Outcome::kEnd;
  if (got < sizeof header) return Outcome::kTorn;
  uint32_t length;
  uint64_t checksum;
  std::memcpy(&length, header, sizeof length);
  std::memcpy(&checksum, header + sizeof length, sizeof checksum);
  if (length > kMaxRecordBytes) return Outcome::kTorn;
  payload->resize(length);
  if (std::fread(payload->data(), 1, length, file_.get()) < length) return Outcome::kTorn;
  if (RecordChecksum(std::as_bytes(std::span(payload->data(), length))) != checksum) return Outcome::kTorn;
  good_bytes_ += kRecordHeaderBytes + length;
  return Outcome::kRecord;
}

}  // namespace hafs::master
