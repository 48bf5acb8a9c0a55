#include "master/name_watch.h"

#include <algorithm>

#include "master/namespace.h"

namespace hafs::master {

void NameWatch::Watch(uint64_t session, uint64_t mount_root, const wire::WatchNamesRequest& request, int64_t now_ms) {
  Watcher& watcher = watchers_[session];
  watcher.mount_root = mount_root;
  watcher.last_watch_ms = now_ms;
  watcher.waiting_until_ms = now_ms + std::clamp<int64_t>(request.hold_ms(), 0, kMaxHoldMs);
  // No further than what was sent: a mount cannot acknowledge names it never got.
  watcher.acked_through = std::max(watcher.acked_through, std::min(request.acked_through(), watcher.answered_through));
}

void NameWatch::Changed(uint64_t origin, uint64_t parent, std::string_view name, const Namespace& tree,
                        int64_t now_ms, Acks* acks) {
  for (auto& [session, watcher] : watchers_) {
    if (session == origin || now_ms - watcher.last_watch_ms > kForgetAfterMs) continue;
    if (watcher.mount_root != 0 && !tree.IsUnder(parent, watcher.mount_root)) continue;
    if (watcher.names.size() >= kMaxPerSession || queued_ >= kMaxQueued) {
      watcher.lost = true;
      continue;
    }
    wire::InvalidatedName& queued = watcher.names.emplace_back();
    queued.set_parent(parent);
    queued.set_name(std::string(name));
    queued_++;
    watcher.queued_through++;
    if (Live(watcher, now_ms)) acks->emplace_back(session, watcher.queued_through);
  }
}

bool NameWatch::Acknowledged(const Acks& acks, int64_t now_ms) const {
  for (const auto& [session, sequence] : acks) {
    auto found = watchers_.find(session);
    if (found != watchers_.end() && found->second.acked_through < sequence && Live(found->second, now_ms)) return false;
  }
  return true;
}

std::vector<uint64_t> NameWatch::Ready(int64_t now_ms) const {
  std::vector<uint64_t> ready;
  for (const auto& [session, watcher] : watchers_) {
    if (watcher.waiting_until_ms < 0) continue;
    if (!watcher.names.empty() || watcher.lost || now_ms >= watcher.waiting_until_ms) ready.push_back(session);
  }
  return ready;
}

void NameWatch::Answer(uint64_t session, int64_t now_ms, wire::Reply* reply) {
  auto found = watchers_.find(session);
  if (found == watchers_.end()) return;
  Watcher& watcher = found->second;
  for (wire::InvalidatedName& name : watcher.names) *reply->add_invalidated_names() = std::move(name);
  queued_ -= watcher.names.size();
  watcher.names.clear();
  reply->set_names_lost(watcher.lost);
  reply->set_names_through(watcher.queued_through);
  watcher.answered_through = watcher.queued_through;
  watcher.lost = false;
  watcher.waiting_until_ms = -1;
  watcher.last_answer_ms = now_ms;
}

void NameWatch::Forget(uint64_t session) {
  auto found = watchers_.find(session);
  if (found == watchers_.end()) return;
  queued_ -= found->second.names.size();
  watchers_.erase(found);
}

void NameWatch::Clear() {
  watchers_.clear();
  queued_ = 0;
}

}  // namespace hafs::master
