#include "mount/write_back.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>  // RENAME_NOREPLACE

#include "common/clock.h"
#include "common/log.h"
#include "common/rpc.h"
#include "mount/mount_metrics.h"
#include "mount/write_back_rules.h"

namespace hafs::mount {
namespace {

constexpr int64_t kRetryMs = 20;  // a batch the master could not take all of: the rest again so soon

// What every write-back create says (MknodRequest, MkdirRequest, SymlinkRequest).
template <typename Request>
void SetCreate(uint64_t parent, const std::string& name, uint64_t inode, const wire::Credentials& credentials,
               Request* request) {
  request->set_parent(parent);
  request->set_name(name);
  request->set_inode(inode);
  *request->mutable_credentials() = credentials;
}

}  // namespace

WriteBack::WriteBack(MasterClient& master, bool enabled, int64_t flush_ms, int64_t ship_timeout_ms,
                     DropDirectory drop_directory)
    : master_(master), enabled_(enabled), flush_ms_(std::max<int64_t>(1, flush_ms)),
      ship_timeout_ms_(ship_timeout_ms), drop_directory_(std::move(drop_directory)) {}

void WriteBack::Start() {
  if (enabled_) thread_ = std::thread([this] { Run(); });
}

void WriteBack::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

size_t WriteBack::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

int WriteBack::WatchHoldMs() const {
  std::lock_guard lock(mutex_);
  if (lease_ms_ == 0) return 1000;
  return static_cast<int>(std::clamp<int64_t>(lease_ms_ / 4, 50, 1000));
}

uint32_t WriteBack::LeaseLeft(const Delegation& delegation, int64_t now_ms) const {
  return static_cast<uint32_t>(std::max<int64_t>(0, delegation.valid_until_ms - now_ms));
}

WriteBack::Delegation* WriteBack::Valid(uint64_t dir) {
  auto found = delegations_.find(dir);
  // A margin for the clocks' rates and the time a reply takes to reach the kernel; one
  // lapsing is renewed by the next watch answer.
  if (found == delegations_.end() || found->second.valid_until_ms - MonotonicMs() <= lease_ms_ / 10) return nullptr;
  return &found->second;
}

WriteBack::Delegation* WriteBack::Delegated(uint64_t dir, const wire::Credentials& credentials,
                                            std::unique_lock<std::mutex>& lock) {
  if (!enabled_) return nullptr;
  int64_t now_ms = MonotonicMs();
  if (delegations_.contains(dir)) return Valid(dir);
  if (auto refused = refused_until_ms_.find(dir); refused != refused_until_ms_.end()) {
    if (now_ms < refused->second) return nullptr;
    refused_until_ms_.erase(refused);
  }
  if (delegations_.size() + retired_.size() >= kMaxDelegations || queue_.size() >= kMaxQueued) return nullptr;
  if (refused_until_ms_.size() >= kMaxDelegations) {
    std::erase_if(refused_until_ms_, [&](const auto& refused) { return refused.second <= now_ms; });
  }
  refused_until_ms_[dir] = now_ms + kRefusedBackoffMs;  // also keeps other threads from asking at once
  lock.unlock();
  wire::Envelope request;
  request.mutable_delegation()->set_dir(dir);
  *request.mutable_delegation()->mutable_credentials() = credentials;
  int64_t sent_ms = MonotonicMs();
  uint64_t epoch = master_.epoch();
  auto reply = master_.CallOnce(std::move(request));
  lock.lock();
  if (!reply || !reply->delegation_granted() || reply->entry_lease_ms() == 0) return nullptr;
  refused_until_ms_.erase(dir);
  lease_ms_ = reply->entry_lease_ms();
  Delegation& delegation = delegations_[dir];
  delegation.epoch = epoch;
  delegation.attr = reply->attr();
  delegation.valid_until_ms = sent_ms + lease_ms_;
  for (const wire::DirEntry& entry : reply->entries()) {
    delegation.entries[entry.name()] = Entry{entry.attr().inode(), entry.attr().mode(), false};
  }
  return &delegation;
}

uint64_t WriteBack::NextInode(std::unique_lock<std::mutex>& lock) {
  auto take = [&]() -> uint64_t {
    while (!inode_ranges_.empty() && inode_ranges_.front().first >= inode_ranges_.front().second) {
      inode_ranges_.pop_front();
    }
    if (inode_ranges_.empty()) return 0;
    return inode_ranges_.front().first++;
  };
  if (uint64_t inode = take(); inode != 0) return inode;
  lock.unlock();
  wire::Envelope request;
  request.mutable_delegation()->set_want_inodes(kInodesAhead);
  auto reply = master_.CallOnce(std::move(request));
  lock.lock();
  if (reply && reply->inode_range_count() > 0) {
    inode_ranges_.emplace_back(reply->inode_range_first(), reply->inode_range_first() + reply->inode_range_count());
  }
  return take();
}

WriteBack::Delegation* WriteBack::PlaceFor(uint64_t parent, const std::string& name,
                                           const wire::Credentials& credentials, std::unique_lock<std::mutex>& lock,
                                           uint64_t* inode) {
  if (made_.size() >= kMaxMade) return nullptr;
  Delegation* delegation = Delegated(parent, credentials, lock);
  if (delegation == nullptr || delegation->entries.contains(name) ||
      !MayChangeEntries(delegation->attr, credentials)) {
    return nullptr;
  }
  *inode = NextInode(lock);
  auto found = delegations_.find(parent);  // the lock was let go: it may have gone, or the name come
  if (*inode == 0 || found == delegations_.end() || found->second.entries.contains(name)) return nullptr;
  return &found->second;
}

void WriteBack::RecordMade(Delegation& delegation, uint64_t parent, const std::string& name, const wire::Attr& attr,
                     wire::Envelope change, int64_t now_ns) {
  Touch(&delegation.attr, now_ns);
  delegation.entries[name] = Entry{attr.inode(), attr.mode(), true};
  Made& made = made_[attr.inode()];
  made.attr = attr;
  made.dir = parent;
  Enqueue(std::move(change), attr.inode(), parent, now_ns);
}

void WriteBack::Enqueue(wire::Envelope change, uint64_t inode, uint64_t dir, int64_t now_ns) {
  change.set_sequence(master_.NextSequence());
  change.set_change_time_ns(now_ns);  // the times the mount gave the kernel
  if (queue_.empty()) oldest_queued_ms_ = MonotonicMs();
  queue_.push_back(Pending{std::move(change), inode, dir});
  queued_total_++;
  if (inode != 0) made_[inode].changes++;
  if (queue_.size() == 1 || queue_.size() >= static_cast<size_t>(kMaxBatch)) wake_.notify_all();
}

WriteBack::Known WriteBack::Lookup(uint64_t parent, const std::string& name, const wire::Credentials& credentials,
                                   Answer* answer) {
  std::unique_lock lock(mutex_);
  Delegation* delegation = Valid(parent);
  if (delegation == nullptr || !MaySearch(delegation->attr, credentials)) return Known::kAsk;
  answer->lease_ms = LeaseLeft(*delegation, MonotonicMs());
  auto entry = delegation->entries.find(name);
  if (entry == delegation->entries.end()) return Known::kAbsent;
  auto made = made_.find(entry->second.inode);
  if (!entry->second.made_here || made == made_.end()) return Known::kAsk;
  answer->attr = made->second.attr;
  return Known::kFound;
}

std::optional<WriteBack::Answer> WriteBack::GetAttr(uint64_t inode) {
  std::lock_guard lock(mutex_);
  if (Delegation* delegation = Valid(inode)) return Answer{delegation->attr, LeaseLeft(*delegation, MonotonicMs())};
  // Unshipped, the master has nothing newer; shipped, nobody else changes it while its
  // directory is delegated here. Not cached by the kernel: it drops no inode at a give-back.
  if (auto made = made_.find(inode); made != made_.end() && made->second.changes > 0) return Answer{made->second.attr, 0};
  if (Made* made = OwnFile(inode)) return Answer{made->attr, 0};
  return std::nullopt;
}

WriteBack::Made* WriteBack::OwnFile(uint64_t inode) {
  auto made = made_.find(inode);
  if (made == made_.end() || !S_ISREG(made->second.attr.mode()) || made->second.attr.nlink() != 1) return nullptr;
  return Valid(made->second.dir) != nullptr ? &made->second : nullptr;
}

void WriteBack::EndDelegation(uint64_t dir) {
  auto found = delegations_.find(dir);
  if (found == delegations_.end()) return;
  for (const auto& [name, entry] : found->second.entries) {
    auto made = made_.find(entry.inode);
    if (entry.made_here && made != made_.end() && made->second.dir == dir) Forget(entry.inode);
  }
  delegations_.erase(found);
}

void WriteBack::Forget(uint64_t inode) {
  auto made = made_.find(inode);
  if (made == made_.end()) return;
  if (made->second.changes > 0) {
    made->second.dir = 0;  // forgotten when shipped
  } else {
    made_.erase(made);
  }
}

std::optional<WriteBack::Answer> WriteBack::MakeLocally(uint64_t parent, const std::string& name,
                                                        const wire::Credentials& credentials, bool directory,
                                                        const Build& build) {
  std::unique_lock lock(mutex_);
  if (directory && delegations_.size() + retired_.size() >= kMaxDelegations) return std::nullopt;
  uint64_t inode = 0;
  Delegation* delegation = PlaceFor(parent, name, credentials, lock, &inode);
  if (delegation == nullptr) return std::nullopt;
  int64_t now_ns = WallClockNs();
  wire::Envelope change;
  wire::Attr attr = build(*delegation, inode, now_ns, &change);
  RecordMade(*delegation, parent, name, attr, std::move(change), now_ns);
  return Answer{attr, LeaseLeft(*delegation, MonotonicMs())};
}

std::optional<WriteBack::Answer> WriteBack::Mknod(uint64_t parent, const std::string& name, uint32_t mode,
                                                  uint32_t rdev, const wire::Credentials& credentials,
                                                  uint64_t open_generation) {
  if ((mode & S_IFMT) == 0) mode |= S_IFREG;
  if (!S_ISREG(mode) || (mode & (S_ISUID | S_ISGID)) || name.size() > 255) return std::nullopt;
  return MakeLocally(parent, name, credentials, /*directory=*/false,
                     [&](Delegation& delegation, uint64_t inode, int64_t now_ns, wire::Envelope* change) {
                       wire::MknodRequest* mknod = change->mutable_mknod();
                       SetCreate(parent, name, inode, credentials, mknod);
                       mknod->set_mode(mode);
                       mknod->set_rdev(rdev);
                       mknod->set_exclusive(true);
                       mknod->set_open_generation(open_generation);
                       wire::Attr attr = NewAttr(inode, mode, delegation.attr, credentials, now_ns);
                       attr.set_rdev(rdev);
                       return attr;
                     });
}

std::optional<WriteBack::Answer> WriteBack::Mkdir(uint64_t parent, const std::string& name, uint32_t mode,
                                                  const wire::Credentials& credentials) {
  if ((mode & (S_ISUID | S_ISGID)) || name.size() > 255) return std::nullopt;
  return MakeLocally(parent, name, credentials, /*directory=*/true,
                     [&](Delegation& delegation, uint64_t inode, int64_t now_ns, wire::Envelope* change) {
                       SetCreate(parent, name, inode, credentials, change->mutable_mkdir());
                       change->mutable_mkdir()->set_mode(S_IFDIR | (mode & 07777));
                       wire::Attr attr = NewAttr(inode, S_IFDIR | (mode & 07777), delegation.attr, credentials, now_ns);
                       delegation.attr.set_nlink(delegation.attr.nlink() + 1);
                       // The master delegates a directory made under a delegation to its maker
                       // when it applies it. (Elements of an unordered_map stay where they are
                       // when it grows.)
                       Delegation& made_dir = delegations_[inode];
                       made_dir.attr = attr;
                       made_dir.valid_until_ms = delegation.valid_until_ms;
                       made_dir.epoch = delegation.epoch;
                       return attr;
                     });
}

std::optional<WriteBack::Answer> WriteBack::Symlink(uint64_t parent, const std::string& name,
                                                    const std::string& target, const wire::Credentials& credentials) {
  if (name.size() > 255 || target.empty() || target.size() >= 4096) return std::nullopt;
  return MakeLocally(parent, name, credentials, /*directory=*/false,
                     [&](Delegation& delegation, uint64_t inode, int64_t now_ns, wire::Envelope* change) {
                       SetCreate(parent, name, inode, credentials, change->mutable_symlink());
                       change->mutable_symlink()->set_target(target);
                       wire::Attr attr = NewAttr(inode, S_IFLNK | 0777, delegation.attr, credentials, now_ns);
                       attr.set_mode(S_IFLNK | 0777);  // a symlink's mode is always that (no umask)
                       attr.set_size(target.size());
                       return attr;
                     });
}

bool WriteBack::Remove(uint64_t parent, const std::string& name, bool directory, const wire::Credentials& credentials) {
  std::unique_lock lock(mutex_);
  Delegation* found = Valid(parent);
  if (found == nullptr) return false;
  Delegation& delegation = *found;
  auto entry = delegation.entries.find(name);
  if (entry == delegation.entries.end() || !entry->second.made_here ||
      S_ISDIR(entry->second.mode) != directory || !MayChangeEntries(delegation.attr, credentials)) {
    return false;
  }
  uint64_t inode = entry->second.inode;
  if (delegation.attr.mode() & S_ISVTX) return false;  // the owner rules: the master's call
  if (!made_.contains(inode)) return false;  // the master changed it since (a link): its call
  if (directory) {
    auto child = delegations_.find(inode);
    if (child == delegations_.end() || !child->second.entries.empty()) return false;
  }
  if (queue_.size() >= kMaxQueued) return false;
  int64_t now_ns = WallClockNs();
  wire::Envelope change;
  if (directory) {
    change.mutable_rmdir()->set_parent(parent);
    change.mutable_rmdir()->set_name(name);
    *change.mutable_rmdir()->mutable_credentials() = credentials;
    delegation.attr.set_nlink(delegation.attr.nlink() - 1);
    EndDelegation(inode);
  } else {
    change.mutable_unlink()->set_parent(parent);
    change.mutable_unlink()->set_name(name);
    *change.mutable_unlink()->mutable_credentials() = credentials;
  }
  Touch(&delegation.attr, now_ns);
  delegation.entries.erase(entry);
  if (auto made = made_.find(inode); made != made_.end()) {
    made->second.attr.set_nlink(0);
    made->second.attr.set_ctime_ns(now_ns);
    made->second.dir = 0;  // forgotten when shipped
  }
  Enqueue(std::move(change), inode, parent, now_ns);
  return true;
}

std::optional<WriteBack::Answer> WriteBack::Rename(uint64_t parent, const std::string& name, uint64_t new_parent,
                                                   const std::string& new_name, uint32_t flags,
                                                   const wire::Credentials& credentials) {
  if ((flags & ~RENAME_NOREPLACE) != 0 || new_name.size() > 255) return std::nullopt;
  std::unique_lock lock(mutex_);
  Delegation* from = Valid(parent);
  Delegation* to = Valid(new_parent);
  // Sticky directories' owner rules are the master's call.
  if (from == nullptr || to == nullptr || queue_.size() >= kMaxQueued || !MayChangeEntries(from->attr, credentials) ||
      !MayChangeEntries(to->attr, credentials) || ((from->attr.mode() | to->attr.mode()) & S_ISVTX)) {
    return std::nullopt;
  }
  auto source = from->entries.find(name);
  if (source == from->entries.end() || !source->second.made_here) return std::nullopt;
  Entry moved = source->second;
  auto made = made_.find(moved.inode);
  // A directory moved elsewhere changes its ".." and needs the master's loop check.
  if (made == made_.end() || (S_ISDIR(moved.mode) && parent != new_parent)) return std::nullopt;
  uint64_t replaced = 0;
  if (auto target = to->entries.find(new_name); target != to->entries.end()) {
    if ((flags & RENAME_NOREPLACE) || !target->second.made_here || S_ISDIR(moved.mode) ||
        S_ISDIR(target->second.mode) || target->second.inode == moved.inode) {
      return std::nullopt;
    }
    replaced = target->second.inode;
  }
  int64_t now_ns = WallClockNs();
  wire::Envelope change;
  wire::RenameRequest* rename = change.mutable_rename();
  rename->set_parent(parent);
  rename->set_name(name);
  rename->set_new_parent(new_parent);
  rename->set_new_name(new_name);
  rename->set_flags(flags);
  *rename->mutable_credentials() = credentials;
  from->entries.erase(source);
  to->entries[new_name] = moved;
  Touch(&from->attr, now_ns);
  Touch(&to->attr, now_ns);
  made->second.dir = new_parent;
  made->second.attr.set_ctime_ns(now_ns);
  if (auto gone = made_.find(replaced); gone != made_.end()) {
    gone->second.attr.set_nlink(0);
    gone->second.attr.set_ctime_ns(now_ns);
    Forget(replaced);
  }
  Answer answer{made->second.attr, LeaseLeft(*to, MonotonicMs())};
  Enqueue(std::move(change), moved.inode, new_parent, now_ns);
  return answer;
}

std::optional<wire::Attr> WriteBack::Open(uint64_t inode, uint64_t open_generation) {
  std::lock_guard lock(mutex_);
  Made* made = OwnFile(inode);
  if (made == nullptr || queue_.size() >= kMaxQueued) return std::nullopt;
  wire::Envelope hold;
  hold.mutable_get_attr()->set_inode(inode);
  hold.mutable_get_attr()->set_open_generation(open_generation);
  Enqueue(std::move(hold), 0, 0, WallClockNs());
  return made->attr;
}

Status WriteBack::Flush(uint64_t inode) {
  std::unique_lock lock(mutex_);
  if (Status status = ShipThrough(queued_total_, lock); !status.ok()) return status;
  auto error = errors_.find(inode);
  if (error == errors_.end()) return Status::Ok();
  Status status = error->second;
  errors_.erase(error);
  return status;
}

Status WriteBack::TakeError(uint64_t inode) {
  std::lock_guard lock(mutex_);
  auto error = errors_.find(inode);
  if (error == errors_.end()) return Status::Ok();
  Status status = error->second;
  errors_.erase(error);
  return status;
}

Status WriteBack::ShipThrough(uint64_t through, std::unique_lock<std::mutex>& lock) {
  if (shipped_total_ >= through) return Status::Ok();
  if (!thread_.joinable() || stopping_) {
    int64_t deadline_ms = MonotonicMs() + ship_timeout_ms_;
    while (shipped_total_ < through && MonotonicMs() < deadline_ms && ShipOnce(lock).has_value()) {
    }
  } else {
    flush_now_ = true;
    wake_.notify_all();
    // Bounded like any call to the masters: past it, the caller gets EIO and the changes stay.
    shipped_.wait_for(lock, std::chrono::milliseconds(ship_timeout_ms_),
                      [&] { return shipped_total_ >= through || stopping_; });
  }
  if (shipped_total_ < through) return Status::Error(EIO, "metadata changes could not reach the master");
  return Status::Ok();
}

std::optional<Result<wire::Reply>> WriteBack::BeforeCall(const wire::Envelope& request) {
  if (!enabled_ || request.has_lookup()) return std::nullopt;
  std::vector<uint64_t> dirs;
  std::vector<uint64_t> inodes;
  std::unique_lock lock(mutex_);
  if (request.has_set_attr()) {
    if (auto answer = SetAttrHere(request)) return answer;
  } else if (request.has_write_done()) {
    if (auto answer = WriteDoneHere(request)) return answer;
  } else if (request.has_release_leases() && queue_.size() < kMaxQueued) {
    // Only lets self-healing copy the chunks sooner: it goes with the next batch.
    Enqueue(request, 0, 0, WallClockNs());
    return wire::Reply();
  } else if (request.has_close_files() && !queue_.empty() && queue_.size() < kMaxQueued) {
    // After the holds of the opens queued before it (Open), or it would end none of them.
    Enqueue(request, 0, 0, WallClockNs());
    return wire::Reply();
  } else if (request.has_write_lease()) {
    if (auto answer = PlacedChunk(request.write_lease())) return answer;
    // The master needs the file first: the lease goes with the batch that brings it.
    auto made = made_.find(request.write_lease().inode());
    if (made != made_.end()) {
      made->second.leased_chunks.insert(request.write_lease().chunk_index());
      if (made->second.changes > 0 && !stopping_) return Ride(request, lock);
    }
  }
  if (uint64_t changed = ChangedInode(request); changed != 0) Forget(changed);
  Named(request, &dirs, &inodes);
  if (Independent(request)) {
    // A read of what is still only here: the master must have it first.
    bool needs_queue = std::any_of(inodes.begin(), inodes.end(), [&](uint64_t inode) {
      return made_.contains(inode) ||
             (request.has_read_dir() && std::any_of(queue_.begin(), queue_.end(),
                                                    [&](const Pending& pending) { return pending.dir == inode; }));
    });
    if (needs_queue) (void)ShipThrough(queued_total_, lock);
    return std::nullopt;
  }
  // A change of this mount's own in a delegated directory: the local copy stops here (the
  // master still counts the delegation as this mount's until a recall, so the change goes
  // through); the kernel follows its own change. What it was told stays right until another
  // mount is let in, which a recall does after dropping it (GiveBack, on the watch's thread:
  // this thread may run under the directory's lock, which dropping entries takes).
  for (uint64_t dir : dirs) {
    if (delegations_.contains(dir)) {
      EndDelegation(dir);
      retired_.insert(dir);
      refused_until_ms_[dir] = MonotonicMs() + kRefusedBackoffMs;
    }
  }
  (void)ShipThrough(queued_total_, lock);
  return std::nullopt;
}

std::optional<Result<wire::Reply>> WriteBack::SetAttrHere(const wire::Envelope& request) {
  const wire::SetAttrRequest& set = request.set_attr();
  constexpr uint32_t kHere = wire::SET_ATTR_MODE | wire::SET_ATTR_UID | wire::SET_ATTR_GID | wire::SET_ATTR_ATIME |
                             wire::SET_ATTR_MTIME | wire::SET_ATTR_ATIME_NOW | wire::SET_ATTR_MTIME_NOW;
  if (set.valid() == 0 || (set.valid() & ~kHere) != 0 || queue_.size() >= kMaxQueued) return std::nullopt;
  Made* made = OwnFile(set.inode());
  wire::Attr* local = made == nullptr ? nullptr : &made->attr;
  if (made == nullptr) {
    // A directory made here, delegated itself and in a delegated parent: nobody else sees its
    // attributes (tar sets every directory's times and mode once it is full).
    auto dir = made_.find(set.inode());
    Delegation* own = Valid(set.inode());
    if (dir != made_.end() && own != nullptr && Valid(dir->second.dir) != nullptr) {
      made = &dir->second;
      local = &own->attr;
    }
  }
  // Another caller's change (a writer's times, a non-owner's refusal) is the master's call.
  if (made == nullptr || !OwnerOrRoot(*local, set.credentials())) return std::nullopt;
  wire::Attr& attr = *local;
  uint32_t mode = (set.valid() & wire::SET_ATTR_MODE) ? ChmodBits(attr, set.mode(), set.credentials()) : attr.mode() & 07777;
  // A chown to the owner it has (tar as root does one per file) changes nothing but what a
  // chown drops from a set-id file: that one is the master's.
  bool owner_kept = (!(set.valid() & wire::SET_ATTR_UID) || set.uid() == attr.uid()) &&
                    (!(set.valid() & wire::SET_ATTR_GID) || set.gid() == attr.gid());
  if (!owner_kept || ((set.valid() & (wire::SET_ATTR_UID | wire::SET_ATTR_GID)) && (mode & (S_ISUID | S_ISGID)))) {
    return std::nullopt;
  }
  int64_t now_ns = WallClockNs();
  attr.set_mode((attr.mode() & S_IFMT) | mode);
  if (set.valid() & wire::SET_ATTR_ATIME) attr.set_atime_ns(set.atime_ns());
  if (set.valid() & wire::SET_ATTR_ATIME_NOW) attr.set_atime_ns(now_ns);
  if (set.valid() & wire::SET_ATTR_MTIME) attr.set_mtime_ns(set.mtime_ns());
  if (set.valid() & wire::SET_ATTR_MTIME_NOW) attr.set_mtime_ns(now_ns);
  attr.set_ctime_ns(now_ns);
  if (local != &made->attr) made->attr = attr;  // a directory's: its delegation's copy is the one GetAttr answers
  wire::Reply reply;
  *reply.mutable_attr() = attr;
  Enqueue(request, set.inode(), made->dir, now_ns);
  return reply;
}

std::optional<Result<wire::Reply>> WriteBack::WriteDoneHere(const wire::Envelope& request) {
  const wire::WriteDoneRequest& done = request.write_done();
  Made* made = OwnFile(done.inode());
  if (made == nullptr || queue_.size() >= kMaxQueued) return std::nullopt;
  // As Namespace::WriteDone and MakeAttr; the bytes are on the chunkservers already, in the
  // chunks leased here.
  made->attr.set_size(std::max(made->attr.size(), done.end_offset()));
  made->attr.set_mtime_ns(done.mtime_ns());
  made->attr.set_ctime_ns(done.mtime_ns());
  made->attr.set_allocated_bytes(AllocatedBytes(made->leased_chunks, made->attr.size()));
  wire::Reply reply;
  *reply.mutable_attr() = made->attr;
  Enqueue(request, done.inode(), made->dir, WallClockNs());
  return reply;
}

std::optional<Result<wire::Reply>> WriteBack::PlacedChunk(const wire::WriteLeaseRequest& lease) {
  Made* made = OwnFile(lease.inode());
  // A chunk's first lease only: a renewal, or a new chain after a failure, is the master's.
  if (made == nullptr || made->leased_chunks.contains(lease.chunk_index()) || lease.failed_chunkservers_size() > 0 ||
      queue_.size() >= kMaxQueued || stopping_) {
    return std::nullopt;
  }
  Delegation& delegation = delegations_.at(made->dir);  // OwnFile: held and valid
  int64_t now_ms = MonotonicMs();
  auto& pool = delegation.placements;
  // One the writer can use for at least half a lease: the chunk writer renews a lease well
  // before its end (ChunkWriter::AskForLease).
  while (!pool.empty() && pool.front().usable_until_ms - now_ms < pool.front().lease_ms / 2) pool.pop_front();
  if (pool.size() <= kPlacementsAhead / 4 && !delegation.refilling && now_ms >= delegation.refill_after_ms) {
    delegation.refilling = true;
    refills_.push_back(Refill{made->dir, lease.credentials(), queued_total_});
    flush_now_ = true;  // the master grants them only once it has the directory
    wake_.notify_all();
  }
  if (pool.empty()) {
    Metrics().new_chunks.With("asked").Increment();
    return std::nullopt;
  }
  Metrics().new_chunks.With("placed").Increment();
  Placement placement = std::move(pool.front());
  pool.pop_front();
  made->leased_chunks.insert(lease.chunk_index());
  wire::Envelope change;
  wire::AttachChunkRequest* attach = change.mutable_attach_chunk();
  attach->set_inode(lease.inode());
  attach->set_chunk_index(lease.chunk_index());
  attach->set_chunk_id(placement.location.chunk_id());
  *attach->mutable_credentials() = lease.credentials();
  Enqueue(std::move(change), lease.inode(), made->dir, WallClockNs());
  wire::Reply reply;
  *reply.mutable_location() = std::move(placement.location);
  reply.set_write_lease_ms(static_cast<uint32_t>(std::max<int64_t>(0, placement.usable_until_ms - now_ms)));
  reply.set_replication_goal(placement.replication_goal);
  reply.set_min_write_replicas(placement.min_write_replicas);
  return reply;
}

void WriteBack::RefillOnce(std::unique_lock<std::mutex>& lock) {
  Refill refill = std::move(refills_.front());
  refills_.pop_front();
  auto held = delegations_.find(refill.dir);
  if (held == delegations_.end()) return;
  uint64_t epoch = held->second.epoch;
  lock.unlock();
  wire::Envelope request;
  request.mutable_delegation()->set_dir(refill.dir);
  request.mutable_delegation()->set_want_placements(kPlacementsAhead);
  *request.mutable_delegation()->mutable_credentials() = std::move(refill.credentials);
  int64_t sent_ms = MonotonicMs();
  auto reply = master_.CallOnce(std::move(request));
  lock.lock();
  held = delegations_.find(refill.dir);
  if (held == delegations_.end() || held->second.epoch != epoch) return;
  held->second.refilling = false;
  if (!reply || reply->placements_size() == 0) {
    held->second.refill_after_ms = MonotonicMs() + kRefusedBackoffMs;  // none to be had now
    return;
  }
  for (const wire::ChunkLocation& location : reply->placements()) {
    held->second.placements.push_back(Placement{location, sent_ms + reply->write_lease_ms(), reply->write_lease_ms(),
                                                reply->replication_goal(), reply->min_write_replicas()});
  }
}

Result<wire::Reply> WriteBack::Ride(const wire::Envelope& request, std::unique_lock<std::mutex>& lock) {
  Rider rider{request, std::nullopt};
  rider.request.set_sequence(master_.NextSequence());  // the same on every batch that carries it
  riders_.push_back(&rider);
  flush_now_ = true;
  wake_.notify_all();
  shipped_.wait_for(lock, std::chrono::milliseconds(ship_timeout_ms_),
                    [&] { return rider.answer.has_value() || stopping_; });
  std::erase(riders_, &rider);
  if (!rider.answer) return Fail(EIO, "the master did not answer a request sent with the write-back changes");
  return std::move(*rider.answer);
}

void WriteBack::GiveBack(const std::vector<uint64_t>& dirs) {
  {
    std::unique_lock lock(mutex_);
    int64_t now_ms = MonotonicMs();
    for (uint64_t dir : dirs) {
      EndDelegation(dir);  // first: creates from now on go to the master, after these
      retired_.erase(dir);
      refused_until_ms_[dir] = now_ms + kRefusedBackoffMs;
    }
    (void)ShipThrough(queued_total_, lock);
  }
  for (uint64_t dir : dirs) {
    drop_directory_(dir);
    wire::Envelope release;
    release.mutable_delegation()->set_dir(dir);
    release.mutable_delegation()->set_release(true);
    (void)master_.CallOnce(std::move(release));  // lost: the master takes it back a lease time after its recall
  }
}

void WriteBack::Watched(int64_t sent_ms, uint64_t epoch, const std::vector<uint64_t>& recalled) {
  std::vector<uint64_t> held;
  {
    std::lock_guard lock(mutex_);
    for (auto& [dir, delegation] : delegations_) {
      // Only the master that granted it renews it (NewEpoch drops the others).
      if (delegation.epoch == epoch && std::find(recalled.begin(), recalled.end(), dir) == recalled.end()) {
        delegation.valid_until_ms = std::max(delegation.valid_until_ms, sent_ms + lease_ms_);
      }
    }
    for (uint64_t dir : recalled) {
      if (delegations_.contains(dir) || retired_.contains(dir)) held.push_back(dir);
    }
    // Retired ones pile up at the master (its bound is per session): given back from here,
    // a thread that holds no directory's lock in the kernel.
    if (retired_.size() > kMaxRetired) held.insert(held.end(), retired_.begin(), retired_.end());
  }
  // One recalled that this mount no longer holds (given back already) needs nothing more.
  if (!held.empty()) GiveBack(held);
}

bool WriteBack::NewEpoch(int64_t wait_ms) {
  if (!enabled_) return true;
  std::unique_lock lock(mutex_);
  // The new active knows none: creates go to it until it grants again. What the kernel was
  // told from them goes with everything else (KernelCacheEpoch).
  while (!delegations_.empty()) EndDelegation(delegations_.begin()->first);
  retired_.clear();
  uint64_t through = queued_total_;
  if (shipped_total_ >= through) return true;
  flush_now_ = true;
  wake_.notify_all();
  return shipped_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return shipped_total_ >= through; });
}

void WriteBack::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (!refills_.empty() && shipped_total_ >= refills_.front().after) {
      RefillOnce(lock);
      continue;
    }
    if (queue_.empty() && riders_.empty()) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !riders_.empty() || !refills_.empty(); });
      continue;
    }
    int64_t due_ms = oldest_queued_ms_ + flush_ms_;
    if (!flush_now_ && riders_.empty() && queue_.size() < static_cast<size_t>(kMaxBatch) && MonotonicMs() < due_ms) {
      wake_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, due_ms - MonotonicMs())));
      continue;
    }
    // Unreachable, or nothing taken (the master holds the front back for a recall): paced.
    if (std::optional<size_t> answered = ShipOnce(lock); !answered || *answered == 0) {
      wake_.wait_for(lock, std::chrono::milliseconds(kRetryMs), [&] { return stopping_; });
    }
  }
  // Stopping: what is queued still goes (an unmount loses nothing it acknowledged), for as
  // long as any call to the masters may take.
  int64_t deadline_ms = MonotonicMs() + ship_timeout_ms_;
  while (!queue_.empty() && MonotonicMs() < deadline_ms && ShipOnce(lock).has_value()) {
  }
  shipped_.notify_all();
}

std::optional<size_t> WriteBack::ShipOnce(std::unique_lock<std::mutex>& lock) {
  wire::Envelope batch;
  size_t count = std::min(queue_.size(), static_cast<size_t>(kMaxBatch));
  for (size_t i = 0; i < count; ++i) *batch.mutable_change_batch()->add_changes() = queue_[i].change;
  std::vector<Rider*> riding;  // after the whole queue only: they need what it makes
  for (Rider* rider : riders_) {
    if (count < queue_.size() || count + riding.size() >= static_cast<size_t>(kMaxBatch)) break;
    riding.push_back(rider);
    *batch.mutable_change_batch()->add_changes() = rider->request;
  }
  lock.unlock();
  auto reply = master_.Call(std::move(batch));
  lock.lock();
  if (!reply) {
    static LogRateLimit unreachable(1, 30000);
    rpc::LogAtRate(unreachable, "write-back changes not shipped (they stay queued)", reply.error());
    return std::nullopt;
  }
  size_t done = 0;
  for (const wire::Reply& answer : reply->batch_replies()) {
    if (done >= count || answer.error() == EAGAIN) break;
    Pending& pending = queue_.front();
    if (answer.error() != 0) {
      Status refused = rpc::ReplyStatus(answer);
      static LogRateLimit refusals(10, 60000);
      rpc::LogAtRate(refusals, "the master refused a write-back change of inode " + std::to_string(pending.inode) +
                                   " in directory " + std::to_string(pending.dir), refused);
      if (errors_.size() < 4096) {
        errors_.emplace(pending.inode, refused);
        errors_.emplace(pending.dir, refused);
      }
    }
    if (pending.inode != 0) {
      auto made = made_.find(pending.inode);
      if (made != made_.end() && --made->second.changes <= 0 && !delegations_.contains(made->second.dir)) {
        made_.erase(made);
      }
    }
    queue_.pop_front();
    shipped_total_++;
    done++;
  }
  size_t answered = done;
  for (size_t i = 0; i < riding.size() && done == count; ++i) {
    int at = static_cast<int>(count + i);
    // One that waited too long has gone (Ride took it off the list).
    if (at >= reply->batch_replies_size() || std::find(riders_.begin(), riders_.end(), riding[i]) == riders_.end()) break;
    const wire::Reply& answer = reply->batch_replies(at);
    if (answer.error() == EAGAIN) break;  // goes again with the next batch
    riding[i]->answer = answer.error() != 0 ? Result<wire::Reply>(Fail(rpc::ReplyStatus(answer))) : answer;
    std::erase(riders_, riding[i]);
    answered++;
  }
  if (!queue_.empty()) oldest_queued_ms_ = MonotonicMs() - flush_ms_;  // the rest goes at once
  if (queue_.empty() && riders_.empty()) flush_now_ = false;
  shipped_.notify_all();
  return answered;
}

}  // namespace hafs::mount
