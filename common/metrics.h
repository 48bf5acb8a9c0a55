// Metrics in the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Debian 12 packages no
// Prometheus C++ client, so this is the small part hafs needs: counters, gauges and
// histograms with fixed buckets, each family with at most one label of low cardinality
// (an op type, an error kind, a state; never an inode or chunk id).
//
// Updating a series is an atomic add; finding a labelled series takes the family's mutex
// and a map lookup, so hot paths with a fixed label may keep the Series& they got.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace hafs::metrics {

class Counter {
 public:
  void Increment(uint64_t amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets with fixed upper bounds (ascending); an observation
// above the last bound counts only in +Inf.
class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void Observe(double value);
  // Cumulative counts, one per bound and then +Inf (== count).
  std::vector<uint64_t> CumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1 (the last is +Inf)
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, 100 us to 10 s: local disk and LAN round trips.
const std::vector<double>& LatencyBuckets();

// One metric name: HELP, TYPE and its series, one per value of its label.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::string label) noexcept
      : name_(std::move(name)), help_(std::move(help)), label_(std::move(label)) {}
  virtual ~FamilyBase() = default;
  void Render(std::string* out) const;

 protected:
  virtual const char* type() const = 0;
  // Appends the family's sample lines.
  virtual void RenderSeries(std::string* out) const = 0;
  // `NAMEsuffix{label="value"` for the series of `label_value` (no closing brace), or
  // `NAMEsuffix` when the family is unlabelled.
  std::string SeriesPrefix(const std::string& suffix, const std::string& label_value) const;

  std::string name_;
  std::string help_;
  std::string label_;  // "" = a single series without labels
  mutable std::mutex mutex_;
};

template <typename Series>
class Family : public FamilyBase {
 public:
  Family(std::string name, std::string help, std::string label, std::vector<double> bounds = {})
      : FamilyBase(std::move(name), std::move(help), std::move(label)), bounds_(std::move(bounds)) {}

  // The series for this label value, created on first use; it lives as long as the family.
  Series& With(std::string_view label_value) {
    std::lock_guard lock(mutex_);
    auto found = series_.find(label_value);
    if (found == series_.end()) found = series_.emplace(std::string(label_value), MakeSeries()).first;
    return *found->second;
  }
  // The only series of an unlabelled family.
  Series& Get() { return With(""); }

 protected:
  const char* type() const override;
  void RenderSeries(std::string* out) const override;

 private:
  std::unique_ptr<Series> MakeSeries() const {
    if constexpr (std::is_same_v<Series, Histogram>) {
      return std::make_unique<Histogram>(bounds_);
    } else {
      return std::make_unique<Series>();
    }
  }
  std::vector<double> bounds_;  // histograms only
  std::map<std::string, std::unique_ptr<Series>, std::less<>> series_;
};

template <>
const char* Family<Counter>::type() const;
template <>
const char* Family<Gauge>::type() const;
template <>
const char* Family<Histogram>::type() const;
template <>
void Family<Counter>::RenderSeries(std::string* out) const;
template <>
void Family<Gauge>::RenderSeries(std::string* out) const;
template <>
void Family<Histogram>::RenderSeries(std::string* out) const;

class Registry {
 public:
  Family<Counter>& AddCounter(std::string name, std::string help, std::string label = "");
  Family<Gauge>& AddGauge(std::string name, std::string help, std::string label = "");
  Family<Histogram>& AddHistogram(std::string name, std::string help, std::string label,
                                  std::vector<double> bounds = LatencyBuckets());
  // Every family, in the order added, as text exposition 0.0.4.
  std::string Render() const;

 private:
  template <typename F>
  F& Add(std::unique_ptr<F> family);
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
};

// The process's registry, which /metrics serves.
Registry& DefaultRegistry();

// Seconds since `start`, for histograms: `histogram.Observe(SecondsSince(started))`.
double SecondsSince(std::chrono::steady_clock::time_point start);

// The label of an error kind: the errno's name ("ENOENT", "ESTALE"), a fixed set.
std::string ErrorKind(int error);

// A label value or HELP text escaped for the text format (backslash, newline, and in
// label values the double quote).
std::string EscapeLabelValue(std::string_view value);
// A sample value: integers without a fraction, +Inf, -Inf, NaN.
std::string FormatValue(double value);

}  // namespace hafs::metrics
