#include "chunkserver/chunk_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <future>
#include <thread>

#include "chunkserver/temp_dir_for_test.h"

namespace hafs {

// Reaches into the store the way only a writer would: holding a chunk's lock.
class ChunkStoreTestPeer {
 public:
  // Runs `check` while another thread holds chunk `chunk_id`'s lock.
  static void WhileChunkLocked(ChunkStore& store, uint64_t chunk_id, const std::function<void()>& check) {
    auto entry = store.Find(chunk_id);
    ASSERT_TRUE(entry);
    std::promise<void> locked;
    std::promise<void> release;
    std::thread holder([&] {
      std::lock_guard lock(entry->mutex);
      locked.set_value();
      release.get_future().wait();
    });
    locked.get_future().wait();
    check();
    release.set_value();
    holder.join();
  }
};

namespace {

std::vector<std::byte> Filled(size_t size, char value) { return std::vector<std::byte>(size, std::byte(value)); }

class ChunkStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChunkStore> OpenOrDie(uint64_t reserve_bytes = 0, int dirs = 1) {
    ChunkStoreOptions options;
    for (int i = 0; i < dirs; ++i) options.data_dirs.push_back(dir_.Subdir("data" + std::to_string(i)));
    options.reserve_bytes = reserve_bytes;
    auto store = ChunkStore::Open(options);
    EXPECT_TRUE(store.has_value()) << store.error().ToString();
    return std::move(*store);
  }

  // Overwrites one byte of the only chunk file in the data directories.
  void DamageTheChunkFile(uint64_t offset) {
    std::string path;
    for (auto& entry : std::filesystem::recursive_directory_iterator(dir_.path())) {
      if (entry.path().extension() == ".chunk") path = entry.path().string();
    }
    ASSERT_FALSE(path.empty());
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_EQ(::pwrite(fd, "!", 1, static_cast<off_t>(offset)), 1);
    ::close(fd);
  }

  TempDirForTest dir_;
};

TEST_F(ChunkStoreTest, RefusesAMissingOrBadDataDirectoryByName) {
  ChunkStoreOptions options;
  options.data_dirs = {dir_.Subdir("good"), dir_.path() + "/missing"};
  auto store = ChunkStore::Open(options);
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().message().find(dir_.path() + "/missing"), std::string::npos);
  std::string file = dir_.path() + "/a-file";
  ::close(::open(file.c_str(), O_CREAT | O_WRONLY, 0644));
  options.data_dirs = {file};
  EXPECT_FALSE(ChunkStore::Open(options).has_value());
}

TEST_F(ChunkStoreTest, UuidIsStableAcrossRestarts) {
  std::string uuid = OpenOrDie()->uuid();
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_EQ(OpenOrDie()->uuid(), uuid);
}

TEST_F(ChunkStoreTest, UnknownChunkIsENOENT) {
  auto store = OpenOrDie();
  std::vector<std::byte> out(10);
  EXPECT_EQ(store->Read(7, 1, 0, out).error().error(), ENOENT);
  EXPECT_EQ(store->Sync(7).error(), ENOENT);
  EXPECT_EQ(store->Delete(7).error(), ENOENT);
}

TEST_F(ChunkStoreTest, ChunksSurviveARestartOverSeveralDirectories) {
  {
    auto store = OpenOrDie(0, 2);
    for (uint64_t id = 1; id <= 20; ++id) {
      ASSERT_TRUE(store->Write(id, id + 100, 0, Filled(1000, static_cast<char>(id))).ok());
      ASSERT_TRUE(store->Sync(id).ok());
    }
  }
  auto store = OpenOrDie(0, 2);
  EXPECT_EQ(store->ChunkCount(), 20u);
  auto chunks = store->Chunks();
  ASSERT_EQ(chunks.size(), 20u);
  for (const auto& chunk : chunks) EXPECT_EQ(chunk.chunk_version(), chunk.chunk_id() + 100);
  std::vector<std::byte> out(1000);
  auto length = store->Read(5, 105, 0, out);
  ASSERT_TRUE(length.has_value());
  EXPECT_EQ(*length, 1000u);
  EXPECT_EQ(out, Filled(1000, 5));
  EXPECT_EQ(store->Space().used_bytes(), 20u * 1000);
  EXPECT_GT(store->Space().total_bytes(), 0u);
}

TEST_F(ChunkStoreTest, DeleteRemovesTheChunk) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->Write(3, 1, 0, Filled(10, 'x')).ok());
  ASSERT_TRUE(store->Delete(3).ok());
  std::vector<std::byte> out(10);
  EXPECT_EQ(store->Read(3, 1, 0, out).error().error(), ENOENT);
  EXPECT_EQ(store->ChunkCount(), 0u);
  EXPECT_EQ(OpenOrDie()->ChunkCount(), 0u);
  // And it can be made again.
  ASSERT_TRUE(store->Write(3, 2, 0, Filled(10, 'y')).ok());
  ASSERT_TRUE(store->Read(3, 2, 0, out).has_value());
}

TEST_F(ChunkStoreTest, CorruptReplicaIsReportedLost) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->Write(9, 4, 0, Filled(2 * kBlockSize, 'z')).ok());
  }
  DamageTheChunkFile(kChunkDataOffset + kBlockSize + 1);
  auto store = OpenOrDie();
  std::vector<std::byte> out(kBlockSize);
  EXPECT_EQ(store->Read(9, 4, kBlockSize, out).error().error(), EBADMSG);
  EXPECT_TRUE(store->Read(9, 4, 0, out).has_value());
  auto lost = store->TakeLostChunks();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].chunk_id(), 9u);
  EXPECT_EQ(lost[0].chunk_version(), 4u);
  EXPECT_TRUE(store->TakeLostChunks().empty());
}

TEST_F(ChunkStoreTest, NoWaitReadServesOnlyAnOpenChunkNobodyHolds) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->Write(5, 1, 0, Filled(5000, 'n')).ok());
  }
  auto store = OpenOrDie();  // no chunk file open yet
  std::vector<std::byte> out(4096);
  EXPECT_EQ(store->Read(5, 1, 0, out, ReadMode::kNoWait).error().error(), EAGAIN);
  EXPECT_EQ(store->Read(5, 1, 0, out, ReadMode::kNoWait).error().error(), EAGAIN);  // it opened nothing
  EXPECT_EQ(store->Read(6, 1, 0, out, ReadMode::kNoWait).error().error(), ENOENT);
  EXPECT_EQ(store->Read(5, 1, 0, out).value_or(0), 5000u);  // opens it
  std::ranges::fill(out, std::byte{0});
  auto length = store->Read(5, 1, 0, out, ReadMode::kNoWait);
  ASSERT_TRUE(length.has_value()) << length.error().ToString();
  EXPECT_EQ(*length, 5000u);
  EXPECT_EQ(out, Filled(4096, 'n'));
  // A writer holds the chunk: the read does not wait for it.
  ChunkStoreTestPeer::WhileChunkLocked(
      *store, 5, [&] { EXPECT_EQ(store->Read(5, 1, 0, out, ReadMode::kNoWait).error().error(), EAGAIN); });
  EXPECT_TRUE(store->Read(5, 1, 0, out, ReadMode::kNoWait).has_value());
  EXPECT_TRUE(store->TakeLostChunks().empty());
}

TEST_F(ChunkStoreTest, CorruptBlockFoundByANoWaitReadIsReportedLost) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->Write(9, 4, 0, Filled(2 * kBlockSize, 'z')).ok());
  DamageTheChunkFile(kChunkDataOffset + kBlockSize + 1);  // through the page cache
  std::vector<std::byte> out(100);
  EXPECT_EQ(store->Read(9, 4, kBlockSize, out, ReadMode::kNoWait).error().error(), EBADMSG);
  auto lost = store->TakeLostChunks();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].chunk_id(), 9u);
  EXPECT_EQ(lost[0].chunk_version(), 4u);
}

TEST_F(ChunkStoreTest, FullDiskRefusesWritesWithoutDamage) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->Write(1, 1, 0, Filled(1000, 'a')).ok());
    EXPECT_FALSE(store->Full());
  }
  auto store = OpenOrDie(uint64_t{1} << 62);  // a reserve larger than any disk
  EXPECT_TRUE(store->Full());
  EXPECT_EQ(store->Write(2, 1, 0, Filled(10, 'b')).error(), ENOSPC);
  std::vector<std::byte> out(1000);
  EXPECT_EQ(store->Read(2, 1, 0, out).error().error(), ENOENT);
  EXPECT_EQ(store->Write(1, 1, 900, Filled(200, 'c')).error(), ENOSPC);
  ASSERT_TRUE(store->Read(1, 1, 0, out).has_value());
  EXPECT_EQ(out, Filled(1000, 'a'));
  // Overwriting in place needs no space.
  EXPECT_TRUE(store->Write(1, 1, 0, Filled(10, 'd')).ok());
}

TEST_F(ChunkStoreTest, ConcurrentWritersToOneAndManyChunks) {
  auto store = OpenOrDie();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE(store->Write(100, 1, static_cast<uint64_t>(t) * kBlockSize + i * 100, Filled(100, 'a' + t)).ok());
        EXPECT_TRUE(store->Write(200 + t, 1, 0, Filled(kBlockSize + 1, 'a' + t)).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<std::byte> out(5000);
  for (int t = 0; t < 4; ++t) {
    ASSERT_TRUE(store->Read(100, 1, static_cast<uint64_t>(t) * kBlockSize, out).has_value());
    EXPECT_EQ(out, Filled(5000, 'a' + t));
  }
  EXPECT_EQ(store->ChunkCount(), 5u);
}

}  // namespace
}  // namespace hafs
