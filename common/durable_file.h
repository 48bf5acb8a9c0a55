// Small files that must survive a crash whole: a chunkserver's uuid and leadership state,
// a master's cluster id, the port files daemons write for their launchers.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace hafs {

// Replaces `path` with `contents` so that a crash leaves the old file or the new one,
// never a mix: write `path`.tmp, fsync it, rename it over `path`, fsync the directory.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

// fsync of a file or a directory, by name.
Status FsyncPath(const std::string& path);

}  // namespace hafs
