#include "chunkserver/chunk_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "chunkserver/temp_dir_for_test.h"

namespace hafs {
namespace {

std::vector<std::byte> Pattern(size_t size, uint8_t seed) {
  std::vector<std::byte> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i * 31 + seed) % 251);
  return bytes;
}

std::vector<std::byte> ReadOrDie(ChunkFile& file, uint64_t version, uint64_t offset, size_t size) {
  std::vector<std::byte> out(size, std::byte{0x55});
  Status read = file.Read(version, offset, out);
  EXPECT_TRUE(read.ok()) << read.ToString();
  return out;
}

bool AllZero(std::span<const std::byte> bytes) {
  for (auto b : bytes) {
    if (b != std::byte{0}) return false;
  }
  return true;
}

void FlipByteOnDisk(const std::string& path, uint64_t offset) {
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  std::byte b;
  ASSERT_EQ(::pread(fd, &b, 1, static_cast<off_t>(offset)), 1);
  b ^= std::byte{0x01};
  ASSERT_EQ(::pwrite(fd, &b, 1, static_cast<off_t>(offset)), 1);
  ::close(fd);
}

// Writes the file's dirty pages back, then drops them from the page cache.
void EvictFromPageCache(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fdatasync(fd), 0);
  ASSERT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  ::close(fd);
}

class ChunkFileTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChunkFile> CreateOrDie(uint64_t version = 1) {
    auto file = ChunkFile::Create(path_, 42, version);
    EXPECT_TRUE(file.has_value()) << file.error().ToString();
    return std::move(*file);
  }
  std::unique_ptr<ChunkFile> ReopenOrDie() {
    auto file = ChunkFile::Open(path_, 42);
    EXPECT_TRUE(file.has_value()) << file.error().ToString();
    return std::move(*file);
  }

  TempDirForTest dir_;
  std::string path_ = dir_.path() + "/chunk";
};

TEST_F(ChunkFileTest, RoundTripAcrossBlocksWithUnalignedOffsets) {
  auto file = CreateOrDie();
  auto data = Pattern(3 * kBlockSize + 777, 1);
  const uint64_t offset = kBlockSize - 123;
  ASSERT_TRUE(file->Write(1, offset, data).ok());
  EXPECT_EQ(file->data_length(), offset + data.size());
  EXPECT_EQ(ReadOrDie(*file, 1, offset, data.size()), data);
  // A sub-range starting mid-block and ending mid-block, and a read spanning the start.
  auto middle = ReadOrDie(*file, 1, offset + 1000, 2 * kBlockSize);
  EXPECT_TRUE(std::equal(middle.begin(), middle.end(), data.begin() + 1000));
  auto head = ReadOrDie(*file, 1, 0, kBlockSize);
  EXPECT_TRUE(AllZero(std::span(head).first(offset)));
  // Persisted: a reopened file reads the same.
  file.reset();
  auto reopened = ReopenOrDie();
  EXPECT_EQ(reopened->chunk_id(), 42u);
  EXPECT_EQ(ReadOrDie(*reopened, 1, offset, data.size()), data);
}

TEST_F(ChunkFileTest, PartialBlockWriteKeepsTheRestOfTheBlock) {
  auto file = CreateOrDie();
  auto block = Pattern(kBlockSize, 2);
  ASSERT_TRUE(file->Write(1, 0, block).ok());
  auto patch = Pattern(100, 9);
  ASSERT_TRUE(file->Write(1, 5000, patch).ok());
  std::copy(patch.begin(), patch.end(), block.begin() + 5000);
  EXPECT_EQ(ReadOrDie(*file, 1, 0, kBlockSize), block);
  file.reset();
  EXPECT_EQ(ReadOrDie(*ReopenOrDie(), 1, 0, kBlockSize), block);
}

TEST_F(ChunkFileTest, ReadPastEndGivesZeros) {
  auto file = CreateOrDie();
  auto data = Pattern(1000, 3);
  ASSERT_TRUE(file->Write(1, 0, data).ok());
  auto out = ReadOrDie(*file, 1, 500, 3 * kBlockSize);
  EXPECT_TRUE(std::equal(data.begin() + 500, data.end(), out.begin()));
  EXPECT_TRUE(AllZero(std::span(out).subspan(500)));
  EXPECT_TRUE(AllZero(ReadOrDie(*file, 1, kChunkSize - kBlockSize, kBlockSize)));
  std::vector<std::byte> beyond(10);
  EXPECT_EQ(file->Read(1, kChunkSize - 5, beyond).error(), EINVAL);
}

TEST_F(ChunkFileTest, TruncateThenExtendReadsZeros) {
  auto file = CreateOrDie();
  auto data = Pattern(3 * kBlockSize, 4);
  ASSERT_TRUE(file->Write(1, 0, data).ok());
  const uint64_t cut = kBlockSize + 300;
  ASSERT_TRUE(file->Truncate(1, cut).ok());
  EXPECT_EQ(file->data_length(), cut);
  // Extend past the old end by a write, and by a truncate upwards.
  auto tail = Pattern(10, 5);
  ASSERT_TRUE(file->Write(1, 3 * kBlockSize + 50, tail).ok());
  file.reset();
  auto reopened = ReopenOrDie();
  auto out = ReadOrDie(*reopened, 1, 0, 4 * kBlockSize);
  EXPECT_TRUE(std::equal(data.begin(), data.begin() + cut, out.begin()));
  EXPECT_TRUE(AllZero(std::span(out).subspan(cut, 3 * kBlockSize + 50 - cut)));
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), out.begin() + 3 * kBlockSize + 50));
  ASSERT_TRUE(reopened->Truncate(1, 100).ok());
  ASSERT_TRUE(reopened->Truncate(1, 2 * kBlockSize).ok());
  out = ReadOrDie(*reopened, 1, 0, 2 * kBlockSize);
  EXPECT_TRUE(std::equal(data.begin(), data.begin() + 100, out.begin()));
  EXPECT_TRUE(AllZero(std::span(out).subspan(100)));
}

// Bytes the file occupies on disk (st_blocks), to see holes punched.
uint64_t DiskBytes(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST_F(ChunkFileTest, PunchHoleZeroesTheRangeKeepsTheRestAndTheLength) {
  auto file = CreateOrDie();
  auto data = Pattern(8 * kBlockSize + 500, 6);
  ASSERT_TRUE(file->Write(1, 0, data).ok());
  ASSERT_TRUE(file->Sync().ok());
  uint64_t disk_before = DiskBytes(path_);
  // From mid-block 1 to mid-block 6: partial blocks at both ends, four whole ones between.
  const uint64_t from = kBlockSize + 1000;
  const uint64_t to = 6 * kBlockSize + 2000;
  ASSERT_TRUE(file->PunchHole(2, from, to - from).ok());
  EXPECT_EQ(file->data_length(), data.size());
  EXPECT_EQ(file->chunk_version(), 2u);
  std::fill(data.begin() + from, data.begin() + to, std::byte{0});
  file.reset();
  auto reopened = ReopenOrDie();  // every block still passes its checksum
  EXPECT_EQ(ReadOrDie(*reopened, 2, 0, data.size()), data);
  EXPECT_LE(DiskBytes(path_) + 4 * kBlockSize, disk_before);
  // To the stored end (a short last block) and past it: nothing of the tail remains.
  ASSERT_TRUE(reopened->PunchHole(2, 7 * kBlockSize + 10, kChunkSize - 7 * kBlockSize - 10).ok());
  std::fill(data.begin() + 7 * kBlockSize + 10, data.end(), std::byte{0});
  EXPECT_EQ(ReadOrDie(*reopened, 2, 0, data.size()), data);
  // Inside one block.
  ASSERT_TRUE(reopened->PunchHole(2, 10, 20).ok());
  std::fill(data.begin() + 10, data.begin() + 30, std::byte{0});
  EXPECT_EQ(ReadOrDie(*ReopenOrDie(), 2, 0, data.size()), data);
  EXPECT_EQ(reopened->PunchHole(1, 0, 10).error(), ESTALE);
  EXPECT_EQ(reopened->PunchHole(2, kChunkSize - 5, 10).error(), EINVAL);
}

TEST_F(ChunkFileTest, ReserveGrowsTheLengthWithZerosAndKeepsTheData) {
  auto file = CreateOrDie();
  auto data = Pattern(1000, 7);
  ASSERT_TRUE(file->Write(1, 0, data).ok());
  ASSERT_TRUE(file->Reserve(1, 500, 3 * kBlockSize).ok());
  EXPECT_EQ(file->data_length(), 500 + 3 * kBlockSize);
  EXPECT_GE(DiskBytes(path_), kChunkDataOffset + 3 * kBlockSize);
  // A reservation inside the data changes nothing.
  ASSERT_TRUE(file->Reserve(1, 0, 10).ok());
  EXPECT_EQ(file->data_length(), 500 + 3 * kBlockSize);
  file.reset();
  auto out = ReadOrDie(*ReopenOrDie(), 1, 0, 500 + 3 * kBlockSize);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), out.begin()));
  EXPECT_TRUE(AllZero(std::span(out).subspan(data.size())));
}

TEST_F(ChunkFileTest, VersionRules) {
  auto file = CreateOrDie(5);
  std::vector<std::byte> out(10);
  auto data = Pattern(10, 6);
  EXPECT_EQ(file->Read(4, 0, out).error(), ESTALE);
  EXPECT_EQ(file->Read(6, 0, out).error(), ESTALE);
  EXPECT_EQ(file->Write(4, 0, data).error(), ESTALE);
  EXPECT_EQ(file->Truncate(4, 0).error(), ESTALE);
  ASSERT_TRUE(file->Write(7, 0, data).ok());
  EXPECT_EQ(file->chunk_version(), 7u);
  EXPECT_EQ(file->Read(5, 0, out).error(), ESTALE);
  EXPECT_EQ(ReadOrDie(*file, 7, 0, 10), data);
  ASSERT_TRUE(file->Truncate(8, 5).ok());
  ASSERT_TRUE(file->Write(9, 0, {}).ok());  // an empty write still raises the version
  file.reset();
  EXPECT_EQ(ReopenOrDie()->chunk_version(), 9u);
}

TEST_F(ChunkFileTest, CorruptDataByteFailsOnlyItsBlock) {
  auto file = CreateOrDie();
  auto data = Pattern(3 * kBlockSize, 7);
  ASSERT_TRUE(file->Write(1, 0, data).ok());
  file.reset();
  FlipByteOnDisk(path_, kChunkDataOffset + kBlockSize + 7);
  auto reopened = ReopenOrDie();
  std::vector<std::byte> out(kBlockSize);
  EXPECT_EQ(reopened->Read(1, kBlockSize, out).error(), EBADMSG);
  std::vector<std::byte> small(10);
  EXPECT_EQ(reopened->Read(1, kBlockSize + 100, small).error(), EBADMSG);
  std::vector<std::byte> all(3 * kBlockSize);
  EXPECT_EQ(reopened->Read(1, 0, all).error(), EBADMSG);
  EXPECT_TRUE(std::equal(data.begin(), data.begin() + kBlockSize, ReadOrDie(*reopened, 1, 0, kBlockSize).begin()));
  EXPECT_TRUE(std::equal(data.begin() + 2 * kBlockSize, data.end(),
                         ReadOrDie(*reopened, 1, 2 * kBlockSize, kBlockSize).begin()));
  // A partial write into the bad block must not bless it with a fresh checksum.
  EXPECT_EQ(reopened->Write(1, kBlockSize + 10, Pattern(10, 8)).error(), EBADMSG);
  EXPECT_EQ(reopened->Read(1, kBlockSize, out).error(), EBADMSG);
  // A whole-block overwrite repairs it.
  ASSERT_TRUE(reopened->Write(1, kBlockSize, Pattern(kBlockSize, 9)).ok());
  EXPECT_EQ(ReadOrDie(*reopened, 1, kBlockSize, kBlockSize), Pattern(kBlockSize, 9));
}

TEST_F(ChunkFileTest, NoWaitReadTakesOnlyWhatThePageCacheHolds) {
  auto file = CreateOrDie();
  auto data = Pattern(3 * kBlockSize, 3);
  ASSERT_TRUE(file->Write(1, 0, data).ok());
  // Just written, so cached: parts of two blocks, a whole one, and past the stored end.
  std::vector<std::byte> out(2 * kBlockSize + 300);
  ASSERT_TRUE(file->Read(1, 100, out, ReadMode::kNoWait).ok());
  EXPECT_TRUE(std::equal(out.begin(), out.end(), data.begin() + 100));
  std::vector<std::byte> tail(200);
  ASSERT_TRUE(file->Read(1, data.size() - 100, tail, ReadMode::kNoWait).ok());
  EXPECT_TRUE(std::equal(tail.begin(), tail.begin() + 100, data.end() - 100));
  EXPECT_TRUE(AllZero({tail.data() + 100, 100}));

  EvictFromPageCache(path_);
  EXPECT_EQ(file->Read(1, 100, out, ReadMode::kNoWait).error(), EAGAIN);
  // A read that may wait brings the blocks back into the cache.
  EXPECT_TRUE(
      std::equal(data.begin() + 100, data.begin() + 100 + out.size(), ReadOrDie(*file, 1, 100, out.size()).begin()));
  ASSERT_TRUE(file->Read(1, 100, out, ReadMode::kNoWait).ok());
  EXPECT_TRUE(std::equal(out.begin(), out.end(), data.begin() + 100));
}

TEST_F(ChunkFileTest, NoWaitReadStillRefusesACorruptBlock) {
  auto file = CreateOrDie();
  ASSERT_TRUE(file->Write(1, 0, Pattern(2 * kBlockSize, 5)).ok());
  FlipByteOnDisk(path_, kChunkDataOffset + kBlockSize + 7);  // lands in the page cache
  std::vector<std::byte> small(10);
  EXPECT_EQ(file->Read(1, kBlockSize + 100, small, ReadMode::kNoWait).error(), EBADMSG);
  std::vector<std::byte> both(2 * kBlockSize);
  EXPECT_EQ(file->Read(1, 0, both, ReadMode::kNoWait).error(), EBADMSG);
  EXPECT_TRUE(file->Read(1, 0, small, ReadMode::kNoWait).ok());
}

TEST_F(ChunkFileTest, CorruptHeaderIsAnErrorNotACrash) {
  auto file = CreateOrDie();
  ASSERT_TRUE(file->Write(1, 0, Pattern(100, 1)).ok());
  file.reset();
  FlipByteOnDisk(path_, 20);
  auto opened = ChunkFile::Open(path_, 42);
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().error(), EBADMSG);
  ASSERT_EQ(::truncate(path_.c_str(), 30), 0);
  EXPECT_EQ(ChunkFile::Open(path_, 42).error().error(), EBADMSG);
  EXPECT_EQ(ChunkFile::Open(dir_.path() + "/missing", 42).error().error(), ENOENT);
}

TEST_F(ChunkFileTest, FileOfAnotherChunkOrVersionIsRefused) {
  auto file = CreateOrDie(3);
  ASSERT_TRUE(file->Write(3, 0, Pattern(100, 1)).ok());
  file.reset();
  // A sound file (every checksum passes) under the name of chunk 43.
  auto other = ChunkFile::Open(path_, 43);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().error(), EBADMSG);
  EXPECT_NE(other.error().message().find("holds chunk 42, not chunk 43"), std::string::npos);
  EXPECT_EQ(ChunkFile::Open(path_, 42, 2).error().error(), EBADMSG);
  EXPECT_EQ(ChunkFile::Open(path_, 42, 4).error().error(), EBADMSG);
  auto same = ChunkFile::Open(path_, 42, 3);
  ASSERT_TRUE(same.has_value()) << same.error().ToString();
  EXPECT_EQ(ReadOrDie(**same, 3, 0, 100), Pattern(100, 1));
}

TEST_F(ChunkFileTest, CreateRefusesAnExistingFileAndSyncWorks) {
  auto file = CreateOrDie();
  ASSERT_TRUE(file->Write(1, 0, Pattern(100, 1)).ok());
  EXPECT_TRUE(file->Sync().ok());
  EXPECT_EQ(ChunkFile::Create(path_, 42, 1).error().error(), EEXIST);
}

}  // namespace
}  // namespace hafs
