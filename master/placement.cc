#include "master/placement.h"

#include <algorithm>
#include <set>

namespace hafs::master {
namespace {

// Free space counts most; each request in flight costs 5% of a server's score, and
// +-5% noise spreads new chunks over servers whose scores are that close.
constexpr double kInFlightPenalty = 0.05;
constexpr double kNoise = 0.05;

}  // namespace

std::vector<uint32_t> PickChunkservers(std::vector<PlacementCandidate> candidates, size_t count,
                                       std::mt19937_64& random, std::set<std::string> labels_used) {
  std::uniform_real_distribution<double> noise(1.0 - kNoise, 1.0 + kNoise);
  std::vector<std::pair<double, const PlacementCandidate*>> ranked;
  for (const PlacementCandidate& candidate : candidates) {
    double score = static_cast<double>(candidate.free_bytes) * noise(random) /
                   (1.0 + kInFlightPenalty * candidate.requests_in_flight);
    ranked.emplace_back(score, &candidate);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return a.second->chunkserver_id < b.second->chunkserver_id;
  });
  std::vector<uint32_t> chosen;
  std::vector<bool> taken(ranked.size(), false);
  // First pass: the best server of each label not used yet; second: the best of the rest.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < ranked.size() && chosen.size() < count; ++i) {
      if (taken[i]) continue;
      if (pass == 0 && labels_used.contains(ranked[i].second->label)) continue;
      labels_used.insert(ranked[i].second->label);
      taken[i] = true;
      chosen.push_back(ranked[i].second->chunkserver_id);
    }
  }
  return chosen;
}

}  // namespace hafs::master
