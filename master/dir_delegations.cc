#include "master/dir_delegations.h"

#include <algorithm>

namespace hafs::master {

bool DirDelegations::Grant(uint64_t session, uint64_t dir, int64_t now_ms) {
  auto found = by_dir_.find(dir);
  if (found != by_dir_.end()) return found->second.session == session && found->second.recalled_ms < 0;
  if (auto cooling = cooling_until_ms_.find(dir); cooling != cooling_until_ms_.end() && now_ms < cooling->second) {
    return false;
  }
  if (auto hung = unresponsive_until_ms_.find(session); hung != unresponsive_until_ms_.end() && now_ms < hung->second) {
    return false;
  }
  std::unordered_set<uint64_t>& held = by_session_[session];
  if (held.size() >= kMaxPerSession || by_dir_.size() >= kMaxDelegations) {
    if (held.empty()) by_session_.erase(session);
    return false;
  }
  held.insert(dir);
  by_dir_[dir] = Delegation{session, -1};
  return true;
}

uint64_t DirDelegations::Holder(uint64_t dir) const {
  auto found = by_dir_.find(dir);
  return found == by_dir_.end() ? 0 : found->second.session;
}

uint64_t DirDelegations::Recall(uint64_t dir, uint64_t requester, int64_t now_ms, bool* newly) {
  *newly = false;
  auto found = by_dir_.find(dir);
  if (found == by_dir_.end() || found->second.session == requester) return 0;
  if (found->second.recalled_ms < 0) {
    found->second.recalled_ms = now_ms;
    *newly = true;
  }
  return found->second.session;
}

void DirDelegations::Release(uint64_t session, uint64_t dir, int64_t now_ms) {
  auto found = by_dir_.find(dir);
  if (found == by_dir_.end() || found->second.session != session) return;
  if (found->second.recalled_ms >= 0) cooling_until_ms_[dir] = now_ms + kCoolingMs;
  by_dir_.erase(found);
  auto held = by_session_.find(session);
  if (held == by_session_.end()) return;
  held->second.erase(dir);
  if (held->second.empty()) by_session_.erase(held);
}

bool DirDelegations::MayChange(uint64_t session, uint64_t dir) const {
  auto found = by_dir_.find(dir);
  if (found != by_dir_.end()) return found->second.session == session;
  if (!unconfirmed_.contains(session)) return false;
  auto named = named_by_.find(dir);
  return named == named_by_.end() || named->second == session;
}

void DirDelegations::Named(uint64_t dir, uint64_t session) {
  if (unconfirmed_.empty()) return;
  if (named_by_.size() >= kMaxNamed) {
    unconfirmed_.clear();  // their late changes are refused (ENOLCK) from now on
    named_by_.clear();
    return;
  }
  named_by_.try_emplace(dir, session);
}

void DirDelegations::Confirmed(uint64_t session) {
  unconfirmed_.erase(session);
  if (unconfirmed_.empty()) named_by_.clear();
}

void DirDelegations::Expire(int64_t now_ms) {
  std::vector<std::pair<uint64_t, uint64_t>> ended;
  for (const auto& [dir, delegation] : by_dir_) {
    if (delegation.recalled_ms >= 0 && now_ms - delegation.recalled_ms >= lease_ms_) {
      ended.emplace_back(delegation.session, dir);
    }
  }
  for (auto [session, dir] : ended) {
    Release(session, dir, now_ms);
    unresponsive_until_ms_[session] = now_ms + kUnresponsiveMs;
  }
  std::erase_if(cooling_until_ms_, [&](const auto& cooling) { return cooling.second <= now_ms; });
  std::erase_if(unresponsive_until_ms_, [&](const auto& hung) { return hung.second <= now_ms; });
  // Past a lease time, other sessions go on (OldDelegationsBlock); the unconfirmed ones stay
  // until they confirm or their sessions end, for the directories nobody else names.
  if (old_until_ms_ != 0 && now_ms >= old_until_ms_) old_until_ms_ = 0;
}

void DirDelegations::Forget(uint64_t session) {
  auto held = by_session_.find(session);
  if (held != by_session_.end()) {
    for (uint64_t dir : held->second) by_dir_.erase(dir);
    by_session_.erase(held);
  }
  unconfirmed_.erase(session);
  if (unconfirmed_.empty()) named_by_.clear();
}

void DirDelegations::Clear() {
  by_dir_.clear();
  by_session_.clear();
  cooling_until_ms_.clear();
  unresponsive_until_ms_.clear();
  unconfirmed_.clear();
  named_by_.clear();
  old_until_ms_ = 0;
}

void DirDelegations::StartServing(const std::vector<uint64_t>& delegating, int64_t now_ms) {
  Clear();
  unconfirmed_.insert(delegating.begin(), delegating.end());
  if (!unconfirmed_.empty()) old_until_ms_ = now_ms + lease_ms_;
  logged_ = unconfirmed_;
}

std::vector<uint64_t> DirDelegations::Holders() const {
  std::vector<uint64_t> holders;
  for (const auto& [session, dirs] : by_session_) holders.push_back(session);
  // An earlier master's delegating sessions, until they confirm: a next takeover waits for them too.
  holders.insert(holders.end(), unconfirmed_.begin(), unconfirmed_.end());
  std::sort(holders.begin(), holders.end());
  holders.erase(std::unique(holders.begin(), holders.end()), holders.end());
  return holders;
}

std::optional<std::vector<uint64_t>> DirDelegations::HoldersToLog(bool shrunk_too) const {
  std::vector<uint64_t> holders = Holders();
  bool grew = std::any_of(holders.begin(), holders.end(), [&](uint64_t session) { return !logged_.contains(session); });
  if (grew || (shrunk_too && holders.size() != logged_.size())) return holders;
  return std::nullopt;
}

void DirDelegations::Logged(std::vector<uint64_t> holders) { logged_ = {holders.begin(), holders.end()}; }

}  // namespace hafs::master
