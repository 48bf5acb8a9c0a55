// A minimal HTTP/1.0 server for /metrics and /health (no library for this in Debian 12
// that is small enough to be worth it). One thread accepts and serves one connection at a
// time: GET only, one request per connection, `Connection: close`. A request larger than
// max_request_bytes gets 400; a peer that sends its request or takes its answer slower than
// io_timeout_ms is cut off, so a slow or half-open scraper delays others by at most that
// and never hangs the endpoint. Before Start and after Stop the port refuses connections.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <thread>

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
  void Serve();
  void ServeConnection(int fd);
  // The answer to one request's bytes (request line and headers).
  HttpResponse Answer(const std::string& request) const;
  // Waits up to deadline_ms (monotonic) for `events` on fd; false on timeout or Stop.
  bool WaitFor(int fd, short events, int64_t deadline_ms) const;

  std::map<std::string, HttpHandler> routes_;
  HttpEndpointOptions options_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};  // written by Stop to end the thread's poll
  std::thread thread_;
};

}  // namespace hafs
