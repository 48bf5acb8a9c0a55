// Logging: one line per event on stderr, with time, level and the component.
// LOG(INFO) << "chunkserver " << id << " registered";
#pragma once

#include <cstdint>
#include <mutex>
#include <sstream>
#include <string_view>

namespace hafs {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
void SetLogComponent(std::string_view component);  // e.g. "master", shown on every line
bool LogEnabled(LogLevel level);

// Collects one line and writes it atomically when destroyed.
class LogLine {
 public:
  LogLine(LogLevel level, const char* file, int line);
  ~LogLine();
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

// Bounds the lines an event a peer can cause at will (a malformed request) may write: at
// most `lines_per_window` in each window of `window_ms`. Thread-safe.
class LogRateLimit {
 public:
  LogRateLimit(int lines_per_window, int64_t window_ms) : lines_per_window_(lines_per_window), window_ms_(window_ms) {}
  // True when a line may be written at `now_ms` (a monotonic clock); then *held_back is how
  // many lines were refused since the last one allowed, for that line to say so.
  bool Allow(int64_t now_ms, uint64_t* held_back);

 private:
  const int lines_per_window_;
  const int64_t window_ms_;
  std::mutex mutex_;
  int64_t window_start_ms_ = INT64_MIN;
  int lines_in_window_ = 0;
  uint64_t held_back_ = 0;
};

// Parses "debug", "info", "warning", "error"; false when unknown.
bool ParseLogLevel(std::string_view text, LogLevel* level);

}  // namespace hafs

#define HAFS_LOG_DEBUG ::hafs::LogLevel::kDebug
#define HAFS_LOG_INFO ::hafs::LogLevel::kInfo
#define HAFS_LOG_WARNING ::hafs::LogLevel::kWarning
#define HAFS_LOG_ERROR ::hafs::LogLevel::kError
#define LOG(level) \
  if (!::hafs::LogEnabled(HAFS_LOG_##level)) {} else ::hafs::LogLine(HAFS_LOG_##level, __FILE__, __LINE__).stream()
