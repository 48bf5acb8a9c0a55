// The CLI's --json output (and hafs-bench's): built as nlohmann-json's ordered_json, so that
// members print in the order they were set, as reports.h documents them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hafs::cli {

using Json = nlohmann::ordered_json;

// `json` on one line, newline-terminated. Never throws on names: a file name may be any bytes,
// and bytes that are not UTF-8 print as U+FFFD (JSON text is UTF-8). NaN and infinities print
// as null.
std::string JsonText(const Json& json);

// `value` rounded to `decimals` digits after the point: a duration or rate to print.
double Rounded(double value, int decimals);

}  // namespace hafs::cli
