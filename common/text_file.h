// Small text files the daemons read whole (key files, authorized keys, exports), and the
// trimming their line-by-line parsers share.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace hafs {

// The whole file; EFBIG past 1 MiB, which no configuration file of ours comes near.
Result<std::string> ReadSmallFile(const std::string& path);

// `text` without leading and trailing spaces, tabs and carriage returns.
std::string_view TrimSpaces(std::string_view text);

// Calls `parse` with each line of a configuration text that is not blank or a '#' comment,
// trimmed, and where it is ("SOURCE:NUMBER", for error messages); stops at its first error.
Status ForEachConfigLine(std::string_view text, const std::string& source,
                         const std::function<Status(std::string_view line, const std::string& where)>& parse);

}  // namespace hafs
