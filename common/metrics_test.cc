#include "common/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace hafs::metrics {
namespace {

TEST(MetricsTest, CounterWithHelpAndType) {
  Registry registry;
  registry.AddCounter("hafs_test_total", "Things done.").Get().Increment(3);
  EXPECT_EQ(registry.Render(),
            "# HELP hafs_test_total Things done.\n# TYPE hafs_test_total counter\nhafs_test_total 3\n");
}

TEST(MetricsTest, LabelledGaugeSeriesSortedByLabel) {
  Registry registry;
  auto& chunks = registry.AddGauge("hafs_chunks", "Chunks by state.", "state");
  chunks.With("missing").Set(0);
  chunks.With("healthy").Set(12);
  EXPECT_EQ(registry.Render(),
            "# HELP hafs_chunks Chunks by state.\n# TYPE hafs_chunks gauge\n"
            "hafs_chunks{state=\"healthy\"} 12\nhafs_chunks{state=\"missing\"} 0\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry.AddCounter("hafs_x_total", "a \\ b\nc \"q\"", "kind").With("a\"b\\c\nd").Increment();
  EXPECT_EQ(registry.Render(),
            "# HELP hafs_x_total a \\\\ b\\nc \"q\"\n# TYPE hafs_x_total counter\n"
            "hafs_x_total{kind=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry registry;
  auto& latency = registry.AddHistogram("hafs_op_seconds", "Latency.", "op", {0.1, 1});
  Histogram& read = latency.With("read");
  read.Observe(0.05);
  read.Observe(0.1);  // on a bound: counts in that bucket (le = less or equal)
  read.Observe(0.5);
  read.Observe(7);
  EXPECT_EQ(registry.Render(),
            "# HELP hafs_op_seconds Latency.\n# TYPE hafs_op_seconds histogram\n"
            "hafs_op_seconds_bucket{op=\"read\",le=\"0.1\"} 2\n"
            "hafs_op_seconds_bucket{op=\"read\",le=\"1\"} 3\n"
            "hafs_op_seconds_bucket{op=\"read\",le=\"+Inf\"} 4\n"
            "hafs_op_seconds_sum{op=\"read\"} 7.65\n"
            "hafs_op_seconds_count{op=\"read\"} 4\n");
}

TEST(MetricsTest, UnlabelledHistogram) {
  Registry registry;
  registry.AddHistogram("hafs_h_seconds", "H.", "", {1}).Get().Observe(2);
  EXPECT_EQ(registry.Render(),
            "# HELP hafs_h_seconds H.\n# TYPE hafs_h_seconds histogram\n"
            "hafs_h_seconds_bucket{le=\"1\"} 0\nhafs_h_seconds_bucket{le=\"+Inf\"} 1\n"
            "hafs_h_seconds_sum 2\nhafs_h_seconds_count 1\n");
}

TEST(MetricsTest, FormatsSpecialValues) {
  EXPECT_EQ(FormatValue(1e15), "1000000000000000");
  EXPECT_EQ(FormatValue(-2), "-2");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(0.1 + 0.2), "0.30000000000000004");  // round-trips exactly
  EXPECT_EQ(FormatValue(1e300), "1e+300");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
}

TEST(MetricsTest, ErrorKindIsTheErrnoName) {
  EXPECT_EQ(ErrorKind(ENOENT), "ENOENT");
  EXPECT_EQ(ErrorKind(100000), "E100000");
}

TEST(MetricsTest, ConcurrentUpdatesAreCounted) {
  Registry registry;
  auto& requests = registry.AddCounter("hafs_r_total", "R.", "op");
  auto& latency = registry.AddHistogram("hafs_r_seconds", "R.", "op");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        requests.With(t % 2 ? "read" : "write").Increment();
        latency.With("read").Observe(0.001);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(requests.With("read").value() + requests.With("write").value(), 40000u);
  EXPECT_EQ(latency.With("read").CumulativeCounts().back(), 40000u);
}

}  // namespace
}  // namespace hafs::metrics
