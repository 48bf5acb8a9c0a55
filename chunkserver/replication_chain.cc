#include "chunkserver/replication_chain.h"

#include <algorithm>

#include "common/log.h"
#include "common/rpc.h"

namespace hafs {
namespace {

// Calls `visit` with the body of a chained request (WriteChunkRequest,
// TruncateChunkRequest or FallocateChunkRequest), which all have a chain and a token.
template <typename Visit>
auto VisitChained(wire::Envelope* request, Visit visit) {
  switch (request->body_case()) {
    case wire::Envelope::kWriteChunk:
      return visit(request->mutable_write_chunk());
    case wire::Envelope::kTruncateChunk:
      return visit(request->mutable_truncate_chunk());
    default:
      return visit(request->mutable_fallocate_chunk());
  }
}

// The downstream copy of `body` (a chained request's body): chain minus its head, and a
// shorter timeout. Returns this hop's timeout.
template <typename Body>
int PrepareForward(Body* body) {
  int timeout_ms = body->forward_timeout_ms() > 0 ? body->forward_timeout_ms() : kDefaultForwardTimeoutMs;
  body->mutable_chain()->DeleteSubrange(0, 1);
  body->set_forward_timeout_ms(std::max(1, timeout_ms * 3 / 4));
  return timeout_ms;
}

}  // namespace

ChainForward::ChainForward(const wire::Envelope& request, zmq::message_t* data, uint64_t epoch) {
  wire::Envelope forwarded = request;
  VisitChained(&forwarded, [&](auto* body) { chain_.assign(body->chain().begin(), body->chain().end()); });
  if (chain_.empty()) return;
  // The token (with its MAC, recomputed if it came in on the plain port) picks the socket.
  next_ = VisitChained(&forwarded, [&](auto* body) { return rpc::DataPeerOf(chain_[0], body->token()); });
  forwarded.set_request_id(0);
  forwarded.set_epoch(std::max(epoch, request.epoch()));
  int timeout_ms = VisitChained(&forwarded, [](auto* body) { return PrepareForward(body); });
  zmq::message_t shared_data;
  if (data != nullptr) shared_data.copy(*data);  // zmq_msg_copy: shares the buffer
  try {
    auto sent = rpc::ThreadConnection(next_).Send(std::move(forwarded),
                                                  request.has_write_chunk() ? &shared_data : nullptr, timeout_ms);
    if (sent) {
      request_id_ = *sent;
    } else {
      send_status_ = sent.error();
    }
  } catch (const zmq::error_t& error) {  // a malformed address in the chain
    send_status_ = Status::Error(error.num(), error.what());
  }
}

std::vector<wire::ReplicaResult> ChainForward::WithErrorFrom(size_t first, int error) {
  std::vector<wire::ReplicaResult> results;
  for (size_t i = first; i < chain_.size(); ++i) {
    results.emplace_back();
    results.back().set_chunkserver_id(chain_[i].chunkserver_id());
    results.back().set_address(chain_[i].address());
    results.back().set_error(error);
  }
  return results;
}

std::vector<wire::ReplicaResult> ChainForward::Finish(uint64_t* epoch_seen) {
  if (chain_.empty()) return {};
  if (!request_id_) {
    LOG(WARNING) << "cannot forward to " << chain_[0].address() << ": " << send_status_.ToString();
    return WithErrorFrom(0, ETIMEDOUT);
  }
  // Send succeeded, so the connection exists and Wait does not throw.
  auto answer = rpc::ThreadConnection(next_).Wait(*request_id_);
  if (!answer) {
    LOG(WARNING) << "replica " << chain_[0].address() << " did not answer: " << answer.error().ToString();
    return WithErrorFrom(0, ETIMEDOUT);
  }
  *epoch_seen = std::max(*epoch_seen, answer->envelope.epoch());
  const wire::Reply& reply = answer->envelope.reply();
  if (reply.replica_results().empty()) {
    // Refused before it stored anything (a fenced epoch, a malformed request): it failed,
    // and nothing after it was attempted.
    auto results = WithErrorFrom(0, ETIMEDOUT);
    results[0].set_error(reply.error() != 0 ? reply.error() : EIO);
    return results;
  }
  std::vector<wire::ReplicaResult> results(reply.replica_results().begin(), reply.replica_results().end());
  if (results.size() < chain_.size()) {
    auto missing = WithErrorFrom(results.size(), ETIMEDOUT);
    results.insert(results.end(), missing.begin(), missing.end());
  }
  return results;
}

}  // namespace hafs
