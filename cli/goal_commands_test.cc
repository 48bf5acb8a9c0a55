#include "cli/goal_commands.h"

#include <gtest/gtest.h>

namespace hafs::cli {
namespace {

wire::Reply GoalReply(uint32_t goal, uint64_t changed = 0, uint64_t not_permitted = 0) {
  wire::Reply reply;
  reply.set_goal(goal);
  reply.set_goal_inodes_changed(changed);
  reply.set_goal_inodes_not_permitted(not_permitted);
  return reply;
}

TEST(GoalReportsTest, GetGoal) {
  EXPECT_EQ(GoalText(GoalReply(2), "/mnt/d", false), "/mnt/d: 2\n");
  EXPECT_EQ(GoalJson(GoalReply(2), "/mnt/\"d\"", 7, false), R"({"path":"/mnt/\"d\"","inode":7,"goal":2})"
                                                            "\n");
}

TEST(GoalReportsTest, SetGoalSaysWhatARecursiveChangeDid) {
  EXPECT_EQ(GoalText(GoalReply(4, 12, 3), "/mnt/d", true), "/mnt/d: 4 (12 inodes changed, 3 left to their owners)\n");
  EXPECT_EQ(GoalJson(GoalReply(4, 12, 3), "/mnt/d", 7, true),
            R"({"path":"/mnt/d","inode":7,"goal":4,"changed":12,"not_permitted":3})"
            "\n");
}

// A path is bytes: escapes as JSON needs them, and what is not UTF-8 prints as U+FFFD instead of
// failing the command.
TEST(GoalReportsTest, PathsThatAreNotUtf8StillPrint) {
  EXPECT_EQ(GoalJson(GoalReply(1), std::string("/mnt/caf\xe9\tx\x01\\\0", 14), 7, false),
            "{\"path\":\"/mnt/caf\xef\xbf\xbd\\tx\\u0001\\\\\\u0000\",\"inode\":7,\"goal\":1}\n");
  EXPECT_EQ(GoalJson(GoalReply(1), "/mnt/r\xc3\xa9sum\xc3\xa9", 7, false),  // UTF-8 kept as it is
            "{\"path\":\"/mnt/r\xc3\xa9sum\xc3\xa9\",\"inode\":7,\"goal\":1}\n");
}

}  // namespace
}  // namespace hafs::cli
