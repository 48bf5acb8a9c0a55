// One chunk replica on disk: a header, the table of block checksums, then the data.
// Documented in docs/design.md ("Chunk file layout"). All integers are
// little-endian.
//
//   offset  width  field
//   0       8      magic "HAFSCHNK"
//   8       4      format version (1)
//   12      4      reserved, 0
//   16      8      chunk id
//   24      8      chunk version
//   32      8      stored data length in bytes (<= 64 MiB)
//   40      8      header checksum: XXH3-64 (RecordChecksum) of bytes [0, 40)
//   48      4048   zeros (the header region is one 4 KiB page)
//   4096    8192   1024 x 8-byte XXH3-64 checksums of the 64 KiB data blocks
//                  (BlockChecksum: a short block is checksummed as zero-padded)
//   12288   <=64Mi data; block i at 12288 + i * 65536. The file may be shorter than the
//                  stored length (a hole): missing bytes read as zeros.
//
// Every block, written or not, has a valid checksum in the table (a new chunk's table
// holds the checksum of a zero block), and bytes past the stored length are zeros on
// disk (truncate cuts the file). Crash safety: data is written before its checksum, so
// a torn write leaves a block that fails its checksum rather than one that passes with
// wrong data; the header (one 48-byte write inside one sector) is written first when the
// version or the length grows, last when the length shrinks.
//
// Identity: the header names the chunk it holds, and Open checks it against the chunk the
// caller opens (the one the file's name says, the version the store's index says), so a
// chunk file moved or copied over another's name is refused, not served as that chunk.
//
// Files are created 0600: chunk data is readable by the service user alone.
//
// Not thread-safe: the chunk store holds a per-chunk lock around every call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/block_checksum.h"
#include "common/status.h"

namespace hafs {

inline constexpr uint64_t kChunkHeaderBytes = 4096;
inline constexpr uint64_t kChunkHeaderUsedBytes = 48;
inline constexpr uint64_t kChecksumTableOffset = kChunkHeaderBytes;
inline constexpr uint64_t kChecksumTableBytes = kBlocksPerChunk * 8;
inline constexpr uint64_t kChunkDataOffset = kChecksumTableOffset + kChecksumTableBytes;
inline constexpr uint32_t kChunkFormatVersion = 1;
// A Read of fewer bytes is random access: the kernel reads just the blocks it touches, with
// no read-ahead on the file (posix_fadvise RANDOM). Its read-ahead heuristics took a random
// 64 KiB read next to blocks already cached for part of a stream and read ahead: 88 KiB from
// the disk per random block read here, 67 KiB without. Longer reads (sequential clients,
// whose kernel asks for 128 KiB and more) keep it (NORMAL).
inline constexpr uint64_t kReadAheadMinBytes = 128 * 1024;

// How a read may wait. kNoWait is for a thread that must never block (the data service's
// proxy): it takes only data already in the page cache (preadv2 with RWF_NOWAIT) and
// fails with EAGAIN where it would have to wait for the disk or for another thread.
enum class ReadMode { kMayBlock, kNoWait };

class ChunkFile {
 public:
  // Makes a new chunk file (fails with EEXIST if there is one) of length 0.
  static Result<std::unique_ptr<ChunkFile>> Create(const std::string& path, uint64_t chunk_id, uint64_t chunk_version);
  // Opens an existing chunk file of chunk `chunk_id` (at `chunk_version`, when given);
  // EBADMSG when its header or table is damaged or the header names another chunk or version.
  static Result<std::unique_ptr<ChunkFile>> Open(const std::string& path, uint64_t chunk_id,
                                                 std::optional<uint64_t> chunk_version = std::nullopt);
  ~ChunkFile();
  ChunkFile(const ChunkFile&) = delete;
  ChunkFile& operator=(const ChunkFile&) = delete;

  uint64_t chunk_id() const { return chunk_id_; }
  uint64_t chunk_version() const { return chunk_version_; }
  uint64_t data_length() const { return data_length_; }

  // Fills `out` with [offset, offset + out.size()) of the chunk at exactly `chunk_version`
  // (else ESTALE). Every block touched is verified (EBADMSG on a mismatch); bytes past
  // the stored length are zeros. With ReadMode::kNoWait, EAGAIN when a block touched is
  // not in the page cache (what `out` then holds is unspecified).
  Status Read(uint64_t chunk_version, uint64_t offset, std::span<std::byte> out, ReadMode mode = ReadMode::kMayBlock);
  // Writes `data` at `offset`. A higher version is stored first; a lower one is ESTALE.
  Status Write(uint64_t chunk_version, uint64_t offset, std::span<const std::byte> data);
  // Sets the stored length; bytes past it read as zeros afterwards.
  Status Truncate(uint64_t chunk_version, uint64_t new_length);
  // fallocate (docs/design.md, "fallocate"). Reserve: the chunk is at least offset +
  // length long afterwards (new bytes read as zeros) and the range's disk space is
  // allocated (ENOSPC when the disk cannot hold it). PunchHole: [offset, offset + length)
  // reads as zeros, the length stays; whole blocks become holes in the file (with the
  // zero block's checksum), partial ones are rewritten.
  Status Reserve(uint64_t chunk_version, uint64_t offset, uint64_t length);
  Status PunchHole(uint64_t chunk_version, uint64_t offset, uint64_t length);
  // fdatasync of the file, and of its directory once after creation.
  Status Sync();

 private:
  ChunkFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Status CheckIdentity(uint64_t chunk_id, std::optional<uint64_t> chunk_version) const;
  // Turns the kernel's read-ahead on the file off (random) or on, when that changes. Best
  // effort: a failed advice leaves the read-ahead as it was, which costs only speed.
  void AdviseAccess(bool random);
  Status CheckVersionForWrite(uint64_t chunk_version) const;
  // The version check and range check of Reserve and PunchHole, and the version stored.
  Status PrepareFallocate(uint64_t chunk_version, uint64_t offset, uint64_t length);
  // Zeroes whole blocks [first_block, end_block): holes in the file where it can punch them.
  Status ZeroBlocks(uint64_t first_block, uint64_t end_block);
  Status WriteHeader(uint64_t chunk_version, uint64_t data_length);
  Status WriteChecksums(uint64_t first_block, uint64_t count);
  // Reads blocks [first_block, first_block + count) into `out` (count * kBlockSize bytes,
  // zero-padded past the end of the file) and verifies each against the table.
  Status ReadBlocks(uint64_t first_block, uint64_t count, std::byte* out, ReadMode mode = ReadMode::kMayBlock);
  // Reads (and verifies) one whole block into *buffer; returns the part of it that
  // [offset, end) covers, in chunk offsets.
  struct ByteRange {
    uint64_t from = 0;
    uint64_t to = 0;
  };
  Result<ByteRange> ReadPartialBlock(uint64_t block, uint64_t offset, uint64_t end, std::vector<std::byte>* buffer,
                                     ReadMode mode = ReadMode::kMayBlock);

  int fd_;
  std::string path_;
  bool directory_synced_ = true;
  bool random_access_ = false;  // what AdviseAccess last told the kernel
  uint64_t chunk_id_ = 0;
  uint64_t chunk_version_ = 0;
  uint64_t data_length_ = 0;
  std::vector<uint64_t> checksums_;  // the on-disk table, kBlocksPerChunk entries
};

}  // namespace hafs
