// The chunkserver's metrics (docs/design.md, "Metrics and health"). Counters are
// updated where requests, copies and scrubbing happen; space and chunk count are read
// from the chunk store when /metrics is scraped (RefreshStoreMetrics).
#pragma once

#include "common/metrics.h"

namespace hafs {

class ChunkStore;

struct ChunkserverMetrics {
  metrics::Family<metrics::Counter>& requests;            // op
  metrics::Family<metrics::Histogram>& request_duration;  // op
  metrics::Counter& read_bytes;
  metrics::Counter& written_bytes;
  metrics::Counter& checksum_mismatches;
  metrics::Family<metrics::Gauge>& space_bytes;  // kind="used|free"
  metrics::Gauge& chunks;
  metrics::Counter& scrub_bytes;
  metrics::Gauge& scrub_pass_progress;  // 0..1: the share of chunks the current pass has verified
  metrics::Counter& scrub_passes;
  metrics::Family<metrics::Counter>& copies;  // result="ok|failed|busy"
  metrics::Counter& copied_bytes;
  metrics::Family<metrics::Counter>& errors;  // kind: the errno name of a refused request
  // Requests that came in on the plain data port, result="accepted|refused" (refused:
  // no or a bad authenticator, not a data request, a malformed message).
  metrics::Family<metrics::Counter>& plain_requests;
};

// Registered in the default registry on first use.
ChunkserverMetrics& Metrics();

// Sets the space and chunk gauges from the store.
void RefreshStoreMetrics(ChunkStore& store);

}  // namespace hafs
