#include "chunkserver/scrubber.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "chunkserver/chunkserver_metrics.h"
#include "chunkserver/disk_error_window.h"
#include "common/block_checksum.h"
#include "common/durable_file.h"
#include "common/clock.h"
#include "common/log.h"

namespace hafs {

Scrubber::Scrubber(ChunkStore& store, ScrubberOptions options) : store_(store), options_(std::move(options)) {}

void Scrubber::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
}

void Scrubber::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (!thread_.joinable()) return;
  thread_.join();
  SavePositionIfDue(true);
}

ScrubberCounters Scrubber::counters() const {
  return {blocks_scrubbed_.load(), bad_blocks_.load(), chunks_scrubbed_.load(), passes_completed_.load()};
}

uint64_t Scrubber::LoadPosition(const std::string& path) {
  std::ifstream file(path);
  if (!file) return 0;
  std::stringstream contents;
  contents << file.rdbuf();
  std::string text = contents.str();
  uint64_t chunk_id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), chunk_id);
  if (error != std::errc() || end + 1 != text.data() + text.size() || *end != '\n') {
    LOG(WARNING) << "scrub position file " << path << " is unreadable; scrubbing from the first chunk";
    return 0;
  }
  return chunk_id;
}

Status Scrubber::SavePosition(const std::string& path, uint64_t chunk_id) {
  return WriteFileAtomically(path, std::to_string(chunk_id) + "\n");
}

void Scrubber::Run() {
  if (!options_.position_path.empty()) position_ = LoadPosition(options_.position_path);
  saved_position_ = position_;
  last_saved_ = next_read_at_ = Clock::now();
  LOG(INFO) << "scrubbing chunks at " << options_.rate_bytes_per_s / double(1 << 20) << " MiB/s"
            << (position_ == 0 ? std::string() : ", resuming after chunk " + std::to_string(position_));
  std::vector<std::byte> buffer(std::max<uint64_t>(options_.piece_bytes / kBlockSize, 1) * kBlockSize);
  while (true) {
    Clock::time_point pass_started = Clock::now();
    std::vector<uint64_t> chunk_ids = store_.ChunkIds();
    for (auto chunk_id = std::upper_bound(chunk_ids.begin(), chunk_ids.end(), position_); chunk_id != chunk_ids.end();
         ++chunk_id) {
      Metrics().scrub_pass_progress.Set(static_cast<double>(chunk_id - chunk_ids.begin()) / chunk_ids.size());
      if (!ScrubChunk(*chunk_id, buffer)) return;
      position_ = *chunk_id;
      SavePositionIfDue(false);
    }
    Metrics().scrub_pass_progress.Set(1);
    position_ = 0;
    SavePositionIfDue(true);
    ++passes_completed_;
    Metrics().scrub_passes.Increment();
    LOG(DEBUG) << "scrub pass " << passes_completed_.load() << " done, " << bad_blocks_.load()
               << " bad blocks found so far";
    if (!WaitUntil(pass_started + std::chrono::milliseconds(options_.min_pass_interval_ms))) return;
  }
}

bool Scrubber::ScrubChunk(uint64_t chunk_id, std::vector<std::byte>& buffer) {
  for (uint64_t block = 0;;) {
    Clock::time_point read_started = Clock::now();
    auto piece = store_.ScrubBlocks(chunk_id, block, buffer);
    if (!piece) {
      // ENOENT: deleted under us, nothing to say. EBADMSG or a disk error: the store has
      // logged and listed the replica as lost; the rest of the chunk waits for the next pass.
      if (piece.error().error() == ENOENT) return Pace(0, read_started);
      if (piece.error().error() == EBADMSG) {
        ++blocks_scrubbed_;
        ++bad_blocks_;
      } else if (!IsDiskFailure(piece.error().error())) {
        LOG(WARNING) << "scrubbing chunk " << chunk_id << ": " << piece.error().ToString();
      }
      if (!Pace(0, read_started)) return false;
      ++chunks_scrubbed_;
      return true;
    }
    blocks_scrubbed_ += piece->blocks_read;
    Metrics().scrub_bytes.Increment(piece->blocks_read * kBlockSize);
    block += piece->blocks_read;
    if (!Pace(piece->blocks_read * kBlockSize, read_started)) return false;
    if (piece->blocks_read == 0 || block >= piece->block_count) {
      ++chunks_scrubbed_;
      return true;
    }
  }
}

bool Scrubber::ClientsBusy() const {
  if (!options_.last_client_data_ms) return false;
  int64_t last_ms = options_.last_client_data_ms();
  return last_ms != 0 && MonotonicMs() - last_ms < kBusyWindowMs;
}

bool Scrubber::Pace(uint64_t bytes, Clock::time_point read_started) {
  uint64_t rate_bytes_per_s =
      ClientsBusy() ? std::max<uint64_t>(1, options_.rate_bytes_per_s / kBusyRateDivisor) : options_.rate_bytes_per_s;
  auto read_time = std::chrono::nanoseconds(static_cast<int64_t>(bytes * 1e9 / rate_bytes_per_s));
  next_read_at_ = std::max(next_read_at_, read_started) + read_time;
  return WaitUntil(next_read_at_);
}

bool Scrubber::WaitUntil(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_until(lock, deadline, [this] { return stopping_; });
}

void Scrubber::SavePositionIfDue(bool now) {
  if (options_.position_path.empty() || position_ == saved_position_) return;
  if (!now && Clock::now() - last_saved_ < std::chrono::milliseconds(options_.save_interval_ms)) return;
  last_saved_ = Clock::now();
  if (Status saved = SavePosition(options_.position_path, position_); !saved.ok()) {
    LOG(WARNING) << "cannot save the scrub position: " << saved.ToString();
    return;
  }
  saved_position_ = position_;
}

}  // namespace hafs
