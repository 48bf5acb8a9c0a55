#include "master/delegation_requests.h"

#include <sys/stat.h>

#include "common/clock.h"

namespace hafs::master {
namespace {

// The entry `name` of `parent` when it is a directory (a rmdir or rename moves or drops it).
void AddIfDirectory(const Namespace& tree, uint64_t parent, const std::string& name, std::vector<uint64_t>* dirs) {
  auto entry = tree.Lookup(parent, name);
  if (entry && S_ISDIR(entry->mode())) dirs->push_back(entry->inode());
}

}  // namespace

std::vector<uint64_t> DirsNamedBy(const wire::Envelope& request, const Namespace& tree) {
  std::vector<uint64_t> dirs;
  switch (request.body_case()) {
    case wire::Envelope::kLookup: dirs = {request.lookup().parent()}; break;
    case wire::Envelope::kGetAttr: dirs = {request.get_attr().inode()}; break;
    case wire::Envelope::kSetAttr: dirs = {request.set_attr().inode()}; break;
    case wire::Envelope::kReadDir: dirs = {request.read_dir().inode()}; break;
    case wire::Envelope::kMknod: dirs = {request.mknod().parent()}; break;
    case wire::Envelope::kMkdir: dirs = {request.mkdir().parent()}; break;
    case wire::Envelope::kSymlink: dirs = {request.symlink().parent()}; break;
    case wire::Envelope::kLink: dirs = {request.link().inode(), request.link().new_parent()}; break;
    case wire::Envelope::kUnlink: dirs = {request.unlink().parent()}; break;
    case wire::Envelope::kRmdir:
      dirs = {request.rmdir().parent()};
      AddIfDirectory(tree, request.rmdir().parent(), request.rmdir().name(), &dirs);
      break;
    case wire::Envelope::kRename:
      dirs = {request.rename().parent(), request.rename().new_parent()};
      AddIfDirectory(tree, request.rename().parent(), request.rename().name(), &dirs);
      AddIfDirectory(tree, request.rename().new_parent(), request.rename().new_name(), &dirs);
      break;
    case wire::Envelope::kSetXattr: dirs = {request.set_xattr().inode()}; break;
    case wire::Envelope::kRemoveXattr: dirs = {request.remove_xattr().inode()}; break;
    case wire::Envelope::kGetXattr: dirs = {request.get_xattr().inode()}; break;
    case wire::Envelope::kListXattr: dirs = {request.list_xattr().inode()}; break;
    case wire::Envelope::kDelegation: dirs = {request.delegation().dir()}; break;
    default: break;
  }
  return dirs;
}

std::vector<uint64_t> WriteBackDirs(const wire::Envelope& change, const Namespace& tree) {
  auto of_file = [&](uint64_t inode) {
    uint64_t parent = tree.OnlyLinkParent(inode);
    return parent == 0 ? std::vector<uint64_t>() : std::vector<uint64_t>{parent};
  };
  switch (change.body_case()) {
    case wire::Envelope::kMknod: return {change.mknod().parent()};
    case wire::Envelope::kMkdir: return {change.mkdir().parent()};
    case wire::Envelope::kSymlink: return {change.symlink().parent()};
    case wire::Envelope::kUnlink: return {change.unlink().parent()};
    case wire::Envelope::kRmdir: return {change.rmdir().parent()};
    case wire::Envelope::kRename: return {change.rename().parent(), change.rename().new_parent()};
    case wire::Envelope::kSetAttr: {
      // A directory's own attributes: its parent's delegation (where others look it up) and its own.
      std::vector<uint64_t> dirs = of_file(change.set_attr().inode());
      auto attr = tree.GetAttr(change.set_attr().inode());
      if (!dirs.empty() && attr && S_ISDIR(attr->mode())) dirs.push_back(change.set_attr().inode());
      return dirs;
    }
    case wire::Envelope::kWriteDone: return of_file(change.write_done().inode());
    case wire::Envelope::kAttachChunk: return of_file(change.attach_chunk().inode());
    default: return {};
  }
}

wire::Reply AnswerDelegation(uint64_t session, const wire::DelegationRequest& request, MasterState& state,
                             DirDelegations& delegations, const MetadataLeases& leases, int64_t now_ms,
                             std::vector<wire::LogRecord>* records) {
  wire::Reply reply;
  if (request.release()) {
    delegations.Release(session, request.dir(), now_ms);
    return reply;
  }
  if (request.want_inodes() > 0) {
    auto first = state.GrantInodes(session, std::min(request.want_inodes(), InodeGrants::kMaxPerGrant), WallClockNs(),
                                   records);
    if (first) {
      reply.set_inode_range_first(*first);
      reply.set_inode_range_count(std::min(request.want_inodes(), InodeGrants::kMaxPerGrant));
    }
  }
  if (request.dir() == 0 || leases.lease_ms() == 0) return reply;
  // Chunks placed ahead, for files under a directory the session holds: never a grant.
  if (request.want_placements() > 0) {
    if (delegations.Holder(request.dir()) == session) {
      state.PlaceAhead(session, request.dir(), request.want_placements(), now_ms, WallClockNs(), &reply, records);
    }
    return reply;
  }
  const Namespace& tree = state.name_space();
  wire::ReadDirRequest list;
  list.set_inode(request.dir());
  list.set_max_entries(kMaxDelegatedEntries);
  *list.mutable_credentials() = request.credentials();
  wire::Reply listing;
  if (!tree.MayReadDir(list).ok() || !tree.ReadDir(list, &listing).ok() || !listing.end_of_directory()) return reply;
  auto attr = tree.GetAttr(request.dir());
  if (!attr || attr->has_xattrs()) return reply;  // an ACL or a default ACL: the master decides each create
  if (leases.HeldByOthers(session, request.dir(), now_ms) || !delegations.Grant(session, request.dir(), now_ms)) return reply;
  reply.set_delegation_granted(true);
  reply.set_entry_lease_ms(static_cast<uint32_t>(leases.lease_ms()));
  *reply.mutable_attr() = std::move(*attr);
  *reply.mutable_entries() = std::move(*listing.mutable_entries());
  reply.set_end_of_directory(true);
  return reply;
}

}  // namespace hafs::master
