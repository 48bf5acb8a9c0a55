// The chunkserver's links to the masters: with EVERY master in --master (the active and
// the hot standby both need chunk locations), register (uuid, address, space, label,
// every chunk), then heartbeat (space, chunk count, requests in flight, full, lost chunks).
//
// One thread per master, each with its own socket, registration state, chunkserver id and
// heartbeat interval, so a dead or slow master never delays the others. Registration is
// retried every 500 ms until that master answers; a heartbeat answered ENOENT (that master
// restarted and does not know us) re-registers with that master only. Heartbeats are due
// every interval from the previous one's start; a call waits at most call_timeout_ms.
//
// Lost chunks go to every master (each has its own queue of reports, put back when a
// heartbeat is not answered). `delete_chunks` are obeyed only from the master that holds
// this chunkserver's leadership lease now (its --master address equals the lease holder),
// or from any master while no lease was ever granted here (single-master clusters never
// ask for one); never from a reply whose epoch is below the fence. The masters' epochs in
// replies feed the fence.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chunkserver/chunk_store.h"
#include "chunkserver/chunkserver_state.h"
#include "chunkserver/leadership_lease.h"
#include "common/rpc.h"

namespace hafs {

struct MasterLinkOptions {
  std::vector<std::string> masters = {"127.0.0.1:9420"};
  std::string label;
  int heartbeat_interval_ms = 1000;  // used until a master says otherwise (per master)
  int call_timeout_ms = 500;         // per call, per master
  // Called for each replica a master asks to have checked (Reply.verify_chunks); none: ignored.
  std::function<void(uint64_t chunk_id)> verify_replica;
};

class MasterLink {
 public:
  // `lease` (may be null: then every master's delete_chunks are obeyed) decides whose.
  MasterLink(ChunkStore& store, ChunkserverState& state, MasterLinkOptions options,
             const LeadershipLease* lease = nullptr);
  ~MasterLink() { Stop(); }
  MasterLink(const MasterLink&) = delete;
  MasterLink& operator=(const MasterLink&) = delete;

  void Start();
  void Stop();
  // Registered with at least one master / with masters[index].
  bool registered() const;
  bool registered_with(size_t index) const { return peers_.at(index)->registered; }

 private:
  struct Peer {
    std::string address;
    size_t index = 0;
    std::atomic<bool> registered{false};
    std::atomic<uint32_t> chunkserver_id{0};
    int heartbeat_interval_ms = 0;
    std::map<uint64_t, wire::ChunkReport> lost;  // guarded by lost_mutex_
    // The last deletions this master sent were refused (it did not hold the leadership
    // lease): once it does, register again so that it sends them anew.
    bool deletions_refused = false;
    int last_refusal = 0;  // heartbeat error last logged (to log changes only)
    std::thread thread;
  };

  void Run(Peer& peer);
  // One attempt each; false when the master did not answer or refused.
  bool Register(Peer& peer, rpc::Connection& connection);
  bool Heartbeat(Peer& peer, rpc::Connection& connection);
  void HandleCommonReply(Peer& peer, const rpc::Message& answer);
  // New lost chunks from the store are queued for every master; returns this one's.
  std::vector<wire::ChunkReport> TakeLost(Peer& peer);
  void PutBackLost(Peer& peer, const std::vector<wire::ChunkReport>& chunks);
  // The id replica results carry: the lease holder's, else the first registered master's.
  void UpdateChunkserverId();
  // Sleeps until `deadline_ms` (monotonic); false when Stop() was called.
  bool SleepUntil(int64_t deadline_ms);

  ChunkStore& store_;
  ChunkserverState& state_;
  const MasterLinkOptions options_;
  const LeadershipLease* const lease_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::mutex lost_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace hafs
