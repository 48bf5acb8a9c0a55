#include "cli/cluster_locator.h"

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace hafs::cli {
namespace {

constexpr std::string_view kSourcePrefix = "hafs:";

bool IsHafsMount(const MountEntry& mount) {
  return mount.fstype.starts_with("fuse") && mount.source.starts_with(kSourcePrefix);
}

}  // namespace

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

MountSource ParseMountSource(std::string_view source) {
  MountSource parsed;
  // Addresses hold no '/': the subtree starts at the first ":/".
  size_t subdir = source.find(":/");
  if (subdir != std::string_view::npos) {
    parsed.subdir = std::string(source.substr(subdir + 1));
    source = source.substr(0, subdir);
  }
  parsed.masters = SplitMasterList(source);
  return parsed;
}

Result<MountSource> MountSourceForPath(const std::string& path, std::string_view mountinfo_text) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return Fail(ErrnoStatus("cannot resolve " + path));
  std::vector<MountEntry> mounts = ParseMountinfo(mountinfo_text);
  const MountEntry* mount = FindMountContaining(mounts, resolved);
  if (mount == nullptr || !IsHafsMount(*mount)) {
    return Fail(ENOENT, std::string(resolved) +
                            " is not on a hafs mount; pass --master HOST:PORT[,HOST:PORT...] or a path inside a "
                            "mounted hafs file system");
  }
  MountSource source = ParseMountSource(std::string_view(mount->source).substr(kSourcePrefix.size()));
  if (source.masters.empty()) {
    return Fail(EINVAL, "the hafs mount at " + mount->mount_point + " names no master (source \"" + mount->source +
                            "\"); pass --master HOST:PORT");
  }
  return source;
}

Result<std::vector<std::string>> MastersForPath(const std::string& path, std::string_view mountinfo_text) {
  auto source = MountSourceForPath(path, mountinfo_text);
  if (!source) return Fail(source.error());
  return source->masters;
}

Result<std::vector<std::string>> LocateMasters(const std::string& master_flag, const std::string& path) {
  if (!master_flag.empty()) {
    std::vector<std::string> masters = SplitMasterList(master_flag);
    if (masters.empty()) return Fail(EINVAL, "--master is empty; expected HOST:PORT[,HOST:PORT...]");
    return masters;
  }
  std::string mountinfo = ReadMountinfo();
  if (mountinfo.empty()) return Fail(ErrnoStatus("cannot read /proc/self/mountinfo"));
  return MastersForPath(path, mountinfo);
}

Result<std::string> MountedSubdir(const std::string& path) {
  std::string mountinfo = ReadMountinfo();
  if (mountinfo.empty()) return Fail(ErrnoStatus("cannot read /proc/self/mountinfo"));
  auto source = MountSourceForPath(path, mountinfo);
  if (!source) return Fail(source.error());
  return source->subdir;
}

}  // namespace hafs::cli
