#include "master/master_metrics.h"

namespace hafs::master {

MasterMetrics& Metrics() {
  static MasterMetrics* metrics = [] {
    metrics::Registry& registry = metrics::DefaultRegistry();
    auto* created = new MasterMetrics{
        .role = registry.AddGauge("hafs_master_role", "1 for this master's role (active or standby), 0 for the other.",
                                  "role"),
        .epoch = registry.AddGauge("hafs_master_epoch", "The master epoch this master is at.").Get(),
        .log_position = registry.AddGauge("hafs_master_log_position", "Position of the last op log record.").Get(),
        .standby_lag_records =
            registry
                .AddGauge("hafs_master_standby_lag_records",
                          "Op log records the standby is behind the active, as this master sees it (0 without a peer).")
                .Get(),
        .takeovers = registry
                         .AddCounter("hafs_master_takeovers_total",
                                     "Times this master became active with a peer (the first election included).")
                         .Get(),
        .requests = registry.AddCounter("hafs_master_requests_total", "Requests received, by type.", "op"),
        .request_duration = registry.AddHistogram(
            "hafs_master_request_duration_seconds",
            "Time from receiving a request to its reply being ready (group commit included), by type.", "op"),
        .chunks = registry.AddGauge(
            "hafs_chunks",
            "Chunks by state: healthy (at their goal), under_replicated, corrupt (under its goal after a replica "
            "was reported bad), over_replicated, "
            "missing (no readable replica).",
            "state"),
        .chunkservers =
            registry.AddGauge("hafs_chunkservers", "Chunkservers known to this master, up or down.", "state"),
        .repair_copies_in_flight =
            registry.AddGauge("hafs_repair_copies_in_flight", "Self-healing copies running now.").Get(),
        .repair_bytes_to_copy =
            registry.AddGauge("hafs_repair_bytes_to_copy", "Bytes still to copy to bring every chunk to its goal.")
                .Get(),
        .repair_copies = registry.AddCounter("hafs_repair_copies_total", "Self-healing copies, by result.", "result"),
        .sessions = registry.AddGauge("hafs_sessions", "Mount sessions this master holds (the active: every live mount).")
                        .Get(),
        .open_unlinked_files =
            registry.AddGauge("hafs_open_unlinked_files", "Files unlinked while open, kept until their last close.")
                .Get(),
        .locks = registry.AddGauge("hafs_locks", "File locks (flock and POSIX byte ranges) the mounts hold at this master.")
                     .Get(),
        .lock_waiters =
            registry.AddGauge("hafs_lock_waiters", "Blocking lock requests waiting at this master (F_SETLKW, flock).")
                .Get(),
        .metadata_leases = registry.AddGauge("hafs_metadata_leases",
                                             "Metadata leases (attributes, directories' names) mounts hold at this master.")
                               .Get(),
        .recalls_timed_out = registry
                                 .AddCounter("hafs_metadata_recalls_timed_out_total",
                                             "Changes that waited for a mount's recall until its lease ran out (a hung mount).")
                                 .Get(),
    };
    // Fixed label sets exist from the start: a rate or an alert sees 0, not no series.
    for (const char* result : {"ok", "failed", "not_started"}) created->repair_copies.With(result);
    return created;
  }();
  return *metrics;
}

}  // namespace hafs::master
