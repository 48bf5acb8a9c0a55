// End to end over real sockets: three data services in one process, a chained write,
// a dead replica at the tail and in the middle, garbage frames, epoch fencing, and chunk
// access tokens.
#include "chunkserver/data_service.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>

#include "chunkserver/chunkserver_metrics.h"
#include "chunkserver/temp_dir_for_test.h"
#include "common/clock.h"
#include "common/data_frame_auth.h"

namespace hafs {
namespace {

struct Replica {
  std::unique_ptr<ChunkStore> store;
  ChunkserverState state;
  std::unique_ptr<DataService> service;
  std::string address;
};

class DataServiceTest : public ::testing::Test {
 protected:
  DataServiceTest() = default;
  explicit DataServiceTest(TokenKey key, bool plain_data = false) : token_key_(key), plain_data_(plain_data) {}

  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      auto& replica = replicas_[i];
      ChunkStoreOptions options;
      options.data_dirs = {dir_.Subdir("cs" + std::to_string(i))};
      options.reserve_bytes = 0;
      auto store = ChunkStore::Open(options);
      ASSERT_TRUE(store.has_value()) << store.error().ToString();
      replica.store = std::move(*store);
      replica.state.set_chunkserver_id(static_cast<uint32_t>(i + 1));
      DataServiceOptions service_options;
      service_options.listen = "127.0.0.1:0";
      service_options.workers = 2;
      service_options.token_key = token_key_;
      if (plain_data_) service_options.plain_data_listen = "127.0.0.1:0";
      replica.service = std::make_unique<DataService>(*replica.store, replica.state, service_options);
      auto address = replica.service->Start();
      ASSERT_TRUE(address.has_value()) << address.error().ToString();
      replica.address = *address;
    }
  }

  static wire::Envelope WriteRequest(uint64_t chunk_id, uint64_t offset, const std::vector<int>& chain_indexes,
                                     const Replica* replicas, int timeout_ms = 600) {
    wire::Envelope request;
    auto* write = request.mutable_write_chunk();
    write->set_chunk_id(chunk_id);
    write->set_chunk_version(1);
    write->set_offset(offset);
    write->set_sync(true);
    write->set_forward_timeout_ms(timeout_ms);
    for (int index : chain_indexes) {
      auto* link = write->add_chain();
      link->set_chunkserver_id(static_cast<uint32_t>(index + 1));
      link->set_address(replicas[index].address);
    }
    return request;
  }

  rpc::Message CallOrDie(int replica, wire::Envelope request, const std::string& data, int timeout_ms = 3000) {
    zmq::message_t frame(data.data(), data.size());
    auto answer = rpc::ThreadConnection({replicas_[replica].address})
                      .Call(std::move(request), request.has_write_chunk() ? &frame : nullptr, timeout_ms);
    EXPECT_TRUE(answer.has_value()) << answer.error().ToString();
    return answer ? std::move(*answer) : rpc::Message();
  }

  // The chunk's bytes [offset, offset + length) as replica `index` serves them, or the error.
  std::string ReadFrom(int index, uint64_t chunk_id, uint64_t offset, uint32_t length, int* error = nullptr) {
    wire::Envelope request;
    auto* read = request.mutable_read_chunk();
    read->set_chunk_id(chunk_id);
    read->set_chunk_version(1);
    read->set_offset(offset);
    read->set_length(length);
    rpc::Message answer = CallOrDie(index, request, "");
    if (error) *error = answer.envelope.reply().error();
    if (answer.envelope.reply().error() != 0) return "";
    EXPECT_TRUE(answer.has_data);
    EXPECT_EQ(answer.data.size(), length);
    return answer.data.to_string();
  }

  std::optional<TokenKey> token_key_;  // none: tokens off
  const bool plain_data_ = false;      // each service also has a plain data port
  TempDirForTest dir_;
  Replica replicas_[3];
};

TEST_F(DataServiceTest, MetricsCountChainedWritesReadsAndErrors) {
  // The registry is the process's: three services in this process share it.
  ChunkserverMetrics& metrics = Metrics();
  uint64_t written_before = metrics.written_bytes.value();
  uint64_t read_before = metrics.read_bytes.value();
  uint64_t writes_before = metrics.requests.With("write_chunk").value();
  uint64_t not_found_before = metrics.errors.With("ENOENT").value();
  rpc::Message written = CallOrDie(0, WriteRequest(77, 0, {1, 2}, replicas_), std::string(1000, 'x'));
  ASSERT_EQ(written.envelope.reply().error(), 0);
  EXPECT_EQ(metrics.written_bytes.value() - written_before, 3000u);  // on each replica: this one and its chain
  EXPECT_EQ(metrics.requests.With("write_chunk").value() - writes_before, 3u);
  // A read past the stored length counts only the stored bytes.
  EXPECT_EQ(ReadFrom(1, 77, 500, 4096).substr(0, 500), std::string(500, 'x'));
  EXPECT_EQ(metrics.read_bytes.value() - read_before, 500u);
  int error = 0;
  ReadFrom(2, 12345, 0, 10, &error);
  EXPECT_EQ(error, ENOENT);
  EXPECT_EQ(metrics.errors.With("ENOENT").value() - not_found_before, 1u);
  RefreshStoreMetrics(*replicas_[0].store);
  EXPECT_EQ(metrics.chunks.value(), 1);
  EXPECT_EQ(metrics.space_bytes.With("used").value(), 1000);
}

TEST_F(DataServiceTest, ChainedWriteReachesEveryReplica) {
  std::string data(200000, 'q');
  rpc::Message answer = CallOrDie(0, WriteRequest(7, 1000, {1, 2}, replicas_), data);
  const auto& reply = answer.envelope.reply();
  EXPECT_EQ(reply.error(), 0) << reply.error_message();
  ASSERT_EQ(reply.replica_results_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(reply.replica_results(i).chunkserver_id(), static_cast<uint32_t>(i + 1));
    EXPECT_EQ(reply.replica_results(i).address(), replicas_[i].address);
    EXPECT_EQ(reply.replica_results(i).error(), 0);
    EXPECT_EQ(ReadFrom(i, 7, 1000, 200000), data);
  }
  // Past the end: zeros, and the stored length in the reply.
  EXPECT_EQ(ReadFrom(1, 7, 201000, 10), std::string(10, '\0'));
  int error = 0;
  ReadFrom(2, 99, 0, 10, &error);
  EXPECT_EQ(error, ENOENT);
}

TEST_F(DataServiceTest, TruncateGoesDownTheChain) {
  ASSERT_EQ(CallOrDie(0, WriteRequest(8, 0, {1, 2}, replicas_), std::string(5000, 'a')).envelope.reply().error(), 0);
  wire::Envelope request;
  auto* truncate = request.mutable_truncate_chunk();
  truncate->set_chunk_id(8);
  truncate->set_chunk_version(1);
  truncate->set_new_length(100);
  for (int index : {1, 2}) {
    auto* link = truncate->add_chain();
    link->set_address(replicas_[index].address);
  }
  EXPECT_EQ(CallOrDie(0, request, "").envelope.reply().error(), 0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ReadFrom(i, 8, 0, 200), std::string(100, 'a') + std::string(100, '\0'));
}

TEST_F(DataServiceTest, DeadTailIsReportedTimedOutInTime) {
  replicas_[2].service->Stop();
  std::string data(70000, 'w');
  int64_t start_ms = MonotonicMs();
  rpc::Message answer = CallOrDie(0, WriteRequest(9, 0, {1, 2}, replicas_, 600), data);
  EXPECT_LT(MonotonicMs() - start_ms, 1000);
  const auto& reply = answer.envelope.reply();
  EXPECT_EQ(reply.error(), ETIMEDOUT);
  ASSERT_EQ(reply.replica_results_size(), 3);
  EXPECT_EQ(reply.replica_results(0).error(), 0);
  EXPECT_EQ(reply.replica_results(1).error(), 0);
  EXPECT_EQ(reply.replica_results(2).error(), ETIMEDOUT);
  EXPECT_EQ(reply.replica_results(2).address(), replicas_[2].address);
  EXPECT_EQ(ReadFrom(0, 9, 0, 70000), data);
  EXPECT_EQ(ReadFrom(1, 9, 0, 70000), data);
}

TEST_F(DataServiceTest, DeadMiddleMeansTheRestWasNotAttempted) {
  replicas_[1].service->Stop();
  rpc::Message answer = CallOrDie(0, WriteRequest(10, 0, {1, 2}, replicas_, 400), "abc");
  const auto& reply = answer.envelope.reply();
  EXPECT_EQ(reply.error(), ETIMEDOUT);
  ASSERT_EQ(reply.replica_results_size(), 3);
  EXPECT_EQ(reply.replica_results(0).error(), 0);
  EXPECT_EQ(reply.replica_results(1).error(), ETIMEDOUT);
  EXPECT_EQ(reply.replica_results(2).error(), ETIMEDOUT);
  int error = 0;
  ReadFrom(2, 10, 0, 3, &error);
  EXPECT_EQ(error, ENOENT);
}

// The proxy thread's mode: the same answers as a worker's, or none at all.
TEST_F(DataServiceTest, NoWaitHandlesOnlyReadsThatNeedNoWaiting) {
  std::string data(3 * kBlockSize, 'c');
  ASSERT_EQ(CallOrDie(0, WriteRequest(15, 0, {}, replicas_), data).envelope.reply().error(), 0);
  Replica& replica = replicas_[0];
  auto handle_here = [&](const wire::Envelope& request, zmq::message_t* out, bool* has_data) {
    return replica.service->Handle(request, out, has_data, ReadMode::kNoWait);
  };
  wire::Envelope request;
  auto* read = request.mutable_read_chunk();
  read->set_chunk_id(15);
  read->set_chunk_version(1);
  read->set_offset(100);
  read->set_length(4096);
  zmq::message_t out;
  bool has_data = false;
  auto reply = handle_here(request, &out, &has_data);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->reply().error(), 0) << reply->reply().error_message();
  EXPECT_EQ(reply->reply().chunk_length(), data.size());
  ASSERT_TRUE(has_data);
  EXPECT_EQ(out.to_string(), data.substr(100, 4096));

  // Left to a worker: a large read, and a write.
  read->set_length(200000);
  EXPECT_FALSE(handle_here(request, &out, &has_data).has_value());
  EXPECT_FALSE(handle_here(WriteRequest(15, 0, {}, replicas_), &out, &has_data).has_value());
  EXPECT_EQ(replica.state.requests_in_flight(), 0u);

  // A damaged block is refused, and the replica reported lost, as on a worker.
  std::string path;
  for (auto& entry : std::filesystem::recursive_directory_iterator(dir_.Subdir("cs0"))) {
    if (entry.path().extension() == ".chunk") path = entry.path().string();
  }
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_EQ(::pwrite(fd, "!", 1, static_cast<off_t>(kChunkDataOffset + kBlockSize + 9)), 1);
  ::close(fd);
  read->set_offset(kBlockSize);
  read->set_length(10);
  reply = handle_here(request, &out, &has_data);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->reply().error(), EBADMSG);
  EXPECT_FALSE(has_data);
  auto lost = replica.store->TakeLostChunks();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].chunk_id(), 15u);
  int error = 0;
  ReadFrom(0, 15, kBlockSize, 10, &error);  // over the wire, through the proxy
  EXPECT_EQ(error, EBADMSG);
}

TEST_F(DataServiceTest, GarbageFramesDoNotStopTheServer) {
  zmq::socket_t raw(rpc::Context(), zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(rpc::Endpoint(replicas_[0].address));
  raw.send(zmq::str_buffer("\xff\xff\xff garbage"), zmq::send_flags::none);
  raw.send(zmq::str_buffer(""), zmq::send_flags::none);
  for (int i = 0; i < 5; ++i)
    raw.send(zmq::str_buffer("frame"), i < 4 ? zmq::send_flags::sndmore : zmq::send_flags::none);
  wire::Envelope not_for_us;
  not_for_us.mutable_lookup()->set_name("x");
  std::string bytes = not_for_us.SerializeAsString();
  raw.send(zmq::buffer(bytes), zmq::send_flags::none);
  // Every one is answered, by two workers in any order: the garbage, the empty envelope (no
  // body) and the five frames with EBADMSG, the lookup (inode 0) with EINVAL.
  std::multiset<int> errors;
  for (int answer = 0; answer < 4; ++answer) {
    zmq::pollitem_t item{raw.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(2000));
    ASSERT_TRUE(item.revents & ZMQ_POLLIN);
    zmq::message_t frame;
    ASSERT_TRUE(raw.recv(frame, zmq::recv_flags::none));
    wire::Envelope reply;
    ASSERT_TRUE(reply.ParseFromArray(frame.data(), static_cast<int>(frame.size())));
    errors.insert(reply.reply().error());
  }
  EXPECT_EQ(errors, (std::multiset<int>{EBADMSG, EBADMSG, EBADMSG, EINVAL}));
  // Still serving.
  ASSERT_EQ(CallOrDie(0, WriteRequest(11, 0, {}, replicas_), "hello").envelope.reply().error(), 0);
  EXPECT_EQ(ReadFrom(0, 11, 0, 5), "hello");
}

TEST_F(DataServiceTest, MalformedChainAddressIsAReplicaFailure) {
  wire::Envelope request = WriteRequest(14, 0, {}, replicas_);
  request.mutable_write_chunk()->add_chain()->set_address("not an address");
  rpc::Message answer = CallOrDie(0, request, "x");
  EXPECT_EQ(answer.envelope.reply().error(), ETIMEDOUT);
  ASSERT_EQ(answer.envelope.reply().replica_results_size(), 2);
  EXPECT_EQ(answer.envelope.reply().replica_results(0).error(), 0);
  EXPECT_EQ(ReadFrom(0, 14, 0, 1), "x");
}

TEST_F(DataServiceTest, OlderEpochIsFenced) {
  wire::Envelope request = WriteRequest(12, 0, {}, replicas_);
  request.set_epoch(5);
  EXPECT_EQ(CallOrDie(0, request, "x").envelope.reply().error(), 0);
  request.set_epoch(3);
  rpc::Message fenced = CallOrDie(0, request, "x");
  EXPECT_EQ(fenced.envelope.reply().error(), ESTALE);
  EXPECT_EQ(fenced.envelope.epoch(), 5u);
  request.set_epoch(0);
  EXPECT_EQ(CallOrDie(0, request, "x").envelope.reply().error(), 0);
}

TEST_F(DataServiceTest, EmptySyncWriteAndStaleVersion) {
  wire::Envelope request = WriteRequest(13, 0, {1}, replicas_);
  request.mutable_write_chunk()->set_chunk_version(4);
  EXPECT_EQ(CallOrDie(0, request, "").envelope.reply().error(), 0);
  request.mutable_write_chunk()->set_chunk_version(3);
  rpc::Message stale = CallOrDie(0, request, "data");
  EXPECT_EQ(stale.envelope.reply().error(), ESTALE);
  EXPECT_EQ(stale.envelope.reply().replica_results(0).error(), ESTALE);
  EXPECT_EQ(stale.envelope.reply().replica_results(1).error(), ESTALE);
}

// With a token key every data request needs the master's token: right chunk, version and
// mode, and for a write the chain the master placed, which the token travels down.
class TokenDataServiceTest : public DataServiceTest {
 protected:
  explicit TokenDataServiceTest(bool plain_data = false) : DataServiceTest(Key(3), plain_data) {}

  static TokenKey Key(uint8_t fill) {
    TokenKey key;
    key.bytes.fill(fill);
    return key;
  }
  // A token as the master makes it, for replicas `chain` (indexes) of this test.
  wire::ChunkToken Token(uint64_t chunk_id, uint32_t modes, const std::vector<std::string>& chain = {},
                         TokenKey key = Key(3)) {
    return IssueChunkToken(key, chunk_id, 1, modes, WallClockMs(), 60000, chain);
  }
  std::vector<std::string> Addresses(const std::vector<int>& indexes) {
    std::vector<std::string> addresses;
    for (int index : indexes) addresses.push_back(replicas_[index].address);
    return addresses;
  }
  int ReadWithToken(int replica, uint64_t chunk_id, const wire::ChunkToken& token, std::string* data = nullptr) {
    wire::Envelope request;
    auto* read = request.mutable_read_chunk();
    read->set_chunk_id(chunk_id);
    read->set_chunk_version(1);
    read->set_length(3);
    *read->mutable_token() = token;
    rpc::Message answer = CallOrDie(replica, request, "");
    if (data) *data = answer.data.to_string();
    return answer.envelope.reply().error();
  }
  static constexpr uint32_t kReadWrite = wire::CHUNK_ACCESS_READ | wire::CHUNK_ACCESS_WRITE;
};

TEST_F(TokenDataServiceTest, TokenedChainWriteReachesEveryReplica) {
  wire::Envelope write = WriteRequest(20, 0, {1, 2}, replicas_);
  *write.mutable_write_chunk()->mutable_token() = Token(20, kReadWrite, Addresses({0, 1, 2}));
  rpc::Message answer = CallOrDie(0, write, "abc");
  ASSERT_EQ(answer.envelope.reply().error(), 0) << answer.envelope.reply().error_message();
  ASSERT_EQ(answer.envelope.reply().replica_results_size(), 3);
  for (int i = 0; i < 3; ++i) {
    std::string data;
    EXPECT_EQ(ReadWithToken(i, 20, Token(20, wire::CHUNK_ACCESS_READ), &data), 0);
    EXPECT_EQ(data, "abc");
    EXPECT_EQ(ReadWithToken(i, 20, wire::ChunkToken()), EACCES);                           // none
    EXPECT_EQ(ReadWithToken(i, 21, Token(20, wire::CHUNK_ACCESS_READ)), EACCES);            // another chunk's
    EXPECT_EQ(ReadWithToken(i, 20, Token(20, wire::CHUNK_ACCESS_READ, {}, Key(4))), EACCES);  // another key
  }
}

TEST_F(TokenDataServiceTest, WritesOffTheTokensChainAreRefusedBeforeAnythingIsStored) {
  auto refused_everywhere = [&](wire::Envelope write) {
    rpc::Message answer = CallOrDie(0, write, "abc");
    EXPECT_EQ(answer.envelope.reply().error(), EACCES);
    EXPECT_EQ(answer.envelope.reply().replica_results_size(), 0);  // nothing stored, nothing forwarded
    for (int i = 0; i < 3; ++i) EXPECT_EQ(ReadWithToken(i, 22, Token(22, wire::CHUNK_ACCESS_READ)), ENOENT);
  };
  // The client names a replica the master did not place.
  wire::Envelope outsider = WriteRequest(22, 0, {1, 2}, replicas_);
  *outsider.mutable_write_chunk()->mutable_token() = Token(22, kReadWrite, Addresses({0, 1}));
  refused_everywhere(outsider);
  // A read token for a write; a truncation with one.
  wire::Envelope read_token = WriteRequest(22, 0, {1, 2}, replicas_);
  *read_token.mutable_write_chunk()->mutable_token() = Token(22, wire::CHUNK_ACCESS_READ, Addresses({0, 1, 2}));
  refused_everywhere(read_token);
  wire::Envelope truncate;
  truncate.mutable_truncate_chunk()->set_chunk_id(22);
  truncate.mutable_truncate_chunk()->set_chunk_version(1);
  *truncate.mutable_truncate_chunk()->mutable_token() = Token(22, wire::CHUNK_ACCESS_READ, Addresses({0}));
  refused_everywhere(truncate);
  // Sent to a replica that is not the token chain's head.
  wire::Envelope elsewhere = WriteRequest(22, 0, {2}, replicas_);
  *elsewhere.mutable_write_chunk()->mutable_token() = Token(22, kReadWrite, Addresses({1, 2}));
  refused_everywhere(elsewhere);
}

TEST_F(TokenDataServiceTest, CopyReadsOnlyFromTheSourceItsTokenNames) {
  wire::Envelope write = WriteRequest(23, 0, {}, replicas_);
  *write.mutable_write_chunk()->mutable_token() = Token(23, kReadWrite, Addresses({0}));
  ASSERT_EQ(CallOrDie(0, write, "abc").envelope.reply().error(), 0);
  auto copy_to_1 = [&](const wire::ChunkToken& token) {
    wire::Envelope copy;
    copy.mutable_replicate_chunk()->set_chunk_id(23);
    copy.mutable_replicate_chunk()->set_chunk_version(1);
    copy.mutable_replicate_chunk()->set_source(replicas_[0].address);
    *copy.mutable_replicate_chunk()->mutable_source_token() = token;
    return CallOrDie(1, copy, "").envelope.reply().error();
  };
  EXPECT_EQ(copy_to_1(Token(23, wire::CHUNK_ACCESS_READ)), EACCES);                    // names no source
  EXPECT_EQ(copy_to_1(Token(23, wire::CHUNK_ACCESS_READ, Addresses({2}))), EACCES);    // another source
  EXPECT_EQ(ReadWithToken(1, 23, Token(23, wire::CHUNK_ACCESS_READ)), ENOENT);
  EXPECT_EQ(copy_to_1(Token(23, wire::CHUNK_ACCESS_READ, Addresses({0}))), 0);
  std::string data;
  EXPECT_EQ(ReadWithToken(1, 23, Token(23, wire::CHUNK_ACCESS_READ), &data), 0);
  EXPECT_EQ(data, "abc");
}

// With plain data ports (docs/security.md, "Data frames: encrypted or plain"): requests
// there are authenticated with their token's MAC, which never travels; anything else there
// is refused, and answers are authenticated the same way.
class PlainDataServiceTest : public TokenDataServiceTest {
 protected:
  PlainDataServiceTest() : TokenDataServiceTest(/*plain_data=*/true) {}

  rpc::Peer Plain(int replica) { return {replicas_[replica].state.plain_data_address(), "", true}; }
  // Chain entries with their plain ports, as the master hands them out.
  wire::Envelope PlainWrite(uint64_t chunk_id, const std::vector<int>& chain) {
    wire::Envelope write = WriteRequest(chunk_id, 0, chain, replicas_);
    for (auto& link : *write.mutable_write_chunk()->mutable_chain()) {
      link.set_plain_data_address(replicas_[link.chunkserver_id() - 1].state.plain_data_address());
    }
    std::vector<int> all = {0};
    all.insert(all.end(), chain.begin(), chain.end());
    *write.mutable_write_chunk()->mutable_token() = Token(chunk_id, kReadWrite, Addresses(all));
    return write;
  }
  static wire::Envelope Read(uint64_t chunk_id, const wire::ChunkToken& token) {
    wire::Envelope request;
    request.set_request_id(rpc::NextRequestId());
    auto* read = request.mutable_read_chunk();
    read->set_chunk_id(chunk_id);
    read->set_chunk_version(1);
    read->set_length(3);
    *read->mutable_token() = token;
    return request;
  }
  // Sends raw frames to replica 0's plain port; the answer's error (its envelope is the
  // frame after the authenticator), or -1 without one.
  int RawCall(const std::vector<std::string>& frames) {
    zmq::socket_t socket(rpc::Context(), zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(rpc::Endpoint(replicas_[0].state.plain_data_address()));
    for (size_t i = 0; i < frames.size(); ++i) {
      socket.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(3000)) == 0) return -1;
    std::vector<zmq::message_t> reply;
    do {
      reply.emplace_back();
      if (!socket.recv(reply.back())) return -1;
    } while (reply.back().more());
    wire::Envelope envelope;
    if (reply.size() < 2 || !envelope.ParseFromArray(reply[1].data(), static_cast<int>(reply[1].size()))) return -1;
    return envelope.reply().error();
  }
};

TEST_F(PlainDataServiceTest, ChainedWriteAndReadsGoOverThePlainPorts) {
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(replicas_[i].state.plain_data_address().empty());
  uint64_t accepted_before = Metrics().plain_requests.With("accepted").value();
  wire::Envelope write = PlainWrite(30, {1, 2});
  ASSERT_TRUE(rpc::DataPeerOf(write.write_chunk().chain(0), write.write_chunk().token()).plain);
  zmq::message_t frame("abc", 3);
  auto written = rpc::ThreadConnection(Plain(0)).Call(write, &frame, 3000);
  ASSERT_TRUE(written.has_value()) << written.error().ToString();
  ASSERT_EQ(written->envelope.reply().error(), 0) << written->envelope.reply().error_message();
  ASSERT_EQ(written->envelope.reply().replica_results_size(), 3);
  // The head and both forwards came in on plain ports.
  EXPECT_EQ(Metrics().plain_requests.With("accepted").value() - accepted_before, 3u);
  for (int i = 0; i < 3; ++i) {
    auto read = rpc::ThreadConnection(Plain(i)).Call(Read(30, Token(30, wire::CHUNK_ACCESS_READ)), 3000);
    ASSERT_TRUE(read.has_value()) << read.error().ToString();
    EXPECT_EQ(read->envelope.reply().error(), 0);
    EXPECT_EQ(read->data.to_string(), "abc");
  }
  // An expired token is refused with EACCES the client can trust (the answer authenticates).
  wire::ChunkToken expired = IssueChunkToken(Key(3), 30, 1, wire::CHUNK_ACCESS_READ, WallClockMs() - 120'000, 1000);
  auto refused = rpc::ThreadConnection(Plain(0)).Call(Read(30, expired), 3000);
  ASSERT_TRUE(refused.has_value()) << refused.error().ToString();
  EXPECT_EQ(refused->envelope.reply().error(), EACCES);
  // A client never sends a request it cannot authenticate there.
  auto tokenless = rpc::ThreadConnection(Plain(0)).Call(Read(30, wire::ChunkToken()), 3000);
  ASSERT_FALSE(tokenless.has_value());
  EXPECT_EQ(tokenless.error().error(), EINVAL);
}

TEST_F(PlainDataServiceTest, UnauthenticatedForgedAndOtherRequestsAreRefused) {
  ASSERT_EQ(CallOrDie(0, PlainWrite(31, {}), "abc").envelope.reply().error(), 0);  // over CURVE's port
  uint64_t refused_before = Metrics().plain_requests.With("refused").value();
  auto sealed = SealDataRequest(Read(31, Token(31, wire::CHUNK_ACCESS_READ)));
  ASSERT_TRUE(sealed.has_value());
  EXPECT_EQ(RawCall({sealed->authenticator, sealed->envelope_bytes}), 0);  // as the client sends it
  // No authenticator; a bad one.
  EXPECT_EQ(RawCall({sealed->envelope_bytes}), EACCES);
  std::string bad = sealed->authenticator;
  bad[0] ^= 1;
  EXPECT_EQ(RawCall({bad, sealed->envelope_bytes}), EACCES);
  // The MAC in the clear, authenticated with itself: refused, it must never travel there.
  wire::Envelope with_mac = Read(31, Token(31, wire::CHUNK_ACCESS_READ));
  std::string with_mac_bytes = with_mac.SerializeAsString();
  EXPECT_EQ(RawCall({DataFrameAuthenticator(with_mac.read_chunk().token().mac(), FrameDirection::kRequest,
                                            with_mac_bytes, std::nullopt),
                     with_mac_bytes}),
            EACCES);
  // A token forged with another key, sealed consistently with its own MAC.
  auto forged = SealDataRequest(Read(31, Token(31, wire::CHUNK_ACCESS_READ, {}, Key(4))));
  ASSERT_TRUE(forged.has_value());
  EXPECT_EQ(RawCall({forged->authenticator, forged->envelope_bytes}), EACCES);
  // A captured request changed to read another chunk.
  wire::Envelope redirected;
  ASSERT_TRUE(redirected.ParseFromString(sealed->envelope_bytes));
  redirected.mutable_read_chunk()->set_chunk_id(32);
  redirected.mutable_read_chunk()->mutable_token()->set_chunk_id(32);
  EXPECT_EQ(RawCall({sealed->authenticator, redirected.SerializeAsString()}), EACCES);
  // Anything but a data request, even authenticated with a real token's MAC.
  wire::Envelope lease;
  lease.set_request_id(77);
  lease.mutable_leadership_lease()->set_master_address("m:1");
  std::string lease_bytes = lease.SerializeAsString();
  EXPECT_EQ(
      RawCall({DataFrameAuthenticator(sealed->key, FrameDirection::kRequest, lease_bytes, std::nullopt), lease_bytes}),
      EACCES);
  // Garbage frames: answered or dropped, and the port still serves.
  RawCall({std::string(kDataFrameAuthenticatorBytes, 'x'), "\xff\xff\xff"});
  RawCall({"a", "b", "c", "d", "e"});
  EXPECT_EQ(Metrics().plain_requests.With("refused").value() - refused_before, 8u);
  EXPECT_EQ(RawCall({sealed->authenticator, sealed->envelope_bytes}), 0);
}

// The leadership lease over a real loopback socket, and the one fence it shares with data
// requests.
TEST(DataServiceLeaseTest, LeadershipLeaseOverTheWire) {
  TempDirForTest dir;
  ChunkStoreOptions store_options;
  store_options.data_dirs = {dir.path()};
  store_options.reserve_bytes = 0;
  auto store = ChunkStore::Open(store_options);
  ASSERT_TRUE(store.has_value());
  ChunkserverState state;
  LeadershipLeaseOptions lease_options;
  lease_options.dir = dir.path();
  auto lease = LeadershipLease::Open(lease_options, state);
  ASSERT_TRUE(lease.has_value());
  DataServiceOptions service_options;
  service_options.listen = "127.0.0.1:0";
  service_options.workers = 2;
  DataService service(**store, state, service_options, lease->get());
  auto address = service.Start();
  ASSERT_TRUE(address.has_value());

  auto ask = [&](const std::string& master, uint64_t epoch, uint64_t envelope_epoch) {
    wire::Envelope request;
    request.set_epoch(envelope_epoch);
    auto* body = request.mutable_leadership_lease();
    body->set_master_address(master);
    body->set_epoch(epoch);
    body->set_duration_ms(5000);
    if (master == "m1:1") body->set_mark_out_of_sync("m2:2");
    auto answer = rpc::ThreadConnection({*address}).Call(std::move(request), 3000);
    EXPECT_TRUE(answer.has_value());
    return answer ? answer->envelope : wire::Envelope();
  };
  wire::Envelope granted = ask("m1:1", 4, 4);
  EXPECT_EQ(granted.reply().error(), 0) << granted.reply().error_message();
  EXPECT_TRUE(granted.reply().lease_granted());
  EXPECT_EQ(granted.reply().lease_holder(), "m1:1");
  EXPECT_EQ(granted.reply().highest_epoch(), 4u);
  EXPECT_EQ(granted.reply().out_of_sync_master(), "m2:2");
  EXPECT_EQ(granted.reply().out_of_sync_epoch(), 4u);
  EXPECT_EQ(granted.epoch(), 4u);

  // A candidate with a higher epoch is refused and raises no fence, not even through its envelope.
  wire::Envelope busy = ask("m3:3", 5, 5);
  EXPECT_EQ(busy.reply().error(), EBUSY);
  EXPECT_FALSE(busy.reply().lease_granted());
  EXPECT_EQ(busy.reply().lease_holder(), "m1:1");
  EXPECT_EQ(busy.reply().highest_epoch(), 4u);
  EXPECT_EQ(busy.reply().out_of_sync_master(), "m2:2");
  EXPECT_EQ(state.epoch(), 4u);
  // The master recorded as out of sync is refused outright.
  EXPECT_EQ(ask("m2:2", 5, 5).reply().error(), EPERM);

  // The epoch the lease raised fences data requests too.
  wire::Envelope write;
  write.set_epoch(3);
  write.mutable_write_chunk()->set_chunk_id(1);
  write.mutable_write_chunk()->set_chunk_version(1);
  zmq::message_t frame("x", 1);
  auto fenced = rpc::ThreadConnection({*address}).Call(std::move(write), &frame, 3000);
  ASSERT_TRUE(fenced.has_value());
  EXPECT_EQ(fenced->envelope.reply().error(), ESTALE);

  wire::Envelope stale = ask("m2:2", 3, 0);
  EXPECT_EQ(stale.reply().error(), ESTALE);
  EXPECT_EQ(stale.reply().highest_epoch(), 4u);
  service.Stop();
}

}  // namespace
}  // namespace hafs
