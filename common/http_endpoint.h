// The HTTP server behind /metrics and /health: cpp-httplib's httplib::Server (Debian 12's
// libcpp-httplib-dev, 0.11.4) parses the requests and runs a pool of max_connections threads,
// one connection each; beyond that, new connections wait in the listen backlog. GET only,
// one request per connection, `Connection: close`; other methods get 405, what does not parse
// as HTTP 400, unknown paths 404. Each connection has io_timeout_ms in all to send its request
// and take its answer, and max_request_bytes for its request line and headers; a peer past
// either is cut off (answered 400 when its request line arrived). A slow, half-open or
// non-HTTP peer therefore holds up one thread for io_timeout_ms at most and delays nobody
// else; handlers run one at a time. Before Start and after Stop the port refuses connections.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace hafs {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Runs on one of the endpoint's threads, never two at once; must not block for long (it holds
// up other scrapers).
using HttpHandler = std::function<HttpResponse()>;

struct HttpEndpointOptions {
  int io_timeout_ms = 2000;
  size_t max_request_bytes = 8192;
  size_t max_connections = 8;
};

class HttpEndpoint {
 public:
  // routes: exact path (the query string is ignored) -> handler; other paths get 404.
  explicit HttpEndpoint(std::map<std::string, HttpHandler> routes, HttpEndpointOptions options = {});
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Binds HOST:PORT (port 0: a free port; HOST "" or "*": every address) and starts serving;
  // returns the bound HOST:PORT.
  Result<std::string> Start(const std::string& host_port);
  // Stops serving, cuts off open connections and closes the port; idempotent.
  void Stop();

 private:
  class Server;  // httplib::Server with bounded connections (http_endpoint.cc)

  // Sets server's options and handlers.
  void Route(Server& server);
  HttpResponse Answer(const std::string& path);

  std::map<std::string, HttpHandler> routes_;
  HttpEndpointOptions options_;
  std::mutex handler_mutex_;  // handlers run one at a time
  std::unique_ptr<Server> server_;
  std::thread thread_;  // httplib's accept loop; its pool's threads serve the connections
};

}  // namespace hafs
