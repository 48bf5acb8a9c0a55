#include "mount/squash.h"

#include <fcntl.h>

namespace hafs::mount {

bool SquashedMayOpen(const Squashing& squashing, uint32_t uid, const wire::Attr& attr, int flags) {
  bool squashed = squashing.squash == 2 || (squashing.squash == 1 && uid == 0);
  if (!squashed) return true;
  uint32_t want = 0;
  int access = flags & O_ACCMODE;
  if (access == O_RDONLY || access == O_RDWR) want |= 4;
  if (access == O_WRONLY || access == O_RDWR) want |= 2;
  uint32_t bits = attr.mode() & 07;  // others
  if (attr.uid() == squashing.anonymous_uid) {
    bits = (attr.mode() >> 6) & 07;
  } else if (attr.gid() == squashing.anonymous_gid) {
    bits = (attr.mode() >> 3) & 07;
  }
  return (bits & want) == want;
}

}  // namespace hafs::mount
