#include "common/text_file.h"

#include <fstream>
#include <sstream>

namespace hafs {

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(ErrnoStatus("cannot read " + path));
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20)) return Fail(EFBIG, path + " is larger than 1 MiB");
  return text.str();
}

std::string_view TrimSpaces(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

Status ForEachConfigLine(std::string_view text, const std::string& source,
                         const std::function<Status(std::string_view line, const std::string& where)>& parse) {
  size_t number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = TrimSpaces(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    if (Status status = parse(line, source + ":" + std::to_string(number)); !status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace hafs
