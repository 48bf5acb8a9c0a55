#include "mount/mount_metrics.h"

namespace hafs::mount {

MountMetrics& Metrics() {
  static MountMetrics* metrics = [] {
    metrics::Registry& registry = metrics::DefaultRegistry();
    return new MountMetrics{
        .operations = registry.AddCounter("hafs_mount_operations_total", "FUSE operations served, by type.", "op"),
        .operation_duration = registry.AddHistogram("hafs_mount_operation_duration_seconds",
                                                    "Time to answer a FUSE operation, by type.", "op"),
        .read_bytes = registry.AddCounter("hafs_mount_read_bytes_total", "Bytes returned by reads.").Get(),
        .written_bytes = registry.AddCounter("hafs_mount_written_bytes_total", "Bytes accepted by writes.").Get(),
        .master_retries =
            registry
                .AddCounter("hafs_mount_master_retries_total",
                            "Master calls sent again: to another master, or after a timeout or a \"not me\" answer.")
                .Get(),
        .replica_failovers = registry
                                 .AddCounter("hafs_mount_replica_failovers_total",
                                             "Chunk reads that failed on one replica and went on to another.")
                                 .Get(),
        .errors =
            registry.AddCounter("hafs_mount_errors_total", "FUSE operations answered with an error, by errno.", "kind"),
        .new_chunks = registry.AddCounter(
            "hafs_mount_new_chunks_total",
            "New chunks of files made here under a delegation: written to a chunk placed ahead (placed) or not (asked).",
            "result"),
    };
  }();
  return *metrics;
}

}  // namespace hafs::mount
