// fallocate(2) on the namespace (docs/design.md, "fallocate"): what the master keeps of a
// reservation (the size, or the end of the space reserved past it) and the chunks a
// punched hole drops. The chunkservers' part (extending, zeroing) is the mount's.
#include <sys/stat.h>

#include <algorithm>

#include "common/block_checksum.h"
#include "common/fallocate_range.h"
#include "master/namespace.h"

namespace hafs::master {

Result<wire::Attr> Namespace::Fallocate(const wire::FallocateRequest& request, std::vector<uint64_t>* freed_chunks) {
  Inode* inode = inodes_.Find(request.inode());
  if (!inode) return Fail(ENOENT, "no inode " + std::to_string(request.inode()));
  if (S_ISDIR(inode->mode)) return Fail(EISDIR, "fallocate of a directory");
  if (!S_ISREG(inode->mode)) return Fail(ENODEV, "fallocate of a file that is not a regular file");
  if (Status range = CheckFallocateRange(request.offset(), request.length()); !range.ok()) return Fail(range);
  uint64_t end = request.offset() + request.length();
  switch (request.mode()) {
    case wire::FALLOCATE_RESERVE:
      if (end > inode->size) {
        inode->size = end;
        inode->mtime_ns = inode->ctime_ns = request.mtime_ns();
      }
      if (Extent(request.inode(), *inode) == inode->size) reserved_ends_.erase(request.inode());
      break;
    case wire::FALLOCATE_KEEP_SIZE:
      if (end > Extent(request.inode(), *inode)) reserved_ends_[request.inode()] = end;
      break;
    case wire::FALLOCATE_PUNCH_HOLE: {
      PunchPlan plan = PlanPunch(request.offset(), request.length(), Extent(request.inode(), *inode));
      if (auto chunks = chunk_ids_.find(request.inode()); chunks != chunk_ids_.end()) {
        std::vector<uint64_t>& ids = chunks->second;
        for (uint64_t index = plan.first_dropped; index < std::min<uint64_t>(plan.end_dropped, ids.size()); ++index) {
          if (ids[index] != 0) freed_chunks->push_back(ids[index]);
          ids[index] = 0;
        }
        while (!ids.empty() && ids.back() == 0) ids.pop_back();
        if (ids.empty()) chunk_ids_.erase(chunks);
      }
      inode->mtime_ns = inode->ctime_ns = request.mtime_ns();
      break;
    }
    default:
      return Fail(EOPNOTSUPP, "fallocate mode " + std::to_string(request.mode()) + " is not supported");
  }
  return MakeAttr(request.inode(), *inode);
}

}  // namespace hafs::master
