#include "cli/goal_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <iostream>

#include "cli/json_output.h"
#include "common/goal.h"

namespace hafs::cli {
namespace {

// Sends a get_goal or set_goal request about PATH's `inode` and prints the answer.
int AskAndReport(const CliOptions& options, const std::string& path, uint64_t inode, const wire::Envelope& request) {
  auto answer = Ask(options, path, request);
  if (!answer) return ClusterError(answer.error());
  const wire::Reply& reply = answer->envelope.reply();
  std::cout << (options.json ? GoalJson(reply, path, inode, request.has_set_goal())
                             : GoalText(reply, path, options.recursive));
  if (reply.goal_inodes_not_permitted() > 0) {
    std::cerr << "hafs: " << reply.goal_inodes_not_permitted() << " inode(s) under " << path
              << " belong to other users and kept their goal\n";
  }
  return kExitOk;
}

}  // namespace

int GetGoal(const CliOptions& options) {
  if (options.arguments.size() != 1) return UsageError("getgoal takes exactly one PATH");
  const std::string& path = options.arguments[0];
  auto inode = MasterInodeOf(options, path);
  if (!inode) return ClusterError(inode.error());
  wire::Envelope request;
  request.mutable_get_goal()->set_inode(*inode);
  return AskAndReport(options, path, *inode, request);
}

int SetGoal(const CliOptions& options) {
  if (options.arguments.size() != 2) return UsageError("setgoal takes a goal N and one PATH");
  const std::string& number = options.arguments[0];
  uint32_t goal = 0;
  auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), goal);
  if (error != std::errc() || end != number.data() + number.size() || !ValidGoal(goal)) {
    return UsageError("the goal must be a whole number from " + std::to_string(kMinGoal) + " to " +
                      std::to_string(kMaxGoal) + ", not \"" + number + "\"");
  }
  const std::string& path = options.arguments[1];
  auto inode = MasterInodeOf(options, path);
  if (!inode) return ClusterError(inode.error());
  wire::Envelope request;
  wire::SetGoalRequest* set = request.mutable_set_goal();
  set->set_inode(*inode);
  set->set_goal(goal);
  set->set_recursive(options.recursive);
  set->mutable_credentials()->set_uid(geteuid());
  set->mutable_credentials()->set_gid(getegid());
  return AskAndReport(options, path, *inode, request);
}

std::string GoalJson(const wire::Reply& reply, const std::string& path, uint64_t inode, bool set) {
  Json json = {{"path", path}, {"inode", inode}, {"goal", reply.goal()}};
  if (set) {
    json["changed"] = reply.goal_inodes_changed();
    json["not_permitted"] = reply.goal_inodes_not_permitted();
  }
  return JsonText(json);
}

std::string GoalText(const wire::Reply& reply, const std::string& path, bool recursive) {
  std::string out = path + ": " + std::to_string(reply.goal());
  if (recursive) {
    out += " (" + std::to_string(reply.goal_inodes_changed()) + " inodes changed, " +
           std::to_string(reply.goal_inodes_not_permitted()) + " left to their owners)";
  }
  return out + "\n";
}

}  // namespace hafs::cli
