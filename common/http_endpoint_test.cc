#include "common/http_endpoint.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace hafs {
namespace {

constexpr int kTimeoutMs = 300;

class HttpEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::map<std::string, HttpHandler> routes;
    routes["/metrics"] = [] { return HttpResponse{200, "text/plain; version=0.0.4", "hafs_up 1\n"}; };
    routes["/health"] = [] { return HttpResponse{503, "text/plain", "standby resynchronising\n"}; };
    routes["/throws"] = []() -> HttpResponse { throw std::runtime_error("handler bug"); };
    Restart(routes, HttpEndpointOptions{kTimeoutMs, 1024});
  }

  void Restart(std::map<std::string, HttpHandler> routes, HttpEndpointOptions options) {
    endpoint_ = std::make_unique<HttpEndpoint>(std::move(routes), options);
    auto bound = endpoint_->Start("127.0.0.1:0");
    ASSERT_TRUE(bound) << bound.error().ToString();
    port_ = std::stoi(bound->substr(bound->rfind(':') + 1));
  }

  int Connect() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // Everything the server sends until it closes (waits at most 5 s).
  static std::string ReadAll(int fd) {
    std::string answer;
    char buffer[4096];
    pollfd readable{fd, POLLIN, 0};
    while (::poll(&readable, 1, 5000) == 1) {
      ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got <= 0) break;
      answer.append(buffer, got);
    }
    return answer;
  }

  std::string Exchange(const std::string& request) {
    int fd = Connect();
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    std::string answer = ReadAll(fd);
    ::close(fd);
    return answer;
  }

  std::unique_ptr<HttpEndpoint> endpoint_;
  int port_ = 0;
};

TEST_F(HttpEndpointTest, ServesMetrics) {
  std::string answer = Exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n")) << answer;
  EXPECT_NE(answer.find("\r\nContent-Type: text/plain; version=0.0.4\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\r\nContent-Length: 10\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\r\nConnection: close\r\n"), std::string::npos) << answer;
  EXPECT_TRUE(answer.ends_with("\r\n\r\nhafs_up 1\n")) << answer;
}

TEST_F(HttpEndpointTest, HealthWithQueryString) {
  std::string answer = Exchange("GET /health?verbose=1 HTTP/1.0\r\n\r\n");
  EXPECT_EQ(answer.substr(0, answer.find("\r\n")), "HTTP/1.1 503 Service Unavailable");
  EXPECT_TRUE(answer.ends_with("\r\n\r\nstandby resynchronising\n")) << answer;
}

TEST_F(HttpEndpointTest, UnknownPathIs404) {
  EXPECT_TRUE(Exchange("GET /nope HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 404 Not Found\r\n"));
}

TEST_F(HttpEndpointTest, OtherMethodsAre405) {
  std::string answer = Exchange("POST /metrics HTTP/1.0\r\nContent-Length: 5\r\n\r\nunread");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << answer;
  EXPECT_NE(answer.find("Allow: GET\r\n"), std::string::npos);
}

TEST_F(HttpEndpointTest, GarbageIs400) {
  EXPECT_TRUE(Exchange("\x01\x02\xff\r\n\r\n").starts_with("HTTP/1.1 400 Bad Request\r\n"));
}

TEST_F(HttpEndpointTest, OversizedRequestIsAnsweredNotHung) {
  std::string huge = "GET /metrics HTTP/1.0\r\nX-Pad: " + std::string(100000, 'a');  // no end of headers
  EXPECT_TRUE(Exchange(huge).starts_with("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_TRUE(Exchange("GET /" + std::string(100000, 'a')).starts_with("HTTP/1.1 400 Bad Request\r\n"));
}

TEST_F(HttpEndpointTest, ThrowingHandlerIs500AndOthersAreServed) {
  EXPECT_TRUE(Exchange("GET /throws HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
  EXPECT_TRUE(Exchange("GET /metrics HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_F(HttpEndpointTest, IncompleteRequestIsClosedAfterTimeoutAndOthersAreServed) {
  auto started = std::chrono::steady_clock::now();
  int slow = Connect();
  ASSERT_GE(slow, 0);
  ASSERT_EQ(::send(slow, "GET /met", 8, MSG_NOSIGNAL), 8);
  EXPECT_TRUE(Exchange("GET /metrics HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(ReadAll(slow), "");  // closed without an answer
  ::close(slow);
  // Closed by the endpoint, not ReadAll giving up after 5 s.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(4000));
}

TEST_F(HttpEndpointTest, SlowAndNonHttpPeersDoNotDelayOthers) {
  // A long timeout: while the stuck peers are still open, a scraper is answered.
  Restart({{"/metrics", [] { return HttpResponse{200, "text/plain", "up\n"}; }}}, HttpEndpointOptions{60000, 1024, 4});
  int half_request = Connect();
  int zeromq_greeting = Connect();  // what a ZeroMQ peer sends, then waits for an answer
  ASSERT_GE(half_request, 0);
  ASSERT_GE(zeromq_greeting, 0);
  ASSERT_EQ(::send(half_request, "GET /met", 8, MSG_NOSIGNAL), 8);
  ASSERT_EQ(::send(zeromq_greeting, "\xff\0\0\0\0\0\0\0\1\x7f\3", 11, MSG_NOSIGNAL), 11);
  for (int i = 0; i < 3; i++) {
    EXPECT_TRUE(Exchange("GET /metrics HTTP/1.0\r\n\r\n").ends_with("\r\n\r\nup\n"));
  }
  for (int stuck : {half_request, zeromq_greeting}) {
    pollfd closed{stuck, POLLIN, 0};
    EXPECT_EQ(::poll(&closed, 1, 0), 0);  // still open: the answers did not wait for it
    ::close(stuck);
  }
}

TEST_F(HttpEndpointTest, StoppedEndpointRefusesConnections) {
  // A connection open at Stop does not hold it up until its timeout.
  Restart({}, HttpEndpointOptions{60000, 1024});
  int idle = Connect();
  ASSERT_GE(idle, 0);
  auto started = std::chrono::steady_clock::now();
  endpoint_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(5000));
  EXPECT_EQ(Connect(), -1);
  EXPECT_EQ(ReadAll(idle), "");  // cut off
  ::close(idle);
}

TEST_F(HttpEndpointTest, PortInUseIsAnError) {
  HttpEndpoint second({});
  EXPECT_FALSE(second.Start("127.0.0.1:" + std::to_string(port_)));
}

TEST(HttpEndpointStartTest, BadAddressIsAnError) {
  HttpEndpoint endpoint({});
  EXPECT_FALSE(endpoint.Start("no-port"));
  EXPECT_FALSE(endpoint.Start("256.1.1.1:80"));
  EXPECT_FALSE(endpoint.Start("127.0.0.1:65536"));
  EXPECT_FALSE(endpoint.Start("127.0.0.1:http"));
}

}  // namespace
}  // namespace hafs
