#include "chunkserver/chunk_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <future>
#include <set>
#include <thread>

#include "chunkserver/temp_dir_for_test.h"

namespace hafs {

// Reaches into the store the way only a writer or a failing disk would: holding a
// chunk's lock, failing an operation on it.
class ChunkStoreTestPeer {
 public:
  // An operation on the chunk fails with `error`, as when the disk under it does.
  static Status FailIo(ChunkStore& store, uint64_t chunk_id, int error) {
    auto entry = store.Find(chunk_id);
    if (!entry) return Status::Error(ENOENT, "no chunk " + std::to_string(chunk_id));
    std::lock_guard lock(entry->mutex);
    return store.NoteFailure(chunk_id, *entry, Status::Error(error, "failed by the test"));
  }

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

  // A store over data0 and data1 with chunks 1 and 2 in data0 and 3, 4 and 5 in data1, each
  // at version 10 + id, holding id * 100 bytes of the letter 'a' + id. (A new chunk goes
  // to the directory with the most free space, a tie to the first: so the chunks are
  // written by stores of one directory each.)
  std::unique_ptr<ChunkStore> OpenWithChunksInTwoDirectories(ChunkStoreOptions options = {}) {
    options.reserve_bytes = 0;
    for (auto [dir, ids] : {std::pair{0, std::vector<uint64_t>{1, 2}}, {1, {3, 4, 5}}}) {
      options.data_dirs = {dir_.Subdir("data" + std::to_string(dir))};
      auto store = ChunkStore::Open(options);
      EXPECT_TRUE(store.has_value());
      for (uint64_t id : ids) EXPECT_TRUE((*store)->Write(id, 10 + id, 0, ChunkBytes(id)).ok());
    }
    options.data_dirs = {dir_.Subdir("data0"), dir_.Subdir("data1")};
    auto store = ChunkStore::Open(options);
    EXPECT_TRUE(store.has_value()) << store.error().ToString();
    return std::move(*store);
  }
  static std::vector<std::byte> ChunkBytes(uint64_t id) { return Filled(id * 100, static_cast<char>('a' + id)); }
  static std::set<uint64_t> Ids(const std::vector<wire::ChunkReport>& chunks) {
    std::set<uint64_t> ids;
    for (const auto& chunk : chunks) ids.insert(chunk.chunk_id());
    return ids;
  }
  std::string ChunkFilePath(int dir, uint64_t chunk_id) {
    char name[32];
    std::snprintf(name, sizeof name, "/%02x/%016llx.chunk", static_cast<unsigned>(chunk_id & 0xff),
                  static_cast<unsigned long long>(chunk_id));
    return dir_.path() + "/data" + std::to_string(dir) + name;
  }
  bool InDir(int dir, uint64_t chunk_id) { return std::filesystem::exists(ChunkFilePath(dir, chunk_id)); }
  // Exchanges two chunk files of data0, as a careless `mv` would.
  void SwapChunkFiles(uint64_t chunk_a, uint64_t chunk_b) {
    std::string a = ChunkFilePath(0, chunk_a);
    std::string b = ChunkFilePath(0, chunk_b);
    std::filesystem::rename(a, a + ".swap");
    std::filesystem::rename(b, a);
    std::filesystem::rename(a + ".swap", b);
  }
  static uint64_t ModeOf(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
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
  // Both data directories are on one file system: it is named once, with this host's id.
  wire::DiskSpace space = store->Space();
  ASSERT_EQ(space.file_systems_size(), 1);
  EXPECT_EQ(space.file_systems(0).total_bytes(), space.total_bytes());
  EXPECT_NE(space.file_systems(0).id().find(':'), std::string::npos);
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

TEST_F(ChunkStoreTest, SwappedChunkFilesAreNotServedAndAreReportedLost) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->Write(1, 11, 0, Filled(100, 'a')).ok());
    ASSERT_TRUE(store->Write(2, 12, 0, Filled(100, 'b')).ok());
  }
  SwapChunkFiles(1, 2);
  auto store = OpenOrDie();
  std::vector<std::byte> out(100);
  // Every checksum in both files passes: only the header's id gives them away.
  EXPECT_EQ(store->Read(1, 11, 0, out).error().error(), ENOENT);
  EXPECT_EQ(store->Read(2, 12, 0, out).error().error(), ENOENT);
  EXPECT_EQ(store->Read(1, 12, 0, out).error().error(), ENOENT);
  EXPECT_TRUE(store->Chunks().empty());
  EXPECT_EQ(Ids(store->TakeLostChunks()), (std::set<uint64_t>{1, 2}));
  EXPECT_EQ(store->Write(1, 11, 0, Filled(10, 'w')).error(), EIO);
  EXPECT_EQ(store->Sync(1).error(), ENOENT);
  // The master's deletion removes the file; its copy (version 0 first) brings the chunk back.
  ASSERT_TRUE(store->Delete(1).ok());
  EXPECT_FALSE(InDir(0, 1));
  ASSERT_TRUE(store->Write(1, 0, 0, Filled(100, 'a')).ok());
  ASSERT_TRUE(store->Write(1, 11, 0, {}).ok());
  ASSERT_TRUE(store->Read(1, 11, 0, out).has_value());
  EXPECT_EQ(out, Filled(100, 'a'));
  EXPECT_EQ(Ids(store->Chunks()), (std::set<uint64_t>{1}));
}

TEST_F(ChunkStoreTest, FileReplacedWhileClosedIsCheckedWhenReopened) {
  ChunkStoreOptions options;
  options.data_dirs = {dir_.Subdir("data0")};
  options.reserve_bytes = 0;
  options.open_files = 1;  // writing one chunk closes the other's file
  auto store = std::move(*ChunkStore::Open(options));
  std::string path = ChunkFilePath(0, 1);
  ASSERT_TRUE(store->Write(1, 11, 0, Filled(100, 'a')).ok());
  std::filesystem::copy_file(path, path + ".old");
  ASSERT_TRUE(store->Write(1, 12, 0, Filled(100, 'c')).ok());
  ASSERT_TRUE(store->Write(2, 12, 0, Filled(100, 'b')).ok());
  // An older copy of the same chunk put back in its place: sound, right id, wrong version.
  std::filesystem::rename(path + ".old", path);
  std::vector<std::byte> out(100);
  EXPECT_EQ(store->Read(1, 12, 0, out).error().error(), EBADMSG);
  EXPECT_EQ(store->Read(1, 11, 0, out).error().error(), ENOENT);  // never served again
  auto lost = store->TakeLostChunks();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].chunk_id(), 1u);
  EXPECT_EQ(lost[0].chunk_version(), 12u);
  EXPECT_EQ(Ids(store->Chunks()), (std::set<uint64_t>{2}));
}

TEST_F(ChunkStoreTest, FilesAndDirectoriesItMakesArePrivate) {
  mode_t old_umask = ::umask(0);  // the modes must come from the store, not from the umask
  {
    auto store = OpenOrDie();
    EXPECT_TRUE(store->Write(1, 1, 0, Filled(10, 'a')).ok());
  }
  ::umask(old_umask);
  std::string chunk = ChunkFilePath(0, 1);
  EXPECT_EQ(ModeOf(chunk), 0600u);
  EXPECT_EQ(ModeOf(std::filesystem::path(chunk).parent_path().string()), 0700u);
  EXPECT_EQ(ModeOf(dir_.path() + "/data0/chunkserver.uuid"), 0600u);
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

TEST_F(ChunkStoreTest, OneDiskErrorLosesTheReplicaButNotTheDirectory) {
  auto store = OpenWithChunksInTwoDirectories();
  EXPECT_EQ(ChunkStoreTestPeer::FailIo(*store, 3, EIO).error(), EIO);
  auto lost = store->TakeLostChunks();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].chunk_id(), 3u);
  EXPECT_EQ(lost[0].chunk_version(), 13u);
  std::vector<std::byte> out(400);
  EXPECT_EQ(store->Read(3, 13, 0, out).error().error(), ENOENT);
  EXPECT_EQ(store->Delete(3).error(), ENOENT);          // the master's deletion finds nothing to do
  ASSERT_TRUE(store->Read(4, 14, 0, out).has_value());  // the directory still serves
  EXPECT_EQ(out, ChunkBytes(4));
  EXPECT_EQ(store->ChunkCount(), 4u);
  EXPECT_EQ(Ids(store->Chunks()), (std::set<uint64_t>{1, 2, 4, 5}));
}

TEST_F(ChunkStoreTest, ReplicaReportedLostComesBackOnlyAsACopy) {
  auto store = OpenWithChunksInTwoDirectories();
  ASSERT_EQ(ChunkStoreTestPeer::FailIo(*store, 3, EIO).error(), EIO);
  // A client whose lease still names this chunkserver: refused, not a chunk of one write.
  EXPECT_EQ(store->Write(3, 13, kBlockSize, Filled(10, 'w')).error(), EIO);
  EXPECT_EQ(store->ChunkCount(), 4u);
  // The master's copy (version 0 first, then the real one) brings it back.
  ASSERT_TRUE(store->Write(3, 0, 0, ChunkBytes(3)).ok());
  ASSERT_TRUE(store->Write(3, 13, 0, {}).ok());
  EXPECT_TRUE(store->Write(3, 13, kBlockSize, Filled(10, 'w')).ok());
  // Corrupt replicas go the same way once the master has deleted them.
  ASSERT_EQ(ChunkStoreTestPeer::FailIo(*store, 4, EBADMSG).error(), EBADMSG);
  ASSERT_TRUE(store->Delete(4).ok());
  EXPECT_EQ(store->Write(4, 14, 0, Filled(10, 'w')).error(), EIO);
}

TEST_F(ChunkStoreTest, RepeatedDiskErrorsTakeTheDirectoryOutOfService) {
  auto store = OpenWithChunksInTwoDirectories();
  uint64_t used_before = store->Space().used_bytes();
  ASSERT_EQ(ChunkStoreTestPeer::FailIo(*store, 3, EIO).error(), EIO);
  ASSERT_EQ(ChunkStoreTestPeer::FailIo(*store, 4, EIO).error(), EIO);
  // Chunk 5 never failed, but its directory is out: it is not served, not even written
  // (a copy made afresh would hold only the new bytes), and it is reported lost.
  std::vector<std::byte> out(500);
  EXPECT_EQ(store->Read(5, 15, 0, out).error().error(), ENOENT);
  EXPECT_EQ(store->Read(5, 15, 0, out, ReadMode::kNoWait).error().error(), ENOENT);
  EXPECT_EQ(store->Sync(5).error(), ENOENT);
  EXPECT_EQ(store->Write(5, 15, 0, Filled(10, 'x')).error(), EIO);
  EXPECT_EQ(Ids(store->Chunks()), (std::set<uint64_t>{1, 2}));
  EXPECT_EQ(store->Space().used_bytes(), used_before - 300 - 400 - 500);
  auto lost = store->TakeLostChunks();
  EXPECT_EQ(Ids(lost), (std::set<uint64_t>{3, 4, 5}));
  EXPECT_EQ(lost.size(), 3u);
  for (const auto& chunk : lost) EXPECT_EQ(chunk.chunk_version(), 10 + chunk.chunk_id());
  EXPECT_TRUE(store->TakeLostChunks().empty());
  EXPECT_EQ(store->ChunkCount(), 2u);
  EXPECT_FALSE(store->Full());
  // The other directory serves on; nothing is deleted from the failed one.
  std::vector<std::byte> chunk_2(200);
  ASSERT_TRUE(store->Read(2, 12, 0, chunk_2).has_value());
  EXPECT_EQ(chunk_2, ChunkBytes(2));
  EXPECT_TRUE(InDir(1, 5));
}

TEST_F(ChunkStoreTest, NewChunksAndCopiesGoOnlyToDirectoriesInService) {
  auto store = OpenWithChunksInTwoDirectories();
  ASSERT_EQ(ChunkStoreTestPeer::FailIo(*store, 1, EROFS).error(), EROFS);  // at once
  EXPECT_EQ(Ids(store->TakeLostChunks()), (std::set<uint64_t>{1, 2}));
  // data0 was the tie-winner; now everything new lands in data1.
  ASSERT_TRUE(store->Write(9, 1, 0, Filled(10, 'n')).ok());
  EXPECT_TRUE(InDir(1, 9));
  EXPECT_FALSE(InDir(0, 9));
  // The master copies chunk 1 back here: the copier deletes any local copy first, then
  // writes it afresh at version 0 and sets the version last.
  EXPECT_EQ(store->Delete(1).error(), ENOENT);
  ASSERT_TRUE(store->Write(1, 0, 0, ChunkBytes(1)).ok());
  ASSERT_TRUE(store->Write(1, 11, 0, {}).ok());
  EXPECT_TRUE(InDir(1, 1));
  std::vector<std::byte> out(100);
  ASSERT_TRUE(store->Read(1, 11, 0, out).has_value());
  EXPECT_EQ(out, ChunkBytes(1));
}

TEST_F(ChunkStoreTest, DeletingAChunkOfADirectoryOutOfServiceLeavesItsFileAlone) {
  auto store = OpenWithChunksInTwoDirectories();
  ASSERT_EQ(ChunkStoreTestPeer::FailIo(*store, 3, EROFS).error(), EROFS);
  // Before the heartbeat collected them: the copier's delete lets a copy be made.
  EXPECT_TRUE(store->Delete(4).ok());
  EXPECT_TRUE(InDir(1, 4));
  ASSERT_TRUE(store->Write(4, 0, 0, ChunkBytes(4)).ok());
  EXPECT_TRUE(InDir(0, 4));
  EXPECT_EQ(Ids(store->TakeLostChunks()), (std::set<uint64_t>{3, 5}));
}

TEST_F(ChunkStoreTest, ErrorsThatAreNotTheDisksLeaveReplicaAndDirectory) {
  auto store = OpenWithChunksInTwoDirectories();
  for (int error : {ENOSPC, ENOENT, EMFILE, ESTALE}) {
    EXPECT_EQ(ChunkStoreTestPeer::FailIo(*store, 3, error).error(), error);
  }
  EXPECT_TRUE(store->TakeLostChunks().empty());
  EXPECT_EQ(store->ChunkCount(), 5u);
  // One disk error now is the first in the window, not the second.
  ASSERT_EQ(ChunkStoreTestPeer::FailIo(*store, 3, EIO).error(), EIO);
  std::vector<std::byte> out(400);
  EXPECT_TRUE(store->Read(4, 14, 0, out).has_value());
}

TEST_F(ChunkStoreTest, WithEveryDirectoryOutOfServiceTheStoreIsFullAndAnswers) {
  ChunkStoreOptions options;
  options.disk_error_limit = 1;
  auto store = OpenWithChunksInTwoDirectories(options);
  ASSERT_EQ(ChunkStoreTestPeer::FailIo(*store, 1, EIO).error(), EIO);
  EXPECT_FALSE(store->Full());
  ASSERT_EQ(ChunkStoreTestPeer::FailIo(*store, 3, EIO).error(), EIO);
  EXPECT_TRUE(store->Full());
  EXPECT_EQ(store->Space().total_bytes(), 0u);
  EXPECT_EQ(store->Space().free_bytes(), 0u);
  EXPECT_EQ(store->Write(7, 1, 0, Filled(10, 'x')).error(), EIO);
  std::vector<std::byte> out(10);
  EXPECT_EQ(store->Read(2, 12, 0, out).error().error(), ENOENT);
  EXPECT_EQ(store->TakeLostChunks().size(), 5u);
  EXPECT_TRUE(store->Chunks().empty());
  EXPECT_EQ(store->ChunkCount(), 0u);
}

}  // namespace
}  // namespace hafs
