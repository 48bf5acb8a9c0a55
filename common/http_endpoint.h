// A minimal HTTP/1.0 server for /metrics and /health (no library for this in Debian 12
// that is small enough to be worth it). One thread polls the listening socket and every
// open connection at once: GET only, one request per connection, `Connection: close`. A
// request larger than max_request_bytes gets 400; a peer that sends its request or takes its
// answer slower than io_timeout_ms is cut off. A slow, half-open or non-HTTP peer therefore
// delays nobody else; only a handler runs one at a time. Beyond max_connections, new
// connections wait in the listen backlog. Before Start and after Stop the port refuses
// connections.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace hafs {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Runs on the endpoint's thread; must not block for long (it holds up other scrapers).
using HttpHandler = std::function<HttpResponse()>;

struct HttpEndpointOptions {
  int io_timeout_ms = 2000;
  size_t max_request_bytes = 8192;
  size_t max_connections = 64;
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
  // Stops serving and closes the port; idempotent.
  void Stop();

 private:
  struct Connection;

  void Serve();
  void AcceptAll(std::vector<Connection>& connections) const;
  // Reads or writes what the socket is ready for; false when the connection is done.
  bool Progress(Connection& connection) const;
  // The answer to one request's bytes (request line and headers).
  HttpResponse Answer(const std::string& request) const;

  std::map<std::string, HttpHandler> routes_;
  HttpEndpointOptions options_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};  // written by Stop to end the thread's poll
  std::thread thread_;
};

}  // namespace hafs
