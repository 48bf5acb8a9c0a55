// The master link against a scripted fake master on a real socket.
#include "chunkserver/master_link.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "chunkserver/temp_dir_for_test.h"
#include "common/clock.h"

namespace hafs {
namespace {

// Answers register with id 17 (and asks to delete chunk 5), the first heartbeat with
// ENOENT, later ones with success; every reply carries epoch 9. Silent for the first
// `silent_ms`, to show that registration is retried.
class FakeMaster {
 public:
  explicit FakeMaster(int silent_ms) {
    auto router = rpc::BindRouter("127.0.0.1:0", &address_);
    EXPECT_TRUE(router.has_value());
    thread_ = std::thread([this, silent_ms, socket = std::move(*router)]() mutable {
      int64_t start_ms = MonotonicMs();
      while (!stopping_) {
        if (MonotonicMs() - start_ms < silent_ms) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          continue;
        }
        zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(20));
        auto incoming = rpc::ReceiveRequest(socket);
        if (!incoming) continue;
        const wire::Envelope& request = incoming->message.envelope;
        wire::Envelope reply = rpc::MakeReply(request);
        reply.set_epoch(9);
        if (request.has_register_()) {
          registers_++;
          last_register_chunks_ = request.register_().chunks_size();
          reply.mutable_reply()->set_chunkserver_id(17);
          reply.mutable_reply()->set_heartbeat_interval_ms(30);
          reply.mutable_reply()->add_delete_chunks(5);
        } else if (request.has_heartbeat()) {
          if (heartbeats_++ == 0) reply.mutable_reply()->set_error(ENOENT);
          for (const auto& lost : request.heartbeat().lost_chunks()) {
            if (lost.chunk_id() == 6) lost_reported_ = true;
          }
          if (request.heartbeat().chunkserver_id() == 17) heartbeat_with_id_ = true;
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

  std::atomic<int> registers_{0};
  std::atomic<int> heartbeats_{0};
  std::atomic<int> last_register_chunks_{0};
  std::atomic<bool> lost_reported_{false};
  std::atomic<bool> heartbeat_with_id_{false};

 private:
  std::string address_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

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

}  // namespace
}  // namespace hafs
