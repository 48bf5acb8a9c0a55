// Finds the masters of a hafs cluster: from --master, or from the hafs mount that
// holds a path. A hafs mount shows in /proc/self/mountinfo with fstype "fuse.hafs"
// and source "hafs:<master>,<master>,..." (see docs/notes/README-helpers.md), followed by
// ":<subdir>" when it mounts a subtree (hafs-mount --subdir).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/mountinfo.h"
#include "common/status.h"

namespace hafs::cli {

using hafs::MountEntry;
using hafs::ParseMountinfo;
using hafs::UnescapeMountinfoField;

// Splits "a:1,b:2" into {"a:1", "b:2"}, dropping empty items and surrounding spaces.
std::vector<std::string> SplitMasterList(std::string_view list);

// The mount whose mount point is the longest prefix (by whole path components) of
// `absolute_path`; a later line wins over an earlier one at the same mount point, as the
// kernel stacks them. nullptr if none (only possible without a "/" mount).
const MountEntry* FindMountContaining(const std::vector<MountEntry>& mounts, std::string_view absolute_path);

// What a hafs mount's source names: its masters, and the subtree it mounts ("/": all).
struct MountSource {
  std::vector<std::string> masters;
  std::string subdir = "/";
};
// `source` without its "hafs:" prefix: "a:1,b:2" or "a:1,b:2:/projects/a".
MountSource ParseMountSource(std::string_view source);

// The source of the hafs mount that contains `path` (made absolute and resolved with
// realpath), read from `mountinfo_text`. ENOENT with a message saying what to do when
// the path is not on a hafs mount.
Result<MountSource> MountSourceForPath(const std::string& path, std::string_view mountinfo_text);
// Its masters (EINVAL when it names none).
Result<std::vector<std::string>> MastersForPath(const std::string& path, std::string_view mountinfo_text);

// The masters to try, in order: `master_flag` when non-empty, else those of the mount
// holding `path` (per /proc/self/mountinfo).
Result<std::vector<std::string>> LocateMasters(const std::string& master_flag, const std::string& path);

// The subtree the hafs mount holding `path` mounts (per /proc/self/mountinfo).
Result<std::string> MountedSubdir(const std::string& path);

}  // namespace hafs::cli
