// Conversions between FUSE's types and the wire protocol's, shared by the FUSE ops.
#pragma once

#include "mount/fuse_api.h"
#include <sys/stat.h>

#include <string_view>
#include <utility>

#include "common/proto/hafs.pb.h"
#include "common/status.h"
#include "mount/mount_context.h"

namespace hafs::mount {

MountContext& Context(fuse_req_t req);

// The caller's uid, gid, supplementary groups and umask.
wire::Credentials CallerCredentials(fuse_req_t req);

// The kernel's inode numbers and the master's meet here only (inode_mapping.h): every
// inode a request names goes through MasterInode, every attribute the kernel gets through
// ToStat or ToEntry.
uint64_t MasterInode(fuse_req_t req, fuse_ino_t ino);
struct stat ToStat(const MountContext& context, const wire::Attr& attr);
// An entry reply for `attr`, cached for the kernel timeouts (entry_s, attr_s) that a
// LeaseLedger gave.
fuse_entry_param ToEntry(const MountContext& context, const wire::Attr& attr, std::pair<double, double> timeouts);
// What a master reply lets the kernel cache (LeaseLedger::Cacheable): the name `name` in
// `parent` (0: no name), and the reply's attr.
LeaseLedger::Cacheable CacheableOf(const wire::Reply& reply, uint64_t parent, std::string_view name);

int64_t ToNs(const struct timespec& time);

// The attributes this mount holds itself in place of the master's `attr`: those of a
// directory delegated to it or a file it made there (WriteBack::GetAttr), which the master's
// lag by the changes still queued. A listing or lookup in another directory would otherwise
// show them up to --metadata-flush-ms old.
void PreferLocal(MountContext& context, wire::Attr* attr);
// PreferLocal, then passes `attr` through the inode table (local size, change detection) and
// drops cached chunk locations of a file another client changed.
void ObserveAttr(MountContext& context, wire::Attr* attr);
// One use of `inode`'s write state ends (InodeTable::Close); the last one here is reported
// to the master, whose session holdings then let go of the file (CloseReporter).
void CloseHere(MountContext& context, uint64_t inode);

// Replies to a lookup or an entry-creating request (mknod, mkdir, symlink, link) for `name`
// in `parent` (the master's inode), with the master's `reply` to a request sent after
// `ticket` was taken: cached as its leases allow. A reply without attr (a lookup's
// negative_reply) is a name that does not exist.
void ReplyEntry(fuse_req_t req, const LeaseLedger::Ticket& ticket, const wire::Reply& reply, uint64_t parent,
                std::string_view name);
void ReplyAttr(fuse_req_t req, const LeaseLedger::Ticket& ticket, const wire::Reply& reply);
// A reply made from write-back state (WriteBack::Answer): `attr` (none: the name is absent),
// cacheable for `lease_ms`, like a master's reply of that lease.
wire::Reply LocalReply(const wire::Attr* attr, uint32_t lease_ms);
void ReplyError(fuse_req_t req, const Status& status);
// fuse_reply_err, counting a non-zero error in hafs_mount_errors_total.
void ReplyErrno(fuse_req_t req, int error);

}  // namespace hafs::mount
