// The chunkserver's data service: ReadChunk, WriteChunk and TruncateChunk over ZeroMQ,
// the masters' LeadershipLease requests (leadership_lease.h) and self-healing
// ReplicateChunk orders (chunk_copier.h).
//
// Threads: a proxy thread joins the public ROUTER socket (clients and upstream
// replicas) to an inproc DEALER backend; `workers` threads each own a DEALER socket on
// that backend, receive [identity][envelope][data?], handle the request against the
// chunk store and answer [identity][reply][data?] the same way back. A worker blocks on
// disk and on its downstream replica, so the number of workers bounds the requests
// served at once. The proxy answers lease requests itself, and small reads that it can
// serve without waiting (ReadMode::kNoWait): that saves a read two thread wake-ups.
// With `plain_data_listen`, the proxy also joins the plain data port (plain_data_port.h):
// it authenticates each request there and hands it to the same workers, whose answers
// go back on the socket the request came in on.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "chunkserver/chunk_copier.h"
#include "chunkserver/chunk_store.h"
#include "chunkserver/chunkserver_state.h"
#include "chunkserver/leadership_lease.h"
#include "chunkserver/token_check.h"
#include "common/rpc.h"

namespace hafs {

struct DataServiceOptions {
  std::string listen = "127.0.0.1:9422";
  std::string advertise_address;  // what the master and clients are told; "" = the bound address
  int workers = 8;
  CopyOptions copy;
  std::optional<TokenKey> token_key;  // none: chunk access tokens are off (token_check.h)
  // host:port of the plain data port; "" = none. Needs `token_key`: tokens are then the
  // only authorisation. Advertised with the host of `advertise_address` when that is set.
  std::string plain_data_listen;
};

class DataService {
 public:
  // `lease` answers LeadershipLease requests (EINVAL without one).
  DataService(ChunkStore& store, ChunkserverState& state, DataServiceOptions options,
              LeadershipLease* lease = nullptr)
      : store_(store),
        state_(state),
        options_(std::move(options)),
        lease_(lease),
        tokens_(options_.token_key, state),
        copier_(store, options_.copy, tokens_) {}
  ~DataService() { Stop(); }
  DataService(const DataService&) = delete;
  DataService& operator=(const DataService&) = delete;

  // Binds and starts the threads; returns the bound "host:port" (of the CURVE port; the
  // plain one is in ChunkserverState::plain_data_address).
  Result<std::string> Start();
  // Stops the threads and closes the socket; requests in progress finish first.
  void Stop();

  // Handles one request (exposed for tests); *data is the request's data frame in and
  // the reply's data frame out (has_data tells whether there is one).
  wire::Envelope Handle(const wire::Envelope& request, zmq::message_t* data, bool* has_data) {
    return *Handle(request, data, has_data, ReadMode::kMayBlock);
  }
  // The same, but with ReadMode::kNoWait only a lease request or a read that needs no
  // waiting (see ChunkStore::Read) is answered; anything else is nullopt, for a worker.
  std::optional<wire::Envelope> Handle(const wire::Envelope& request, zmq::message_t* data, bool* has_data,
                                       ReadMode mode);

 private:
  void ProxyLoop(zmq::socket_t frontend, std::optional<zmq::socket_t> plain, zmq::socket_t backend,
                 zmq::socket_t control);
  // The proxy's pieces: whole multipart messages, and requests answered in place.
  static bool ReceiveFrames(zmq::socket_t& socket, std::vector<zmq::message_t>* frames);
  static void SendFrames(zmq::socket_t& socket, std::vector<zmq::message_t>* frames);
  // Answers [identity][envelope][data?] in the proxy thread: a request its sender's key may
  // not make (refused), or what Handle(kNoWait) can answer; false to pass it to a worker.
  bool AnswerHere(zmq::socket_t& frontend, const std::vector<zmq::message_t>& frames);
  // The same for [identity][authenticator][envelope][data?] from the plain port: refuses
  // what does not authenticate; false when *frames, rewritten to [route][envelope][data?],
  // is for a worker.
  bool AnswerPlainHere(zmq::socket_t& plain, std::vector<zmq::message_t>* frames);
  // Sends a worker's [route][reply][data?] to the socket its route names.
  static void ReturnAnswer(zmq::socket_t& frontend, std::optional<zmq::socket_t>& plain,
                           std::vector<zmq::message_t>* frames);
  void WorkerLoop();
  Status HandleRead(const wire::ReadChunkRequest& request, ReadMode mode, wire::Reply* reply, zmq::message_t* data,
                    bool* has_data);
  // Write and truncate: forward down the chain, do `store_locally`, collect the results.
  template <typename StoreLocally>
  void HandleChained(const wire::Envelope& request, zmq::message_t* data, wire::Reply* reply,
                     StoreLocally store_locally);

  ChunkStore& store_;
  ChunkserverState& state_;
  const DataServiceOptions options_;
  LeadershipLease* const lease_;
  const TokenCheck tokens_;
  ChunkCopier copier_;
  std::string backend_endpoint_;
  std::string control_endpoint_;
  std::atomic<bool> stopping_{false};
  LogRateLimit refusal_log_{20, 10000};  // refused requests: any peer can send them at will
  std::thread proxy_thread_;
  std::vector<std::thread> worker_threads_;
};

}  // namespace hafs
