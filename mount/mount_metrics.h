// hafs-mount's metrics (docs/design.md, "Metrics and health"). Every FUSE operation is
// counted and timed by the wrapper MakeOperations puts around it (fuse_ops.cc).
#pragma once

#include "common/metrics.h"

namespace hafs::mount {

struct MountMetrics {
  metrics::Family<metrics::Counter>& operations;            // op
  metrics::Family<metrics::Histogram>& operation_duration;  // op
  metrics::Counter& read_bytes;
  metrics::Counter& written_bytes;
  metrics::Counter& master_retries;
  metrics::Counter& replica_failovers;
  metrics::Family<metrics::Counter>& errors;  // kind: the errno name of a failed operation
  // result: a new chunk of a file made here written to a chunk placed ahead ("placed"), or
  // with a lease asked of the master because none was left ("asked")
  metrics::Family<metrics::Counter>& new_chunks;
};

// Registered in the default registry on first use.
MountMetrics& Metrics();

}  // namespace hafs::mount
