#include "mount/inode_table.h"

#include <algorithm>
#include <utility>

namespace hafs::mount {

bool InodeTable::Observe(wire::Attr* attr) { return Note(attr, /*own=*/false); }

void InodeTable::ObserveOwn(wire::Attr* attr) { (void)Note(attr, /*own=*/true); }

bool InodeTable::TakeChangedSinceOpen(uint64_t inode) {
  std::lock_guard lock(mutex_);
  auto found = records_.find(inode);
  return found != records_.end() && std::exchange(found->second.changed_since_open, false);
}

bool InodeTable::Note(wire::Attr* attr, bool own) {
  std::shared_ptr<OpenFile> open_file;
  {
    std::lock_guard lock(mutex_);
    auto found = records_.find(attr->inode());
    if (found != records_.end()) open_file = found->second.open_file;
  }
  if (open_file) {
    std::lock_guard file_lock(open_file->mutex);
    // Writes the master has not heard of yet: the bytes they added past its size are real.
    if (open_file->unreported && open_file->end_offset > attr->size()) {
      attr->set_allocated_bytes(attr->allocated_bytes() + (open_file->end_offset - attr->size()));
      attr->set_size(open_file->end_offset);
    }
  }
  std::lock_guard lock(mutex_);
  Record& record = records_[attr->inode()];
  bool changed = !own && record.seen && (record.size != attr->size() || record.mtime_ns != attr->mtime_ns());
  // Never seen, or forgotten since (the kernel dropped it): what else is cached of it (chunk
  // locations, the kernel's pages of an earlier life) may be stale too.
  record.changed_since_open = record.changed_since_open || changed || (!own && !record.seen);
  record.size = attr->size();
  record.mtime_ns = attr->mtime_ns();
  record.has_xattrs = attr->has_xattrs();
  record.seen = true;
  return changed;
}

bool InodeTable::ObserveEntry(wire::Attr* attr, uint64_t parent) {
  bool changed = Observe(attr);
  std::lock_guard lock(mutex_);
  Record& record = records_[attr->inode()];
  record.lookups++;
  record.parent = parent;
  return changed;
}

void InodeTable::Forget(uint64_t inode, uint64_t lookups) {
  std::lock_guard lock(mutex_);
  auto found = records_.find(inode);
  if (found == records_.end()) return;
  found->second.lookups -= std::min(lookups, found->second.lookups);
  DropIfUnused(inode, found->second);
}

uint64_t InodeTable::Parent(uint64_t directory) {
  std::lock_guard lock(mutex_);
  auto found = records_.find(directory);
  if (found == records_.end() || found->second.parent == 0) return directory;
  return found->second.parent;
}

bool InodeTable::MayHaveXattrs(uint64_t inode) {
  std::lock_guard lock(mutex_);
  auto found = records_.find(inode);
  return found == records_.end() || found->second.has_xattrs;
}

void InodeTable::NoteXattrs(uint64_t inode) {
  std::lock_guard lock(mutex_);
  auto found = records_.find(inode);
  if (found != records_.end()) found->second.has_xattrs = true;
}

std::shared_ptr<OpenFile> InodeTable::Open(uint64_t inode, uint64_t* generation) {
  std::lock_guard lock(mutex_);
  Record& record = records_[inode];
  if (!record.open_file) record.open_file = std::make_shared<OpenFile>(inode);
  record.opens++;
  ++generation_;
  if (generation != nullptr) *generation = generation_;
  return record.open_file;
}

uint64_t InodeTable::Close(uint64_t inode) {
  std::lock_guard lock(mutex_);
  auto found = records_.find(inode);
  if (found == records_.end()) return 0;
  uint64_t last_close = 0;
  if (--found->second.opens <= 0) {
    found->second.opens = 0;
    found->second.open_file.reset();
    last_close = ++generation_;
  }
  DropIfUnused(inode, found->second);
  return last_close;
}

uint64_t InodeTable::NextGeneration() {
  std::lock_guard lock(mutex_);
  return ++generation_;
}

std::vector<uint64_t> InodeTable::OpenInodes(uint64_t* generation) {
  std::lock_guard lock(mutex_);
  std::vector<uint64_t> open;
  for (const auto& [inode, record] : records_) {
    if (record.opens > 0) open.push_back(inode);
  }
  *generation = generation_;
  return open;
}

int InodeTable::Opens(uint64_t inode) {
  std::lock_guard lock(mutex_);
  auto found = records_.find(inode);
  return found == records_.end() ? 0 : found->second.opens;
}

std::shared_ptr<OpenFile> InodeTable::FindOpen(uint64_t inode) {
  std::lock_guard lock(mutex_);
  auto found = records_.find(inode);
  return found == records_.end() ? nullptr : found->second.open_file;
}

void InodeTable::DropIfUnused(uint64_t inode, const Record& record) {
  if (record.lookups == 0 && record.opens == 0) records_.erase(inode);
}

}  // namespace hafs::mount
