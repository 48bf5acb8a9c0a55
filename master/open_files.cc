#include "master/open_files.h"

#include <algorithm>

namespace hafs::master {

void OpenFiles::StartServing(uint64_t epoch, int64_t now_ms) {
  Clear();
  grace_until_ms_ = epoch > 1 ? now_ms + timeout_ms_ / 3 + kGraceMarginMs : now_ms;
}

void OpenFiles::Clear() {
  sessions_.clear();
  holders_.clear();
}

void OpenFiles::Set(Holdings& holdings, uint64_t inode, Entry entry) {
  Entry& current = holdings.entries[inode];
  if (entry.generation < current.generation) return;  // stale: the mount changed it since
  if (entry.open && !current.open) {
    holders_[inode]++;
  } else if (!entry.open && current.open) {
    if (--holders_[inode] == 0) holders_.erase(inode);
  }
  current = entry;
}

void OpenFiles::DropAll(const Holdings& holdings) {
  for (const auto& [inode, entry] : holdings.entries) {
    if (entry.open && --holders_[inode] == 0) holders_.erase(inode);
  }
}

Status OpenFiles::Hold(uint64_t session, uint64_t inode, uint64_t generation, int64_t now_ms) {
  auto found = sessions_.find(session);
  if (found == sessions_.end()) {
    if (sessions_.size() >= kMaxSessions) return Status::Error(ENFILE, "too many sessions hold open files");
    found = sessions_.emplace(session, Holdings{}).first;
  }
  Holdings& holdings = found->second;
  holdings.seen_ms = now_ms;
  if (holdings.entries.size() >= kMaxPerSession && !holdings.entries.contains(inode)) {
    // Closed entries only guard against stale holds: forget them before refusing.
    std::erase_if(holdings.entries, [](const auto& item) { return !item.second.open; });
    if (holdings.entries.size() >= kMaxPerSession) {
      return Status::Error(ENFILE, "this mount holds " + std::to_string(kMaxPerSession) + " files open at the master");
    }
  }
  Set(holdings, inode, {generation, true});
  return Status::Ok();
}

void OpenFiles::Close(uint64_t session, const wire::CloseFilesRequest& request) {
  auto found = sessions_.find(session);
  if (found == sessions_.end()) return;
  for (const wire::ClosedFile& closed : request.closed()) {
    auto entry = found->second.entries.find(closed.inode());
    // A close of an inode this session does not hold needs no entry: nothing older can be
    // stale except a hold still on its way, which the next full set corrects.
    if (entry != found->second.entries.end()) Set(found->second, closed.inode(), {closed.generation(), false});
  }
}

void OpenFiles::Replace(uint64_t session, const wire::SessionRequest& request, int64_t now_ms) {
  Holdings& holdings = sessions_[session];
  holdings.seen_ms = now_ms;
  uint64_t generation = request.open_generation();
  std::unordered_set<uint64_t> listed;
  size_t count = std::min<size_t>(request.open_inodes_size(), kMaxPerSession);
  for (size_t i = 0; i < count; ++i) listed.insert(request.open_inodes(static_cast<int>(i)));
  // Older than the set and not in it: closed (or never held) as of the set.
  for (auto entry = holdings.entries.begin(); entry != holdings.entries.end();) {
    if (entry->second.generation < generation && !listed.contains(entry->first)) {
      if (entry->second.open && --holders_[entry->first] == 0) holders_.erase(entry->first);
      entry = holdings.entries.erase(entry);
    } else {
      ++entry;
    }
  }
  for (uint64_t inode : listed) Set(holdings, inode, {generation, true});
  if (holdings.entries.empty()) sessions_.erase(session);
}

void OpenFiles::EndSession(uint64_t session) {
  auto found = sessions_.find(session);
  if (found == sessions_.end()) return;
  DropAll(found->second);
  sessions_.erase(found);
}

std::vector<uint64_t> OpenFiles::Releasable(const std::unordered_set<uint64_t>& orphans, int64_t now_ms) const {
  std::vector<uint64_t> releasable;
  if (InGrace(now_ms)) return releasable;
  for (uint64_t inode : orphans) {
    if (!holders_.contains(inode)) releasable.push_back(inode);
  }
  std::sort(releasable.begin(), releasable.end());
  return releasable;
}

}  // namespace hafs::master
