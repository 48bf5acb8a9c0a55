#include "mount/fuse_convert.h"

#include <vector>

#include "common/log.h"
#include "mount/mount_metrics.h"

namespace hafs::mount {

MountContext& Context(fuse_req_t req) { return *static_cast<MountContext*>(fuse_req_userdata(req)); }

wire::Credentials CallerCredentials(fuse_req_t req) {
  const fuse_ctx* caller = fuse_req_ctx(req);
  wire::Credentials credentials;
  credentials.set_uid(caller->uid);
  credentials.set_gid(caller->gid);
  credentials.set_umask(caller->umask);
  std::vector<gid_t> groups(64);
  int count = fuse_req_getgroups(req, static_cast<int>(groups.size()), groups.data());
  if (count > static_cast<int>(groups.size())) {
    groups.resize(count);
    count = fuse_req_getgroups(req, count, groups.data());
  }
  for (int i = 0; i < std::min<int>(count, groups.size()); ++i) credentials.add_groups(groups[i]);
  return credentials;
}

namespace {
struct timespec FromNs(int64_t ns) {
  struct timespec time{};
  time.tv_sec = ns / 1'000'000'000;
  time.tv_nsec = ns % 1'000'000'000;
  if (time.tv_nsec < 0) {
    time.tv_sec -= 1;
    time.tv_nsec += 1'000'000'000;
  }
  return time;
}
}  // namespace

int64_t ToNs(const struct timespec& time) { return int64_t{time.tv_sec} * 1'000'000'000 + time.tv_nsec; }

uint64_t MasterInode(fuse_req_t req, fuse_ino_t ino) { return Context(req).inode_mapping.ToMaster(ino); }

struct stat ToStat(const MountContext& context, const wire::Attr& attr) {
  struct stat st{};
  st.st_ino = context.inode_mapping.ToKernel(attr.inode());
  st.st_mode = attr.mode();
  st.st_nlink = attr.nlink();
  st.st_uid = attr.uid();
  st.st_gid = attr.gid();
  st.st_rdev = attr.rdev();
  st.st_size = static_cast<off_t>(attr.size());
  st.st_blksize = 64 * 1024;  // a checksum block: the natural I/O unit
  st.st_blocks = static_cast<blkcnt_t>((attr.allocated_bytes() + 511) / 512);
  st.st_atim = FromNs(attr.atime_ns());
  st.st_mtim = FromNs(attr.mtime_ns());
  st.st_ctim = FromNs(attr.ctime_ns());
  return st;
}

fuse_entry_param ToEntry(const MountContext& context, const wire::Attr& attr, std::pair<double, double> timeouts) {
  fuse_entry_param entry{};
  entry.attr = ToStat(context, attr);
  entry.ino = entry.attr.st_ino;
  entry.entry_timeout = timeouts.first;
  entry.attr_timeout = timeouts.second;
  return entry;
}

LeaseLedger::Cacheable CacheableOf(const wire::Reply& reply, uint64_t parent, std::string_view name) {
  return {parent, name, reply.entry_lease_ms(), reply.attr().inode(), reply.attr_lease_ms()};
}

void PreferLocal(MountContext& context, wire::Attr* attr) {
  if (auto local = context.write_back.GetAttr(attr->inode())) *attr = std::move(local->attr);
}

void ObserveAttr(MountContext& context, wire::Attr* attr) {
  PreferLocal(context, attr);
  if (context.inodes.Observe(attr)) context.locations.ForgetInode(attr->inode());
}

void CloseHere(MountContext& context, uint64_t inode) {
  if (uint64_t generation = context.inodes.Close(inode); generation != 0) context.closes.Closed(inode, generation);
}

void ReplyEntry(fuse_req_t req, const LeaseLedger::Ticket& ticket, const wire::Reply& reply, uint64_t parent,
                std::string_view name) {
  MountContext& context = Context(req);
  if (!reply.has_attr()) {
    context.ledger.Reply(ticket, [&](const LeaseLedger::Timeouts& timeouts) {
      fuse_entry_param absent{};  // ino 0: the kernel caches that the name does not exist
      absent.entry_timeout = timeouts(CacheableOf(reply, parent, name)).first;
      if (absent.entry_timeout > 0) {
        fuse_reply_entry(req, &absent);
      } else {
        ReplyErrno(req, ENOENT);
      }
    });
    return;
  }
  wire::Attr attr = reply.attr();
  PreferLocal(context, &attr);
  if (context.inodes.ObserveEntry(&attr, parent)) context.locations.ForgetInode(attr.inode());
  context.ledger.Reply(ticket, [&](const LeaseLedger::Timeouts& timeouts) {
    fuse_entry_param entry = ToEntry(context, attr, timeouts(CacheableOf(reply, parent, name)));
    fuse_reply_entry(req, &entry);
  });
}

void ReplyAttr(fuse_req_t req, const LeaseLedger::Ticket& ticket, const wire::Reply& reply) {
  MountContext& context = Context(req);
  wire::Attr attr = reply.attr();
  ObserveAttr(context, &attr);
  struct stat st = ToStat(context, attr);
  context.ledger.Reply(ticket, [&](const LeaseLedger::Timeouts& timeouts) {
    fuse_reply_attr(req, &st, timeouts(CacheableOf(reply, 0, {})).second);
  });
}

wire::Reply LocalReply(const wire::Attr* attr, uint32_t lease_ms) {
  wire::Reply reply;
  if (attr != nullptr) *reply.mutable_attr() = *attr;
  reply.set_attr_lease_ms(lease_ms);
  reply.set_entry_lease_ms(lease_ms);
  return reply;
}

void ReplyError(fuse_req_t req, const Status& status) {
  int error = status.ok() ? EIO : status.error();
  if (error != ENOENT && error != EEXIST && error != ENOTEMPTY) {
    LOG(DEBUG) << "request failed: " << status.ToString();
  }
  ReplyErrno(req, error);
}

void ReplyErrno(fuse_req_t req, int error) {
  if (error != 0) Metrics().errors.With(metrics::ErrorKind(error)).Increment();
  fuse_reply_err(req, error);
}

}  // namespace hafs::mount
