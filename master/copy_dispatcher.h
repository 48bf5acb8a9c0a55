// Carries out the RepairPlanner's copies: sends each ReplicateChunk to its destination
// chunkserver and collects the answers, never blocking the master's loop (one DEALER per
// destination, polled with dontwait). A copy not answered within the timeout counts as
// failed; a late answer is then dropped (request ids are never reused).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/status.h"
#include "master/repair_planner.h"

namespace hafs::master {

class CopyDispatcher {
 public:
  explicit CopyDispatcher(int64_t timeout_ms) : timeout_ms_(timeout_ms) {}

  // Sends `order` to the chunkserver at destination_address, to read from source_address.
  Status Send(const CopyOrder& order, const std::string& destination_address, const std::string& source_address,
              uint64_t epoch, int64_t now_ms);

  struct Outcome {
    CopyOrder order;
    Status status;
  };
  // Copies answered since the last call, and those past the timeout.
  std::vector<Outcome> Poll(int64_t now_ms);
  // Forgets every copy in flight (a master that steps down).
  void Clear();

 private:
  struct Pending {
    CopyOrder order;
    std::string address;
    int64_t sent_ms;
  };
  zmq::socket_t& SocketFor(const std::string& address);

  int64_t timeout_ms_;
  std::map<std::string, zmq::socket_t> sockets_;  // by destination address
  std::map<uint64_t, Pending> pending_;           // by request id
};

}  // namespace hafs::master
