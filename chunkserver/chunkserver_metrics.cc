#include "chunkserver/chunkserver_metrics.h"

#include "chunkserver/chunk_store.h"

namespace hafs {

ChunkserverMetrics& Metrics() {
  static ChunkserverMetrics* metrics = [] {
    metrics::Registry& registry = metrics::DefaultRegistry();
    auto* created = new ChunkserverMetrics{
        .requests = registry.AddCounter("hafs_chunkserver_requests_total", "Requests served, by type.", "op"),
        .request_duration = registry.AddHistogram("hafs_chunkserver_request_duration_seconds",
                                                  "Time to serve a request (a write's chain included), by type.", "op"),
        .read_bytes =
            registry.AddCounter("hafs_chunkserver_read_bytes_total", "Chunk data bytes read for clients.").Get(),
        .written_bytes =
            registry.AddCounter("hafs_chunkserver_written_bytes_total", "Chunk data bytes written by clients.").Get(),
        .checksum_mismatches =
            registry
                .AddCounter("hafs_chunkserver_checksum_mismatches_total",
                            "Replicas found corrupt (a block or header failing its checksum, a file of another chunk).")
                .Get(),
        .space_bytes =
            registry.AddGauge("hafs_chunkserver_space_bytes",
                              "Chunk data stored (used) and space left (free) in the data directories.", "kind"),
        .chunks = registry.AddGauge("hafs_chunkserver_chunks", "Chunk replicas stored.").Get(),
        .scrub_bytes = registry.AddCounter("hafs_scrub_bytes_total", "Bytes the background scrubber verified.").Get(),
        .scrub_pass_progress = registry
                                   .AddGauge("hafs_scrub_pass_progress_ratio",
                                             "Share of the stored chunks the scrubber's current pass has verified.")
                                   .Get(),
        .scrub_passes =
            registry.AddCounter("hafs_scrub_passes_total", "Full passes of the scrubber over every stored chunk.")
                .Get(),
        .copies = registry.AddCounter("hafs_chunkserver_copies_total",
                                      "Self-healing copies into this chunkserver, by result.", "result"),
        .copied_bytes = registry
                            .AddCounter("hafs_chunkserver_copied_bytes_total",
                                        "Chunk data bytes self-healing copies wrote into this chunkserver.")
                            .Get(),
        .errors =
            registry.AddCounter("hafs_chunkserver_errors_total", "Requests answered with an error, by errno.", "kind"),
        .plain_requests =
            registry.AddCounter("hafs_chunkserver_plain_requests_total",
                                "Requests on the plain data port, by whether they were authenticated.", "result"),
    };
    // Fixed label sets exist from the start: a rate or an alert sees 0, not no series.
    for (const char* result : {"ok", "failed", "busy"}) created->copies.With(result);
    for (const char* result : {"accepted", "refused"}) created->plain_requests.With(result);
    return created;
  }();
  return *metrics;
}

void RefreshStoreMetrics(ChunkStore& store) {
  wire::DiskSpace space = store.Space();
  Metrics().space_bytes.With("used").Set(static_cast<double>(space.used_bytes()));
  Metrics().space_bytes.With("free").Set(static_cast<double>(space.free_bytes()));
  Metrics().chunks.Set(static_cast<double>(store.ChunkCount()));
}

}  // namespace hafs
