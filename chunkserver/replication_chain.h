// Forwarding a chained request (WriteChunk, TruncateChunk, FallocateChunk) to the next replica, and the
// per-replica results of the chain.
//
// The request goes to chain[0] carrying chain[1..] (the same data frame, shared, not
// copied), before this replica stores its own copy, so replicas store in parallel;
// Finish then waits for the downstream answer. Each hop gives the next one 3/4 of its
// own timeout, so that when the tail hangs, the replica before it still answers its
// upstream in time and only the hung replica is reported ETIMEDOUT.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>
#include <zmq.hpp>

#include "common/proto/hafs.pb.h"
#include "common/rpc.h"
#include "common/status.h"

namespace hafs {

inline constexpr int kDefaultForwardTimeoutMs = 1500;

class ChainForward {
 public:
  // Sends `request` (a write_chunk or truncate_chunk envelope) down its chain, if it has
  // one, using this thread's connection to chain[0]. `data` is the write's data frame
  // (null for a truncate); `epoch` the highest master epoch this replica has seen.
  ChainForward(const wire::Envelope& request, zmq::message_t* data, uint64_t epoch);

  // The results of every downstream replica, in chain order (empty without a chain). A
  // replica that did not answer in time or was unreachable gets ETIMEDOUT, and so do the
  // ones after it (not attempted). Also returns the highest epoch a downstream reply carried
  // through *epoch_seen.
  std::vector<wire::ReplicaResult> Finish(uint64_t* epoch_seen);

 private:
  std::vector<wire::ReplicaResult> WithErrorFrom(size_t first, int error);

  std::vector<wire::ChunkserverAddress> chain_;
  rpc::Peer next_;                      // chain_[0]'s CURVE or plain data port (rpc::DataPeerOf)
  std::optional<uint64_t> request_id_;  // set when the request was sent
  Status send_status_;
};

}  // namespace hafs
