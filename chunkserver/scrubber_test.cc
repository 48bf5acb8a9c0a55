#include "chunkserver/scrubber.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "chunkserver/chunk_file.h"
#include "chunkserver/replica_verifier.h"
#include "chunkserver/temp_dir_for_test.h"

namespace hafs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kUnlimited = uint64_t{1} << 40;  // bytes per second

std::vector<std::byte> Filled(size_t size, char value) { return std::vector<std::byte>(size, std::byte(value)); }

// Polls `condition` until it holds or `timeout` passes; returns whether it holds.
bool WaitFor(const std::function<bool()>& condition, Clock::duration timeout = seconds(30)) {
  Clock::time_point deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return true;
}

std::vector<uint64_t> LostIds(ChunkStore& store) {
  std::vector<uint64_t> chunk_ids;
  for (const auto& report : store.TakeLostChunks()) chunk_ids.push_back(report.chunk_id());
  return chunk_ids;
}

class ScrubberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = dir_.Subdir("data");
    ChunkStoreOptions options;
    options.data_dirs = {data_dir_};
    options.reserve_bytes = 0;
    auto store = ChunkStore::Open(options);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
  }

  // Chunks first_id..last_id, each `size_bytes` long, at version chunk id + 100.
  void WriteChunks(uint64_t first_id, uint64_t last_id, size_t size_bytes) {
    for (uint64_t chunk_id = first_id; chunk_id <= last_id; ++chunk_id) {
      ASSERT_TRUE(store_->Write(chunk_id, chunk_id + 100, 0, Filled(size_bytes, static_cast<char>(chunk_id))).ok());
    }
  }

  // Flips one byte of the chunk's data on disk, behind the store's back.
  void FlipByte(uint64_t chunk_id, uint64_t offset) {
    char name[40];
    std::snprintf(name, sizeof name, "/%02x/%016llx.chunk", static_cast<unsigned>(chunk_id & 0xff),
                  static_cast<unsigned long long>(chunk_id));
    std::string path = data_dir_ + name;
    int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0) << path;
    char byte = 0;
    ASSERT_EQ(::pread(fd, &byte, 1, static_cast<off_t>(kChunkDataOffset + offset)), 1);
    byte = static_cast<char>(~byte);
    ASSERT_EQ(::pwrite(fd, &byte, 1, static_cast<off_t>(kChunkDataOffset + offset)), 1);
    ::close(fd);
  }

  ScrubberOptions Options(uint64_t rate_bytes_per_s) const {
    ScrubberOptions options;
    options.rate_bytes_per_s = rate_bytes_per_s;
    options.position_path = position_path();
    options.min_pass_interval_ms = 60000;  // one pass per test unless a test wants more
    return options;
  }

  std::string position_path() const { return data_dir_ + "/" + kScrubPositionFile; }

  TempDirForTest dir_;
  std::string data_dir_;
  std::unique_ptr<ChunkStore> store_;
};

TEST_F(ScrubberTest, CleanStorePassesWithoutReports) {
  WriteChunks(1, 3, 3 * kBlockSize);            // whole blocks
  WriteChunks(4, 5, 2 * kBlockSize + 7);        // a short last block
  ASSERT_TRUE(store_->Truncate(6, 1, 0).ok());  // an empty chunk
  Scrubber scrubber(*store_, Options(kUnlimited));
  scrubber.Start();
  ASSERT_TRUE(WaitFor([&] { return scrubber.counters().passes_completed >= 1; }));
  ScrubberCounters counters = scrubber.counters();
  EXPECT_EQ(counters.blocks_scrubbed, 3u * 3 + 2u * 3);
  EXPECT_EQ(counters.chunks_scrubbed, 6u);
  EXPECT_EQ(counters.bad_blocks, 0u);
  EXPECT_TRUE(store_->TakeLostChunks().empty());
  scrubber.Stop();
  EXPECT_EQ(Scrubber::LoadPosition(position_path()), 0u);  // the next pass starts from the beginning
}

TEST_F(ScrubberTest, FlippedByteReportsThatChunkOnly) {
  WriteChunks(1, 6, 3 * kBlockSize);
  FlipByte(4, 2 * kBlockSize + 100);
  Scrubber scrubber(*store_, Options(kUnlimited));
  scrubber.Start();
  ASSERT_TRUE(WaitFor([&] { return scrubber.counters().passes_completed >= 1; }));
  ScrubberCounters counters = scrubber.counters();
  EXPECT_EQ(counters.bad_blocks, 1u);
  EXPECT_EQ(counters.chunks_scrubbed, 6u);
  auto lost = store_->TakeLostChunks();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].chunk_id(), 4u);
  EXPECT_EQ(lost[0].chunk_version(), 104u);
  // The replica stays (the master decides); its good blocks still read.
  std::vector<std::byte> out(kBlockSize);
  EXPECT_TRUE(store_->Read(4, 104, 0, out).has_value());
}

TEST_F(ScrubberTest, RestartResumesAfterTheLastFinishedChunk) {
  WriteChunks(1, 20, kBlockSize);
  uint64_t position = 0;
  {
    ScrubberOptions options = Options(5 * kBlockSize);  // five chunks a second
    options.piece_bytes = kBlockSize;
    Scrubber scrubber(*store_, options);
    scrubber.Start();
    ASSERT_TRUE(WaitFor([&] { return scrubber.counters().chunks_scrubbed >= 3; }));
    scrubber.Stop();
    position = Scrubber::LoadPosition(position_path());
    EXPECT_GE(position, 3u);
    EXPECT_EQ(position, scrubber.counters().chunks_scrubbed);
  }
  ASSERT_LT(position, 20u);
  // One chunk before the position, one after: the restarted scrubber finds the later one first.
  FlipByte(1, 10);
  FlipByte(20, 10);
  ScrubberOptions options = Options(kUnlimited);
  options.min_pass_interval_ms = 0;
  Scrubber scrubber(*store_, options);
  scrubber.Start();
  ASSERT_TRUE(WaitFor([&] { return scrubber.counters().bad_blocks >= 2; }));
  scrubber.Stop();
  auto lost = LostIds(*store_);
  ASSERT_GE(lost.size(), 2u);
  EXPECT_EQ(lost[0], 20u);
  EXPECT_EQ(lost[1], 1u);
}

TEST_F(ScrubberTest, PositionFileRoundTripsAndAGarbledOneStartsOver) {
  ASSERT_TRUE(Scrubber::SavePosition(position_path(), 0x1234567890ull).ok());
  EXPECT_EQ(Scrubber::LoadPosition(position_path()), 0x1234567890ull);
  std::ofstream(position_path()) << "12x\n";
  EXPECT_EQ(Scrubber::LoadPosition(position_path()), 0u);
  std::ofstream(position_path()) << "12";  // cut short
  EXPECT_EQ(Scrubber::LoadPosition(position_path()), 0u);
  EXPECT_EQ(Scrubber::LoadPosition(dir_.path() + "/missing"), 0u);
}

TEST_F(ScrubberTest, RateIsRoughlyRespected) {
  WriteChunks(1, 4, 4 * kBlockSize);  // 1 MiB in all
  ScrubberOptions options = Options(1 << 20);
  options.piece_bytes = 4 * kBlockSize;
  Scrubber scrubber(*store_, options);
  Clock::time_point started = Clock::now();
  scrubber.Start();
  ASSERT_TRUE(WaitFor([&] { return scrubber.counters().passes_completed >= 1; }));
  // 1 MiB at 1 MiB/s: about a second; only the lower bound is meaningful on a busy machine.
  EXPECT_GE(Clock::now() - started, milliseconds(750));
  EXPECT_EQ(scrubber.counters().blocks_scrubbed, 16u);
}

TEST_F(ScrubberTest, StopReturnsPromptlyAndWritesAreNotHeldUp) {
  WriteChunks(1, 1, 2 * kBlockSize);
  ScrubberOptions options = Options(1024);  // a minute per block
  options.piece_bytes = kBlockSize;
  Scrubber scrubber(*store_, options);
  scrubber.Start();
  ASSERT_TRUE(WaitFor([&] { return scrubber.counters().blocks_scrubbed >= 1; }));
  // The scrubber now waits for its rate, holding no chunk lock.
  Clock::time_point write_started = Clock::now();
  ASSERT_TRUE(store_->Write(1, 101, 0, Filled(10, 'w')).ok());
  EXPECT_LT(Clock::now() - write_started, seconds(5));
  Clock::time_point stop_started = Clock::now();
  scrubber.Stop();
  EXPECT_LT(Clock::now() - stop_started, seconds(5));
  EXPECT_EQ(scrubber.counters().passes_completed, 0u);
}

TEST_F(ScrubberTest, ChunkDeletedUnderItIsSkippedWithoutReport) {
  WriteChunks(1, 1, 8 * kBlockSize);
  WriteChunks(2, 3, 2 * kBlockSize);
  ScrubberOptions options = Options(8 * kBlockSize);  // chunk 1 takes a second
  options.piece_bytes = kBlockSize;
  Scrubber scrubber(*store_, options);
  scrubber.Start();
  ASSERT_TRUE(WaitFor([&] { return scrubber.counters().blocks_scrubbed >= 1; }));
  ASSERT_TRUE(store_->Delete(1).ok());
  ASSERT_TRUE(WaitFor([&] { return scrubber.counters().passes_completed >= 1; }));
  EXPECT_EQ(scrubber.counters().chunks_scrubbed, 2u);
  EXPECT_EQ(scrubber.counters().bad_blocks, 0u);
  EXPECT_TRUE(store_->TakeLostChunks().empty());
}

// ReplicaVerifier reads a replica's blocks as the scrubber does, when a master asks.
using ReplicaVerifierTest = ScrubberTest;

TEST_F(ReplicaVerifierTest, AGoodReplicaIsNotReportedABadOneAndAMissingOneAre) {
  WriteChunks(1, 2, 3 * kBlockSize + 5);
  FlipByte(2, kBlockSize + 9);
  ReplicaVerifier verifier(*store_);
  EXPECT_TRUE(verifier.Verify(1).ok());
  EXPECT_TRUE(store_->TakeLostChunks().empty());
  EXPECT_EQ(verifier.Verify(2).error(), EBADMSG);
  EXPECT_EQ(LostIds(*store_), std::vector<uint64_t>{2});
  EXPECT_EQ(verifier.Verify(77).error(), ENOENT);  // the master counts a replica that is not here
  EXPECT_EQ(LostIds(*store_), std::vector<uint64_t>{77});
}

TEST_F(ReplicaVerifierTest, RequestsAreCheckedByItsThreadOnceEach) {
  WriteChunks(1, 3, kBlockSize);
  FlipByte(3, 10);
  ReplicaVerifier verifier(*store_);
  verifier.Start();
  for (int round = 0; round < 3; ++round) {
    for (uint64_t chunk_id : {1, 3, 99}) verifier.Request(chunk_id);
  }
  std::set<uint64_t> lost;
  ASSERT_TRUE(WaitFor([&] {
    for (uint64_t chunk_id : LostIds(*store_)) lost.insert(chunk_id);
    return lost.size() >= 2;
  }));
  verifier.Stop();
  for (uint64_t chunk_id : LostIds(*store_)) lost.insert(chunk_id);
  EXPECT_EQ(lost, (std::set<uint64_t>{3, 99}));  // the good chunk 1 is never reported
}

}  // namespace
}  // namespace hafs
