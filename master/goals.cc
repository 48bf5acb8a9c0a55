// Replication goals (docs/design.md, "Goals"): every inode carries one, new inodes take
// their parent directory's, and each chunk's goal is its file's, kept in ChunkState so that
// placement, self-healing and status read it without a walk from chunk to file. Setting a
// goal is one logged record (the request itself); raising or lowering it only changes the
// numbers, and the repair planner's next scan copies or trims replicas to match.
#include <sys/stat.h>

#include "master/access_check.h"
#include "master/master_state.h"
#include "master/namespace.h"

namespace hafs::master {

Result<uint32_t> Namespace::Goal(uint64_t id) const {
  const Inode* inode = inodes_.Find(id);
  if (!inode) return Fail(ENOENT, "no inode " + std::to_string(id));
  return inode->goal;
}

void Namespace::SetInodeGoal(uint64_t id, Inode& inode, uint8_t goal, GoalChange* change) {
  if (inode.goal == goal) return;
  inode.goal = goal;
  change->changed++;
  if (auto chunks = chunk_ids_.find(id); chunks != chunk_ids_.end()) {
    for (uint64_t chunk_id : chunks->second) {
      if (chunk_id != 0) change->chunk_ids.push_back(chunk_id);
    }
  }
}

// A recursive change is one record applied in one go, not a series of bounded steps: a
// series would need a cursor that stays valid while clients rename and delete in the tree
// between steps, and a half-done tree after a failover. The walk costs about as much per
// inode as writing it to a checkpoint (which pauses the master ~1 s per million inodes), and
// the record stays a few bytes however large the tree, so replay and the standby pay the same.
Status Namespace::SetGoal(const wire::SetGoalRequest& request, GoalChange* change) {
  if (!ValidGoal(request.goal())) {
    return Status::Error(EINVAL, "goal " + std::to_string(request.goal()) + " is not between " +
                                     std::to_string(kMinGoal) + " and " + std::to_string(kMaxGoal));
  }
  Inode* inode = inodes_.Find(request.inode());
  if (!inode) return Status::Error(ENOENT, "no inode " + std::to_string(request.inode()));
  // The inode itself was checked before the record was made (Authorize). Inside a tree the
  // owner test is what the record means, not a check: replay skips the very same inodes.
  AccessCheck access = Access(request.credentials());
  auto goal = static_cast<uint8_t>(request.goal());
  SetInodeGoal(request.inode(), *inode, goal, change);
  if (!request.recursive() || !S_ISDIR(inode->mode)) return Status::Ok();
  std::vector<uint64_t> directories{request.inode()};
  while (!directories.empty()) {
    uint64_t directory = directories.back();
    directories.pop_back();
    for (const DirEntry& entry : directories_.at(directory).entries) {
      Inode& child = *inodes_.Find(entry.inode);
      // Another owner's directory is still walked: the caller's files inside it count.
      if (S_ISDIR(child.mode)) directories.push_back(entry.inode);
      if (access.MayChangeGoal(child)) {
        SetInodeGoal(entry.inode, child, goal, change);
      } else {
        change->not_permitted++;
      }
    }
  }
  return Status::Ok();
}

Result<wire::Reply> MasterState::ApplySetGoal(const wire::SetGoalRequest& request) {
  Namespace::GoalChange change;
  if (Status status = namespace_.SetGoal(request, &change); !status.ok()) return Fail(status);
  registry_.SetGoal(change.chunk_ids, request.goal());
  wire::Reply reply;
  reply.set_goal(request.goal());
  reply.set_goal_inodes_changed(change.changed);
  reply.set_goal_inodes_not_permitted(change.not_permitted);
  return reply;
}

Result<wire::Reply> MasterState::GetGoal(const wire::GetGoalRequest& request) const {
  auto goal = namespace_.Goal(request.inode());
  if (!goal) return Fail(goal.error());
  wire::Reply reply;
  reply.set_goal(*goal);
  return reply;
}

// Logged rather than taken from each master's --goal at replay, so that a standby or a
// restarted master with another --goal rebuilds the very same tree.
void MasterState::LogRootGoal(int64_t now_ns, std::vector<wire::LogRecord>* records) {
  wire::LogRecord record;
  record.mutable_set_goal()->set_inode(kRootInode);
  record.mutable_set_goal()->set_goal(options_.goal);  // as uid 0 (the default credentials)
  (void)Log(std::move(record), now_ns, records);
}

}  // namespace hafs::master
