// Small files that must survive a crash whole: a chunkserver's uuid and leadership state,
// a master's cluster id, the port files daemons write for their launchers. And the modes
// every file and directory a daemon writes is created with.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace hafs {

// What the daemons store (chunks, op logs, checkpoints, identities) is readable by the
// service user alone (docs/design.md, "Files on disk are private").
inline constexpr mode_t kPrivateFileMode = 0600;
inline constexpr mode_t kPrivateDirMode = 0700;

// Replaces `path` with `contents` (mode 0600) so that a crash leaves the old file or the
// new one, never a mix: write `path`.tmp, fsync it, rename it over `path`, fsync the directory.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

// mkdir with kPrivateDirMode: true when it made the directory, false when one was there.
// The parent must exist (the caller fsyncs it when the new entry must survive a crash).
Result<bool> MakePrivateDirectory(const std::string& path);

// fsync of a file or a directory, by name.
Status FsyncPath(const std::string& path);

}  // namespace hafs
