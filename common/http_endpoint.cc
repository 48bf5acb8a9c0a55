#include "common/http_endpoint.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "common/clock.h"
#include "common/log.h"

namespace hafs {
namespace {

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

HttpResponse Plain(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", body + "\n"};
}

// "host:port" -> its parts; "[v6]:port" loses the brackets; "" or "*" means any address.
Status SplitHostPort(const std::string& host_port, std::string* host, std::string* port) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon + 1 == host_port.size()) {
    return Status::Error(EINVAL, "HTTP address " + host_port + " is not HOST:PORT");
  }
  *host = host_port.substr(0, colon);
  *port = host_port.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  if (*host == "*") host->clear();
  return Status::Ok();
}

Result<std::string> BoundAddress(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return Fail(ErrnoStatus("getsockname"));
  char host[NI_MAXHOST], port[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&address), length, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return Fail(EINVAL, "cannot format the bound HTTP address");
  }
  std::string text = host;
  if (text.find(':') != std::string::npos) text = "[" + text + "]";
  return text + ":" + port;
}

}  // namespace

HttpEndpoint::HttpEndpoint(std::map<std::string, HttpHandler> routes, HttpEndpointOptions options)
    : routes_(std::move(routes)), options_(options) {}

HttpEndpoint::~HttpEndpoint() { Stop(); }

Result<std::string> HttpEndpoint::Start(const std::string& host_port) {
  std::string host, port;
  if (Status status = SplitHostPort(host_port, &host, &port); !status.ok()) return Fail(status);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int error = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found); error != 0) {
    return Fail(EINVAL, "HTTP address " + host_port + ": " + ::gai_strerror(error));
  }
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int reuse = 1;
  bool bound = fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse) == 0 &&
               ::bind(fd, found->ai_addr, found->ai_addrlen) == 0 && ::listen(fd, 16) == 0;
  Status error = bound ? Status::Ok() : ErrnoStatus("cannot serve HTTP on " + host_port);
  ::freeaddrinfo(found);
  if (!bound) {
    if (fd >= 0) ::close(fd);
    return Fail(error);
  }
  auto address = BoundAddress(fd);
  if (!address || ::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(fd);
    return Fail(address ? ErrnoStatus("pipe") : address.error());
  }
  listen_fd_ = fd;
  thread_ = std::thread([this] { Serve(); });
  return *address;
}

void HttpEndpoint::Stop() {
  if (!thread_.joinable()) return;
  char wake = 0;
  // The pipe is empty and non-blocking, so one byte always fits.
  if (::write(wake_pipe_[1], &wake, 1) < 0) {
    LOG(WARNING) << "cannot wake the HTTP thread";
  }
  thread_.join();
  for (int fd : {listen_fd_, wake_pipe_[0], wake_pipe_[1]}) ::close(fd);
  listen_fd_ = wake_pipe_[0] = wake_pipe_[1] = -1;
}

struct HttpEndpoint::Connection {
  int fd = -1;
  int64_t deadline_ms = 0;
  std::string request;
  std::string answer;  // empty until the request is complete
  size_t sent = 0;
  // Answered before the whole request was read: closing with unread input would reset the
  // connection and could destroy the answer before the peer reads it, so read on until
  // the peer closes (within the deadline).
  bool drain = false;

  short events() const { return !answer.empty() && sent < answer.size() ? POLLOUT : POLLIN; }
};

void HttpEndpoint::Serve() {
  std::vector<Connection> connections;
  std::vector<pollfd> fds;
  while (true) {
    fds.assign({{wake_pipe_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}});
    // At the limit, new connections wait in the listen backlog (poll ignores a negative fd).
    if (connections.size() >= options_.max_connections) fds[1].fd = -1;
    int64_t now_ms = MonotonicMs();
    int64_t timeout_ms = -1;
    for (const Connection& connection : connections) {
      fds.push_back({connection.fd, connection.events(), 0});
      int64_t left_ms = std::max<int64_t>(0, connection.deadline_ms - now_ms);
      timeout_ms = timeout_ms < 0 ? left_ms : std::min(timeout_ms, left_ms);
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(timeout_ms, INT_MAX))) < 0 &&
        errno != EINTR) {
      LOG(WARNING) << ErrnoStatus("HTTP endpoint poll").ToString();
      ::poll(fds.data(), 1, 100);  // out of memory: wait a little (or for Stop) rather than spin
    }
    if (fds[0].revents != 0) break;  // Stop

    now_ms = MonotonicMs();
    std::vector<Connection> open;
    for (size_t i = 0; i < connections.size(); i++) {
      Connection& connection = connections[i];
      if ((fds[i + 2].revents == 0 || Progress(connection)) && now_ms < connection.deadline_ms) {
        open.push_back(std::move(connection));
      } else {
        ::close(connection.fd);
      }
    }
    connections = std::move(open);
    if (fds[1].revents != 0) AcceptAll(connections);
  }
  for (const Connection& connection : connections) ::close(connection.fd);
}

void HttpEndpoint::AcceptAll(std::vector<Connection>& connections) const {
  while (connections.size() < options_.max_connections) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      Connection& connection = connections.emplace_back();
      connection.fd = fd;
      connection.deadline_ms = MonotonicMs() + options_.io_timeout_ms;
      continue;
    }
    // Out of descriptors: the pending connection stays and poll would say so at once, so
    // wait a little (or for Stop) instead of spinning. Otherwise none is left (EAGAIN), or
    // the peer gave up already.
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      pollfd wake{wake_pipe_[0], POLLIN, 0};
      ::poll(&wake, 1, 100);
    }
    if (errno != ECONNABORTED && errno != EINTR) return;
  }
}

bool HttpEndpoint::Progress(Connection& connection) const {
  char buffer[4096];
  if (connection.answer.empty() || connection.sent == connection.answer.size()) {
    ssize_t got = ::recv(connection.fd, buffer, sizeof buffer, 0);
    if (got == 0) return false;  // closed: before the request was complete, or drained
    if (got < 0) return errno == EAGAIN || errno == EINTR;
    if (!connection.answer.empty()) return true;  // draining
    connection.request.append(buffer, got);
    // Only the request line and headers matter: a GET has no body.
    const std::string& request = connection.request;
    HttpResponse response;
    if (request.find("\r\n\r\n") != std::string::npos || request.find("\n\n") != std::string::npos) {
      response = Answer(request);
    } else if (request.size() > options_.max_request_bytes) {
      response = Plain(400, "request too large");
      connection.drain = true;
    } else {
      return true;
    }
    connection.answer = "HTTP/1.0 " + std::to_string(response.status) + " " + Reason(response.status) +
                        "\r\nContent-Type: " + response.content_type +
                        "\r\nContent-Length: " + std::to_string(response.body.size()) + "\r\n" +
                        (response.status == 405 ? "Allow: GET\r\n" : "") + "Connection: close\r\n\r\n" + response.body;
  }
  // Complete: try at once, the socket buffer usually takes all of it.
  ssize_t wrote = ::send(connection.fd, connection.answer.data() + connection.sent,
                         connection.answer.size() - connection.sent, MSG_NOSIGNAL);
  if (wrote < 0) return errno == EAGAIN || errno == EINTR;
  connection.sent += wrote;
  if (connection.sent < connection.answer.size()) return true;
  ::shutdown(connection.fd, SHUT_WR);
  return connection.drain;
}

HttpResponse HttpEndpoint::Answer(const std::string& request) const {
  std::string line = request.substr(0, request.find_first_of("\r\n"));
  size_t first_space = line.find(' ');
  size_t second_space = first_space == std::string::npos ? std::string::npos : line.find(' ', first_space + 1);
  if (second_space == std::string::npos || line.compare(second_space + 1, 5, "HTTP/") != 0) {
    return Plain(400, "malformed request line");
  }
  if (line.compare(0, first_space, "GET") != 0) return Plain(405, "only GET is served");
  std::string target = line.substr(first_space + 1, second_space - first_space - 1);
  auto route = routes_.find(target.substr(0, target.find('?')));
  if (route == routes_.end()) return Plain(404, "not found");
  return route->second();
}

}  // namespace hafs
