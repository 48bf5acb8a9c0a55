#include "chunkserver/chunk_file.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <filesystem>

#include "common/durable_file.h"

namespace hafs {
namespace {

static_assert(std::endian::native == std::endian::little, "the chunk file layout is stored little-endian");

constexpr char kMagic[8] = {'H', 'A', 'F', 'S', 'C', 'H', 'N', 'K'};
constexpr uint64_t kHeaderChecksumOffset = 40;

uint64_t ZeroBlockChecksum() {
  static const uint64_t checksum = BlockChecksum({});
  return checksum;
}

// One pread; with ReadMode::kNoWait only from the page cache (RWF_NOWAIT), which reads
// less than asked (or fails with EAGAIN) where the rest would need the disk.
ssize_t PreadOnce(int fd, std::byte* out, size_t size, uint64_t offset, ReadMode mode) {
  if (mode == ReadMode::kMayBlock) return ::pread(fd, out, size, static_cast<off_t>(offset));
  iovec buffer{out, size};
  return ::preadv2(fd, &buffer, 1, static_cast<off_t>(offset), RWF_NOWAIT);
}

// Reads up to `size` bytes at `offset`; returns how many were read (less only at end of
// file). With ReadMode::kNoWait, EAGAIN unless all of it is in the page cache: a short
// read is followed by another, which either reads 0 (end of file) or fails.
Result<size_t> PreadFull(int fd, std::byte* out, size_t size, uint64_t offset, ReadMode mode = ReadMode::kMayBlock) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = PreadOnce(fd, out + done, size - done, offset + done, mode);
    if (n < 0 && errno == EINTR) continue;
    // EOPNOTSUPP: a file system that cannot read without waiting; the caller waits elsewhere.
    if (n < 0 && mode == ReadMode::kNoWait && (errno == EAGAIN || errno == EOPNOTSUPP)) {
      return Fail(EAGAIN, "not in the page cache");
    }
    if (n < 0) return Fail(ErrnoStatus("read"));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status PwriteFull(int fd, const std::byte* data, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

template <typename T>
void Put(std::byte* header, size_t offset, T value) {
  std::memcpy(header + offset, &value, sizeof value);
}
template <typename T>
T Get(const std::byte* header, size_t offset) {
  T value;
  std::memcpy(&value, header + offset, sizeof value);
  return value;
}

void EncodeHeader(std::byte* header, uint64_t chunk_id, uint64_t chunk_version, uint64_t data_length) {
  std::memcpy(header, kMagic, sizeof kMagic);
  Put<uint32_t>(header, 8, kChunkFormatVersion);
  Put<uint32_t>(header, 12, 0);
  Put<uint64_t>(header, 16, chunk_id);
  Put<uint64_t>(header, 24, chunk_version);
  Put<uint64_t>(header, 32, data_length);
  Put<uint64_t>(header, kHeaderChecksumOffset, RecordChecksum({header, kHeaderChecksumOffset}));
}

}  // namespace

Result<std::unique_ptr<ChunkFile>> ChunkFile::Create(const std::string& path, uint64_t chunk_id,
                                                     uint64_t chunk_version) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return Fail(ErrnoStatus("create " + path));
  std::unique_ptr<ChunkFile> file(new ChunkFile(fd, path));
  file->chunk_id_ = chunk_id;
  file->checksums_.assign(kBlocksPerChunk, ZeroBlockChecksum());
  // Header and table in one write; a failure (e.g. ENOSPC) removes the file again.
  std::vector<std::byte> start(kChunkDataOffset);
  EncodeHeader(start.data(), chunk_id, chunk_version, 0);
  std::memcpy(start.data() + kChecksumTableOffset, file->checksums_.data(), kChecksumTableBytes);
  Status written = PwriteFull(fd, start.data(), start.size(), 0);
  if (!written.ok()) {
    ::unlink(path.c_str());
    return Fail(Status::Error(written.error(), written.message() + " " + path));
  }
  file->chunk_version_ = chunk_version;
  file->directory_synced_ = false;
  return file;
}

Result<std::unique_ptr<ChunkFile>> ChunkFile::Open(const std::string& path, uint64_t chunk_id,
                                                   std::optional<uint64_t> chunk_version) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Fail(ErrnoStatus("open " + path));
  std::unique_ptr<ChunkFile> file(new ChunkFile(fd, path));
  std::byte header[kChunkHeaderUsedBytes];
  auto got = PreadFull(fd, header, sizeof header, 0);
  if (!got) return Fail(got.error());
  if (*got != sizeof header) return Fail(EBADMSG, path + ": chunk header is cut short");
  if (std::memcmp(header, kMagic, sizeof kMagic) != 0) return Fail(EBADMSG, path + ": not a chunk file (bad magic)");
  if (Get<uint64_t>(header, kHeaderChecksumOffset) != RecordChecksum({header, kHeaderChecksumOffset})) {
    return Fail(EBADMSG, path + ": chunk header fails its checksum");
  }
  if (Get<uint32_t>(header, 8) != kChunkFormatVersion) {
    return Fail(EBADMSG, path + ": unknown chunk format version " + std::to_string(Get<uint32_t>(header, 8)));
  }
  file->chunk_id_ = Get<uint64_t>(header, 16);
  file->chunk_version_ = Get<uint64_t>(header, 24);
  file->data_length_ = Get<uint64_t>(header, 32);
  if (file->data_length_ > kChunkSize) return Fail(EBADMSG, path + ": chunk length beyond the chunk size");
  if (Status identity = file->CheckIdentity(chunk_id, chunk_version); !identity.ok()) return Fail(identity);
  file->checksums_.resize(kBlocksPerChunk);
  auto table =
      PreadFull(fd, reinterpret_cast<std::byte*>(file->checksums_.data()), kChecksumTableBytes, kChecksumTableOffset);
  if (!table) return Fail(table.error());
  if (*table != kChecksumTableBytes) return Fail(EBADMSG, path + ": checksum table is cut short");
  return file;
}

ChunkFile::~ChunkFile() { ::close(fd_); }

// A header that passes its checksum but names another chunk is a whole file in the wrong
// place (moved or copied over this name, or restored from elsewhere): every block would
// pass its checksum and serve the other chunk's bytes.
Status ChunkFile::CheckIdentity(uint64_t chunk_id, std::optional<uint64_t> chunk_version) const {
  if (chunk_id_ != chunk_id) {
    return Status::Error(EBADMSG, path_ + ": holds chunk " + std::to_string(chunk_id_) + ", not chunk " +
                                      std::to_string(chunk_id) + " as its name says");
  }
  if (chunk_version && chunk_version_ != *chunk_version) {
    return Status::Error(EBADMSG, path_ + ": holds chunk " + std::to_string(chunk_id) + " at version " +
                                      std::to_string(chunk_version_) + ", not " + std::to_string(*chunk_version));
  }
  return Status::Ok();
}

Status ChunkFile::CheckVersionForWrite(uint64_t chunk_version) const {
  if (chunk_version < chunk_version_) {
    return Status::Error(ESTALE, "chunk " + std::to_string(chunk_id_) + " is at version " +
                                     std::to_string(chunk_version_) + ", newer than " + std::to_string(chunk_version));
  }
  return Status::Ok();
}

Status ChunkFile::WriteHeader(uint64_t chunk_version, uint64_t data_length) {
  std::byte header[kChunkHeaderUsedBytes];
  EncodeHeader(header, chunk_id_, chunk_version, data_length);
  Status written = PwriteFull(fd_, header, sizeof header, 0);
  if (!written.ok()) return written;
  chunk_version_ = chunk_version;
  data_length_ = data_length;
  return Status::Ok();
}

Status ChunkFile::WriteChecksums(uint64_t first_block, uint64_t count) {
  return PwriteFull(fd_, reinterpret_cast<const std::byte*>(checksums_.data() + first_block), count * 8,
                    kChecksumTableOffset + first_block * 8);
}

Status ChunkFile::ReadBlocks(uint64_t first_block, uint64_t count, std::byte* out, ReadMode mode) {
  size_t bytes = count * kBlockSize;
  auto got = PreadFull(fd_, out, bytes, kChunkDataOffset + first_block * kBlockSize, mode);
  if (!got) return got.error();
  std::memset(out + *got, 0, bytes - *got);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t block = first_block + i;
    if (BlockChecksum({out + i * kBlockSize, kBlockSize}) != checksums_[block]) {
      return Status::Error(EBADMSG, "block " + std::to_string(block) + " of chunk " + std::to_string(chunk_id_) +
                                        " fails its checksum (" + path_ + ")");
    }
  }
  return Status::Ok();
}

Result<ChunkFile::ByteRange> ChunkFile::ReadPartialBlock(uint64_t block, uint64_t offset, uint64_t end,
                                                         std::vector<std::byte>* buffer, ReadMode mode) {
  buffer->resize(kBlockSize);
  if (Status read = ReadBlocks(block, 1, buffer->data(), mode); !read.ok()) return Fail(read);
  uint64_t block_start = block * kBlockSize;
  return ByteRange{std::max(offset, block_start), std::min(end, block_start + kBlockSize)};
}

void ChunkFile::AdviseAccess(bool random) {
  if (random == random_access_) return;
  if (posix_fadvise(fd_, 0, 0, random ? POSIX_FADV_RANDOM : POSIX_FADV_NORMAL) == 0) random_access_ = random;
}

Status ChunkFile::Read(uint64_t chunk_version, uint64_t offset, std::span<std::byte> out, ReadMode mode) {
  if (chunk_version != chunk_version_) {
    return Status::Error(ESTALE, "chunk " + std::to_string(chunk_id_) + " is at version " +
                                     std::to_string(chunk_version_) + ", not " + std::to_string(chunk_version));
  }
  AdviseAccess(out.size() < kReadAheadMinBytes);
  if (offset > kChunkSize || out.size() > kChunkSize - offset) return Status::Error(EINVAL, "read beyond the chunk");
  uint64_t end = offset + out.size();
  uint64_t stored_end = std::min(end, data_length_);
  std::vector<std::byte> block_buffer;
  for (uint64_t block = offset / kBlockSize; block * kBlockSize < stored_end;) {
    uint64_t block_start = block * kBlockSize;
    if (block_start >= offset && block_start + kBlockSize <= end) {
      // A run of whole blocks goes straight into `out`.
      uint64_t count = 1;
      while ((block + count + 1) * kBlockSize <= end && (block + count) * kBlockSize < stored_end) ++count;
      Status read = ReadBlocks(block, count, out.data() + (block_start - offset), mode);
      if (!read.ok()) return read;
      block += count;
      continue;
    }
    auto part = ReadPartialBlock(block, offset, end, &block_buffer, mode);
    if (!part) return part.error();
    std::memcpy(out.data() + (part->from - offset), block_buffer.data() + (part->from - block_start),
                part->to - part->from);
    ++block;
  }
  // Past the stored length a chunk reads as zeros, whatever a crash left on disk.
  if (end > data_length_) {
    uint64_t zero_from = std::max(offset, data_length_);
    std::memset(out.data() + (zero_from - offset), 0, end - zero_from);
  }
  return Status::Ok();
}

Status ChunkFile::Write(uint64_t chunk_version, uint64_t offset, std::span<const std::byte> data) {
  Status version_ok = CheckVersionForWrite(chunk_version);
  if (!version_ok.ok()) return version_ok;
  if (offset > kChunkSize || data.size() > kChunkSize - offset) return Status::Error(EINVAL, "write beyond the chunk");
  uint64_t end = offset + data.size();
  uint64_t new_length = data.empty() ? data_length_ : std::max(data_length_, end);
  if (data.empty()) {
    return chunk_version > chunk_version_ ? WriteHeader(chunk_version, data_length_) : Status::Ok();
  }
  // New checksums first: partial blocks are read (and verified) before anything changes.
  uint64_t first_block = offset / kBlockSize;
  uint64_t last_block = (end - 1) / kBlockSize;
  std::vector<uint64_t> new_checksums;
  std::vector<std::byte> block_buffer;
  for (uint64_t block = first_block; block <= last_block; ++block) {
    uint64_t block_start = block * kBlockSize;
    if (block_start >= offset && block_start + kBlockSize <= end) {
      new_checksums.push_back(BlockChecksum(data.subspan(block_start - offset, kBlockSize)));
      continue;
    }
    auto part = ReadPartialBlock(block, offset, end, &block_buffer);
    if (!part) return part.error();
    std::memcpy(block_buffer.data() + (part->from - block_start), data.data() + (part->from - offset),
                part->to - part->from);
    new_checksums.push_back(BlockChecksum(block_buffer));
  }
  // Reserve the space first so that running out of disk fails before anything is written.
  if (::fallocate(fd_, 0, static_cast<off_t>(kChunkDataOffset + offset), static_cast<off_t>(data.size())) != 0 &&
      errno != EOPNOTSUPP && errno != ENOSYS) {
    return ErrnoStatus("allocate space for chunk " + std::to_string(chunk_id_));
  }
  if (chunk_version > chunk_version_ || new_length != data_length_) {
    Status header = WriteHeader(chunk_version, new_length);
    if (!header.ok()) return header;
  }
  Status written = PwriteFull(fd_, data.data(), data.size(), kChunkDataOffset + offset);
  if (!written.ok()) return written;
  std::copy(new_checksums.begin(), new_checksums.end(), checksums_.begin() + static_cast<ptrdiff_t>(first_block));
  return WriteChecksums(first_block, new_checksums.size());
}

Status ChunkFile::Truncate(uint64_t chunk_version, uint64_t new_length) {
  Status version_ok = CheckVersionForWrite(chunk_version);
  if (!version_ok.ok()) return version_ok;
  if (new_length > kChunkSize) return Status::Error(EINVAL, "length beyond the chunk size");
  if (new_length >= data_length_) {
    // Bytes past the old length are already zeros on disk.
    if (chunk_version == chunk_version_ && new_length == data_length_) return Status::Ok();
    return WriteHeader(chunk_version, new_length);
  }
  if (chunk_version > chunk_version_) {
    Status header = WriteHeader(chunk_version, data_length_);
    if (!header.ok()) return header;
  }
  uint64_t old_last_block = data_length_ == 0 ? 0 : (data_length_ - 1) / kBlockSize;
  uint64_t first_changed = new_length / kBlockSize;
  uint64_t tail_bytes = new_length % kBlockSize;
  uint64_t last_block_checksum = ZeroBlockChecksum();
  if (tail_bytes != 0) {
    std::vector<std::byte> block_buffer(kBlockSize);
    Status read = ReadBlocks(first_changed, 1, block_buffer.data());
    if (!read.ok()) return read;
    std::memset(block_buffer.data() + tail_bytes, 0, kBlockSize - tail_bytes);
    last_block_checksum = BlockChecksum(block_buffer);
  }
  // Cut the data (a crash now leaves the last block failing its checksum), then fix the
  // table, then record the new length.
  if (::ftruncate(fd_, static_cast<off_t>(kChunkDataOffset + new_length)) != 0) return ErrnoStatus("truncate chunk");
  checksums_[first_changed] = last_block_checksum;
  for (uint64_t block = first_changed + 1; block <= old_last_block; ++block) checksums_[block] = ZeroBlockChecksum();
  Status table = WriteChecksums(first_changed, old_last_block - first_changed + 1);
  if (!table.ok()) return table;
  return WriteHeader(chunk_version, new_length);
}

Status ChunkFile::PrepareFallocate(uint64_t chunk_version, uint64_t offset, uint64_t length) {
  Status version_ok = CheckVersionForWrite(chunk_version);
  if (!version_ok.ok()) return version_ok;
  if (offset > kChunkSize || length > kChunkSize - offset) return Status::Error(EINVAL, "range beyond the chunk");
  return chunk_version > chunk_version_ ? WriteHeader(chunk_version, data_length_) : Status::Ok();
}

Status ChunkFile::Reserve(uint64_t chunk_version, uint64_t offset, uint64_t length) {
  if (Status prepared = PrepareFallocate(chunk_version, offset, length); !prepared.ok()) return prepared;
  if (length == 0) return Status::Ok();
  // KEEP_SIZE: the file's size stays what the data made it; the blocks are allocated
  // (unwritten, so they read as zeros) whether inside the file or past its end.
  if (::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(kChunkDataOffset + offset),
                  static_cast<off_t>(length)) != 0 &&
      errno != EOPNOTSUPP && errno != ENOSYS) {
    return ErrnoStatus("reserve space for chunk " + std::to_string(chunk_id_));
  }
  uint64_t end = offset + length;
  return end > data_length_ ? WriteHeader(chunk_version_, end) : Status::Ok();
}

Status ChunkFile::PunchHole(uint64_t chunk_version, uint64_t offset, uint64_t length) {
  if (Status prepared = PrepareFallocate(chunk_version, offset, length); !prepared.ok()) return prepared;
  // Past the stored length the chunk reads as zeros already.
  uint64_t end = std::min(offset + length, data_length_);
  if (offset >= end) return Status::Ok();
  // Blocks the range covers whole; the last stored block counts as whole when the range
  // reaches the stored end, since past that its bytes are zeros.
  uint64_t first_whole = (offset + kBlockSize - 1) / kBlockSize;
  uint64_t end_whole = end == data_length_ ? (end + kBlockSize - 1) / kBlockSize : end / kBlockSize;
  if (first_whole >= end_whole) {
    std::vector<std::byte> zeros(end - offset);
    return Write(chunk_version_, offset, zeros);
  }
  // The partial blocks at either end are rewritten through Write (read, verified, zeroed
  // in part, checksummed).
  std::vector<std::byte> zeros(kBlockSize);
  if (uint64_t whole_start = first_whole * kBlockSize; offset < whole_start) {
    if (Status head = Write(chunk_version_, offset, std::span(zeros).first(whole_start - offset)); !head.ok()) {
      return head;
    }
  }
  if (uint64_t whole_end = end_whole * kBlockSize; whole_end < end) {
    if (Status tail = Write(chunk_version_, whole_end, std::span(zeros).first(end - whole_end)); !tail.ok()) {
      return tail;
    }
  }
  return ZeroBlocks(first_whole, end_whole);
}

Status ChunkFile::ZeroBlocks(uint64_t first_block, uint64_t end_block) {
  off_t start = static_cast<off_t>(kChunkDataOffset + first_block * kBlockSize);
  off_t bytes = static_cast<off_t>((end_block - first_block) * kBlockSize);
  // Data before checksums, as a write: a crash in between leaves blocks failing theirs.
  if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, start, bytes) != 0) {
    if (errno != EOPNOTSUPP && errno != ENOSYS) {
      return ErrnoStatus("punch a hole in chunk " + std::to_string(chunk_id_));
    }
    static const std::vector<std::byte> kZeroBlock(kBlockSize);
    for (uint64_t block = first_block; block < end_block; ++block) {
      Status written = PwriteFull(fd_, kZeroBlock.data(), kBlockSize, kChunkDataOffset + block * kBlockSize);
      if (!written.ok()) return written;
    }
  }
  std::fill(checksums_.begin() + static_cast<ptrdiff_t>(first_block),
            checksums_.begin() + static_cast<ptrdiff_t>(end_block), ZeroBlockChecksum());
  return WriteChecksums(first_block, end_block - first_block);
}

Status ChunkFile::Sync() {
  if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync " + path_);
  if (directory_synced_) return Status::Ok();
  std::string directory = std::filesystem::path(path_).parent_path().string();
  int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return ErrnoStatus("open directory " + directory);
  int synced = ::fsync(dir_fd);
  Status status = synced == 0 ? Status::Ok() : ErrnoStatus("fsync directory " + directory);
  ::close(dir_fd);
  if (status.ok()) directory_synced_ = true;
  return status;
}

}  // namespace hafs
