#include "common/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <string>

namespace hafs {
namespace {

// What LOG writes to stderr while `write_lines` runs.
template <typename WriteLines>
std::string CaptureStderr(WriteLines write_lines) {
  int pipe_fds[2];
  EXPECT_EQ(::pipe(pipe_fds), 0);
  int saved = ::dup(STDERR_FILENO);
  ::dup2(pipe_fds[1], STDERR_FILENO);
  write_lines();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(pipe_fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t got; (got = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, got);
  ::close(pipe_fds[0]);
  return text;
}

TEST(LogTest, OneLineWithTimeLevelComponentAndPlace) {
  SetLogComponent("chunkserver");
  std::string text = CaptureStderr([] { LOG(WARNING) << "chunk " << 42 << " replica is corrupt"; });
  EXPECT_TRUE(std::regex_match(text, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN chunkserver\[\d+\] )"
                                                R"(log_test\.cc:\d+: chunk 42 replica is corrupt\n)")))
      << text;
}

TEST(LogTest, NewlinesInsideAMessageAreEscaped) {
  std::string text = CaptureStderr([] { LOG(ERROR) << "peer said: bad\nforged 2026 INFO line\n"; });
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_TRUE(text.ends_with("peer said: bad\\nforged 2026 INFO line\\n\n")) << text;
}

TEST(LogTest, LinesBelowTheLevelAreNotWritten) {
  SetLogLevel(LogLevel::kWarning);
  std::string text = CaptureStderr([] { LOG(INFO) << "not shown"; });
  SetLogLevel(LogLevel::kInfo);
  EXPECT_EQ(text, "");
}

TEST(LogRateLimitTest, AllowsSomeLinesPerWindowAndCountsTheRest) {
  LogRateLimit limit(2, 1000);
  uint64_t held_back = 99;
  EXPECT_TRUE(limit.Allow(0, &held_back));
  EXPECT_EQ(held_back, 0u);
  EXPECT_TRUE(limit.Allow(10, &held_back));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limit.Allow(20 + i, &held_back));
  EXPECT_FALSE(limit.Allow(999, &held_back));
  EXPECT_TRUE(limit.Allow(1000, &held_back));  // a new window
  EXPECT_EQ(held_back, 6u);                    // and the line says what was held back
  EXPECT_TRUE(limit.Allow(1001, &held_back));
  EXPECT_EQ(held_back, 0u);
}

}  // namespace
}  // namespace hafs
