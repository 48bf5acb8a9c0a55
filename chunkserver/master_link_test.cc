// The master link against a scripted fake master on a real socket.
#include "chunkserver/master_link.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "chunkserver/temp_dir_for_test.h"
#include "common/clock.h"

namespace hafs {
namespace {

struct FakeMasterBehavior {
  int silent_ms = 0;                  // reads nothing for this long after starting
  bool enoent_first_heartbeat = true;
  uint64_t delete_on_register = 5;    // 0 = none
  uint64_t delete_on_heartbeat = 0;   // 0 = none
  uint64_t epoch = 9;
  uint32_t chunkserver_id = 17;
  uint32_t heartbeat_interval_ms = 30;
};

// A scripted master on a real socket. By default: answers register with id 17 (and asks
// to delete chunk 5), the first heartbeat with ENOENT, later ones with success; every
// reply carries epoch 9. Silent for the first `silent_ms`, to show that registration is
// retried. Notes when heartbeats arrive.
class FakeMaster {
 public:
  explicit FakeMaster(int silent_ms) : FakeMaster(FakeMasterBehavior{.silent_ms = silent_ms}) {}
  explicit FakeMaster(FakeMasterBehavior behavior) {
    auto router = rpc::BindRouter("127.0.0.1:0", &address_);
    EXPECT_TRUE(router.has_value());
    thread_ = std::thread([this, behavior, socket = std::move(*router)]() mutable {
      int64_t start_ms = MonotonicMs();
      while (!stopping_) {
        if (MonotonicMs() - start_ms < behavior.silent_ms) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          continue;
        }
        zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(20));
        auto incoming = rpc::ReceiveRequest(socket);
        if (!incoming) continue;
        const wire::Envelope& request = incoming->message.envelope;
        wire::Envelope reply = rpc::MakeReply(request);
        reply.set_epoch(behavior.epoch);
        if (request.has_register_()) {
          registers_++;
          last_register_chunks_ = request.register_().chunks_size();
          reply.mutable_reply()->set_chunkserver_id(behavior.chunkserver_id);
          reply.mutable_reply()->set_heartbeat_interval_ms(behavior.heartbeat_interval_ms);
          if (behavior.delete_on_register) reply.mutable_reply()->add_delete_chunks(behavior.delete_on_register);
        } else if (request.has_heartbeat()) {
          {
            std::lock_guard lock(mutex_);
            heartbeat_times_ms_.push_back(MonotonicMs());
          }
          if (heartbeats_++ == 0 && behavior.enoent_first_heartbeat) reply.mutable_reply()->set_error(ENOENT);
          for (const auto& lost : request.heartbeat().lost_chunks()) {
            if (lost.chunk_id() == 6) lost_reported_ = true;
          }
          if (request.heartbeat().chunkserver_id() == behavior.chunkserver_id) heartbeat_with_id_ = true;
          if (behavior.delete_on_heartbeat) reply.mutable_reply()->add_delete_chunks(behavior.delete_on_heartbeat);
        }
        rpc::SendReply(socket, incoming->identity, reply);
      }
    });
  }
  ~FakeMaster() {
    stopping_ = true;
    thread_.join();
  }
  const std::string& address() const { return address_; }
  std::vector<int64_t> heartbeat_times_ms() {
    std::lock_guard lock(mutex_);
    return heartbeat_times_ms_;
  }

  std::atomic<int> registers_{0};
  std::atomic<int> heartbeats_{0};
  std::atomic<int> last_register_chunks_{0};
  std::atomic<bool> lost_reported_{false};
  std::atomic<bool> heartbeat_with_id_{false};

 private:
  std::string address_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<int64_t> heartbeat_times_ms_;
  std::thread thread_;
};

std::unique_ptr<ChunkStore> StoreWithChunks(const TempDirForTest& dir, const std::vector<uint64_t>& chunk_ids) {
  ChunkStoreOptions store_options;
  store_options.data_dirs = {dir.path()};
  store_options.reserve_bytes = 0;
  auto store = ChunkStore::Open(store_options);
  EXPECT_TRUE(store.has_value());
  std::vector<std::byte> data(10);
  for (uint64_t chunk_id : chunk_ids) EXPECT_TRUE((*store)->Write(chunk_id, 1, 0, data).ok());
  return std::move(*store);
}

bool WaitFor(const std::function<bool()>& condition, int timeout_ms = 5000) {
  int64_t deadline_ms = MonotonicMs() + timeout_ms;
  while (MonotonicMs() < deadline_ms) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

TEST(MasterLinkTest, RegistersHeartbeatsReRegistersAndDeletes) {
  TempDirForTest dir;
  ChunkStoreOptions store_options;
  store_options.data_dirs = {dir.path()};
  store_options.reserve_bytes = 0;
  auto store = ChunkStore::Open(store_options);
  ASSERT_TRUE(store.has_value());
  std::vector<std::byte> data(10);
  ASSERT_TRUE((*store)->Write(5, 1, 0, data).ok());
  ASSERT_TRUE((*store)->Write(6, 1, 0, data).ok());
  wire::ChunkReport lost;
  lost.set_chunk_id(6);
  lost.set_chunk_version(1);
  (*store)->PutBackLostChunks({lost});

  FakeMaster master(400);
  ChunkserverState state;
  state.set_address("127.0.0.1:1");
  MasterLinkOptions options;
  options.masters = {master.address()};
  options.call_timeout_ms = 150;
  MasterLink link(**store, state, options);
  link.Start();
  int64_t deadline_ms = MonotonicMs() + 5000;
  while (MonotonicMs() < deadline_ms && !(master.registers_ >= 2 && master.lost_reported_)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  link.Stop();
  EXPECT_GE(master.registers_.load(), 2);             // again after the ENOENT heartbeat
  EXPECT_EQ(master.last_register_chunks_.load(), 1);  // chunk 5 was deleted after the first
  EXPECT_TRUE(master.lost_reported_);
  EXPECT_TRUE(master.heartbeat_with_id_);
  EXPECT_EQ(state.chunkserver_id(), 17u);
  EXPECT_EQ(state.epoch(), 9u);
  EXPECT_EQ((*store)->ChunkCount(), 1u);
}

// Both masters get registrations and heartbeats; a silent one delays nothing for the other.
TEST(MasterLinkTest, HeartbeatsEveryMasterAndASilentOneDelaysNothing) {
  TempDirForTest dir;
  auto store = StoreWithChunks(dir, {6});
  wire::ChunkReport lost;
  lost.set_chunk_id(6);
  lost.set_chunk_version(1);
  store->PutBackLostChunks({lost});

  FakeMaster live(FakeMasterBehavior{.enoent_first_heartbeat = false, .delete_on_register = 0,
                                     .chunkserver_id = 3, .heartbeat_interval_ms = 100});
  FakeMaster silent(FakeMasterBehavior{.silent_ms = 1500, .enoent_first_heartbeat = false,
                                       .delete_on_register = 0, .chunkserver_id = 4,
                                       .heartbeat_interval_ms = 100});
  ChunkserverState state;
  state.set_address("127.0.0.1:1");
  MasterLinkOptions options;
  options.masters = {silent.address(), live.address()};
  options.call_timeout_ms = 500;
  MasterLink link(*store, state, options);
  int64_t start_ms = MonotonicMs();
  link.Start();
  // While the first master is silent, the second is registered and heartbeaten every 100 ms.
  std::this_thread::sleep_for(std::chrono::milliseconds(1400));
  EXPECT_FALSE(link.registered_with(0));
  EXPECT_TRUE(link.registered_with(1));
  EXPECT_EQ(live.registers_.load(), 1);
  std::vector<int64_t> times = live.heartbeat_times_ms();
  ASSERT_GE(times.size(), 10u);
  EXPECT_LT(times.front() - start_ms, 250);
  for (size_t i = 1; i < times.size(); ++i) EXPECT_LT(times[i] - times[i - 1], 180) << "heartbeat " << i;
  EXPECT_TRUE(live.lost_reported_);
  EXPECT_TRUE(live.heartbeat_with_id_);
  EXPECT_EQ(state.chunkserver_id(), 3u);  // no lease: the first registered master's id

  // Once it answers, the first master gets its registration, heartbeats with its own id,
  // and the lost chunk too.
  EXPECT_TRUE(WaitFor([&] { return silent.heartbeats_ >= 3 && silent.lost_reported_; }));
  link.Stop();
  EXPECT_TRUE(link.registered_with(0));
  EXPECT_GE(silent.registers_.load(), 1);  // it also reads the attempts it was silent to
  EXPECT_TRUE(silent.heartbeat_with_id_);
  EXPECT_TRUE(silent.lost_reported_);
  EXPECT_EQ(state.chunkserver_id(), 4u);  // masters[0] comes first once registered
}

// A heartbeat answered ENOENT by one master re-registers with that master only.
TEST(MasterLinkTest, EnoentReRegistersWithThatMasterOnly) {
  TempDirForTest dir;
  auto store = StoreWithChunks(dir, {});
  FakeMaster forgetful(FakeMasterBehavior{.enoent_first_heartbeat = true, .delete_on_register = 0});
  FakeMaster steady(FakeMasterBehavior{.enoent_first_heartbeat = false, .delete_on_register = 0});
  ChunkserverState state;
  state.set_address("127.0.0.1:1");
  MasterLinkOptions options;
  options.masters = {forgetful.address(), steady.address()};
  MasterLink link(*store, state, options);
  link.Start();
  EXPECT_TRUE(WaitFor([&] { return forgetful.registers_ >= 2 && forgetful.heartbeats_ >= 3; }));
  EXPECT_TRUE(WaitFor([&] { return steady.heartbeats_ >= 3; }));
  link.Stop();
  EXPECT_EQ(forgetful.registers_.load(), 2);
  EXPECT_EQ(steady.registers_.load(), 1);
}

// Once a leadership lease was granted here, only the holder's delete_chunks are obeyed.
TEST(MasterLinkTest, DeletionsOnlyFromTheLeaseHolder) {
  TempDirForTest dir;
  auto store = StoreWithChunks(dir, {5, 6});
  FakeMaster holder(FakeMasterBehavior{.enoent_first_heartbeat = false, .delete_on_register = 0,
                                       .delete_on_heartbeat = 5});
  FakeMaster other(FakeMasterBehavior{.enoent_first_heartbeat = false, .delete_on_register = 6,
                                      .delete_on_heartbeat = 6});
  ChunkserverState state;
  state.set_address("127.0.0.1:1");
  LeadershipLeaseOptions lease_options;
  lease_options.dir = dir.path();
  auto lease = LeadershipLease::Open(lease_options, state);
  ASSERT_TRUE(lease.has_value());
  wire::LeadershipLeaseRequest ask;
  ask.set_master_address(holder.address());
  ask.set_epoch(9);
  ask.set_duration_ms(10000);
  wire::Reply granted;
  (*lease)->Handle(ask, &granted);
  ASSERT_TRUE(granted.lease_granted());

  MasterLinkOptions options;
  options.masters = {other.address(), holder.address()};
  MasterLink link(*store, state, options, lease->get());
  link.Start();
  EXPECT_TRUE(WaitFor([&] { return holder.heartbeats_ >= 3 && other.heartbeats_ >= 3; }));
  link.Stop();
  auto chunks = store->Chunks();
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].chunk_id(), 6u);
  EXPECT_EQ(state.chunkserver_id(), 17u);
}

// Without any lease ever granted, every master's deletions count (single-master clusters),
// except from a reply whose epoch is below the fence.
TEST(MasterLinkTest, DeletionsFromAnyMasterWhileNoLeaseWasGranted) {
  TempDirForTest dir;
  auto store = StoreWithChunks(dir, {5, 6});
  FakeMaster current(FakeMasterBehavior{.enoent_first_heartbeat = false, .delete_on_register = 0,
                                        .delete_on_heartbeat = 6, .epoch = 9});
  FakeMaster stale(FakeMasterBehavior{.enoent_first_heartbeat = false, .delete_on_register = 0,
                                      .delete_on_heartbeat = 5, .epoch = 8});
  ChunkserverState state;
  state.set_address("127.0.0.1:1");
  state.AdmitEpoch(9);
  LeadershipLeaseOptions lease_options;
  lease_options.dir = dir.path();
  auto lease = LeadershipLease::Open(lease_options, state);
  ASSERT_TRUE(lease.has_value());
  MasterLinkOptions options;
  options.masters = {stale.address(), current.address()};
  MasterLink link(*store, state, options, lease->get());
  link.Start();
  EXPECT_TRUE(WaitFor([&] { return current.heartbeats_ >= 3 && stale.heartbeats_ >= 3; }));
  link.Stop();
  auto chunks = store->Chunks();
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].chunk_id(), 5u);
}

}  // namespace
}  // namespace hafs
