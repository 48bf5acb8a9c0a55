#include "master/name_watch.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "master/namespace.h"

namespace hafs::master {
namespace {

class NameWatchTest : public ::testing::Test {
 protected:
  NameWatchTest() {
    wire::MkdirRequest mkdir;
    mkdir.set_parent(kRootInode);
    mkdir.set_name("export");
    mkdir.set_mode(0755);
    export_ = tree_.Mkdir(mkdir, 1)->inode();
  }
  std::vector<std::string> Names(uint64_t session) {
    wire::Reply reply;
    watch_.Answer(session, 0, &reply);
    std::vector<std::string> names;
    for (const auto& name : reply.invalidated_names()) names.push_back(std::to_string(name.parent()) + "/" + name.name());
    return names;
  }

  static wire::WatchNamesRequest Hold(uint32_t hold_ms, uint64_t acked_through = 0) {
    wire::WatchNamesRequest request;
    request.set_hold_ms(hold_ms);
    request.set_acked_through(acked_through);
    return request;
  }

  Namespace tree_;
  uint64_t export_ = 0;
  NameWatch watch_;
  NameWatch::Acks acks_;
};

TEST_F(NameWatchTest, AWatchIsAnsweredWithOtherMountsChangesOrWhenItsHoldEnds) {
  watch_.Watch(1, 0, Hold(1000), 0);
  watch_.Watch(2, 0, Hold(1000), 0);
  EXPECT_TRUE(watch_.Ready(999).empty());
  std::vector<uint64_t> expired = watch_.Ready(1000);
  std::sort(expired.begin(), expired.end());
  EXPECT_EQ(expired, (std::vector<uint64_t>{1, 2})) << "answered empty when the hold ends";
  watch_.Watch(1, 0, Hold(1000), 0);
  watch_.Watch(2, 0, Hold(1000), 0);
  watch_.Changed(1, kRootInode, "gone", tree_, 10, &acks_);
  EXPECT_EQ(watch_.Ready(10), std::vector<uint64_t>{2}) << "the mount that removed it knows";
  EXPECT_EQ(Names(2), std::vector<std::string>{"1/gone"});
  EXPECT_TRUE(watch_.Ready(10).empty()) << "answered: it waits no more";
  watch_.Changed(1, kRootInode, "later", tree_, 20, &acks_);
  watch_.Watch(2, 0, Hold(1000), 30);
  EXPECT_EQ(Names(2), std::vector<std::string>{"1/later"}) << "queued between two watches";
  EXPECT_EQ(watch_.queued(), 0u);
}

TEST_F(NameWatchTest, AnExportedMountSeesOnlyNamesInItsSubtree) {
  watch_.Watch(3, export_, Hold(1000), 0);
  watch_.Changed(1, kRootInode, "secret", tree_, 10, &acks_);
  watch_.Changed(1, export_, "shared", tree_, 10, &acks_);
  EXPECT_EQ(Names(3), std::vector<std::string>{std::to_string(export_) + "/shared"});
}

TEST_F(NameWatchTest, QueuesAreBoundedAndSayWhenNamesWereLost) {
  watch_.Watch(2, 0, Hold(1000), 0);
  for (size_t i = 0; i <= NameWatch::kMaxPerSession; ++i) watch_.Changed(1, kRootInode, "n", tree_, 10, &acks_);
  EXPECT_EQ(watch_.queued(), NameWatch::kMaxPerSession);
  wire::Reply reply;
  watch_.Answer(2, 0, &reply);
  EXPECT_TRUE(reply.names_lost());
  EXPECT_EQ(reply.invalidated_names_size(), static_cast<int>(NameWatch::kMaxPerSession));
  watch_.Changed(1, kRootInode, "n", tree_, NameWatch::kForgetAfterMs + 1, &acks_);
  EXPECT_EQ(watch_.queued(), 0u) << "a session that stopped watching gets nothing queued";
  watch_.Watch(4, 0, Hold(1000), 0);
  watch_.Changed(1, kRootInode, "n", tree_, 10, &acks_);
  EXPECT_EQ(watch_.queued(), 2u);
  watch_.Forget(4);
  watch_.Forget(2);
  EXPECT_EQ(watch_.queued(), 0u) << "an ended session's names go with it";
}

TEST_F(NameWatchTest, AChangeWaitsUntilEveryLiveWatcherDroppedItsNames) {
  watch_.Watch(2, 0, Hold(1000), 0);
  watch_.Watch(3, 0, Hold(1000), 0);
  NameWatch::Acks acks;
  watch_.Changed(1, kRootInode, "gone", tree_, 10, &acks);
  std::sort(acks.begin(), acks.end());
  EXPECT_EQ(acks, (NameWatch::Acks{{2, 1}, {3, 1}}));
  EXPECT_FALSE(watch_.Acknowledged(acks, 10));
  wire::Reply reply;
  watch_.Answer(2, 10, &reply);
  EXPECT_EQ(reply.names_through(), 1u);
  watch_.Watch(2, 0, Hold(1000, 1), 11);
  EXPECT_FALSE(watch_.Acknowledged(acks, 11)) << "session 3 has not dropped it yet";
  watch_.Watch(3, 0, Hold(1000, 99), 12);
  EXPECT_FALSE(watch_.Acknowledged(acks, 12)) << "no acknowledging names never sent";
  watch_.Answer(3, 12, &reply);
  watch_.Watch(3, 0, Hold(1000, 1), 13);
  EXPECT_TRUE(watch_.Acknowledged(acks, 13));

  NameWatch::Acks later;
  watch_.Changed(1, kRootInode, "again", tree_, 20, &later);
  watch_.Answer(2, 20, &reply);
  watch_.Answer(3, 20, &reply);
  EXPECT_FALSE(watch_.Acknowledged(later, 20 + NameWatch::kLiveMs - 1));
  EXPECT_TRUE(watch_.Acknowledged(later, 20 + NameWatch::kLiveMs)) << "mounts that stopped watching are not waited for";
}

}  // namespace
}  // namespace hafs::master
