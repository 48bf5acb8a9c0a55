// Replication goals: how many valid replicas each chunk of a file should have. Every
// inode carries one (new inodes take their parent directory's); a chunk's goal is its
// file's. docs/design.md, "Goals".
#pragma once

#include <cstdint>

namespace hafs {

inline constexpr uint32_t kMinGoal = 1;
// One decimal digit, as `hafs setgoal N` takes it, and it fits the inode's spare byte.
inline constexpr uint32_t kMaxGoal = 9;
// The root's goal in a new cluster unless hafs-master --goal says otherwise.
inline constexpr uint32_t kDefaultGoal = 3;

inline bool ValidGoal(uint32_t goal) { return goal >= kMinGoal && goal <= kMaxGoal; }

}  // namespace hafs
