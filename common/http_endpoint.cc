#include "common/http_endpoint.h"

#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <semaphore>

#include "common/clock.h"
#include "common/log.h"

namespace hafs {
namespace {

constexpr char kPlainText[] = "text/plain; charset=utf-8";

// What a caught exception says, for the log.
std::string Describe(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    return exception.what();
  } catch (...) {
    return "unknown exception";
  }
}

// "host:port" -> its parts; "[v6]:port" loses the brackets; "" or "*" means any address.
Status SplitHostPort(const std::string& host_port, std::string* host, int* port) {
  size_t colon = host_port.rfind(':');
  std::string_view digits = colon == std::string::npos ? "" : std::string_view(host_port).substr(colon + 1);
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), *port);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || *port < 0 || *port > 65535) {
    return Status::Error(EINVAL, "HTTP address " + host_port + " is not HOST:PORT");
  }
  *host = host_port.substr(0, colon);
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

// One connection's socket as httplib reads and writes it. httplib 0.11.4's own stream has a
// timeout per read and buffers a header line of any length, so a peer that trickles or streams
// bytes could hold a thread or grow memory without end; this one ends at a deadline for the
// whole exchange, after max_request_bytes read, or when stop_fd becomes readable (Stop).
class BoundedStream : public httplib::Stream {
 public:
  BoundedStream(int fd, int64_t deadline_ms, size_t max_request_bytes, int stop_fd)
      : fd_(fd), deadline_ms_(deadline_ms), max_request_bytes_(max_request_bytes), stop_fd_(stop_fd) {}

  bool is_readable() const override { return begin_ < end_ || Wait(POLLIN); }
  bool is_writable() const override { return Wait(POLLOUT); }

  // Bytes read; 0 at the end of the peer's stream and after max_request_bytes (the request
  // ends there, incomplete, and httplib answers 400); -1 past the deadline or at Stop.
  ssize_t read(char* data, size_t size) override {
    if (begin_ == end_) {
      if (received_ == max_request_bytes_) return 0;
      if (!Refill()) return -1;
    }
    size_t count = std::min(size, end_ - begin_);
    std::memcpy(data, buffer_ + begin_, count);
    begin_ += count;
    return static_cast<ssize_t>(count);
  }

  // All of it, or -1.
  ssize_t write(const char* data, size_t size) override {
    size_t sent = 0;
    while (sent < size && Wait(POLLOUT)) {
      ssize_t wrote = ::send(fd_, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (wrote >= 0) {
        sent += wrote;
      } else if (errno != EAGAIN && errno != EINTR) {
        break;
      }
    }
    return sent == size ? static_cast<ssize_t>(size) : -1;
  }

  // Only for httplib's REMOTE_ADDR and LOCAL_ADDR headers, which no handler reads.
  void get_remote_ip_and_port(std::string& ip, int& port) const override { port = 0; }
  void get_local_ip_and_port(std::string& ip, int& port) const override { port = 0; }
  int socket() const override { return fd_; }

  // After the answer: the peer may have sent more than was read (a body, an oversized request),
  // and closing with unread input would reset the connection and could destroy the answer
  // before the peer reads it; so this reads on until the peer closes (within the deadline).
  void Drain() {
    ::shutdown(fd_, SHUT_WR);
    while (Wait(POLLIN)) {
      ssize_t got = ::recv(fd_, buffer_, sizeof buffer_, MSG_DONTWAIT);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) return;
    }
  }

 private:
  // Until the socket is ready for `events`; false at the deadline, at Stop or on an error.
  bool Wait(short events) const {
    pollfd fds[2] = {{fd_, events, 0}, {stop_fd_, POLLIN, 0}};
    int ready;
    do {
      int64_t left_ms = deadline_ms_ - MonotonicMs();
      if (left_ms <= 0) return false;
      ready = ::poll(fds, 2, static_cast<int>(left_ms));
    } while (ready < 0 && errno == EINTR);
    return ready > 0 && fds[1].revents == 0 && (fds[0].revents & events) != 0;
  }

  bool Refill() {
    size_t room = std::min(sizeof buffer_, max_request_bytes_ - received_);
    while (Wait(POLLIN)) {
      ssize_t got = ::recv(fd_, buffer_, room, MSG_DONTWAIT);
      if (got >= 0) {
        begin_ = 0;
        end_ = got;
        received_ += got;
        return true;
      }
      if (errno != EAGAIN && errno != EINTR) break;
    }
    return false;
  }

  int fd_;
  int64_t deadline_ms_;
  size_t max_request_bytes_;
  int stop_fd_;
  size_t received_ = 0;
  char buffer_[4096];
  size_t begin_ = 0, end_ = 0;
};

// httplib's ThreadPool queues every accepted connection, open, however many there are; this one
// takes a connection only when a thread is free, so the rest wait in the listen backlog.
class BoundedPool : public httplib::TaskQueue {
 public:
  explicit BoundedPool(size_t threads) : pool_(threads), free_threads_(static_cast<ptrdiff_t>(threads)) {}

  void enqueue(std::function<void()> job) override {
    free_threads_.acquire();
    pool_.enqueue([this, job = std::move(job)] {
      job();
      free_threads_.release();
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
  std::counting_semaphore<> free_threads_;
};

}  // namespace

class HttpEndpoint::Server : public httplib::Server {
 public:
  // Owns stop_fd, an eventfd.
  Server(const HttpEndpointOptions& options, int stop_fd) : options_(options), stop_fd_(stop_fd) {
    new_task_queue = [this] { return new BoundedPool(options_.max_connections); };
  }
  ~Server() override {
    Shutdown();
    ::close(stop_fd_);
  }

  int listen_fd() const { return svr_sock_; }

  // Cuts off every open connection and closes the port, which ends the accept loop. (httplib's
  // stop() does nothing when its accept loop has not started yet.)
  void Shutdown() {
    uint64_t one = 1;
    if (::write(stop_fd_, &one, sizeof one) < 0) {
      LOG(WARNING) << ErrnoStatus("HTTP endpoint stop").ToString();
    }
    int fd = svr_sock_.exchange(INVALID_SOCKET);
    if (fd == INVALID_SOCKET) return;
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }

 private:
  // Runs on a pool thread for each accepted connection: one request, then close.
  bool process_and_close_socket(int fd) override {
    BoundedStream stream(fd, MonotonicMs() + options_.io_timeout_ms, options_.max_request_bytes, stop_fd_);
    bool answered = false;
    try {
      bool peer_closes = false;
      answered = process_request(stream, /*close_connection=*/true, peer_closes, nullptr);
    } catch (...) {
      LOG(WARNING) << "HTTP endpoint: request failed: " << Describe(std::current_exception());
    }
    stream.Drain();
    ::close(fd);
    return answered;
  }

  HttpEndpointOptions options_;
  int stop_fd_;
};

HttpEndpoint::HttpEndpoint(std::map<std::string, HttpHandler> routes, HttpEndpointOptions options)
    : routes_(std::move(routes)), options_(options) {}

HttpEndpoint::~HttpEndpoint() { Stop(); }

Result<std::string> HttpEndpoint::Start(const std::string& host_port) {
  std::string host;
  int port = 0;
  if (Status status = SplitHostPort(host_port, &host, &port); !status.ok()) return Fail(status);
  int stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) return Fail(ErrnoStatus("eventfd"));
  auto server = std::make_unique<Server>(options_, stop_fd);
  Route(*server);
  errno = 0;
  if (!server->bind_to_port(host, port, AI_PASSIVE)) {
    return Fail(errno != 0 ? ErrnoStatus("cannot serve HTTP on " + host_port)
                           : Status::Error(EINVAL, "cannot resolve HTTP address " + host_port));
  }
  auto address = BoundAddress(server->listen_fd());
  if (!address) return Fail(address.error());
  server_ = std::move(server);
  thread_ = std::thread([server = server_.get()] {
    try {
      if (!server->listen_after_bind()) {
        LOG(WARNING) << "HTTP endpoint stopped accepting connections";
      }
    } catch (...) {  // its pool's threads could not start
      LOG(WARNING) << "HTTP endpoint failed: " << Describe(std::current_exception());
    }
  });
  return *address;
}

void HttpEndpoint::Stop() {
  if (!server_) return;
  server_->Shutdown();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

void HttpEndpoint::Route(Server& server) {
  // SO_REUSEADDR only: httplib's default, SO_REUSEPORT, would let two daemons share a port.
  server.set_socket_options([](int fd) {
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  });
  server.set_payload_max_length(options_.max_request_bytes);
  server.set_pre_routing_handler([](const httplib::Request& request, httplib::Response& response) {
    if (request.method == "GET") return httplib::Server::HandlerResponse::Unhandled;
    response.status = 405;
    response.set_header("Allow", "GET");
    response.set_content("only GET is served\n", kPlainText);
    return httplib::Server::HandlerResponse::Handled;
  });
  server.Get(".*", [this](const httplib::Request& request, httplib::Response& response) {
    HttpResponse answer = Answer(request.path);
    response.status = answer.status;
    response.set_content(answer.body, answer.content_type);
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr error) {
    LOG(WARNING) << "HTTP handler failed: " << Describe(error);
    response.status = 500;
    response.set_content("internal error\n", kPlainText);
  });
}

HttpResponse HttpEndpoint::Answer(const std::string& path) {
  auto route = routes_.find(path);
  if (route == routes_.end()) return HttpResponse{404, kPlainText, "not found\n"};
  std::lock_guard lock(handler_mutex_);
  return route->second();
}

}  // namespace hafs
