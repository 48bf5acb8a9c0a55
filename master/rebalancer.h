// Rebalancing on the active master (docs/design.md, "Self-healing"): when a chunkserver's
// usage is far from the mean (typically a new, empty one), chunks move from the fullest
// chunkservers to the emptiest, one copy at a time, until every up chunkserver in normal
// mode is within a margin of the mean. A move is a self-healing copy (CopyOrder with
// move_from) followed, once the copy is logged, by dropping the donor's replica, so the
// chunk never has fewer than its goal of replicas. Repairs come first: MasterService plans
// moves only while no repair copy is planned or running.
//
// Usage. A chunkserver's usage is the bytes of chunks it stores over its capacity, with
// capacity = stored + free bytes (heartbeat DiskSpace). Not free space alone: chunkservers
// sharing one disk (tests on one machine) all see the same free space, and would look
// equally full whatever they store. Stored bytes are estimated as the replicas the master
// lists on it times its average chunk size (heartbeat used_bytes / chunk_count), because
// the master knows no single chunk's length, and replica counts follow a move at once
// while heartbeats lag: planning again before they catch up must not move the same
// surplus twice. Moves in flight count as done.
//
// When to stop. The mean is weighted by capacity (total stored / total capacity); each
// chunkserver's target is mean * its capacity, and it is balanced within margin * target,
// but never less than one average chunk: a move shifts a whole chunk, and a narrower band
// could never be met. A move from A to B happens only while A or B is outside its band,
// and only when A is more than one chunk above B (relative to their targets): with chunks
// of one size, each move then lowers the sum of squared deviations from the targets, so
// moves cannot go back and forth.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "master/chunk_registry.h"
#include "master/repair_planner.h"

namespace hafs::master {

struct RebalanceOptions {
  double margin = 0.10;    // a chunkserver within this fraction of its target is balanced
  uint32_t max_moves = 2;  // rebalancing copies in flight at once, cluster-wide; 0: never rebalance
};

// One chunkserver as the rebalancer sees it (bytes as doubles: they are estimates).
struct ChunkserverLoad {
  uint32_t chunkserver_id = 0;
  std::string label;
  bool full = false;
  uint64_t replicas = 0;    // listed by the master, moves in flight counted as done
  double chunk_bytes = 0;   // its average chunk size: what one move shifts
  double stored_bytes = 0;  // replicas * chunk_bytes
  double capacity_bytes = 0;
  double target_bytes = 0;  // mean usage * capacity
  double band_bytes = 0;    // within this of the target is balanced
  double deviation() const { return stored_bytes - target_bytes; }
};

class Rebalancer {
 public:
  explicit Rebalancer(RebalanceOptions options) : options_(options) {}

  // The up chunkservers in normal mode, with their targets; empty when there is nothing
  // to balance (fewer than two, or no chunks).
  std::vector<ChunkserverLoad> Loads(const ChunkRegistry& registry, const RepairPlanner& planner, int64_t now_ms) const;
  // Moves to start now, within options.max_moves and the planner's per-chunkserver limit.
  // Only chunks with exactly their goal of replicas, all valid on up chunkservers in normal mode,
  // neither leased nor being copied, move; and only to a chunkserver whose label keeps
  // as many distinct labels as the chunk had.
  std::vector<CopyOrder> Plan(const ChunkRegistry& registry, const RepairPlanner& planner,
                              int64_t now_ms) const;

 private:
  RebalanceOptions options_;
};

// A move's copy is logged: drops the donor's replica (order.move_from) unless the chunk
// changed meanwhile or would fall below its goal of replicas that count on up chunkservers.
// True when it was dropped.
bool FinishMove(ChunkRegistry& registry, const CopyOrder& order, int64_t now_ms);

}  // namespace hafs::master
