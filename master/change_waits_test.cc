#include "master/change_waits.h"

#include <gtest/gtest.h>

namespace hafs::master {
namespace {

wire::Envelope Request(uint64_t client, uint64_t sequence, uint64_t request_id) {
  wire::Envelope request;
  request.set_client_id(client);
  request.set_sequence(sequence);
  request.set_request_id(request_id);
  return request;
}

PendingReply Answer(uint64_t request_id, uint64_t inode) {
  PendingReply reply;
  reply.envelope.set_request_id(request_id);
  reply.envelope.mutable_reply()->mutable_attr()->set_inode(inode);
  return reply;
}

TEST(ChangeWaitsTest, AReplyWaitsUntilSettledAndARetryTakesItsPlace) {
  ChangeWaits waits;
  bool settled = false;
  int done = 0;
  auto due = [&](int64_t now_ms) {
    return waits.Due(now_ms, [&](const ChangeWaits::Wait&) { return settled; }, [&](const ChangeWaits::Wait&) { done++; });
  };
  waits.Add(1, 5, Answer(100, 42), {}, 0);
  EXPECT_TRUE(waits.Waits(1));
  EXPECT_FALSE(waits.Waits(2));
  EXPECT_TRUE(due(10).empty());
  std::vector<PendingReply> again = due(ChangeWaits::kAnswerAgainAfterMs);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].envelope.reply().error(), EAGAIN) << "asked to ask again, well before the mount's timeout";
  EXPECT_EQ(again[0].envelope.request_id(), 100u);
  EXPECT_TRUE(due(ChangeWaits::kAnswerAgainAfterMs + 1).empty()) << "answered once";

  PendingReply retry = Answer(101, 0);
  EXPECT_FALSE(waits.Reattach(Request(1, 6, 101), &retry, 400)) << "another sequence";
  EXPECT_TRUE(waits.Reattach(Request(1, 5, 101), &retry, 400));
  settled = true;
  std::vector<PendingReply> answered = due(450);
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0].envelope.request_id(), 101u) << "to the retry";
  EXPECT_EQ(answered[0].envelope.reply().attr().inode(), 42u) << "with the change's own answer";
  EXPECT_EQ(done, 1);
  EXPECT_EQ(waits.size(), 0u);
  EXPECT_FALSE(waits.Waits(1));
  PendingReply late = Answer(102, 0);
  EXPECT_FALSE(waits.Reattach(Request(1, 5, 102), &late, 500)) << "over: the deduplicated result answers it";
}

}  // namespace
}  // namespace hafs::master
