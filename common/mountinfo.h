// Reading /proc/self/mountinfo (proc(5)): "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS
// [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS". The admin CLI finds a hafs mount's masters
// here; the mount finds its own device number here (for its read-ahead window).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hafs {

struct MountEntry {
  std::string mount_point;  // unescaped, absolute
  std::string fstype;       // e.g. "fuse.hafs"
  std::string source;       // unescaped, e.g. "hafs:127.0.0.1:9000,127.0.0.1:9001"
  std::string device;       // "MAJOR:MINOR"
};

// Parses mountinfo text; lines that do not parse are skipped.
std::vector<MountEntry> ParseMountinfo(std::string_view text);

// Undoes the kernel's octal escapes in mountinfo fields (space \040, tab \011,
// newline \012, backslash \134).
std::string UnescapeMountinfoField(std::string_view field);

// The text of /proc/self/mountinfo ("" when unreadable).
std::string ReadMountinfo();

}  // namespace hafs
