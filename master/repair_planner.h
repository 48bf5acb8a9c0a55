// Self-healing decisions of the active master (docs/design.md, "Self-healing"): which
// chunks to copy where, and which surplus replicas to drop. Free of sockets and clocks of
// its own, so the rules can be tested on a registry alone; CopyDispatcher carries the
// copies out and MasterService::MaybeRepair ties the two together.
#pragma once

#include <cstdint>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "master/chunk_registry.h"

namespace hafs::master {

// One chunk copied chunkserver to chunkserver at `version`.
struct CopyOrder {
  uint64_t chunk_id = 0;
  uint64_t version = 0;
  uint32_t source = 0;       // chunkserver ids
  uint32_t destination = 0;
  uint32_t valid_replicas = 0;  // counting replicas when planned (logged: fewest go first)
  // A rebalancing move (rebalancer.h): the replica to drop once the copy is logged; 0 for
  // a repair.
  uint32_t move_from = 0;
};

// A replica beyond the goal, to be dropped.
struct SurplusReplica {
  uint64_t chunk_id = 0;
  uint32_t chunkserver_id = 0;
};

// The replicas of `chunk` that count toward its goal (CountsTowardGoal, chunkserver_modes.h).
uint32_t CountValidReplicas(const ChunkRegistry& registry, const ChunkState& chunk, int64_t now_ms);

class RepairPlanner {
 public:
  // copies_per_chunkserver: copies one chunkserver takes part in at once, as source or
  // destination, so that repairs leave room for clients.
  explicit RepairPlanner(uint32_t copies_per_chunkserver) : copies_per_chunkserver_(copies_per_chunkserver) {}

  // Copies to start now for chunks with fewer counting replicas than their goal (but at
  // least one readable), those with the fewest first. A chunk under a write lease waits
  // (its version is about to move), as does one already being copied. Each copy goes to a
  // chunkserver that takes new chunks (up, not full, normal mode) without a replica of the
  // chunk, preferring failure-domain labels the chunk does not use yet (waiting for a busy
  // one rather than doubling up a label), then free space; it is read from the least busy
  // readable replica (a decommissioning one too).
  std::vector<CopyOrder> PlanCopies(const ChunkRegistry& registry, int64_t now_ms, std::mt19937_64& random) const;
  // Replicas to drop from chunks that are neither leased nor being copied: with more
  // counting replicas on up chunkservers than their goal, from the chunkserver with the
  // least free space, keeping as many distinct labels as the chunk has; with at least the
  // goal, every replica on a decommissioning chunkserver.
  std::vector<SurplusReplica> PlanTrims(const ChunkRegistry& registry, int64_t now_ms) const;

  void Started(const CopyOrder& order);
  void Finished(const CopyOrder& order);
  void Clear();
  size_t copies_in_flight() const { return chunks_in_flight_.size(); }
  // Rebalancing moves in flight, by chunk id.
  const std::unordered_map<uint64_t, CopyOrder>& moves_in_flight() const { return moves_in_flight_; }
  bool BeingCopied(uint64_t chunk_id) const { return chunks_in_flight_.contains(chunk_id); }
  // Copies in flight that `chunkserver_id` takes part in (at most copies_per_chunkserver).
  uint32_t Busy(uint32_t chunkserver_id) const;
  uint32_t copies_per_chunkserver() const { return copies_per_chunkserver_; }

 private:
  uint32_t copies_per_chunkserver_;
  std::unordered_set<uint64_t> chunks_in_flight_;
  std::unordered_map<uint64_t, CopyOrder> moves_in_flight_;
  std::unordered_map<uint32_t, uint32_t> copies_by_chunkserver_;
};

}  // namespace hafs::master
