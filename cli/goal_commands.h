// hafs getgoal PATH and hafs setgoal [-r] N PATH: a file's or directory's replication goal
// (docs/design.md, "Goals"). The reports are pure functions of the master's Reply, tested
// without a cluster. JSON (one object, one line):
//   getgoal: {"path","inode","goal"}
//   setgoal: {"path","inode","goal","changed","not_permitted"}
#pragma once

#include <cstdint>
#include <string>

#include "cli/commands.h"
#include "common/proto/hafs.pb.h"

namespace hafs::cli {

int GetGoal(const CliOptions& options);
// Sends the caller's effective uid and gid: the master lets only the owner (or root)
// change a goal, and with -r leaves other users' inodes alone and counts them.
int SetGoal(const CliOptions& options);

std::string GoalJson(const wire::Reply& reply, const std::string& path, uint64_t inode, bool set);
std::string GoalText(const wire::Reply& reply, const std::string& path, bool recursive);

}  // namespace hafs::cli
