#include "master/liveness_probe.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "master/test_util.h"

namespace hafs::master {
namespace {

constexpr int64_t kTimeoutMs = 2500;
constexpr int64_t kProbeAfterMs = 1000;

// A loopback TCP socket bound to a free port; listening or not.
class LoopbackPort {
 public:
  explicit LoopbackPort(bool listening) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t length = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    // Bound but not listening: a connect is refused, as when the process is gone.
    if (listening) {
      EXPECT_EQ(listen(fd_, 4), 0);
    }
  }
  ~LoopbackPort() { close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class LivenessProbeTest : public ::testing::Test {
 protected:
  // Registers (again) chunkserver `id` (a new one: 0).
  uint32_t Register(const std::string& uuid, const std::string& address, int64_t now_ms, uint32_t id = 0) {
    wire::Envelope envelope = testing::RegisterEnvelope(uuid, {}, 1 << 30);
    envelope.mutable_register_()->set_address(address);
    if (id == 0) id = next_id_++;
    std::vector<ChunkVersion> newer;
    registry_.Register(envelope.register_(), id, now_ms, 0, &newer);
    return id;
  }
  // Runs the probe until it settles (the connect's answer comes from the kernel).
  void RunUntilSettled(int64_t now_ms) {
    for (int i = 0; i < 200; ++i) {
      probe_.Run(registry_, now_ms);
      usleep(1000);
    }
  }

  ChunkRegistry registry_{kTimeoutMs};
  LivenessProbe probe_{kProbeAfterMs};
  uint32_t next_id_ = 1;
};

TEST_F(LivenessProbeTest, ARefusedConnectMarksASilentChunkserverDownUntilItIsHeardFromAgain) {
  LoopbackPort closed(false);
  uint32_t id = Register("a", closed.address(), 0);
  RunUntilSettled(kProbeAfterMs - 1);  // not silent long enough to be probed
  EXPECT_TRUE(registry_.IsUp(id, kProbeAfterMs - 1));
  RunUntilSettled(kProbeAfterMs);
  EXPECT_FALSE(registry_.IsUp(id, kProbeAfterMs)) << "well within the heartbeat timeout, but refused";
  Register("a", closed.address(), kProbeAfterMs + 10, id);  // it is back
  EXPECT_TRUE(registry_.IsUp(id, kProbeAfterMs + 10));
}

TEST_F(LivenessProbeTest, AListeningChunkserverStaysUpUntilItsTimeout) {
  LoopbackPort open(true);
  uint32_t id = Register("b", open.address(), 0);
  RunUntilSettled(kProbeAfterMs + 100);
  EXPECT_TRUE(registry_.IsUp(id, kProbeAfterMs + 100));
  EXPECT_FALSE(registry_.IsUp(id, kTimeoutMs + 1));
}

TEST_F(LivenessProbeTest, ANamedAddressIsNotProbed) {
  uint32_t id = Register("c", "localhost:1", 0);
  RunUntilSettled(kProbeAfterMs);
  EXPECT_TRUE(registry_.IsUp(id, kProbeAfterMs));
}

}  // namespace
}  // namespace hafs::master
