// What `hafs fileinfo`, `hafs chunkservers` and `hafs status` print, as pure functions
// of the master's Reply, so that tests can check the output without a cluster.
// JSON shapes (one object, one line):
//   fileinfo:     {"chunks":[{"index","id","version","replicas":[{"chunkserver","address","state"}]}],"goal"}
//   chunkservers: {"chunkservers":[{"id","address","label","state","chunks","used_bytes","free_bytes",
//                  "total_bytes","last_heartbeat_age_s","requests_in_flight","mode","replicas",
//                  "drained"}]}
//                 mode: "normal", "maintenance" or "decommission"; replicas: chunks the master
//                 lists on it (what a decommission still has to move); drained: decommissioned
//                 and empty, on the master's list and on its disks. `hafs maintenance` and
//                 `hafs decommission` print the one chunkserver they changed in this shape.
//   status:       {"answered_by","masters":[{"address","role","epoch","log_position","sync",
//                  "lag_records","reachable"}],"degraded",
//                  "chunkservers":{"up","down","total","maintenance","decommissioning"},
//                  "modes":[{"id","address","state","mode","replicas","drained"}],  (not normal)
//                  "chunks":{"healthy","under_replicated","over_replicated","missing"},
//                  "repair":{"being_copied","being_moved","bytes_to_copy","recent"},
//                  "space":{"total_bytes","free_bytes","used_bytes"}}
#pragma once

#include <cstdint>
#include <string>

#include "common/proto/hafs.pb.h"

namespace hafs::cli {

// Chunkserver counts and the space of the chunkservers that are not down.
struct ClusterSummary {
  uint64_t up = 0;  // every state but "down" ("up", "full")
  uint64_t down = 0;
  uint64_t total = 0;
  uint64_t maintenance = 0;      // chunkservers in that mode (up or down)
  uint64_t decommissioning = 0;  // in decommission mode, drained or not
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
  uint64_t used_bytes = 0;
};
ClusterSummary Summarize(const wire::Reply& reply);

std::string FileInfoJson(const wire::Reply& reply);
std::string FileInfoText(const wire::Reply& reply, const std::string& path, uint64_t inode);

// now_ns: wall-clock time to age the chunkservers' last_heartbeat_ns against.
std::string ChunkserversJson(const wire::Reply& reply, int64_t now_ns);
std::string ChunkserversText(const wire::Reply& reply, int64_t now_ns);
// "chunkserver 3 (127.0.0.1:9103, up): maintenance", for each chunkserver in `reply`.
std::string ChunkserverModeText(const wire::Reply& reply);
// Whether a decommissioned chunkserver holds nothing any more (master's list and its disks).
bool Drained(const wire::ChunkserverInfo& info);

// Status of the cluster as the master at `answered_by` sees it: every master with its role
// ("active", "standby"), epoch, log position, sync state ("in sync", "catching up", "out of
// sync", as the active sees its standby), lag in records and whether it is reachable (the
// answering master always is). Degraded: two or more masters, one active, none in sync.
bool Degraded(const wire::Reply& reply);
std::string StatusJson(const wire::Reply& reply, const std::string& answered_by);
std::string StatusText(const wire::Reply& reply, const std::string& answered_by);

}  // namespace hafs::cli
