#include "master/recent_results.h"

#include <algorithm>
#include <vector>

namespace hafs::master {

const wire::Reply* RecentResults::Find(uint64_t client_id, uint64_t sequence) const {
  auto client = clients_.find(client_id);
  if (client == clients_.end()) return nullptr;
  for (const Entry& entry : client->second.entries) {
    if (entry.sequence == sequence) return &entry.reply;
  }
  return nullptr;
}

void RecentResults::DropIdle(int64_t now_ns) {
  while (!by_time_.empty() && by_time_.begin()->first < now_ns - kIdleNs) {
    uint64_t client_id = by_time_.begin()->second;
    by_time_.erase(by_time_.begin());
    auto client = clients_.find(client_id);
    if (client != clients_.end()) {
      count_ -= client->second.entries.size();
      clients_.erase(client);
    }
  }
}

void RecentResults::Insert(uint64_t client_id, uint64_t sequence, int64_t time_ns, const wire::Reply& reply) {
  Client& client = clients_[client_id];
  if (!client.entries.empty()) by_time_.erase({client.last_time_ns, client_id});
  client.last_time_ns = std::max(client.last_time_ns, time_ns);
  by_time_.insert({client.last_time_ns, client_id});
  for (Entry& entry : client.entries) {
    if (entry.sequence == sequence) {
      entry.time_ns = time_ns;
      entry.reply = reply;
      return;
    }
  }
  client.entries.push_back({sequence, time_ns, reply});
  count_++;
  if (client.entries.size() > kPerClient) {
    client.entries.pop_front();
    count_--;
  }
}

void RecentResults::Put(uint64_t client_id, uint64_t sequence, int64_t time_ns, const wire::Reply& reply) {
  DropIdle(time_ns);
  Insert(client_id, sequence, time_ns, reply);
}

void RecentResults::Restore(const wire::CheckpointRecentResult& result) {
  Insert(result.client_id(), result.sequence(), result.time_ns(), result.reply());
}

void RecentResults::Clear() {
  clients_.clear();
  by_time_.clear();
  count_ = 0;
}

Status RecentResults::ForEach(const std::function<Status(const wire::CheckpointRecentResult&)>& emit) const {
  // Sorted by client id so two equal tables write equal checkpoints.
  std::vector<uint64_t> ids;
  ids.reserve(clients_.size());
  for (const auto& [id, client] : clients_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  wire::CheckpointRecentResult result;
  for (uint64_t id : ids) {
    for (const Entry& entry : clients_.at(id).entries) {
      result.set_client_id(id);
      result.set_sequence(entry.sequence);
      result.set_time_ns(entry.time_ns);
      *result.mutable_reply() = entry.reply;
      if (Status status = emit(result); !status.ok()) return status;
    }
  }
  return Status::Ok();
}

}  // namespace hafs::master
