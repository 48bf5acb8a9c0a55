#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace hafs::metrics {

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::Observe(double value) {
  size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> cumulative(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i < cumulative.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    cumulative[i] = total;
  }
  return cumulative;
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return buckets;
}

std::string ErrorKind(int error) {
  const char* name = ::strerrorname_np(error);
  return name != nullptr ? name : "E" + std::to_string(error);
}

std::string EscapeLabelValue(std::string_view value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else if (c == '"') {
      escaped += "\\\"";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // The shortest text that reads back as the same double; exact integers (counts,
  // bytes) without an exponent up to 2^53.
  char text[32];
  bool integer = value == std::trunc(value) && std::fabs(value) < 9007199254740992.0;
  auto end = integer ? std::to_chars(text, text + sizeof text, static_cast<int64_t>(value)).ptr
                     : std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

void FamilyBase::Render(std::string* out) const {
  // HELP escapes backslash and newline only; a double quote stays as it is.
  std::string help;
  for (char c : help_) help += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : std::string(1, c);
  *out += "# HELP " + name_ + " " + help + "\n# TYPE " + name_ + " " + type() + "\n";
  std::lock_guard lock(mutex_);
  RenderSeries(out);
}

std::string FamilyBase::SeriesPrefix(const std::string& suffix, const std::string& label_value) const {
  if (label_.empty()) return name_ + suffix;
  return name_ + suffix + "{" + label_ + "=\"" + EscapeLabelValue(label_value) + "\"";
}

namespace {

// Closes a series prefix: `{...` gets its brace, a bare name stays bare.
std::string Close(const std::string& prefix) { return prefix.back() == '"' ? prefix + "}" : prefix; }

}  // namespace

template <>
const char* Family<Counter>::type() const {
  return "counter";
}
template <>
const char* Family<Gauge>::type() const {
  return "gauge";
}
template <>
const char* Family<Histogram>::type() const {
  return "histogram";
}

template <>
void Family<Counter>::RenderSeries(std::string* out) const {
  for (const auto& [label_value, series] : series_) {
    *out += Close(SeriesPrefix("", label_value)) + " " + FormatValue(static_cast<double>(series->value())) + "\n";
  }
}

template <>
void Family<Gauge>::RenderSeries(std::string* out) const {
  for (const auto& [label_value, series] : series_) {
    *out += Close(SeriesPrefix("", label_value)) + " " + FormatValue(series->value()) + "\n";
  }
}

template <>
void Family<Histogram>::RenderSeries(std::string* out) const {
  for (const auto& [label_value, series] : series_) {
    std::string bucket = SeriesPrefix("_bucket", label_value);
    std::string separator = label_.empty() ? "{" : ",";
    std::vector<uint64_t> cumulative = series->CumulativeCounts();
    for (size_t i = 0; i < cumulative.size(); ++i) {
      std::string bound = i < bounds_.size() ? FormatValue(bounds_[i]) : "+Inf";
      *out += bucket + separator + "le=\"" + bound + "\"} " + std::to_string(cumulative[i]) + "\n";
    }
    *out += Close(SeriesPrefix("_sum", label_value)) + " " + FormatValue(series->sum()) + "\n";
    *out += Close(SeriesPrefix("_count", label_value)) + " " + std::to_string(cumulative.back()) + "\n";
  }
}

template <typename F>
F& Registry::Add(std::unique_ptr<F> family) {
  std::lock_guard lock(mutex_);
  F& added = *family;
  families_.push_back(std::move(family));
  return added;
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help, std::string label) {
  return Add(std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(label)));
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help, std::string label) {
  return Add(std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(label)));
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help, std::string label,
                                          std::vector<double> bounds) {
  return Add(
      std::make_unique<Family<Histogram>>(std::move(name), std::move(help), std::move(label), std::move(bounds)));
}

std::string Registry::Render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& family : families_) family->Render(&out);
  return out;
}

Registry& DefaultRegistry() {
  static Registry* registry = new Registry();  // never destroyed: threads may update it at exit
  return *registry;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace hafs::metrics
