// Plain-text output helpers for the CLI: aligned columns and human-readable sizes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hafs::cli {

// Rows (the first is the header) with each column padded to its widest cell, two
// spaces between columns, no trailing spaces, one line per row.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);

// 1536 -> "1.5 KiB", 0 -> "0 B"; binary units up to EiB.
std::string HumanBytes(uint64_t bytes);

}  // namespace hafs::cli
