// The chunkserver's link to the master: register (uuid, address, space, label, every
// chunk), then heartbeat (space, chunk count, requests in flight, full, lost chunks).
//
// One thread. Registration is retried every 500 ms until a master answers; a heartbeat
// answered with ENOENT (the master restarted and does not know us) registers again. The
// chunks named in any reply's delete_chunks are deleted. The master's epoch in replies
// feeds the fence; its chunkserver id and heartbeat interval from the register reply are
// kept. Several masters may be given: on no answer the next one is tried.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chunkserver/chunk_store.h"
#include "chunkserver/chunkserver_state.h"
#include "common/rpc.h"

namespace hafs {

struct MasterLinkOptions {
  std::vector<std::string> masters = {"127.0.0.1:9420"};
  std::string label;
  int heartbeat_interval_ms = 1000;  // used until the master says otherwise
  int call_timeout_ms = 1000;
};

class MasterLink {
 public:
  MasterLink(ChunkStore& store, ChunkserverState& state, MasterLinkOptions options)
      : store_(store), state_(state), options_(std::move(options)) {}
  ~MasterLink() { Stop(); }
  MasterLink(const MasterLink&) = delete;
  MasterLink& operator=(const MasterLink&) = delete;

  void Start();
  void Stop();
  bool registered() const { return registered_; }

 private:
  void Run();
  // One attempt each; false when no master answered (or it refused).
  bool Register();
  bool Heartbeat();
  // Calls the current master; on no answer moves on to the next one.
  Result<rpc::Message> CallMaster(wire::Envelope request);
  void HandleCommonReply(const rpc::Message& answer);
  // Sleeps up to `ms`; false when Stop() was called.
  bool SleepMs(int ms);

  ChunkStore& store_;
  ChunkserverState& state_;
  const MasterLinkOptions options_;
  std::vector<std::unique_ptr<rpc::Connection>> connections_;
  size_t current_master_ = 0;
  int heartbeat_interval_ms_ = 0;
  std::atomic<bool> registered_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hafs
