#include "master/metadata_leases.h"

#include <algorithm>

namespace hafs::master {

void MetadataLeases::StartServing(const std::vector<uint64_t>& holders, int64_t now_ms) {
  Clear();
  unconfirmed_.insert(holders.begin(), holders.end());
  logged_ = unconfirmed_;
  // A twentieth more: the mounts' clocks may run a little slower than this host's.
  old_leases_until_ms_ = now_ms + lease_ms_ + lease_ms_ / 20;
}

void MetadataLeases::Confirmed(uint64_t session) { unconfirmed_.erase(session); }

int64_t MetadataLeases::OldLeasesUntil(int64_t now_ms, const std::function<bool(uint64_t)>& excused) const {
  if (now_ms >= old_leases_until_ms_) return 0;
  bool waited_for = std::any_of(unconfirmed_.begin(), unconfirmed_.end(),
                                [&](uint64_t session) { return !excused || !excused(session); });
  return waited_for ? old_leases_until_ms_ : 0;
}

uint32_t MetadataLeases::Grant(uint64_t session, uint64_t inode, Kind kind, int64_t now_ms) {
  if (lease_ms_ <= 0 || session == 0) return 0;
  Session& holder = sessions_[session];
  if (now_ms < holder.unresponsive_until_ms) return 0;
  std::vector<Holding>& holdings = by_inode_[inode];
  auto found = std::find_if(holdings.begin(), holdings.end(), [&](const Holding& h) { return h.session == session; });
  if (found == holdings.end()) {
    if (holder.leases >= kMaxPerSession || total_ >= kMaxLeases) {
      if (holdings.empty()) by_inode_.erase(inode);
      return 0;
    }
    holdings.push_back({session, 0, 0});
    found = holdings.end() - 1;
    holder.leases++;
    total_++;
    expiries_.push_back({now_ms + lease_ms_, inode, session});
  }
  (kind == Kind::kAttr ? found->attr_until_ms : found->entries_until_ms) = now_ms + lease_ms_;
  return static_cast<uint32_t>(lease_ms_);
}

void MetadataLeases::Recall(uint64_t origin, uint64_t inode, Kind kind, int64_t now_ms,
                            const std::function<void(uint64_t session, int64_t until_ms)>& recall) {
  auto found = by_inode_.find(inode);
  if (found == by_inode_.end()) return;
  for (Holding& holding : found->second) {
    if (holding.session == origin || !sessions_.contains(holding.session)) continue;
    int64_t& until_ms = kind == Kind::kAttr ? holding.attr_until_ms : holding.entries_until_ms;
    if (until_ms <= now_ms) continue;
    recall(holding.session, until_ms);
    if (kind == Kind::kAttr) until_ms = 0;
  }
}

bool MetadataLeases::HeldByOthers(uint64_t session, uint64_t inode, int64_t now_ms) const {
  auto found = by_inode_.find(inode);
  if (found == by_inode_.end()) return false;
  return std::any_of(found->second.begin(), found->second.end(), [&](const Holding& holding) {
    return holding.session != session && sessions_.contains(holding.session) &&
           std::max(holding.attr_until_ms, holding.entries_until_ms) > now_ms;
  });
}

void MetadataLeases::Unresponsive(uint64_t session, int64_t now_ms) {
  auto found = sessions_.find(session);
  if (found != sessions_.end()) found->second.unresponsive_until_ms = now_ms + kUnresponsiveMs;
}

std::vector<uint64_t> MetadataLeases::Holders(int64_t now_ms) const {
  std::vector<uint64_t> holders;
  for (const auto& [session, state] : sessions_) {
    if (state.leases > 0) holders.push_back(session);
  }
  if (OldLeasesUntil(now_ms) != 0) {
    for (uint64_t session : unconfirmed_) {
      if (!sessions_.contains(session) || sessions_.at(session).leases == 0) holders.push_back(session);
    }
  }
  std::sort(holders.begin(), holders.end());
  return holders;
}

std::optional<std::vector<uint64_t>> MetadataLeases::HoldersToLog(bool shrunk_too, int64_t now_ms) const {
  std::vector<uint64_t> holders = Holders(now_ms);
  bool grew = std::any_of(holders.begin(), holders.end(), [&](uint64_t session) { return !logged_.contains(session); });
  // Every holder is logged (no growth): it shrank when fewer are left.
  bool shrunk = holders.size() < logged_.size();
  if (grew || (shrunk_too && shrunk)) return holders;
  return std::nullopt;
}

void MetadataLeases::Logged(std::vector<uint64_t> holders) { logged_ = {holders.begin(), holders.end()}; }

void MetadataLeases::Expire(int64_t now_ms) {
  while (!expiries_.empty() && expiries_.front().at_ms <= now_ms) {
    Expiry expiry = expiries_.front();
    expiries_.pop_front();
    auto found = by_inode_.find(expiry.inode);
    if (found == by_inode_.end()) continue;
    std::vector<Holding>& holdings = found->second;
    auto holding = std::find_if(holdings.begin(), holdings.end(),
                                [&](const Holding& h) { return h.session == expiry.session; });
    if (holding == holdings.end()) continue;
    int64_t until_ms = std::max(holding->attr_until_ms, holding->entries_until_ms);
    if (until_ms > now_ms && sessions_.contains(expiry.session)) {
      expiries_.push_back({until_ms, expiry.inode, expiry.session});
      continue;
    }
    holdings.erase(holding);
    if (holdings.empty()) by_inode_.erase(found);
    total_--;
    if (auto session = sessions_.find(expiry.session); session != sessions_.end() && session->second.leases > 0) {
      session->second.leases--;
    }
  }
}

void MetadataLeases::Forget(uint64_t session) {
  // Its holdings go at their next expiry (Expire), and no recall reaches them meanwhile.
  sessions_.erase(session);
  unconfirmed_.erase(session);
}

void MetadataLeases::Clear() {
  by_inode_.clear();
  expiries_.clear();
  sessions_.clear();
  total_ = 0;
  unconfirmed_.clear();
  old_leases_until_ms_ = 0;
  logged_.clear();
}

}  // namespace hafs::master
