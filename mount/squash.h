// A squashing export (docs/exports.md) on the mount's side. The master squashes the
// credentials of every request it checks; but opening an existing file for reading or
// writing is checked by the kernel alone (default_permissions), with the caller's own ids,
// and the data requests that follow carry none. So the mount checks an open again as the
// squashed user would be checked, or root on a root-squashed host would read and write
// every file.
#pragma once

#include <cstdint>

#include "common/proto/hafs.pb.h"

namespace hafs::mount {

struct Squashing {
  uint32_t squash = 0;  // Reply.squash: 0 nobody, 1 uid 0, 2 everyone
  uint32_t anonymous_uid = 65534;
  uint32_t anonymous_gid = 65534;
};

// Whether a caller with uid `uid` may open the file with attributes `attr` with open(2)
// `flags` under `squashing`: true when the export does not squash this caller, else the
// mode bits decide for the anonymous ids (no supplementary groups).
bool SquashedMayOpen(const Squashing& squashing, uint32_t uid, const wire::Attr& attr, int flags);

}  // namespace hafs::mount
