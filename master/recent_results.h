// Recent results of client mutations, for deduplicating retries (docs/design.md, "Master
// failover": clients and retries). Per client_id the last kPerClient results by sequence;
// a client idle longer than kIdleNs (by record time, so replay and the standby drop the
// same ones: deterministic) is forgotten. Part of the replicated state: it goes into
// checkpoints (CheckpointRecentResult) and is rebuilt by op-log replay.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs::master {

class RecentResults {
 public:
  // At least twice a write-back batch (kMaxBatchChanges): a batch whose reply was lost is sent
  // again whole, and every change of it must be found here.
  static constexpr size_t kPerClient = 256;
  static constexpr int64_t kIdleNs = 30LL * 60 * 1000 * 1000 * 1000;

  // The recorded reply of (client_id, sequence), or nullptr.
  const wire::Reply* Find(uint64_t client_id, uint64_t sequence) const;
  // Records a result at record time time_ns (drops idle clients first).
  void Put(uint64_t client_id, uint64_t sequence, int64_t time_ns, const wire::Reply& reply);
  void Clear();
  size_t size() const { return count_; }

  Status ForEach(const std::function<Status(const wire::CheckpointRecentResult&)>& emit) const;
  // Restores one checkpointed result (no idle expiry: the checkpoint was already pruned).
  void Restore(const wire::CheckpointRecentResult& result);

 private:
  struct Entry {
    uint64_t sequence;
    int64_t time_ns;
    wire::Reply reply;
  };
  struct Client {
    int64_t last_time_ns = 0;
    std::deque<Entry> entries;  // in insertion order, at most kPerClient
  };
  void Insert(uint64_t client_id, uint64_t sequence, int64_t time_ns, const wire::Reply& reply);
  void DropIdle(int64_t now_ns);

  std::unordered_map<uint64_t, Client> clients_;
  std::set<std::pair<int64_t, uint64_t>> by_time_;  // (last_time_ns, client_id)
  size_t count_ = 0;
};

}  // namespace hafs::master
