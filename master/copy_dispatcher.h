// Carries out the RepairPlanner's copies: sends each ReplicateChunk to its destination
// chunkserver and collects the answers, never blocking the master's loop (one DEALER per
// destination, polled with dontwait). A copy not answered within the timeout counts as
// failed; a late answer is then dropped (request ids are never reused).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/proto/hafs.pb.h"
#include "common/rpc.h"
#include "common/status.h"
#include "master/repair_planner.h"

namespace hafs::master {

class CopyDispatcher {
 public:
  explicit CopyDispatcher(int64_t timeout_ms) : timeout_ms_(timeout_ms) {}

  // Sends `order` to the chunkserver `destination`, to read from `source` with
  // `source_token` (TokenIssuer::CopyToken).
  Status Send(const CopyOrder& order, const rpc::Peer& destination, const rpc::Peer& source,
              const wire::ChunkToken& source_token, uint64_t epoch, int64_t now_ms);

  struct Outcome {
    CopyOrder order;
    Status status;
  };
  // Copies answered since the last call, and as failed those past the timeout or whose
  // source or destination `is_up` no longer holds (a dead destination never answers, and
  // the chunk should not wait out the whole timeout before another copy is tried).
  std::vector<Outcome> Poll(int64_t now_ms, const std::function<bool(uint32_t chunkserver_id)>& is_up);
  // Forgets every copy in flight (a master that steps down).
  void Clear();

 private:
  struct Pending {
    CopyOrder order;
    std::string address;
    int64_t sent_ms;
  };
  Result<zmq::socket_t*> SocketFor(const rpc::Peer& peer);

  int64_t timeout_ms_;
  std::map<std::string, zmq::socket_t> sockets_;  // by destination address
  std::map<uint64_t, Pending> pending_;           // by request id
};

}  // namespace hafs::master
