// hafs-bench: one file-system workload against any directory (local disk, a hafs mount,
// a MooseFS mount), printed as one JSON object so that bench/compare.sh can put the
// runs side by side. Single-threaded on purpose: it measures one application's view.
//
// Phases (--phases, default all):
//   write   sequential write of --size-mib MiB in 1 MiB writes, fsync at the end
//   read    sequential read of that file after posix_fadvise(DONTNEED); on FUSE this drops
//           only the kernel's page cache, not a cache inside the FUSE daemon, so the
//           share of pages still resident (mincore) is reported beside the speed
//   random  4 KiB reads at random aligned offsets of that file for --random-seconds;
//           O_DIRECT when the file system takes it, else buffered reads after DONTNEED.
//           Cold (--cold, default): first every page cache of this machine is dropped
//           (sync; drop_caches, needs root), the servers' too when they run here, as
//           fio after drop_caches measures it; without that the read phase just before
//           left the whole file in the chunkservers' caches
//   meta    create, stat and unlink of --files empty files in one directory
//   tree    copy the --tree source into the target (then syncfs), read every file back
//           (after DONTNEED), remove it
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/json_output.h"
#include "common/options.h"
#include "common/status.h"

namespace hafs::bench {
namespace {

namespace fs = std::filesystem;
using cli::Json;
using cli::Rounded;

constexpr size_t kMiB = 1024 * 1024;
constexpr size_t kIoBytes = kMiB;          // sequential I/O and tree copy buffer
constexpr size_t kRandomReadBytes = 4096;  // random read size and O_DIRECT alignment
const std::set<std::string> kPhases = {"write", "read", "random", "meta", "tree"};

struct Config {
  std::string target;
  uint64_t size_mib = 1024;
  double random_seconds = 10;
  bool cold = true;
  uint64_t file_count = 10000;
  std::string tree_source = "/usr/include";
  std::set<std::string> phases;
};

class Stopwatch {
 public:
  double Seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

Status WriteAll(int fd, const char* data, size_t length) {
  while (length > 0) {
    ssize_t written = write(fd, data, length);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return ErrnoStatus("write");
    data += written;
    length -= static_cast<size_t>(written);
  }
  return Status::Ok();
}

// Reads fd to its end; the number of bytes read.
Result<uint64_t> ReadToEnd(int fd, std::vector<char>& buffer) {
  uint64_t total = 0;
  while (true) {
    ssize_t got = read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Fail(ErrnoStatus("read"));
    if (got == 0) return total;
    total += static_cast<uint64_t>(got);
  }
}

// Percentage of the file's pages in the kernel page cache, or -1 when mincore can't tell.
double ResidentPercent(int fd, uint64_t size_bytes) {
  if (size_bytes == 0) return 0;
  void* map = mmap(nullptr, size_bytes, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return -1;
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((size_bytes + page - 1) / page);
  double percent = -1;
  if (mincore(map, size_bytes, resident.data()) == 0) {
    size_t count = 0;
    for (unsigned char flags : resident) count += flags & 1;
    percent = 100.0 * static_cast<double>(count) / static_cast<double>(resident.size());
  }
  munmap(map, size_bytes);
  return percent;
}

// Per second, to print.
double Rate(double amount, double seconds) { return Rounded(seconds > 0 ? amount / seconds : 0, 1); }

Status WritePhase(const std::string& path, uint64_t size_mib, Json* json) {
  std::vector<char> block(kIoBytes);
  std::mt19937_64 random(42);  // incompressible, reproducible data
  for (size_t i = 0; i + 8 <= block.size(); i += 8) {
    uint64_t word = random();
    std::memcpy(&block[i], &word, 8);
  }
  Stopwatch watch;
  Fd fd(open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644));
  if (!fd.ok()) return ErrnoStatus("create " + path);
  for (uint64_t i = 0; i < size_mib; ++i) {
    block[0] = static_cast<char>(i);  // no two MiB alike
    if (Status status = WriteAll(fd.get(), block.data(), block.size()); !status.ok()) return status;
  }
  if (fsync(fd.get()) != 0) return ErrnoStatus("fsync " + path);
  double seconds = watch.Seconds();
  if (json == nullptr) return Status::Ok();
  (*json)["write"] = {{"size_mib", size_mib},
                      {"seconds", Rounded(seconds, 3)},
                      {"mib_per_s", Rate(static_cast<double>(size_mib), seconds)}};
  return Status::Ok();
}

Status ReadPhase(const std::string& path, Json& json) {
  Fd fd(open(path.c_str(), O_RDONLY));
  if (!fd.ok()) return ErrnoStatus("open " + path);
  struct stat info;
  if (fstat(fd.get(), &info) != 0) return ErrnoStatus("stat " + path);
  uint64_t size_bytes = static_cast<uint64_t>(info.st_size);
  int advice_error = posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  double resident_percent = ResidentPercent(fd.get(), size_bytes);
  std::vector<char> buffer(kIoBytes);
  Stopwatch watch;
  auto bytes = ReadToEnd(fd.get(), buffer);
  double seconds = watch.Seconds();
  if (!bytes) return bytes.error();
  if (*bytes != size_bytes) return Status::Error(EIO, "read " + std::to_string(*bytes) + " bytes of " + path);
  json["read"] = {{"seconds", Rounded(seconds, 3)},
                  {"mib_per_s", Rate(static_cast<double>(size_bytes) / kMiB, seconds)},
                  {"fadvise_dontneed_ok", advice_error == 0},
                  // kernel page cache only; -1 = unknown
                  {"resident_after_drop_percent", Rounded(resident_percent, 1)}};
  return Status::Ok();
}

// Drops every clean page cache, dentry and inode of this machine (needs root).
Status DropAllCaches() {
  sync();
  Fd fd(open("/proc/sys/vm/drop_caches", O_WRONLY));
  if (!fd.ok()) return ErrnoStatus("open /proc/sys/vm/drop_caches");
  if (write(fd.get(), "3\n", 2) != 2) return ErrnoStatus("write /proc/sys/vm/drop_caches");
  return Status::Ok();
}

Status RandomPhase(const std::string& path, double duration_s, bool cold, Json& json) {
  // Dropped before the open, so that the open and the first reads are cold too.
  bool dropped = cold && DropAllCaches().ok();
  bool direct = true;
  int raw_fd = open(path.c_str(), O_RDONLY | O_DIRECT);
  if (raw_fd < 0) {
    direct = false;
    raw_fd = open(path.c_str(), O_RDONLY);
  }
  Fd fd(raw_fd);
  if (!fd.ok()) return ErrnoStatus("open " + path);
  struct stat info;
  if (fstat(fd.get(), &info) != 0) return ErrnoStatus("stat " + path);
  uint64_t block_count = static_cast<uint64_t>(info.st_size) / kRandomReadBytes;
  if (block_count == 0) return Status::Error(EINVAL, path + " is smaller than one 4 KiB block");
  void* aligned = nullptr;
  if (posix_memalign(&aligned, kRandomReadBytes, kRandomReadBytes) != 0) return Status::Error(ENOMEM, "buffer");
  std::unique_ptr<void, decltype(&free)> buffer(aligned, &free);
  std::mt19937_64 random(7);
  std::uniform_int_distribution<uint64_t> pick(0, block_count - 1);
  auto read_one = [&]() { return pread(fd.get(), buffer.get(), kRandomReadBytes, pick(random) * kRandomReadBytes); };
  if (direct && read_one() < 0 && errno == EINVAL) {
    // The open took O_DIRECT but reads refuse it: fall back to buffered reads.
    direct = false;
    int flags = fcntl(fd.get(), F_GETFL);
    fcntl(fd.get(), F_SETFL, flags & ~O_DIRECT);
  }
  if (!direct) {
    posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
    posix_fadvise(fd.get(), 0, 0, POSIX_FADV_RANDOM);
  }
  uint64_t reads = 0;
  Stopwatch watch;
  double seconds = 0;
  while (seconds < duration_s) {
    for (int i = 0; i < 64; ++i, ++reads) {
      if (read_one() != static_cast<ssize_t>(kRandomReadBytes)) return ErrnoStatus("random read of " + path);
    }
    seconds = watch.Seconds();
  }
  json["random_read"] = {{"seconds", Rounded(seconds, 3)},
                         {"reads", reads},
                         {"iops", Rate(static_cast<double>(reads), seconds)},
                         {"direct", direct},
                         {"all_caches_dropped", dropped}};
  return Status::Ok();
}

// Runs `operation` on each name, returning the seconds it took, or the first failure.
Result<double> TimeEach(const std::vector<std::string>& names,
                        const std::function<Status(const std::string&)>& operation) {
  Stopwatch watch;
  for (const std::string& name : names) {
    if (Status status = operation(name); !status.ok()) return Fail(status);
  }
  return watch.Seconds();
}

Status MetaPhase(const std::string& dir, uint64_t file_count, Json& json) {
  if (mkdir(dir.c_str(), 0755) != 0) return ErrnoStatus("mkdir " + dir);
  std::vector<std::string> names;
  for (uint64_t i = 0; i < file_count; ++i) names.push_back(dir + "/f" + std::to_string(i));
  auto create_s = TimeEach(names, [](const std::string& name) {
    int fd = open(name.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0) return ErrnoStatus("create " + name);
    return close(fd) == 0 ? Status::Ok() : ErrnoStatus("close " + name);
  });
  if (!create_s) return create_s.error();
  auto stat_s = TimeEach(names, [](const std::string& name) {
    struct stat info;
    return stat(name.c_str(), &info) == 0 ? Status::Ok() : ErrnoStatus("stat " + name);
  });
  if (!stat_s) return stat_s.error();
  auto unlink_s = TimeEach(names, [](const std::string& name) {
    return unlink(name.c_str()) == 0 ? Status::Ok() : ErrnoStatus("unlink " + name);
  });
  if (!unlink_s) return unlink_s.error();
  if (rmdir(dir.c_str()) != 0) return ErrnoStatus("rmdir " + dir);
  json["metadata"] = {{"files", file_count},
                      {"create_per_s", Rate(static_cast<double>(file_count), *create_s)},
                      {"stat_per_s", Rate(static_cast<double>(file_count), *stat_s)},
                      {"unlink_per_s", Rate(static_cast<double>(file_count), *unlink_s)}};
  return Status::Ok();
}

Status CopyFile(const fs::path& from, const fs::path& to, std::vector<char>& buffer, uint64_t* bytes) {
  Fd in(open(from.c_str(), O_RDONLY));
  if (!in.ok()) return ErrnoStatus("open " + from.string());
  Fd out(open(to.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644));
  if (!out.ok()) return ErrnoStatus("create " + to.string());
  while (true) {
    ssize_t got = read(in.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus("read " + from.string());
    if (got == 0) break;
    if (Status status = WriteAll(out.get(), buffer.data(), static_cast<size_t>(got)); !status.ok()) return status;
    *bytes += static_cast<uint64_t>(got);
  }
  return close(out.get()) == 0 ? Status::Ok() : ErrnoStatus("close " + to.string());
}

// Copies regular files, directories and symlinks of `source` to `target` (which must
// not exist); *files and *bytes count what was copied.
Status CopyTree(const fs::path& source, const fs::path& target, uint64_t* files, uint64_t* bytes) {
  std::error_code error;
  fs::create_directory(target, error);
  if (error) return Status::Error(error.value(), "mkdir " + target.string());
  std::vector<char> buffer(kIoBytes);
  auto walk = fs::recursive_directory_iterator(source, fs::directory_options::skip_permission_denied, error);
  for (; !error && walk != fs::recursive_directory_iterator(); walk.increment(error)) {
    const fs::directory_entry& entry = *walk;
    fs::path to = target / entry.path().lexically_relative(source);  // not fs::relative: it follows symlinks
    if (entry.is_symlink()) {
      fs::create_symlink(fs::read_symlink(entry.path()), to, error);
    } else if (entry.is_directory()) {
      fs::create_directory(to, error);
    } else if (entry.is_regular_file()) {
      if (Status status = CopyFile(entry.path(), to, buffer, bytes); !status.ok()) return status;
      ++*files;
    }
    if (error) return Status::Error(error.value(), "copy " + entry.path().string() + ": " + error.message());
  }
  if (error) return Status::Error(error.value(), "walk " + source.string() + ": " + error.message());
  Fd dir(open(target.c_str(), O_RDONLY | O_DIRECTORY));
  if (dir.ok()) syncfs(dir.get());  // the copy counts only once it is on stable storage
  return Status::Ok();
}

Status ReadTree(const fs::path& root, uint64_t* bytes) {
  std::vector<char> buffer(kIoBytes);
  std::error_code error;
  for (auto walk = fs::recursive_directory_iterator(root, error); !error && walk != fs::recursive_directory_iterator();
       walk.increment(error)) {
    if (!walk->is_regular_file() || walk->is_symlink()) continue;
    Fd fd(open(walk->path().c_str(), O_RDONLY));
    if (!fd.ok()) return ErrnoStatus("open " + walk->path().string());
    posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
    auto got = ReadToEnd(fd.get(), buffer);
    if (!got) return got.error();
    *bytes += *got;
  }
  return error ? Status::Error(error.value(), "walk " + root.string()) : Status::Ok();
}

Status TreePhase(const std::string& source, const std::string& target, Json& json) {
  uint64_t files = 0, bytes = 0, bytes_read = 0;
  Stopwatch extract_watch;
  if (Status status = CopyTree(source, target, &files, &bytes); !status.ok()) return status;
  double extract_s = extract_watch.Seconds();
  Stopwatch read_watch;
  if (Status status = ReadTree(target, &bytes_read); !status.ok()) return status;
  double read_s = read_watch.Seconds();
  if (bytes_read != bytes)
    return Status::Error(EIO, "read back " + std::to_string(bytes_read) + " of " + std::to_string(bytes) + " bytes");
  Stopwatch remove_watch;
  std::error_code error;
  fs::remove_all(target, error);
  if (error) return Status::Error(error.value(), "remove " + target + ": " + error.message());
  double remove_s = remove_watch.Seconds();
  json["tree"] = {{"source", source},
                  {"files", files},
                  {"bytes", bytes},
                  {"extract_s", Rounded(extract_s, 3)},
                  {"read_s", Rounded(read_s, 3)},
                  {"remove_s", Rounded(remove_s, 3)}};
  return Status::Ok();
}

std::string FsType(const std::string& path) {
  struct statfs info;
  if (statfs(path.c_str(), &info) != 0) return "unknown";
  std::ostringstream hex;
  hex << "0x" << std::hex << static_cast<unsigned long>(info.f_type);
  return hex.str();
}

int Run(const Config& config) {
  std::string work = config.target + "/hafs-bench." + std::to_string(getpid());
  if (mkdir(work.c_str(), 0755) != 0) {
    std::cerr << "hafs-bench: " << ErrnoStatus("mkdir " + work).ToString() << "\n";
    return 1;
  }
  std::string data_file = work + "/sequential.data";
  auto wants = [&](const char* phase) { return config.phases.count(phase) > 0; };
  Json json = {{"target", config.target}, {"statfs_type", FsType(config.target)}};
  int exit_code = 0;
  auto check = [&](const char* phase, const Status& status) {
    if (status.ok()) return;
    std::cerr << "hafs-bench: " << phase << ": " << status.ToString() << "\n";
    json[std::string(phase) + "_error"] = status.ToString();
    exit_code = 1;
  };
  if (wants("write") || wants("read") || wants("random")) {
    // read and random need the file; it is only reported when "write" was asked for.
    check("write", WritePhase(data_file, config.size_mib, wants("write") ? &json : nullptr));
  }
  if (wants("read")) check("read", ReadPhase(data_file, json));
  if (wants("random")) check("random", RandomPhase(data_file, config.random_seconds, config.cold, json));
  unlink(data_file.c_str());
  if (wants("meta")) check("meta", MetaPhase(work + "/files", config.file_count, json));
  if (wants("tree")) check("tree", TreePhase(config.tree_source, work + "/tree", json));
  std::error_code error;
  fs::remove_all(work, error);
  std::cout << cli::JsonText(json);
  return exit_code;
}

}  // namespace
}  // namespace hafs::bench

int main(int argc, char** argv) {
  using namespace hafs;
  bench::Config config;
  std::string phase_list;
  po::options_description options("options");
  options.add_options()("dir", po::value(&config.target)->required(),
                        "directory to run in (positional); a subdirectory is made and removed")(
      "size-mib", po::value(&config.size_mib)->default_value(1024), "size of the sequential file, MiB")(
      "random-seconds", po::value(&config.random_seconds)->default_value(10), "duration of the 4 KiB random reads")(
      "cold", po::value(&config.cold)->default_value(true),
      "drop every page cache of this machine before the random reads (needs root; 0: this file's only)")(
      "files", po::value(&config.file_count)->default_value(10000), "empty files to create/stat/unlink")(
      "tree", po::value(&config.tree_source)->default_value("/usr/include"), "source tree to copy, read, remove")(
      "phases", po::value(&phase_list)->default_value("write,read,random,meta,tree"), "comma-separated phases to run");
  po::positional_options_description positional;
  positional.add("dir", 1);
  ParseOptionsOrExit(argc, argv, options, positional,
                     "usage: hafs-bench [options] DIR\nRuns a file-system workload in DIR and prints JSON.");
  std::stringstream phases(phase_list);
  for (std::string phase; std::getline(phases, phase, ',');) {
    if (!bench::kPhases.count(phase)) {
      std::cerr << "hafs-bench: unknown phase \"" << phase << "\" (write, read, random, meta, tree)\n";
      return 2;
    }
    config.phases.insert(phase);
  }
  if (config.size_mib == 0 || config.random_seconds <= 0) {
    std::cerr << "hafs-bench: --size-mib and --random-seconds must be positive\n";
    return 2;
  }
  return bench::Run(config);
}
