#include "master/open_files.h"

#include <gtest/gtest.h>

namespace hafs::master {
namespace {

constexpr int64_t kTimeoutMs = 3000;
constexpr int64_t kAfterGraceMs = 10'000;

wire::CloseFilesRequest Closed(uint64_t inode, uint64_t generation) {
  wire::CloseFilesRequest request;
  wire::ClosedFile* closed = request.add_closed();
  closed->set_inode(inode);
  closed->set_generation(generation);
  return request;
}

wire::SessionRequest FullSet(std::vector<uint64_t> inodes, uint64_t generation) {
  wire::SessionRequest request;
  for (uint64_t inode : inodes) request.add_open_inodes(inode);
  request.set_open_generation(generation);
  return request;
}

// Serving since 0 after a takeover (epoch 2), past the grace at kAfterGraceMs.
OpenFiles Serving() {
  OpenFiles open_files(kTimeoutMs);
  open_files.StartServing(2, 0);
  return open_files;
}
constexpr int64_t kGraceMs = kTimeoutMs / 3 + OpenFiles::kGraceMarginMs;

TEST(OpenFilesTest, AFileIsKeptWhileAnySessionHoldsIt) {
  OpenFiles open_files = Serving();
  ASSERT_TRUE(open_files.Hold(1, 100, 1, kAfterGraceMs).ok());
  ASSERT_TRUE(open_files.Hold(2, 100, 1, kAfterGraceMs).ok());
  EXPECT_TRUE(open_files.MustKeep(100, kAfterGraceMs));
  EXPECT_FALSE(open_files.MustKeep(101, kAfterGraceMs));
  open_files.Close(1, Closed(100, 2));
  EXPECT_TRUE(open_files.MustKeep(100, kAfterGraceMs)) << "session 2 still holds it";
  EXPECT_EQ(open_files.Releasable({100}, kAfterGraceMs), std::vector<uint64_t>{});
  open_files.EndSession(2);
  EXPECT_FALSE(open_files.MustKeep(100, kAfterGraceMs));
  EXPECT_EQ(open_files.Releasable({100}, kAfterGraceMs), std::vector<uint64_t>{100});
}

TEST(OpenFilesTest, ALateCloseDoesNotDropANewerOpen) {
  OpenFiles open_files = Serving();
  ASSERT_TRUE(open_files.Hold(1, 100, 5, kAfterGraceMs).ok());
  open_files.Close(1, Closed(100, 4));  // sent before the open of generation 5
  EXPECT_TRUE(open_files.MustKeep(100, kAfterGraceMs));
  open_files.Close(1, Closed(100, 6));
  EXPECT_FALSE(open_files.MustKeep(100, kAfterGraceMs));
  ASSERT_TRUE(open_files.Hold(1, 100, 5, kAfterGraceMs).ok());  // a retried old open
  EXPECT_FALSE(open_files.MustKeep(100, kAfterGraceMs)) << "older than the close it follows";
}

TEST(OpenFilesTest, ARenewalsFullSetReassertsAndRepairs) {
  OpenFiles open_files = Serving();
  ASSERT_TRUE(open_files.Hold(1, 100, 1, kAfterGraceMs).ok());
  ASSERT_TRUE(open_files.Hold(1, 101, 3, kAfterGraceMs).ok());
  // As of generation 2 the mount had 102 open (its hold got lost), not 100 (its close got
  // lost); 101 was opened after the set was taken.
  open_files.Replace(1, FullSet({102}, 2), kAfterGraceMs);
  EXPECT_FALSE(open_files.MustKeep(100, kAfterGraceMs));
  EXPECT_TRUE(open_files.MustKeep(101, kAfterGraceMs));
  EXPECT_TRUE(open_files.MustKeep(102, kAfterGraceMs));
  EXPECT_EQ(open_files.held_inodes(), 2u);
}

TEST(OpenFilesTest, ANewActiveKeepsEveryFileUntilTheMountsHadTimeToReassert) {
  OpenFiles open_files(kTimeoutMs);
  open_files.StartServing(5, 50'000);
  EXPECT_TRUE(open_files.MustKeep(100, 50'000 + kGraceMs - 1)) << "a mount may hold it and not have said so yet";
  EXPECT_EQ(open_files.Releasable({100}, 50'000 + kGraceMs - 1), std::vector<uint64_t>{});
  open_files.Replace(7, FullSet({100}, 1), 50'100);
  EXPECT_EQ(open_files.Releasable({100, 200}, 50'000 + kGraceMs), std::vector<uint64_t>{200});
  open_files.Clear();
  EXPECT_EQ(open_files.held_inodes(), 0u);

  OpenFiles first(kTimeoutMs);
  first.StartServing(1, 50'000);
  EXPECT_FALSE(first.MustKeep(100, 50'000)) << "the first active of a cluster: nobody held anything before";
}

TEST(OpenFilesTest, HoldingsOfASessionNobodyOpenedExpire) {
  OpenFiles open_files = Serving();
  ASSERT_TRUE(open_files.Hold(1, 100, 1, kAfterGraceMs).ok());
  ASSERT_TRUE(open_files.Hold(2, 200, 1, kAfterGraceMs).ok());
  auto only_session_2 = [](uint64_t session) { return session == 2; };
  open_files.ExpireUnknown(only_session_2, kAfterGraceMs + kTimeoutMs - 1);
  EXPECT_TRUE(open_files.MustKeep(100, kAfterGraceMs + kTimeoutMs));
  open_files.ExpireUnknown(only_session_2, kAfterGraceMs + kTimeoutMs);
  EXPECT_FALSE(open_files.MustKeep(100, kAfterGraceMs + kTimeoutMs));
  EXPECT_TRUE(open_files.MustKeep(200, kAfterGraceMs + kTimeoutMs));
}

TEST(OpenFilesTest, ASessionHoldsABoundedNumberOfFiles) {
  OpenFiles open_files = Serving();
  for (uint64_t inode = 1; inode <= OpenFiles::kMaxPerSession; ++inode) {
    ASSERT_TRUE(open_files.Hold(1, inode, inode, kAfterGraceMs).ok());
  }
  EXPECT_EQ(open_files.Hold(1, 0xffff'ffff, 1, kAfterGraceMs).error(), ENFILE);
  open_files.Close(1, Closed(1, OpenFiles::kMaxPerSession + 1));
  EXPECT_TRUE(open_files.Hold(1, 0xffff'ffff, 1, kAfterGraceMs).ok()) << "closed entries make room";
  EXPECT_TRUE(open_files.Hold(2, 1, 1, kAfterGraceMs).ok()) << "the bound is per session";
}

}  // namespace
}  // namespace hafs::master
