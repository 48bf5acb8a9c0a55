#include "master/copy_dispatcher.h"

#include "common/log.h"
#include "common/message_codec.h"
#include "common/rpc.h"

namespace hafs::master {

Result<zmq::socket_t*> CopyDispatcher::SocketFor(const rpc::Peer& peer) {
  auto found = sockets_.find(peer.address);
  if (found != sockets_.end()) return &found->second;
  zmq::socket_t socket(rpc::Context(), zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::reconnect_ivl, 100);
  socket.set(zmq::sockopt::reconnect_ivl_max, 1000);
  if (!rpc::SecureAsClientOf(socket, peer)) return Fail(EACCES, "no CURVE public key known for " + peer.address);
  socket.connect(rpc::Endpoint(peer.address));
  return &sockets_.emplace(peer.address, std::move(socket)).first->second;
}

Status CopyDispatcher::Send(const CopyOrder& order, const rpc::Peer& destination, const rpc::Peer& source,
                            const wire::ChunkToken& source_token, uint64_t epoch, int64_t now_ms) {
  const std::string& destination_address = destination.address;
  wire::Envelope request;
  request.set_request_id(rpc::NextRequestId());
  request.set_epoch(epoch);
  wire::ReplicateChunkRequest* copy = request.mutable_replicate_chunk();
  copy->set_chunk_id(order.chunk_id);
  copy->set_chunk_version(order.version);
  copy->set_source(source.address);
  copy->set_source_public_key(source.public_key);
  *copy->mutable_source_token() = source_token;
  std::string bytes = request.SerializeAsString();
  auto socket = SocketFor(destination);
  if (!socket) return socket.error();
  try {
    zmq::message_t frame(bytes.data(), bytes.size());
    if (!(*socket)->send(frame, zmq::send_flags::dontwait)) {
      return Status::Error(EAGAIN, "copy order to " + destination_address + " not sent (queue full)");
    }
  } catch (const zmq::error_t& error) {
    return Status::Error(error.num(), "copy order to " + destination_address + ": " + error.what());
  }
  pending_[request.request_id()] = {order, destination_address, now_ms};
  return Status::Ok();
}

std::vector<CopyDispatcher::Outcome> CopyDispatcher::Poll(int64_t now_ms,
                                                          const std::function<bool(uint32_t)>& is_up) {
  std::vector<Outcome> outcomes;
  for (auto& [address, socket] : sockets_) {
    try {
      while (true) {
        zmq::message_t frame;
        if (!socket.recv(frame, zmq::recv_flags::dontwait)) break;
        bool more = frame.more();
        while (more) {  // a copy answer has no data frame: drop any
          zmq::message_t rest;
          if (!socket.recv(rest, zmq::recv_flags::none)) break;
          more = rest.more();
        }
        wire::Envelope reply;
        if (!DecodeEnvelope(frame.data(), frame.size(), &reply).ok() || !reply.has_reply()) {
          LOG(WARNING) << "dropped a malformed copy answer from " << address;
          continue;
        }
        auto pending = pending_.find(reply.request_id());
        if (pending == pending_.end()) continue;  // answered after its timeout
        outcomes.push_back({pending->second.order, rpc::ReplyStatus(reply.reply())});
        pending_.erase(pending);
      }
    } catch (const zmq::error_t& error) {
      LOG(WARNING) << "copy answers from " << address << ": " << error.what();
    }
  }
  for (auto pending = pending_.begin(); pending != pending_.end();) {
    const CopyOrder& order = pending->second.order;
    if (!is_up(order.source) || !is_up(order.destination)) {
      outcomes.push_back({order, Status::Error(EHOSTDOWN, "chunkserver " +
                                                              std::to_string(is_up(order.source) ? order.destination
                                                                                                 : order.source) +
                                                              " is down")});
    } else if (now_ms - pending->second.sent_ms >= timeout_ms_) {
      outcomes.push_back({order, Status::Error(ETIMEDOUT, "no answer from " + pending->second.address + " within " +
                                                              std::to_string(timeout_ms_) + " ms")});
    } else {
      ++pending;
      continue;
    }
    pending = pending_.erase(pending);
  }
  return outcomes;
}

void CopyDispatcher::Clear() {
  pending_.clear();
  sockets_.clear();
}

}  // namespace hafs::master
