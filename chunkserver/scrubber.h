// The background scrubber: reads every stored block of every chunk at a bounded rate and
// verifies it against its checksum, so that a replica that rotted on disk is found before a
// client needs it. Described in docs/design.md ("Scrubber").
//
// One thread. Chunks are visited by ascending id; each is read in pieces (whole 64 KiB
// blocks, `piece_bytes` at a time) through ChunkStore::ScrubBlocks, which holds the chunk's
// lock for one piece only, so client writes wait at most one piece. A checksum mismatch is
// reported exactly as a failed client read is (the store logs it once with chunk id,
// version and block, and lists the replica in the heartbeat's lost_chunks); the rest of
// that chunk is skipped for this pass. A disk error goes the same way (and counts against
// the chunk's data directory: chunk_store.h), so a pass also finds a failing disk that
// no client reads from. A chunk deleted under the scrubber is skipped.
//
// Pacing: after each piece the thread waits until the bytes read so far in the pass
// would have taken that long at `rate_bytes_per_s` (time lost to a slow disk is not made
// up later); at a kBusyRateDivisor-th of it while clients use the disk (a chunk read or
// write in the last kBusyWindowMs, per `last_client_data_ms`), so that it takes little
// from their reads and yet finishes its pass. Every wait is on a condition variable, so
// Stop() returns at once.
//
// Position file (`position_path`): the id of the last chunk finished in the current pass,
// in decimal, then a newline ("0\n" at the start of a pass), replaced atomically
// (WriteFileAtomically) every `save_interval_ms`, at the end of a pass and on Stop(). A
// restarted scrubber resumes after that chunk; a missing or unreadable file starts a pass
// from the beginning. After a full pass the scrubber starts over, no sooner than
// `min_pass_interval_ms` after the previous pass began.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chunkserver/chunk_store.h"
#include "common/status.h"

namespace hafs {

// The position file's name in the first data directory.
inline constexpr char kScrubPositionFile[] = "scrub.position";
// While clients read or write, the scrubber reads at rate / kBusyRateDivisor. Three
// chunkservers on one disk scrubbing at 16 MiB/s each read 48 MiB/s beside a client's
// cold random reads, more than those reads themselves did (docs/performance.md).
inline constexpr uint64_t kBusyRateDivisor = 4;
inline constexpr int64_t kBusyWindowMs = 1000;

struct ScrubberOptions {
  uint64_t rate_bytes_per_s = 16ull << 20;  // must be > 0 (0 in --scrub-rate-mib: no scrubber)
  std::string position_path;                // empty: the position is not kept
  uint64_t piece_bytes = 1ull << 20;        // read under the chunk lock at once, whole blocks
  int save_interval_ms = 5000;
  int min_pass_interval_ms = 10000;  // a small store is not read over and over
  // When a client last read or wrote chunk data (MonotonicMs, 0 = never); empty: never.
  std::function<int64_t()> last_client_data_ms;
};

// What the scrubber has done since it started (for metrics).
struct ScrubberCounters {
  uint64_t blocks_scrubbed = 0;  // read and verified, good or bad
  uint64_t bad_blocks = 0;       // failed their checksum (one per bad chunk and pass)
  uint64_t chunks_scrubbed = 0;  // finished, good or bad
  uint64_t passes_completed = 0;
};

class Scrubber {
 public:
  Scrubber(ChunkStore& store, ScrubberOptions options);
  ~Scrubber() { Stop(); }
  Scrubber(const Scrubber&) = delete;
  Scrubber& operator=(const Scrubber&) = delete;

  void Start();
  // Returns once the thread has ended (at once: it never sleeps past a stop) and the
  // position is saved.
  void Stop();
  ScrubberCounters counters() const;

  // The position file: the chunk id it holds (0 when missing or unreadable); writing it.
  static uint64_t LoadPosition(const std::string& path);
  static Status SavePosition(const std::string& path, uint64_t chunk_id);

 private:
  using Clock = std::chrono::steady_clock;

  void Run();
  // Scrubs one chunk; false when stopped on the way.
  bool ScrubChunk(uint64_t chunk_id, std::vector<std::byte>& buffer);
  // Whether a client read or wrote chunk data within kBusyWindowMs.
  bool ClientsBusy() const;
  // Waits until `bytes` more fit the rate since `read_started`; false when stopped.
  bool Pace(uint64_t bytes, Clock::time_point read_started);
  // Waits until `deadline`; false when stopped.
  bool WaitUntil(Clock::time_point deadline);
  void SavePositionIfDue(bool now);

  ChunkStore& store_;
  const ScrubberOptions options_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;

  // The scrubber thread's own (read by Stop() only after the thread ended).
  uint64_t position_ = 0;  // last chunk finished in this pass
  uint64_t saved_position_ = 0;
  Clock::time_point last_saved_;
  Clock::time_point next_read_at_;

  std::atomic<uint64_t> blocks_scrubbed_{0};
  std::atomic<uint64_t> bad_blocks_{0};
  std::atomic<uint64_t> chunks_scrubbed_{0};
  std::atomic<uint64_t> passes_completed_{0};
};

}  // namespace hafs
