#include "chunkserver/chunk_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <set>

#include "chunkserver/chunkserver_metrics.h"
#include "common/clock.h"
#include "common/durable_file.h"
#include "common/log.h"

namespace hafs {
namespace {

constexpr char kUuidFile[] = "chunkserver.uuid";
constexpr char kChunkSuffix[] = ".chunk";

struct FileSystemSpace {
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;  // available to an unprivileged writer
  uint64_t reserved_bytes = 0;  // free for root only
  uint64_t device = 0;
};

Result<FileSystemSpace> SpaceOf(const std::string& dir) {
  struct statvfs fs;
  if (::statvfs(dir.c_str(), &fs) != 0) return Fail(ErrnoStatus("statvfs " + dir));
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return Fail(ErrnoStatus("stat " + dir));
  return FileSystemSpace{fs.f_blocks * fs.f_frsize, fs.f_bavail * fs.f_frsize,
                         (fs.f_bfree - std::min(fs.f_bavail, fs.f_bfree)) * fs.f_frsize, st.st_dev};
}

// This host, as systemd names it (/etc/machine-id), or its host name: with a device number,
// it names a file system across the chunkservers of a cluster.
const std::string& MachineId() {
  static const std::string id = [] {
    std::ifstream file("/etc/machine-id");
    std::string machine;
    if (file >> machine && !machine.empty()) return machine;
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    return std::string(host);
  }();
  return id;
}

// A directory is usable when we can create and remove a file in it (access(2) would
// say yes to root on a read-only mount).
Status CheckWritableDir(const std::string& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    return Status::Error(ENOENT, "data directory " + dir + " does not exist or is not a directory");
  }
  std::string probe = dir + "/.hafs-write-probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return ErrnoStatus("data directory " + dir + " is not writable");
  ::close(fd);
  ::unlink(probe.c_str());
  return Status::Ok();
}

std::string NewUuid() {
  std::random_device random;
  uint8_t bytes[16];
  for (auto& byte : bytes) byte = static_cast<uint8_t>(random());
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
}

// "00ab...": the chunk id of a chunk file name, or 0 when the name is not one.
uint64_t ChunkIdOfName(const std::string& name) {
  if (name.size() != 16 + sizeof kChunkSuffix - 1 || !name.ends_with(kChunkSuffix)) return 0;
  uint64_t chunk_id = 0;
  for (size_t i = 0; i < 16; ++i) {
    char c = name[i];
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return 0;
    chunk_id = chunk_id << 4 | static_cast<uint64_t>(digit);
  }
  return chunk_id;
}

}  // namespace

Result<std::unique_ptr<ChunkStore>> ChunkStore::Open(ChunkStoreOptions options) {
  if (options.data_dirs.empty()) return Fail(EINVAL, "no data directory");
  for (const auto& dir : options.data_dirs) {
    Status writable = CheckWritableDir(dir);
    if (!writable.ok()) return Fail(writable);
  }
  std::unique_ptr<ChunkStore> store(new ChunkStore(std::move(options)));
  Status uuid = store->LoadOrCreateUuid();
  if (!uuid.ok()) return Fail(uuid);
  for (size_t i = 0; i < store->options_.data_dirs.size(); ++i) store->Scan(i);
  LOG(INFO) << "chunk store " << store->uuid_ << ": " << store->index_.size() << " chunks in "
            << store->options_.data_dirs.size() << " data directories";
  return store;
}

ChunkStore::ChunkStore(ChunkStoreOptions options) : options_(std::move(options)), open_files_(options_.open_files) {
  for (const auto& dir : options_.data_dirs) dirs_.emplace_back(dir, options_);
}

Status ChunkStore::LoadOrCreateUuid() {
  const std::string& dir = options_.data_dirs.front();
  std::string path = dir + "/" + kUuidFile;
  std::ifstream existing(path);
  if (existing && std::getline(existing, uuid_) && uuid_.size() == 36) return Status::Ok();
  uuid_ = NewUuid();
  // A crash leaves either no uuid or a whole one.
  if (Status written = WriteFileAtomically(path, uuid_ + "\n"); !written.ok()) return written;
  LOG(INFO) << "new chunkserver uuid " << uuid_ << " in " << path;
  return Status::Ok();
}

void ChunkStore::Scan(size_t dir_index) {
  std::error_code error;
  for (const auto& subdir : std::filesystem::directory_iterator(dirs_[dir_index].path, error)) {
    std::string subdir_name = subdir.path().filename().string();
    if (subdir_name.size() != 2 || !subdir.is_directory(error)) continue;
    for (const auto& file : std::filesystem::directory_iterator(subdir.path(), error)) {
      uint64_t chunk_id = ChunkIdOfName(file.path().filename().string());
      if (chunk_id != 0) IndexFile(dir_index, chunk_id, file.path().string());
    }
  }
  if (error) {
    LOG(WARNING) << "scanning " << dirs_[dir_index].path << ": " << error.message();
  }
}

void ChunkStore::IndexFile(size_t dir_index, uint64_t chunk_id, const std::string& path) {
  auto opened = ChunkFile::Open(path, chunk_id);
  if (!opened && opened.error().error() != EBADMSG) {
    LOG(ERROR) << "chunk " << chunk_id << " is unreadable, reporting it lost: " << opened.error().ToString();
    ReportLost(chunk_id, 0);
    return;
  }
  auto entry = std::make_shared<Entry>();
  entry->dir_index = dir_index;
  entry->present = true;
  if (opened) {
    entry->chunk_version = (*opened)->chunk_version();
    entry->data_length = (*opened)->data_length();
  } else {
    // Indexed all the same, so that the master's deletion or a copy replaces the file.
    (void)NoteOpenFailure(chunk_id, *entry, opened.error());
  }
  auto& slot = index_[chunk_id];
  if (slot && (entry->corrupt || (!slot->corrupt && slot->chunk_version >= entry->chunk_version))) {
    LOG(WARNING) << "chunk " << chunk_id << " is in two data directories; ignoring " << path;
    return;
  }
  slot = std::move(entry);
}

std::string ChunkStore::ChunkPath(size_t dir_index, uint64_t chunk_id) const {
  char name[40];
  std::snprintf(name, sizeof name, "/%02x/%016llx%s", static_cast<unsigned>(chunk_id & 0xff),
                static_cast<unsigned long long>(chunk_id), kChunkSuffix);
  return dirs_[dir_index].path + name;
}

std::shared_ptr<ChunkStore::Entry> ChunkStore::Find(uint64_t chunk_id) {
  std::lock_guard lock(index_mutex_);
  auto found = index_.find(chunk_id);
  return found == index_.end() ? nullptr : found->second;
}

std::shared_ptr<ChunkStore::Entry> ChunkStore::FindOrAdd(uint64_t chunk_id) {
  std::lock_guard lock(index_mutex_);
  auto& slot = index_[chunk_id];
  if (!slot) slot = std::make_shared<Entry>();
  return slot;
}

void ChunkStore::Remove(uint64_t chunk_id, Entry& entry) {
  entry.removed = true;
  open_files_.Erase(chunk_id);
  std::lock_guard lock(index_mutex_);
  auto found = index_.find(chunk_id);
  if (found != index_.end() && found->second.get() == &entry) index_.erase(found);
}

Status ChunkStore::CheckServed(uint64_t chunk_id, const Entry& entry) const {
  if (Served(entry)) return Status::Ok();
  return Status::Error(ENOENT, (entry.corrupt ? "corrupt chunk " : "no chunk ") + std::to_string(chunk_id));
}

Result<std::shared_ptr<ChunkFile>> ChunkStore::OpenFile(uint64_t chunk_id, Entry& entry, ReadMode mode) {
  if (auto cached = open_files_.Get(chunk_id)) return cached;
  if (mode == ReadMode::kNoWait) return Fail(EAGAIN, "chunk " + std::to_string(chunk_id) + " is not open");
  // Checked against the index too: a file put in this one's place since it was last open
  // may even be this chunk's, but from another time.
  auto opened = ChunkFile::Open(ChunkPath(entry.dir_index, chunk_id), chunk_id, entry.chunk_version);
  if (!opened) return Fail(NoteOpenFailure(chunk_id, entry, opened.error()));
  std::shared_ptr<ChunkFile> file = std::move(*opened);
  open_files_.Put(chunk_id, file);
  return file;
}

Status ChunkStore::CheckSpace(size_t dir_index, uint64_t growth_bytes) {
  if (growth_bytes == 0) return Status::Ok();
  auto space = SpaceOf(dirs_[dir_index].path);
  if (!space) return space.error();
  if (space->free_bytes < options_.reserve_bytes + growth_bytes) {
    return Status::Error(ENOSPC, "data directory " + dirs_[dir_index].path + " is full (" +
                                     std::to_string(space->free_bytes >> 20) + " MiB free, reserve " +
                                     std::to_string(options_.reserve_bytes >> 20) + " MiB)");
  }
  return Status::Ok();
}

Status ChunkStore::CreateFile(uint64_t chunk_id, uint64_t chunk_version, Entry& entry) {
  std::vector<bool> passed_over(dirs_.size(), false);
  while (true) {
    std::optional<size_t> best_dir;
    uint64_t best_free = 0;
    for (size_t i = 0; i < dirs_.size(); ++i) {
      if (passed_over[i] || !dirs_[i].in_service) continue;
      auto space = SpaceOf(dirs_[i].path);
      uint64_t free_bytes = space ? space->free_bytes : 0;
      if (!best_dir || free_bytes > best_free) best_free = free_bytes, best_dir = i;
    }
    if (!best_dir) return Status::Error(EIO, "no data directory is in service");
    Status created = CreateFileIn(*best_dir, chunk_id, chunk_version, entry);
    if (!IsDiskFailure(created.error())) return created;
    // The chunk does not exist anywhere yet, so another directory can take it.
    LOG(ERROR) << "cannot create chunk " << chunk_id << " in data directory " << dirs_[*best_dir].path << ": "
               << created.ToString();
    NoteDiskError(*best_dir, created);
    passed_over[*best_dir] = true;
  }
}

Status ChunkStore::CreateFileIn(size_t dir_index, uint64_t chunk_id, uint64_t chunk_version, Entry& entry) {
  Status space = CheckSpace(dir_index, kChunkDataOffset);
  if (!space.ok()) return space;
  std::string path = ChunkPath(dir_index, chunk_id);
  std::string subdir = std::filesystem::path(path).parent_path().string();
  auto made = MakePrivateDirectory(subdir);
  if (!made) return made.error();
  if (*made) {
    Status synced = FsyncPath(dirs_[dir_index].path);
    if (!synced.ok()) return synced;
  }
  auto created = ChunkFile::Create(path, chunk_id, chunk_version);
  if (!created) return created.error();
  entry.dir_index = dir_index;
  entry.chunk_version = chunk_version;
  entry.data_length = 0;
  entry.present = true;
  open_files_.Put(chunk_id, std::move(*created));
  return Status::Ok();
}

Status ChunkStore::NoteFailure(uint64_t chunk_id, Entry& entry, Status status) {
  if (status.error() == EBADMSG) {
    Metrics().checksum_mismatches.Increment();
    // The replica stays until the master deletes it (or a copy replaces it): its other
    // blocks still serve, unless its file as a whole is corrupt.
    LOG(ERROR) << "chunk " << chunk_id << " version " << entry.chunk_version
               << " replica is corrupt, reporting it lost: " << status.message();
    ReportLost(chunk_id, entry.chunk_version);
  } else if (IsDiskFailure(status.error())) {
    // What the failed call left on disk is unknown (a failed fsync may have dropped the
    // dirty pages), so the replica is not served again; the file stays where it is.
    LOG(ERROR) << "chunk " << chunk_id << " version " << entry.chunk_version << ": disk error in data directory "
               << dirs_[entry.dir_index].path << ", reporting the replica lost: " << status.ToString();
    ReportLost(chunk_id, entry.chunk_version);
    Remove(chunk_id, entry);
    NoteDiskError(entry.dir_index, status);
  }
  return status;
}

Status ChunkStore::NoteOpenFailure(uint64_t chunk_id, Entry& entry, Status status) {
  // A header or table that fails, or names another chunk or version: nothing in the file
  // can be trusted as this chunk's.
  if (status.error() == EBADMSG) entry.corrupt = true;
  return NoteFailure(chunk_id, entry, std::move(status));
}

void ChunkStore::ReportLost(uint64_t chunk_id, uint64_t chunk_version) {
  std::lock_guard lock(lost_mutex_);
  wire::ChunkReport& report = lost_.emplace_back();
  report.set_chunk_id(chunk_id);
  report.set_chunk_version(chunk_version);
  reported_lost_.insert(chunk_id);
}

// The master drops a replica reported lost, but a client may still hold a write lease
// whose chain names this chunkserver. Its write would create the chunk afresh with only
// that write's bytes, at a current version, which a later registration (after a master
// restart or failover) would make count and serve. EIO makes the client ask for a new
// chain without this chunkserver. A copy the master asked for is the way back.
Status ChunkStore::CheckRecreation(uint64_t chunk_id, uint64_t chunk_version) {
  std::lock_guard lock(lost_mutex_);
  if (chunk_version == 0) {
    reported_lost_.erase(chunk_id);
    return Status::Ok();
  }
  if (!reported_lost_.contains(chunk_id)) return Status::Ok();
  return Status::Error(EIO,
                       "chunk " + std::to_string(chunk_id) + " was reported lost here; only a copy brings it back");
}

void ChunkStore::NoteDiskError(size_t dir_index, const Status& status) {
  DataDir& dir = dirs_[dir_index];
  std::lock_guard lock(health_mutex_);
  // Operations that were under way when it went out still fail afterwards: counted once.
  if (!dir.in_service || !dir.errors.Record(status.error(), MonotonicMs())) return;
  dir.in_service = false;
  retire_pending_ = true;
  LOG(ERROR) << "data directory " << dir.path << " taken out of service (" << status.ToString()
             << "): its chunks are reported lost, new chunks go to the other data directories";
  if (std::none_of(dirs_.begin(), dirs_.end(), [](const DataDir& other) { return other.in_service.load(); })) {
    LOG(ERROR) << "no data directory is in service: this chunkserver reports itself full and stores nothing more";
  }
}

void ChunkStore::RetireFailedDirs() {
  if (!retire_pending_.exchange(false)) return;
  uint64_t retired = 0;
  ForEachEntry([&](uint64_t chunk_id, Entry& entry) {
    if (InService(entry)) return;
    ReportLost(chunk_id, entry.chunk_version);
    Remove(chunk_id, entry);
    ++retired;
  });
  if (retired > 0) {
    LOG(INFO) << "reporting the " << retired << " other chunks of data directories out of service lost";
  }
}

Result<uint64_t> ChunkStore::Read(uint64_t chunk_id, uint64_t chunk_version, uint64_t offset, std::span<std::byte> out,
                                  ReadMode mode) {
  auto entry = Find(chunk_id);
  if (!entry) return Fail(ENOENT, "no chunk " + std::to_string(chunk_id));
  std::unique_lock lock(entry->mutex, std::defer_lock);
  if (mode == ReadMode::kMayBlock) {
    lock.lock();
  } else if (!lock.try_lock()) {
    return Fail(EAGAIN, "chunk " + std::to_string(chunk_id) + " is busy");
  }
  if (Status served = CheckServed(chunk_id, *entry); !served.ok()) return Fail(served);
  auto file = OpenFile(chunk_id, *entry, mode);
  if (!file) return Fail(file.error());
  Status read = (*file)->Read(chunk_version, offset, out, mode);
  if (!read.ok()) return Fail(NoteFailure(chunk_id, *entry, read));
  return (*file)->data_length();
}

Status ChunkStore::Modify(uint64_t chunk_id, uint64_t chunk_version,
                          const std::function<Status(Entry& entry, ChunkFile& file)>& change) {
  while (true) {
    auto entry = FindOrAdd(chunk_id);
    std::lock_guard lock(entry->mutex);
    if (entry->removed) continue;  // deleted while we waited: start over
    if (entry->present && !InService(*entry)) {
      // Not created afresh elsewhere: the new copy would hold only this write's bytes.
      return Status::Error(EIO, "chunk " + std::to_string(chunk_id) + " was in data directory " +
                                    dirs_[entry->dir_index].path + ", which is out of service");
    }
    if (entry->corrupt) {
      return Status::Error(EIO, "chunk " + std::to_string(chunk_id) + " is corrupt here; only a copy replaces it");
    }
    if (!entry->present) {
      Status created = CheckRecreation(chunk_id, chunk_version);
      if (created.ok()) created = CreateFile(chunk_id, chunk_version, *entry);
      if (!created.ok()) {
        Remove(chunk_id, *entry);
        return created;
      }
    }
    auto file = OpenFile(chunk_id, *entry);
    if (!file) return file.error();
    Status changed = change(*entry, **file);
    entry->chunk_version = (*file)->chunk_version();
    entry->data_length = (*file)->data_length();
    return NoteFailure(chunk_id, *entry, changed);
  }
}

Status ChunkStore::Write(uint64_t chunk_id, uint64_t chunk_version, uint64_t offset, std::span<const std::byte> data) {
  return Modify(chunk_id, chunk_version, [&](Entry& entry, ChunkFile& file) {
    Status space = CheckSpaceFor(entry, file, offset, offset + data.size());
    if (!space.ok()) return space;
    return file.Write(chunk_version, offset, data);
  });
}

Status ChunkStore::CheckSpaceFor(const Entry& entry, const ChunkFile& file, uint64_t offset, uint64_t end) {
  uint64_t old_length = file.data_length();
  return CheckSpace(entry.dir_index, end > old_length ? end - std::max(offset, old_length) : 0);
}

Status ChunkStore::Reserve(uint64_t chunk_id, uint64_t chunk_version, uint64_t offset, uint64_t length) {
  return Modify(chunk_id, chunk_version, [&](Entry& entry, ChunkFile& file) {
    Status space = CheckSpaceFor(entry, file, offset, offset + length);
    if (!space.ok()) return space;
    return file.Reserve(chunk_version, offset, length);
  });
}

Status ChunkStore::PunchHole(uint64_t chunk_id, uint64_t chunk_version, uint64_t offset, uint64_t length) {
  return Modify(chunk_id, chunk_version,
                [&](Entry&, ChunkFile& file) { return file.PunchHole(chunk_version, offset, length); });
}

Status ChunkStore::Truncate(uint64_t chunk_id, uint64_t chunk_version, uint64_t new_length) {
  return Modify(chunk_id, chunk_version,
                [&](Entry&, ChunkFile& file) { return file.Truncate(chunk_version, new_length); });
}

Status ChunkStore::Sync(uint64_t chunk_id) {
  auto entry = Find(chunk_id);
  if (!entry) return Status::Error(ENOENT, "no chunk " + std::to_string(chunk_id));
  std::lock_guard lock(entry->mutex);
  if (Status served = CheckServed(chunk_id, *entry); !served.ok()) return served;
  auto file = OpenFile(chunk_id, *entry);
  if (!file) return file.error();
  return NoteFailure(chunk_id, *entry, (*file)->Sync());
}

Status ChunkStore::Delete(uint64_t chunk_id) {
  auto entry = Find(chunk_id);
  if (!entry) return Status::Error(ENOENT, "no chunk " + std::to_string(chunk_id));
  std::lock_guard lock(entry->mutex);
  if (!entry->present || entry->removed) return Status::Error(ENOENT, "no chunk " + std::to_string(chunk_id));
  std::string path = ChunkPath(entry->dir_index, chunk_id);
  Remove(chunk_id, *entry);
  // A directory out of service is not touched again. Dropping the chunk from the index is
  // all there is to do (and lets a copy be made in another directory); nothing to report:
  // the master deletes only replicas it no longer counts.
  if (!InService(*entry)) return Status::Ok();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    Status failed = ErrnoStatus("delete " + path);
    if (IsDiskFailure(failed.error())) NoteDiskError(entry->dir_index, failed);
    return failed;
  }
  return Status::Ok();
}

void ChunkStore::ForEachEntry(const std::function<void(uint64_t chunk_id, Entry& entry)>& visit) {
  std::vector<std::pair<uint64_t, std::shared_ptr<Entry>>> entries;
  {
    std::lock_guard lock(index_mutex_);
    entries.assign(index_.begin(), index_.end());
  }
  for (auto& [chunk_id, entry] : entries) {
    std::lock_guard lock(entry->mutex);
    if (entry->present && !entry->removed) visit(chunk_id, *entry);
  }
}

void ChunkStore::ForEachChunk(const std::function<void(uint64_t chunk_id, const Entry& entry)>& visit) {
  ForEachEntry([&](uint64_t chunk_id, Entry& entry) {
    if (Served(entry)) visit(chunk_id, entry);
  });
}

std::vector<wire::ChunkReport> ChunkStore::Chunks() {
  std::vector<wire::ChunkReport> chunks;
  ForEachChunk([&](uint64_t chunk_id, const Entry& entry) {
    chunks.emplace_back();
    chunks.back().set_chunk_id(chunk_id);
    chunks.back().set_chunk_version(entry.chunk_version);
  });
  return chunks;
}

uint64_t ChunkStore::ChunkCount() {
  std::lock_guard lock(index_mutex_);
  return index_.size();
}

wire::DiskSpace ChunkStore::Space() {
  wire::DiskSpace total;
  std::set<uint64_t> devices_seen;
  for (const auto& dir : dirs_) {
    if (!dir.in_service) continue;
    auto space = SpaceOf(dir.path);
    if (!space || !devices_seen.insert(space->device).second) continue;
    total.set_total_bytes(total.total_bytes() + space->total_bytes);
    total.set_free_bytes(total.free_bytes() + space->free_bytes);
    wire::DiskSpace::FileSystem* file_system = total.add_file_systems();
    file_system->set_id(MachineId() + ":" + std::to_string(space->device));
    file_system->set_total_bytes(space->total_bytes);
    file_system->set_free_bytes(space->free_bytes);
    file_system->set_reserved_bytes(space->reserved_bytes);
  }
  uint64_t used_bytes = 0;
  ForEachChunk([&](uint64_t, const Entry& entry) { used_bytes += entry.data_length; });
  total.set_used_bytes(used_bytes);
  return total;
}

bool ChunkStore::Full() {
  for (const auto& dir : dirs_) {
    if (!dir.in_service) continue;
    auto space = SpaceOf(dir.path);
    if (space && space->free_bytes >= options_.reserve_bytes + kChunkSize) return false;
  }
  return true;
}

std::vector<wire::ChunkReport> ChunkStore::TakeLostChunks() {
  RetireFailedDirs();
  std::lock_guard lock(lost_mutex_);
  return std::exchange(lost_, {});
}

void ChunkStore::PutBackLostChunks(const std::vector<wire::ChunkReport>& chunks) {
  std::lock_guard lock(lost_mutex_);
  lost_.insert(lost_.end(), chunks.begin(), chunks.end());
}

std::vector<uint64_t> ChunkStore::ChunkIds() {
  std::vector<uint64_t> chunk_ids;
  {
    std::lock_guard lock(index_mutex_);
    chunk_ids.reserve(index_.size());
    for (const auto& [chunk_id, entry] : index_) chunk_ids.push_back(chunk_id);
  }
  std::sort(chunk_ids.begin(), chunk_ids.end());
  return chunk_ids;
}

Result<ChunkStore::ScrubbedPiece> ChunkStore::ScrubBlocks(uint64_t chunk_id, uint64_t first_block,
                                                          std::span<std::byte> buffer) {
  auto entry = Find(chunk_id);
  if (!entry) return Fail(ENOENT, "no chunk " + std::to_string(chunk_id));
  std::lock_guard lock(entry->mutex);
  if (Status served = CheckServed(chunk_id, *entry); !served.ok()) return Fail(served);
  ScrubbedPiece piece;
  piece.chunk_version = entry->chunk_version;
  piece.block_count = (entry->data_length + kBlockSize - 1) / kBlockSize;
  if (first_block >= piece.block_count) return piece;
  piece.blocks_read = std::min<uint64_t>(buffer.size() / kBlockSize, piece.block_count - first_block);
  auto file = OpenFile(chunk_id, *entry);
  if (!file) return Fail(file.error());
  Status read =
      (*file)->Read(entry->chunk_version, first_block * kBlockSize, buffer.first(piece.blocks_read * kBlockSize));
  if (!read.ok()) return Fail(NoteFailure(chunk_id, *entry, read));
  return piece;
}

}  // namespace hafs
