#include "mount/lease_ledger.h"

#include <algorithm>
#include <vector>

#include "common/clock.h"

namespace hafs::mount {

LeaseLedger::Ticket LeaseLedger::Take() const {
  std::shared_lock lock(guard_);
  return {MonotonicMs(), recalls_};
}

double LeaseLedger::Remaining(int64_t sent_ms, uint32_t lease_ms, int64_t now_ms, double cap_s) {
  // A fiftieth and 5 ms less: this host's clock may run a little faster than the master's.
  int64_t left_ms = sent_ms + lease_ms - lease_ms / 50 - 5 - now_ms;
  return left_ms <= 0 ? 0.0 : std::min(cap_s, static_cast<double>(left_ms) / 1000);
}

void LeaseLedger::PruneIfFull(int64_t now_ms) {
  if ((names_.size() < kMaxNames && attrs_.size() < kMaxAttrs) || now_ms - last_prune_ms_ < 1000) return;
  last_prune_ms_ = now_ms;
  std::erase_if(names_, [&](const auto& entry) { return entry.second <= now_ms; });
  std::erase_if(attrs_, [&](const auto& entry) { return entry.second <= now_ms; });
}

void LeaseLedger::Reply(const Ticket& ticket, const std::function<void(const Timeouts& timeouts)>& reply) {
  std::shared_lock lock(guard_);
  bool cacheable = recalls_ == ticket.recalls;
  int64_t now_ms = MonotonicMs();
  auto record = [&](auto& table, auto key, size_t max, uint32_t lease_ms, double cap_s) {
    double seconds = Remaining(ticket.sent_ms, lease_ms, now_ms, cap_s);
    if (seconds <= 0) return 0.0;
    int64_t until_ms = now_ms + static_cast<int64_t>(seconds * 1000) + 1;
    auto [found, added] = table.try_emplace(std::move(key), until_ms);
    if (!added) {
      found->second = std::max(found->second, until_ms);
    } else if (table.size() > max) {
      table.erase(found);
      return 0.0;
    }
    return seconds;
  };
  reply([&](const Cacheable& what) -> std::pair<double, double> {
    if (!cacheable) return {0.0, 0.0};
    std::lock_guard tables(tables_mutex_);
    PruneIfFull(now_ms);
    double entry_s = 0, attr_s = 0;
    if (what.parent != 0) {
      entry_s = record(names_, std::pair{what.parent, std::string(what.name)}, kMaxNames, what.entry_lease_ms,
                       entry_cap_s_);
    }
    if (what.inode != 0) attr_s = record(attrs_, what.inode, kMaxAttrs, what.attr_lease_ms, attr_cap_s_);
    return {entry_s, attr_s};
  });
}

void LeaseLedger::Recall(const std::function<void()>& apply) {
  {
    std::unique_lock lock(guard_);
    recalls_++;
  }
  apply();
}

void LeaseLedger::DropAll(const std::function<void(uint64_t parent, const std::string& name)>& name,
                          const std::function<void(uint64_t inode)>& attr) {
  std::map<std::pair<uint64_t, std::string>, int64_t> names;
  std::unordered_map<uint64_t, int64_t> attrs;
  {
    std::unique_lock lock(guard_);
    recalls_++;
    std::lock_guard tables(tables_mutex_);
    names.swap(names_);
    attrs.swap(attrs_);
  }
  for (const auto& [key, until] : names) name(key.first, key.second);
  for (const auto& [inode, until] : attrs) attr(inode);
}

void LeaseLedger::DropDirectory(uint64_t parent, const std::function<void(const std::string& name)>& name,
                                const std::function<void()>& attr) {
  std::vector<std::string> dropped;
  {
    std::unique_lock lock(guard_);
    recalls_++;
    std::lock_guard tables(tables_mutex_);
    auto first = names_.lower_bound({parent, std::string()});
    auto end = first;
    while (end != names_.end() && end->first.first == parent) dropped.push_back((end++)->first.second);
    names_.erase(first, end);
    attrs_.erase(parent);
  }
  for (const std::string& each : dropped) name(each);
  attr();
}

size_t LeaseLedger::names() const {
  std::lock_guard tables(tables_mutex_);
  return names_.size();
}

size_t LeaseLedger::attrs() const {
  std::lock_guard tables(tables_mutex_);
  return attrs_.size();
}

}  // namespace hafs::mount
