// Logging: one line per event on stderr, with time, level and the component.
// LOG(INFO) << "chunkserver " << id << " registered";
#pragma once

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

// Parses "debug", "info", "warning", "error"; false when unknown.
bool ParseLogLevel(std::string_view text, LogLevel* level);

}  // namespace hafs

#define HAFS_LOG_DEBUG ::hafs::LogLevel::kDebug
#define HAFS_LOG_INFO ::hafs::LogLevel::kInfo
#define HAFS_LOG_WARNING ::hafs::LogLevel::kWarning
#define HAFS_LOG_ERROR ::hafs::LogLevel::kError
#define LOG(level) \
  if (!::hafs::LogEnabled(HAFS_LOG_##level)) {} else ::hafs::LogLine(HAFS_LOG_##level, __FILE__, __LINE__).stream()
