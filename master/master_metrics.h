// The master's metrics (docs/design.md, "Metrics and health"). Request counts and
// latencies are updated where requests are served; the gauges are copied from a cluster
// status every kPublishMetricsEveryMs by the service loop, which owns the state.
#pragma once

#include "common/metrics.h"

namespace hafs::master {

struct MasterMetrics {
  metrics::Family<metrics::Gauge>& role;  // role="active|standby": 1 for this master's role, else 0
  metrics::Gauge& epoch;
  metrics::Gauge& log_position;
  metrics::Gauge& standby_lag_records;
  metrics::Counter& takeovers;
  metrics::Family<metrics::Counter>& requests;            // op
  metrics::Family<metrics::Histogram>& request_duration;  // op
  metrics::Family<metrics::Gauge>& chunks;                // state
  metrics::Family<metrics::Gauge>& chunkservers;          // state
  metrics::Gauge& repair_copies_in_flight;
  metrics::Gauge& repair_bytes_to_copy;
  metrics::Family<metrics::Counter>& repair_copies;  // result="ok|failed|not_started"
  metrics::Gauge& sessions;
  metrics::Gauge& open_unlinked_files;
  metrics::Gauge& locks;
  metrics::Gauge& lock_waiters;
  metrics::Gauge& metadata_leases;
  metrics::Counter& recalls_timed_out;
};

// Registered in the default registry on first use.
MasterMetrics& Metrics();

}  // namespace hafs::master
