// Ranges of inode numbers granted ahead to mounts for write-back creates (docs/design.md,
// "Write-back namespace changes"): a mount makes a file or directory locally with a number
// from its session's ranges, and the master applies that create later with that number.
// Logged (InodesGranted) and checkpointed, so every master knows who may use which number;
// a create takes its number out, so no number is used twice.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include "common/proto/hafs.pb.h"

namespace hafs::master {

class InodeGrants {
 public:
  // Bounds: a session holds at most this many numbers not yet used, and at most
  // kMaxSessions sessions hold any (a grant past either is refused).
  static constexpr uint64_t kMaxPerSession = 16384;
  static constexpr uint32_t kMaxPerGrant = 4096;
  static constexpr size_t kMaxSessions = 65536;

  // Whether `session` may be granted `count` more numbers now.
  bool MayGrant(uint64_t session, uint32_t count) const;
  void Add(uint64_t session, uint64_t first, uint32_t count);
  // Whether `inode` is one of `session`'s numbers not yet used.
  bool Holds(uint64_t session, uint64_t inode) const;
  // Uses `inode` (Holds was true).
  void Take(uint64_t session, uint64_t inode);
  uint64_t Outstanding(uint64_t session) const;
  // Every range still held, for a checkpoint; Add restores them.
  std::vector<wire::InodesGranted> All() const;
  void Clear() { sessions_.clear(); }

 private:
  struct Ranges {
    std::map<uint64_t, uint64_t> ends;  // first -> one past the last
    uint64_t count = 0;
  };
  std::unordered_map<uint64_t, Ranges> sessions_;
};

}  // namespace hafs::master
