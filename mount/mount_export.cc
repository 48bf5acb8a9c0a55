#include "mount/mount_export.h"

#include "common/clock.h"

namespace hafs::mount {

Result<MountedExport> RequestMount(MasterClient& master, const std::string& subdir, int64_t retry_ms) {
  wire::Envelope request;
  request.mutable_mount()->set_subdir(subdir);
  auto reply = master.CallFor(std::move(request), retry_ms);
  if (!reply) {
    // Still unanswered: the call gave up on the masters, none of them said no.
    if (master.UnansweredForMs(MonotonicMs()) > 0) {
      return Fail(reply.error().error(),
                  "cannot reach master at " + master.MasterList() + ": " + reply.error().message());
    }
    return Fail(reply.error().error(), "the master refused to mount " + subdir + ": " + reply.error().message());
  }
  return MountedExport{reply->mount_root(), reply->read_only(), reply->min_goal(), reply->max_goal(),
                       Squashing{reply->squash(), reply->anonymous_uid(), reply->anonymous_gid()}};
}

}  // namespace hafs::mount
