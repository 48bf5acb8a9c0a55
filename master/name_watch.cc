#include "master/name_watch.h"

#include <algorithm>

namespace hafs::master {

void NameWatch::Watch(uint64_t session, const wire::WatchNamesRequest& request, int64_t now_ms) {
  Watcher& watcher = watchers_[session];
  watcher.waiting_until_ms = now_ms + std::clamp<int64_t>(request.hold_ms(), 0, kMaxHoldMs);
  // No further than what was sent: a mount cannot acknowledge recalls it never got.
  watcher.acked_through = std::max(watcher.acked_through, std::min(request.acked_through(), watcher.answered_through));
}

uint64_t NameWatch::Enqueue(Watcher& watcher, bool* room) {
  *room = watcher.names.size() + watcher.attrs.size() < kMaxPerSession && queued_ < kMaxQueued;
  if (*room) {
    queued_++;
  } else {
    watcher.lost = true;  // the mount drops everything, which covers this recall too
  }
  return ++watcher.queued_through;
}

void NameWatch::RecallName(uint64_t session, uint64_t parent, std::string_view name, int64_t until_ms, Acks* acks) {
  auto found = watchers_.find(session);
  if (found == watchers_.end()) return;  // it never watched, so it holds no lease
  bool room = false;
  uint64_t sequence = Enqueue(found->second, &room);
  if (room) {
    wire::InvalidatedName& queued = found->second.names.emplace_back();
    queued.set_parent(parent);
    queued.set_name(std::string(name));
  }
  acks->push_back({session, sequence, until_ms});
}

void NameWatch::RecallAttr(uint64_t session, uint64_t inode, int64_t until_ms, Acks* acks) {
  auto found = watchers_.find(session);
  if (found == watchers_.end()) return;
  bool room = false;
  uint64_t sequence = Enqueue(found->second, &room);
  if (room) found->second.attrs.push_back(inode);
  acks->push_back({session, sequence, until_ms});
}

void NameWatch::RecallDelegation(uint64_t session, uint64_t dir) {
  auto found = watchers_.find(session);
  if (found != watchers_.end()) found->second.dirs.push_back(dir);
}

bool NameWatch::Acknowledged(const Acks& acks, int64_t now_ms, const std::function<bool(uint64_t)>& excused) const {
  for (const Ack& ack : acks) {
    if (now_ms >= ack.until_ms || excused(ack.session)) continue;
    auto found = watchers_.find(ack.session);
    if (found != watchers_.end() && found->second.acked_through < ack.sequence) return false;
  }
  return true;
}

std::vector<uint64_t> NameWatch::Unacknowledged(const Acks& acks) const {
  std::vector<uint64_t> sessions;
  for (const Ack& ack : acks) {
    auto found = watchers_.find(ack.session);
    if (found != watchers_.end() && found->second.acked_through < ack.sequence) sessions.push_back(ack.session);
  }
  return sessions;
}

std::vector<uint64_t> NameWatch::Ready(int64_t now_ms) const {
  std::vector<uint64_t> ready;
  for (const auto& [session, watcher] : watchers_) {
    if (watcher.waiting_until_ms < 0) continue;
    bool queued = !watcher.names.empty() || !watcher.attrs.empty() || !watcher.dirs.empty() || watcher.lost;
    if (queued || now_ms >= watcher.waiting_until_ms) ready.push_back(session);
  }
  return ready;
}

void NameWatch::Answer(uint64_t session, wire::Reply* reply) {
  auto found = watchers_.find(session);
  if (found == watchers_.end()) return;
  Watcher& watcher = found->second;
  for (wire::InvalidatedName& name : watcher.names) *reply->add_invalidated_names() = std::move(name);
  for (uint64_t inode : watcher.attrs) reply->add_recalled_attrs(inode);
  for (uint64_t dir : watcher.dirs) reply->add_recalled_dirs(dir);
  watcher.dirs.clear();
  queued_ -= watcher.names.size() + watcher.attrs.size();
  watcher.names.clear();
  watcher.attrs.clear();
  reply->set_names_lost(watcher.lost);
  reply->set_names_through(watcher.queued_through);
  watcher.answered_through = watcher.queued_through;
  watcher.lost = false;
  watcher.waiting_until_ms = -1;
}

void NameWatch::Forget(uint64_t session) {
  auto found = watchers_.find(session);
  if (found == watchers_.end()) return;
  queued_ -= found->second.names.size() + found->second.attrs.size();
  watchers_.erase(found);
}

void NameWatch::Clear() {
  watchers_.clear();
  queued_ = 0;
}

}  // namespace hafs::master
