// The HTTP endpoint every hafs daemon serves (docs/design.md, "Metrics and health"):
// GET /metrics, the process's metrics registry as Prometheus text 0.0.4, and GET /health,
// 200 with a one-line reason when the daemon is serving, 503 with the reason otherwise.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/http_endpoint.h"
#include "common/options.h"
#include "common/status.h"

namespace hafs {

struct MetricsEndpointOptions {
  // Loopback and a free port by default, so several daemons on one host never clash.
  std::string listen = "127.0.0.1:0";
  std::string port_file;  // "" = none
};

// Adds --metrics-listen and --metrics-port-file, bound to *options.
void AddMetricsEndpointFlags(po::options_description& flags, MetricsEndpointOptions* options);

struct Health {
  bool serving = false;
  std::string reason;  // one line, e.g. "ok", "standby resynchronising"
};

// Starts the endpoint and writes its bound HOST:PORT to the port file. `health`, and
// `refresh` before each /metrics answer (to set gauges that are cheap to read at scrape
// time), run on the endpoint's threads, one call at a time: they read only what is safe to
// read from another thread.
Result<std::unique_ptr<HttpEndpoint>> StartMetricsEndpoint(
    const MetricsEndpointOptions& options, std::function<Health()> health, std::function<void()> refresh = [] {});

}  // namespace hafs
