// Two MasterServices in one process with fake chunkservers: the standby resynchronises
// from the active, applies its log (same state), and takes over when the active stops.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "common/rpc.h"
#include "master/fake_chunkserver.h"
#include "master/master_service.h"
#include "master/test_util.h"

namespace hafs::master {
namespace {

using testing::FakeChunkserver;
using testing::MknodEnvelope;
using testing::TempDirectory;

// A loopback address with a port that was free a moment ago. A plain socket, closed
// synchronously (a ZeroMQ socket is closed by its I/O thread later, and the port may
// still be taken when the master binds it).
std::string FreeAddress() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
}

bool WaitFor(const std::function<bool()>& condition, int64_t timeout_ms = 5000) {
  int64_t deadline = MonotonicMs() + timeout_ms;
  while (MonotonicMs() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

class Master {
 public:
  Master(const std::string& directory, const std::string& address, const std::string& peer, bool bootstrap) {
    ServiceOptions options;
    options.listen_address = address;
    options.data_directory = directory;
    options.peer = peer;
    options.bootstrap = bootstrap;
    options.leadership_lease_ms = 600;
    options.takeover_after_ms = 300;
    options.standby_timeout_ms = 300;
    service_ = std::make_unique<MasterService>(options);
    Status status = service_->Start();
    EXPECT_TRUE(status.ok()) << status.ToString();
    if (status.ok()) thread_ = std::thread([this] { run_status_ = service_->Run(); });
  }
  ~Master() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    service_->Stop();
    thread_.join();
    EXPECT_TRUE(run_status_.ok()) << run_status_.ToString();
  }
  MasterService& service() { return *service_; }

 private:
  std::unique_ptr<MasterService> service_;
  std::thread thread_;
  Status run_status_;
};

wire::Reply Call(const std::string& address, const wire::Envelope& request) {
  rpc::Connection connection({address});
  auto reply = connection.Call(request, 3000);
  if (!reply) {
    wire::Reply failed;
    failed.set_error(ETIMEDOUT);
    return failed;
  }
  return reply->envelope.reply();
}

wire::Reply Status(const std::string& address) {
  wire::Envelope request;
  request.mutable_cluster_status();
  return Call(address, request);
}

void RegisterFakes(const std::string& master, std::vector<std::unique_ptr<FakeChunkserver>>& fakes) {
  int n = 0;
  for (auto& fake : fakes) {
    wire::Envelope request = testing::RegisterEnvelope(std::string(1, static_cast<char>('a' + n++)), {}, 1ULL << 40);
    request.mutable_register_()->set_address(fake->address());
    EXPECT_EQ(Call(master, request).error(), 0);
  }
}

class FailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) fakes_.push_back(std::make_unique<FakeChunkserver>());
    address_a_ = FreeAddress();
    address_b_ = FreeAddress();
    a_ = std::make_unique<Master>(dir_a_.path(), address_a_, address_b_, /*bootstrap=*/true);
    ASSERT_TRUE(WaitFor([&] { return a_->service().role() == Role::kActive; }));
    b_ = std::make_unique<Master>(dir_b_.path(), address_b_, address_a_, false);
    RegisterFakes(address_a_, fakes_);
    ASSERT_TRUE(WaitFor([&] {
      wire::Reply status = Status(address_a_);
      return status.masters_size() == 2 && status.masters(1).sync() == "in sync";
    })) << Status(address_a_).DebugString();
  }

  TempDirectory dir_a_, dir_b_;
  std::vector<std::unique_ptr<FakeChunkserver>> fakes_;
  std::string address_a_, address_b_;
  std::unique_ptr<Master> a_, b_;
};

TEST_F(FailoverTest, StandbyAppliesTheActivesLogAndEndsWithTheSameState) {
  for (int i = 0; i < 20; ++i) {
    wire::Envelope request = MknodEnvelope(kRootInode, "f" + std::to_string(i));
    request.set_client_id(77);
    request.set_sequence(i + 1);
    ASSERT_EQ(Call(address_a_, request).error(), 0);
  }
  // The standby refuses clients and names the active.
  wire::Reply refused = Call(address_b_, MknodEnvelope(kRootInode, "x"));
  EXPECT_EQ(refused.error(), ENOTCONN);
  EXPECT_EQ(refused.active_address(), address_a_);
  // Status too, while the active is alive: the active's view is the one that counts.
  wire::Reply forwarded = Status(address_b_);
  EXPECT_EQ(forwarded.error(), ENOTCONN);
  EXPECT_EQ(forwarded.active_address(), address_a_);
  ASSERT_TRUE(WaitFor([&] {
    wire::Reply status = Status(address_a_);
    return status.masters_size() == 2 && status.masters(1).sync() == "in sync" &&
           status.masters(1).log_position() == status.masters(0).log_position();
  }));
  wire::Reply status = Status(address_a_);
  EXPECT_EQ(status.masters(0).role(), "active");
  EXPECT_EQ(status.masters(1).role(), "standby");
  b_->Stop();
  a_->Stop();
  EXPECT_EQ(testing::Dump(b_->service().state()), testing::Dump(a_->service().state()));
}

TEST_F(FailoverTest, DamagedRecordIsNotAppliedAndIsFetchedAgain) {
  ASSERT_EQ(Call(address_a_, MknodEnvelope(kRootInode, "first")).error(), 0);
  wire::Reply status = Status(address_a_);
  uint64_t position = status.masters(0).log_position();
  ASSERT_TRUE(WaitFor([&] { return Status(address_a_).masters(1).log_position() == position; }));
  // A record damaged on the way (it no longer parses) at the standby's next position.
  wire::Envelope append;
  append.set_epoch(status.masters(0).epoch());
  append.mutable_append_log()->set_cluster_id("hafs");
  append.mutable_append_log()->set_first_position(position + 1);
  append.mutable_append_log()->set_active_position(position + 1);
  append.mutable_append_log()->add_records(std::string("\xff\xff\xff\xff damaged", 13));
  wire::Reply refused = Call(address_b_, append);
  EXPECT_EQ(refused.log_position(), position);  // not applied: the active resends from here
  // The active's real records still arrive and the states end equal.
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Call(address_a_, MknodEnvelope(kRootInode, "after" + std::to_string(i))).error(), 0);
  uint64_t end = Status(address_a_).masters(0).log_position();
  ASSERT_TRUE(WaitFor([&] { return Status(address_a_).masters(1).log_position() == end; }));
  b_->Stop();
  a_->Stop();
  EXPECT_EQ(testing::Dump(b_->service().state()), testing::Dump(a_->service().state()));
}

TEST_F(FailoverTest, StandbyTakesOverWhenTheActiveStops) {
  wire::Envelope request = MknodEnvelope(kRootInode, "before");
  request.set_client_id(5);
  request.set_sequence(1);
  wire::Reply created = Call(address_a_, request);
  ASSERT_EQ(created.error(), 0);
  uint64_t old_epoch = Status(address_a_).masters(0).epoch();
  int64_t stopped = MonotonicMs();
  a_->Stop();
  ASSERT_TRUE(WaitFor([&] { return b_->service().role() == Role::kActive; }));
  LOG(INFO) << "takeover after " << MonotonicMs() - stopped << " ms";
  // A retry of the same call is answered from the recorded result, not applied again.
  wire::Reply retried = Call(address_b_, request);
  EXPECT_EQ(retried.error(), 0);
  EXPECT_EQ(retried.attr().inode(), created.attr().inode());
  EXPECT_EQ(Call(address_b_, MknodEnvelope(kRootInode, "after")).error(), 0);
  wire::Reply status = Status(address_b_);
  EXPECT_GT(status.masters(0).epoch(), old_epoch);
  EXPECT_EQ(status.masters(0).sync(), "degraded");
  for (auto& fake : fakes_) EXPECT_EQ(fake->out_of_sync(), address_a_);
}

TEST_F(FailoverTest, ACampaignThatIsNotWonMarksNobodyAndAWonOneMarksBeforeItAcknowledges) {
  // Only one chunkserver grants: the standby campaigns, holds that lease, and cannot win.
  fakes_[1]->set_refuse(true);
  fakes_[2]->set_refuse(true);
  a_->Stop();
  ASSERT_TRUE(WaitFor([&] { return fakes_[0]->holder() == address_b_; }));
  int asked = fakes_[0]->lease_requests_from(address_b_);
  ASSERT_TRUE(WaitFor([&] { return fakes_[0]->lease_requests_from(address_b_) >= asked + 3; }));
  EXPECT_EQ(b_->service().role(), Role::kStandby);
  // Marking here would leave the old active unable to lead, by a master that never led.
  for (auto& fake : fakes_) EXPECT_EQ(fake->out_of_sync(), "");
  fakes_[1]->set_refuse(false);
  fakes_[2]->set_refuse(false);
  ASSERT_TRUE(WaitFor([&] { return b_->service().role() == Role::kActive; }));
  ASSERT_EQ(Call(address_b_, MknodEnvelope(kRootInode, "after")).error(), 0);
  int marked = 0;
  for (auto& fake : fakes_) marked += fake->out_of_sync() == address_a_;
  EXPECT_GE(marked, 2);  // a quorum, before the change above was acknowledged
}

}  // namespace
}  // namespace hafs::master
