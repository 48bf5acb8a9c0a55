#include "cli/cluster_locator.h"

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace hafs::cli {
namespace {

constexpr std::string_view kSourcePrefix = "hafs:";

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (start < line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    if (end > start) fields.push_back(line.substr(start, end - start));
    start = end + 1;
  }
  return fields;
}

bool IsHafsMount(const MountEntry& mount) {
  return mount.fstype.starts_with("fuse") && mount.source.starts_with(kSourcePrefix);
}

bool IsOctalDigit(char c) { return c >= '0' && c <= '7'; }

}  // namespace

std::string UnescapeMountinfoField(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && IsOctalDigit(field[i + 1]) && IsOctalDigit(field[i + 2]) &&
        IsOctalDigit(field[i + 3])) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

std::vector<MountEntry> ParseMountinfo(std::string_view text) {
  std::vector<MountEntry> mounts;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::vector<std::string_view> fields = SplitSpaces(text.substr(start, end - start));
    start = end + 1;
    // Optional fields end at a lone "-"; fstype and source follow it.
    size_t separator = 6;
    while (separator < fields.size() && fields[separator] != "-") ++separator;
    if (fields.size() < 5 || separator + 2 >= fields.size()) continue;
    mounts.push_back(MountEntry{UnescapeMountinfoField(fields[4]), UnescapeMountinfoField(fields[separator + 1]),
                                UnescapeMountinfoField(fields[separator + 2])});
  }
  return mounts;
}

std::vector<std::string> SplitMasterList(std::string_view list) {
  std::vector<std::string> masters;
  std::stringstream items{std::string(list)};
  std::string item;
  while (std::getline(items, item, ',')) {
    size_t first = item.find_first_not_of(" \t");
    size_t last = item.find_last_not_of(" \t");
    if (first != std::string::npos) masters.push_back(item.substr(first, last - first + 1));
  }
  return masters;
}

const MountEntry* FindMountContaining(const std::vector<MountEntry>& mounts, std::string_view absolute_path) {
  const MountEntry* best = nullptr;
  for (const MountEntry& mount : mounts) {
    std::string_view point = mount.mount_point;
    bool contains = point == "/" || absolute_path == point ||
                    (absolute_path.starts_with(point) && absolute_path[point.size()] == '/');
    if (contains && (best == nullptr || point.size() >= best->mount_point.size())) best = &mount;
  }
  return best;
}

Result<std::vector<std::string>> MastersForPath(const std::string& path, std::string_view mountinfo_text) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return Fail(ErrnoStatus("cannot resolve " + path));
  std::vector<MountEntry> mounts = ParseMountinfo(mountinfo_text);
  const MountEntry* mount = FindMountContaining(mounts, resolved);
  if (mount == nullptr || !IsHafsMount(*mount)) {
    return Fail(ENOENT, std::string(resolved) +
                            " is not on a hafs mount; pass --master HOST:PORT[,HOST:PORT...] or a path inside a "
                            "mounted hafs file system");
  }
  std::vector<std::string> masters = SplitMasterList(std::string_view(mount->source).substr(kSourcePrefix.size()));
  if (masters.empty()) {
    return Fail(EINVAL, "the hafs mount at " + mount->mount_point + " names no master (source \"" + mount->source +
                            "\"); pass --master HOST:PORT");
  }
  return masters;
}

Result<std::vector<std::string>> LocateMasters(const std::string& master_flag, const std::string& path) {
  if (!master_flag.empty()) {
    std::vector<std::string> masters = SplitMasterList(master_flag);
    if (masters.empty()) return Fail(EINVAL, "--master is empty; expected HOST:PORT[,HOST:PORT...]");
    return masters;
  }
  std::ifstream file("/proc/self/mountinfo");
  if (!file) return Fail(ErrnoStatus("cannot read /proc/self/mountinfo"));
  std::stringstream text;
  text << file.rdbuf();
  return MastersForPath(path, text.str());
}

}  // namespace hafs::cli
