// Conversions between FUSE's types and the wire protocol's, shared by the FUSE ops.
#pragma once

#include "mount/fuse_api.h"
#include <sys/stat.h>

#include "common/proto/hafs.pb.h"
#include "common/status.h"
#include "mount/mount_context.h"

namespace hafs::mount {

MountContext& Context(fuse_req_t req);

// The caller's uid, gid, supplementary groups and umask.
wire::Credentials CallerCredentials(fuse_req_t req);

struct stat ToStat(const wire::Attr& attr);
int64_t ToNs(const struct timespec& time);

// Passes `attr` through the inode table (local size, change detection) and drops
// cached chunk locations of a file another client changed.
void ObserveAttr(MountContext& context, wire::Attr* attr);

// Replies to an entry-creating request (lookup, mknod, mkdir, symlink, link).
void ReplyEntry(fuse_req_t req, wire::Attr attr, uint64_t parent);
void ReplyAttr(fuse_req_t req, wire::Attr attr);
void ReplyError(fuse_req_t req, const Status& status);
// fuse_reply_err, counting a non-zero error in hafs_mount_errors_total.
void ReplyErrno(fuse_req_t req, int error);

}  // namespace hafs::mount
