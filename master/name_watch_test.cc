#include "master/name_watch.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace hafs::master {
namespace {

bool Never(uint64_t) { return false; }

class NameWatchTest : public ::testing::Test {
 protected:
  std::vector<std::string> Recalled(uint64_t session) {
    wire::Reply reply;
    watch_.Answer(session, &reply);
    std::vector<std::string> recalled;
    for (const auto& name : reply.invalidated_names()) recalled.push_back(std::to_string(name.parent()) + "/" + name.name());
    for (uint64_t inode : reply.recalled_attrs()) recalled.push_back("attr " + std::to_string(inode));
    return recalled;
  }

  static wire::WatchNamesRequest Hold(uint32_t hold_ms, uint64_t acked_through = 0) {
    wire::WatchNamesRequest request;
    request.set_hold_ms(hold_ms);
    request.set_acked_through(acked_through);
    return request;
  }

  NameWatch watch_;
  NameWatch::Acks acks_;
};

TEST_F(NameWatchTest, AWatchIsAnsweredWithItsRecallsOrWhenItsHoldEnds) {
  watch_.Watch(1, Hold(1000), 0);
  watch_.Watch(2, Hold(1000), 0);
  EXPECT_TRUE(watch_.Ready(999).empty());
  std::vector<uint64_t> expired = watch_.Ready(1000);
  std::sort(expired.begin(), expired.end());
  EXPECT_EQ(expired, (std::vector<uint64_t>{1, 2})) << "answered empty when the hold ends";
  watch_.Watch(1, Hold(1000), 0);
  watch_.Watch(2, Hold(1000), 0);
  watch_.RecallName(2, 1, "gone", 5000, &acks_);
  watch_.RecallAttr(2, 7, 5000, &acks_);
  EXPECT_EQ(watch_.Ready(10), std::vector<uint64_t>{2});
  EXPECT_EQ(Recalled(2), (std::vector<std::string>{"1/gone", "attr 7"}));
  EXPECT_TRUE(watch_.Ready(10).empty()) << "answered: it waits no more";
  watch_.RecallName(2, 1, "later", 5000, &acks_);
  watch_.Watch(2, Hold(1000), 30);
  EXPECT_EQ(Recalled(2), std::vector<std::string>{"1/later"}) << "queued between two watches";
  EXPECT_EQ(watch_.queued(), 0u);
}

TEST_F(NameWatchTest, ASessionThatNeverWatchedIsNotRecalled) {
  watch_.RecallName(9, 1, "x", 5000, &acks_);
  EXPECT_FALSE(watch_.Watching(9));
  EXPECT_TRUE(acks_.empty());
}

TEST_F(NameWatchTest, QueuesAreBoundedAndSayWhenRecallsWereLost) {
  watch_.Watch(2, Hold(1000), 0);
  for (size_t i = 0; i <= NameWatch::kMaxPerSession; ++i) watch_.RecallName(2, 1, "n", 5000, &acks_);
  EXPECT_EQ(watch_.queued(), NameWatch::kMaxPerSession);
  wire::Reply reply;
  watch_.Answer(2, &reply);
  EXPECT_TRUE(reply.names_lost());
  EXPECT_EQ(reply.invalidated_names_size(), static_cast<int>(NameWatch::kMaxPerSession));
  EXPECT_EQ(reply.names_through(), NameWatch::kMaxPerSession + 1) << "the lost one is acknowledged with the rest";
  watch_.Watch(4, Hold(1000), 0);
  watch_.RecallAttr(4, 3, 5000, &acks_);
  watch_.RecallAttr(2, 3, 5000, &acks_);
  EXPECT_EQ(watch_.queued(), 2u);
  watch_.Forget(4);
  watch_.Forget(2);
  EXPECT_EQ(watch_.queued(), 0u) << "an ended session's recalls go with it";
}

TEST_F(NameWatchTest, AChangeWaitsForEveryAcknowledgementOrTheLeasesEnd) {
  watch_.Watch(2, Hold(1000), 0);
  watch_.Watch(3, Hold(1000), 0);
  NameWatch::Acks acks;
  watch_.RecallName(2, 1, "gone", 5000, &acks);
  watch_.RecallName(3, 1, "gone", 800, &acks);
  EXPECT_EQ(acks, (NameWatch::Acks{{2, 1, 5000}, {3, 1, 800}}));
  EXPECT_FALSE(watch_.Acknowledged(acks, 10, Never));
  wire::Reply reply;
  watch_.Answer(2, &reply);
  EXPECT_EQ(reply.names_through(), 1u);
  watch_.Watch(2, Hold(1000, 1), 11);
  EXPECT_FALSE(watch_.Acknowledged(acks, 11, Never)) << "session 3 has not dropped it yet";
  EXPECT_EQ(watch_.Unacknowledged(acks), std::vector<uint64_t>{3});
  watch_.Watch(3, Hold(1000, 99), 12);
  EXPECT_FALSE(watch_.Acknowledged(acks, 12, Never)) << "no acknowledging recalls never sent";
  EXPECT_TRUE(watch_.Acknowledged(acks, 800, Never)) << "session 3's lease ended: its kernel asks again";
  watch_.Answer(3, &reply);
  watch_.Watch(3, Hold(1000, 1), 13);
  EXPECT_TRUE(watch_.Acknowledged(acks, 13, Never));
  EXPECT_TRUE(watch_.Acknowledged({{2, 9, 5000}}, 14, [](uint64_t session) { return session == 2; }))
      << "excused";

  NameWatch::Acks later;
  watch_.RecallAttr(2, 5, 9000, &later);
  EXPECT_FALSE(watch_.Acknowledged(later, 8999, Never)) << "a hung mount is waited for until its lease ends";
  watch_.Forget(2);
  EXPECT_TRUE(watch_.Acknowledged(later, 20, Never)) << "an ended session is not";
}

}  // namespace
}  // namespace hafs::master
