// End to end: a MasterService on a free loopback port in a thread, driven through
// rpc::Connection like a client, stopped and started again on the same data directory.
#include "master/master_service.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/clock.h"
#include "common/rpc.h"
#include "master/master_metrics.h"
#include "master/test_util.h"

namespace hafs::master {
namespace {

using testing::MknodEnvelope;
using testing::TempDirectory;

constexpr int kTimeoutMs = 5000;

class RunningMaster {
 public:
  explicit RunningMaster(const std::string& data_directory, uint64_t checkpoint_every_records = 100000) {
    ServiceOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_directory = data_directory;
    options.checkpoint_every_records = checkpoint_every_records;
    service_ = std::make_unique<MasterService>(options);
    Status status = service_->Start();
    EXPECT_TRUE(status.ok()) << status.ToString();
    thread_ = std::thread([this] { run_status_ = service_->Run(); });
  }
  ~RunningMaster() {
    service_->Stop();
    thread_.join();
    EXPECT_TRUE(run_status_.ok()) << run_status_.ToString();
  }
  const std::string& address() const { return service_->bound_address(); }
  uint64_t epoch() const { return service_->state().epoch(); }
  const MasterService& service() const { return *service_; }

 private:
  std::unique_ptr<MasterService> service_;
  std::thread thread_;
  Status run_status_;
};

wire::Reply Call(rpc::Connection& connection, const wire::Envelope& request) {
  auto reply = connection.Call(request, kTimeoutMs);
  EXPECT_TRUE(reply) << reply.error().ToString();
  return reply ? reply->envelope.reply() : wire::Reply();
}

TEST(MasterServiceTest, FileSurvivesARestart) {
  TempDirectory directory;
  uint64_t inode;
  uint64_t first_epoch;
  {
    RunningMaster master(directory.path());
    rpc::Connection connection({master.address()});
    auto reply = connection.Call(MknodEnvelope(kRootInode, "hello"), kTimeoutMs);
    ASSERT_TRUE(reply);
    ASSERT_EQ(reply->envelope.reply().error(), 0) << reply->envelope.reply().error_message();
    inode = reply->envelope.reply().attr().inode();
    first_epoch = reply->envelope.epoch();
    EXPECT_EQ(first_epoch, 1u);
  }
  {
    RunningMaster master(directory.path());
    rpc::Connection connection({master.address()});
    wire::Envelope lookup;
    lookup.mutable_lookup()->set_parent(kRootInode);
    lookup.mutable_lookup()->set_name("hello");
    auto reply = connection.Call(lookup, kTimeoutMs);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->envelope.reply().error(), 0);
    EXPECT_EQ(reply->envelope.reply().attr().inode(), inode);
    EXPECT_EQ(reply->envelope.epoch(), first_epoch + 1);
  }
}

TEST(MasterServiceTest, HealthAndMetricsOfASingleMaster) {
  TempDirectory directory;
  MasterService not_running(ServiceOptions{});  // constructed, never started
  EXPECT_EQ(not_running.health().reason, "starting");
  EXPECT_FALSE(not_running.health().serving);

  RunningMaster master(directory.path());
  uint64_t mknods_before = Metrics().requests.With("mknod").value();
  rpc::Connection connection({master.address()});
  EXPECT_EQ(Call(connection, MknodEnvelope(kRootInode, "counted")).error(), 0);
  EXPECT_EQ(Metrics().requests.With("mknod").value(), mknods_before + 1);
  int64_t deadline_ms = MonotonicMs() + kTimeoutMs;
  while (master.service().health().reason != "active" && MonotonicMs() < deadline_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(master.service().health().serving);
  EXPECT_EQ(master.service().health().reason, "active");
  // Published with the health: a master without a peer is active.
  EXPECT_EQ(Metrics().role.With("active").value(), 1);
  EXPECT_EQ(Metrics().role.With("standby").value(), 0);
  EXPECT_GE(Metrics().log_position.value(), 1);
}

TEST(MasterServiceTest, CheckpointsAndRestartsKeepEverything) {
  TempDirectory directory;
  {
    RunningMaster master(directory.path(), /*checkpoint_every_records=*/5);
    rpc::Connection connection({master.address()});
    for (int i = 0; i < 23; ++i) {
      EXPECT_EQ(Call(connection, MknodEnvelope(kRootInode, "f" + std::to_string(i))).error(), 0);
    }
  }
  EXPECT_EQ(ListNumberedFiles(directory.path(), "checkpoint.")->size(), 1u);
  RunningMaster master(directory.path());
  rpc::Connection connection({master.address()});
  wire::Envelope read_dir;
  read_dir.mutable_read_dir()->set_inode(kRootInode);
  wire::Reply listing = Call(connection, read_dir);
  EXPECT_EQ(listing.entries_size(), 23);
  EXPECT_TRUE(listing.end_of_directory());
}

TEST(MasterServiceTest, GarbageAndStaleEpochsDoNotHurt) {
  TempDirectory directory;
  RunningMaster master(directory.path());
  {
    zmq::socket_t dealer(rpc::Context(), zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(rpc::Endpoint(master.address()));
    dealer.send(zmq::str_buffer("\xff\xff not a protobuf"), zmq::send_flags::none);
  }
  rpc::Connection connection({master.address()});
  wire::Envelope future = MknodEnvelope(kRootInode, "x");
  future.set_epoch(master.epoch() + 5);
  EXPECT_EQ(Call(connection, future).error(), ESTALE);
  wire::Envelope stat_fs;
  stat_fs.mutable_stat_fs();
  wire::Reply reply = Call(connection, stat_fs);
  EXPECT_EQ(reply.error(), 0);
  EXPECT_EQ(reply.inode_count(), 1u);
}

TEST(MasterServiceTest, SecondMasterOnTheSameDirectoryIsRefused) {
  TempDirectory directory;
  RunningMaster master(directory.path());
  ServiceOptions options;
  options.listen_address = "127.0.0.1:0";
  options.data_directory = directory.path();
  MasterService second(options);
  Status status = second.Start();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("already running"), std::string::npos);
}

}  // namespace
}  // namespace hafs::master
