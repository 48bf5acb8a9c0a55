#include "common/metrics_endpoint.h"

#include "common/durable_file.h"
#include "common/log.h"
#include "common/metrics.h"

namespace hafs {

void AddMetricsEndpointFlags(po::options_description& flags, MetricsEndpointOptions* options) {
  flags.add_options()("metrics-listen", po::value<std::string>(&options->listen)->default_value(options->listen),
                      "HOST:PORT of the HTTP endpoint serving /metrics (Prometheus) and /health (port 0 picks a "
                      "free port)")("metrics-port-file",
                                    po::value<std::string>(&options->port_file)->default_value(options->port_file),
                                    "write the bound HOST:PORT of the metrics endpoint to this file once it serves");
}

Result<std::unique_ptr<HttpEndpoint>> StartMetricsEndpoint(const MetricsEndpointOptions& options,
                                                           std::function<Health()> health,
                                                           std::function<void()> refresh) {
  std::map<std::string, HttpHandler> routes;
  routes["/metrics"] = [refresh = std::move(refresh)] {
    refresh();
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics::DefaultRegistry().Render()};
  };
  routes["/health"] = [health = std::move(health)] {
    Health now = health();
    return HttpResponse{now.serving ? 200 : 503, "text/plain; charset=utf-8", now.reason + "\n"};
  };
  auto endpoint = std::make_unique<HttpEndpoint>(std::move(routes));
  auto bound = endpoint->Start(options.listen);
  if (!bound) {
    return Fail(bound.error().error(), "--metrics-listen: " + bound.error().message());
  }
  if (!options.port_file.empty()) {
    if (Status written = WriteFileAtomically(options.port_file, *bound + "\n"); !written.ok()) {
      return Fail(written.error(), "--metrics-port-file " + options.port_file + ": " + written.message());
    }
  }
  LOG(INFO) << "metrics and health on http://" << *bound << "/metrics";
  return endpoint;
}

}  // namespace hafs
