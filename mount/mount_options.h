// Everything hafs-mount can be told on its command line (see main.cc for the flags
// and their defaults, docs/design.md "Mount options" for what each one trades off).
#pragma once

#include <string>
#include <vector>

#include "common/metrics_endpoint.h"
#include "common/security_options.h"

namespace hafs::mount {

struct MountOptions {
  std::string mountpoint;
  std::string subdir = "/";          // the master's directory to mount (absolute)
  std::vector<std::string> masters;  // "host:port" each, tried in order
  int master_timeout_ms = 500;       // one call to one master
  int master_retry_s = 60;           // how long a metadata call keeps retrying before EIO
  int mount_retry_s = 0;             // how long to wait for a master at mount time
  int read_timeout_ms = 400;         // one ReadChunk to one replica
  int write_timeout_ms = 1500;       // a replica's wait for its downstream replicas
  bool fsync_on_close = false;
  int write_buffer_kb = 1024;        // small writes held per open file (write_buffer.h); 0: none
  // Write-back namespace changes (write_back.h): off, each change is on both masters before it
  // returns; on, changes reach them within metadata_flush_ms or at a durability point.
  bool sync_metadata = false;
  int metadata_flush_ms = 100;
  double attr_timeout_s = 60.0;   // caps on the kernel's caching under metadata leases
  double entry_timeout_s = 60.0;
  int max_threads = 16;              // FUSE worker threads
  int read_ahead_kb = 4096;          // the kernel's read-ahead window (read_ahead.h)
  MetricsEndpointOptions metrics;    // /metrics and /health
  SecurityOptions security;          // CURVE keys
};

// The call timeout of a chained write: the first replica may wait write_timeout_ms for
// its downstream before answering, so the client waits for both hops plus slack.
inline int WriteCallTimeoutMs(const MountOptions& options) { return 2 * options.write_timeout_ms + 500; }

}  // namespace hafs::mount
