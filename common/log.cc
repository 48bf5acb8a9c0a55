#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace hafs {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::string g_component = "hafs";

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarning: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
void SetLogComponent(std::string_view component) { g_component = component; }
bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

bool LogRateLimit::Allow(int64_t now_ms, uint64_t* held_back) {
  std::lock_guard lock(mutex_);
  if (window_start_ms_ == INT64_MIN || now_ms - window_start_ms_ >= window_ms_) {
    window_start_ms_ = now_ms;
    lines_in_window_ = 0;
  }
  if (lines_in_window_ >= lines_per_window_) {
    ++held_back_;
    return false;
  }
  ++lines_in_window_;
  *held_back = held_back_;
  held_back_ = 0;
  return true;
}

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  if (text == "debug") *level = LogLevel::kDebug;
  else if (text == "info") *level = LogLevel::kInfo;
  else if (text == "warning") *level = LogLevel::kWarning;
  else if (text == "error") *level = LogLevel::kError;
  else return false;
  return true;
}

LogLine::LogLine(LogLevel level, const char* file, int line) : level_(level) {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm_utc;
  gmtime_r(&seconds, &tm_utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm_utc);
  std::string_view path(file);
  auto slash = path.rfind('/');
  if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  char millis_text[8];
  std::snprintf(millis_text, sizeof millis_text, ".%03d", static_cast<int>(millis));
  stream_ << stamp << millis_text << "Z " << LevelName(level_) << ' ' << g_component << '[' << getpid() << "] "
          << path << ':' << line << ": ";
}

LogLine::~LogLine() {
  std::string text = stream_.str();
  // One event, one line: a newline inside a message (a peer's error text, say) is escaped.
  for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 2)) text.replace(at, 1, "\\n");
  text += '\n';
  // One write(2) per line keeps lines from different threads whole.
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

}  // namespace hafs
