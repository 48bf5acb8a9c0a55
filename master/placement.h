// Where a new chunk's replicas go: most free space first, then fewest requests in
// flight, with a little randomness so near-equal chunkservers share the load, and
// distinct failure-domain labels preferred while there are unused ones.
#pragma once

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace hafs::master {

struct PlacementCandidate {
  uint32_t chunkserver_id = 0;
  uint64_t free_bytes = 0;
  uint32_t requests_in_flight = 0;
  std::string label;
};

// Picks up to `count` distinct chunkservers from `candidates` (all up and not full),
// preferring labels outside `labels_used` (those of a chunk's other replicas).
std::vector<uint32_t> PickChunkservers(std::vector<PlacementCandidate> candidates, size_t count,
                                       std::mt19937_64& random, std::set<std::string> labels_used = {});

}  // namespace hafs::master
