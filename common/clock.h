// Wall-clock and monotonic time in the units the protocol uses.
#pragma once

#include <chrono>
#include <cstdint>

namespace hafs {

// Nanoseconds since the Unix epoch (for file times).
inline int64_t WallClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Milliseconds since the Unix epoch (chunk access token times: common/access_token.h).
inline int64_t WallClockMs() { return WallClockNs() / 1'000'000; }

// Milliseconds of a clock that never goes back (for timeouts and heartbeats).
inline int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace hafs
