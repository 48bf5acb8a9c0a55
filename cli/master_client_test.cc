#include "cli/master_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/rpc.h"

namespace hafs::cli {
namespace {

// A master stand-in on a loopback port that answers one request with `error`.
class FakeMaster {
 public:
  // `role`: the role the reply gives its first master ("" = no masters listed);
  // `delay_ms`: how long it takes to answer.
  FakeMaster(int error, std::string message, std::string active_address = "", std::string role = "", int delay_ms = 0) {
    auto router = rpc::BindRouter("127.0.0.1:0", &address_);
    EXPECT_TRUE(router.has_value());
    router_ = std::move(*router);
    thread_ = std::thread([this, error, message, active_address, role, delay_ms] {
      zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(5000));
      auto incoming = rpc::ReceiveRequest(router_);
      if (!incoming) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      wire::Envelope reply = rpc::MakeReply(incoming->message.envelope, Status::Error(error, message));
      if (error == 0) reply.mutable_reply()->set_chunks_healthy(5);
      if (!role.empty()) reply.mutable_reply()->add_masters()->set_role(role);
      reply.mutable_reply()->set_active_address(active_address);
      rpc::SendReply(router_, incoming->identity, reply);
    });
  }
  ~FakeMaster() { thread_.join(); }
  const std::string& address() const { return address_; }

 private:
  std::string address_;
  zmq::socket_t router_;
  std::thread thread_;
};

wire::Envelope StatusRequest() {
  wire::Envelope request;
  request.mutable_cluster_status();
  return request;
}

TEST(MasterClientTest, SkipsSilentAndStandbyMasters) {
  FakeMaster standby(ENOTCONN, "standby: not active");
  FakeMaster active(0, "");
  // Port 1 on loopback: nobody listens, the call times out.
  auto answer = AskActiveMaster({"127.0.0.1:1", standby.address(), active.address()}, StatusRequest(), 300);
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->address, active.address());
  EXPECT_EQ(answer->envelope.reply().chunks_healthy(), 5u);
}

TEST(MasterClientTest, ASilentFirstMasterCostsNoTimeout) {
  FakeMaster active(0, "");
  auto started = std::chrono::steady_clock::now();
  // Asked in turn, the silent one would take the whole 10 s before the active was asked.
  auto answer = AskActiveMaster({"127.0.0.1:1", active.address()}, StatusRequest(), 10000);
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->address, active.address());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(MasterClientTest, TheActivesStatusWinsOverAStandbysOwnView) {
  FakeMaster standby(0, "", "", "standby");
  FakeMaster active(0, "", "", "active", 300);  // answers after the standby
  auto answer = AskActiveMaster({standby.address(), active.address()}, StatusRequest(), 5000);
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->address, active.address());
}

TEST(MasterClientTest, AStandbysOwnViewIsTheAnswerWhenNoActiveAnswers) {
  FakeMaster standby(0, "", "", "standby");
  auto answer = AskActiveMaster({"127.0.0.1:1", standby.address()}, StatusRequest(), 300);
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->address, standby.address());
}

TEST(MasterClientTest, FollowsTheActiveAStandbyNames) {
  FakeMaster active(0, "");
  FakeMaster standby(ENOTCONN, "not the active master", active.address());
  // The active is not on the list at all: only the standby's answer leads to it.
  auto answer = AskActiveMaster({standby.address()}, StatusRequest(), 300);
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  EXPECT_EQ(answer->address, active.address());
}

TEST(MasterClientTest, AStandbyNamingItselfOrAnAskedMasterEndsTheSearch) {
  FakeMaster first(ENOTCONN, "not the active master");
  FakeMaster second(ENOTCONN, "not the active master", first.address());
  // `second` names `first`, which was already asked: no loop, a clear failure.
  auto answer = AskActiveMaster({first.address(), second.address()}, StatusRequest(), 300);
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().error(), EHOSTUNREACH);
}

TEST(MasterClientTest, RealErrorStopsTheSearch) {
  FakeMaster master(ENOENT, "no inode 99");
  auto answer = AskActiveMaster({master.address(), "127.0.0.1:1"}, StatusRequest(), 300);
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().error(), ENOENT);
  EXPECT_NE(answer.error().message().find("no inode 99"), std::string::npos);
}

TEST(MasterClientTest, NoActiveMasterListsWhatWasTried) {
  FakeMaster standby(EIO, "this master is not active");
  auto answer = AskActiveMaster({standby.address()}, StatusRequest(), 300);
  ASSERT_FALSE(answer.has_value());
  EXPECT_NE(answer.error().message().find("not the active master"), std::string::npos) << answer.error().message();
}

}  // namespace
}  // namespace hafs::cli
