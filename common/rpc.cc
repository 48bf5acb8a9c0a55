#include "common/rpc.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/data_frame_auth.h"
#include "common/key_authority.h"
#include "common/log.h"
#include "common/message_codec.h"
#include "common/request_roles.h"

namespace hafs::rpc {
namespace {

std::atomic<uint64_t> g_next_request_id{1};

// Set once by UseCurve before any socket exists, read-only afterwards.
bool g_curve = false;
curve::KeyPair g_own_keys;
std::string g_master_public_key;

// Receives the remaining frames of a multipart message; false if the peer sent more
// frames than the protocol allows.
bool ReceiveRest(zmq::socket_t& socket, std::vector<zmq::message_t>* frames, size_t max_frames) {
  while (true) {
    bool more = frames->empty() || frames->back().more();
    if (!more) return true;
    zmq::message_t frame;
    if (!socket.recv(frame, zmq::recv_flags::none)) return false;
    if (frames->size() == max_frames) {
      // Drain the rest so the socket stays usable, then reject the message.
      while (frame.more()) {
        if (!socket.recv(frame, zmq::recv_flags::none)) break;
      }
      return false;
    }
    frames->push_back(std::move(frame));
  }
}

Result<Message> ParseFrames(std::vector<zmq::message_t>& frames, size_t first) {
  if (frames.size() <= first) return Fail(EBADMSG, "message without an envelope frame");
  Message message;
  const zmq::message_t& header = frames[first];
  Status decoded = DecodeEnvelope(header.data(), header.size(), &message.envelope);
  if (!decoded.ok()) return Fail(decoded);
  if (frames.size() > first + 1) {
    message.data = std::move(frames[first + 1]);
    message.has_data = true;
  }
  return message;
}

std::string_view View(const zmq::message_t& frame) { return {static_cast<const char*>(frame.data()), frame.size()}; }

bool SendEnvelope(zmq::socket_t& socket, const wire::Envelope& envelope, bool more) {
  std::string bytes = envelope.SerializeAsString();
  zmq::message_t frame(bytes.data(), bytes.size());
  return socket.send(frame, more ? zmq::send_flags::sndmore : zmq::send_flags::none).has_value();
}

}  // namespace

zmq::context_t& Context() {
  static zmq::context_t* context = new zmq::context_t(2);  // never destroyed: threads may outlive main
  return *context;
}

std::string Endpoint(const std::string& host_port) { return "tcp://" + host_port; }

void UseCurve(curve::KeyPair own, std::string master_public_key) {
  g_own_keys = std::move(own);
  g_master_public_key = std::move(master_public_key);
  g_curve = true;
}

bool CurveOn() { return g_curve; }

Peer MasterPeer(const std::string& address) { return Peer{address, g_master_public_key}; }

Peer PeerOf(const wire::ChunkserverAddress& chunkserver) {
  return Peer{chunkserver.address(), chunkserver.public_key()};
}

Peer DataPeerOf(const wire::ChunkserverAddress& chunkserver, const wire::ChunkToken& token) {
  if (chunkserver.plain_data_address().empty() || token.mac().size() != kTokenMacBytes) return PeerOf(chunkserver);
  return Peer{chunkserver.plain_data_address(), "", true};
}

bool SecureAsClientOf(zmq::socket_t& socket, const Peer& peer) {
  if (!g_curve || peer.plain) return true;
  if (!curve::IsZ85Key(peer.public_key)) return false;
  socket.set(zmq::sockopt::curve_serverkey, peer.public_key);
  socket.set(zmq::sockopt::curve_publickey, g_own_keys.public_key);
  socket.set(zmq::sockopt::curve_secretkey, g_own_keys.secret_key);
  return true;
}

// 0 leaves the sender without a matching reply: it times out.
uint64_t RequestIdOf(const zmq::message_t& frame) {
  wire::EnvelopeHeader header;
  if (frame.size() > static_cast<size_t>(INT32_MAX)) return 0;
  return header.ParseFromArray(frame.data(), static_cast<int>(frame.size())) ? header.request_id() : 0;
}

std::string PeerKeyOf(const zmq::message_t& frame) {
  const char* key = zmq_msg_gets(frame.handle(), "User-Id");
  return key == nullptr ? std::string() : std::string(key);
}

std::string PeerAddressOf(const zmq::message_t& frame) {
  const char* address = zmq_msg_gets(frame.handle(), "Peer-Address");
  return address == nullptr ? std::string() : std::string(address);
}

Status CheckPeer(const std::string& peer_key, const wire::Envelope& request) {
  if (!g_curve) return Status::Ok();
  auto role = curve::KeyAuthority::RoleOf(peer_key);
  if (!role) return Status::Error(EACCES, "the key " + peer_key + " is not authorized (any more)");
  if (!curve::MayAsk(*role, request.body_case())) {
    return Status::Error(EACCES, std::string("a ") + curve::RoleName(*role) + " key may not make a " +
                                     RequestName(request) + " request");
  }
  return Status::Ok();
}

Result<zmq::socket_t> BindRouter(const std::string& host_port, std::string* bound_address, bool plain) {
  try {
    zmq::socket_t router(Context(), zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.set(zmq::sockopt::maxmsgsize, kMaxMessageBytes);
    router.set(zmq::sockopt::router_mandatory, 0);
    if (g_curve && !plain) {
      router.set(zmq::sockopt::curve_server, true);
      router.set(zmq::sockopt::curve_secretkey, g_own_keys.secret_key);
      router.set(zmq::sockopt::zap_domain, "hafs");
    }
    std::string endpoint = Endpoint(host_port);
    // ZeroMQ spells "any port" as '*'.
    if (endpoint.size() > 2 && endpoint.ends_with(":0")) endpoint = endpoint.substr(0, endpoint.size() - 1) + "*";
    router.bind(endpoint);
    std::string last = router.get(zmq::sockopt::last_endpoint);
    *bound_address = last.starts_with("tcp://") ? last.substr(6) : last;
    return router;
  } catch (const zmq::error_t& error) {
    return Fail(error.num(), "cannot listen on " + host_port + ": " + error.what());
  }
}

Result<Incoming> ReceiveRequest(zmq::socket_t& router) {
  std::vector<zmq::message_t> frames;
  zmq::message_t identity;
  if (!router.recv(identity, zmq::recv_flags::dontwait)) return Fail(EAGAIN, "no message");
  frames.push_back(std::move(identity));
  bool within_frame_count = ReceiveRest(router, &frames, 3);
  if (frames.size() < 2) return Fail(EBADMSG, "message without an envelope frame");
  auto refuse = [&](Status why) {
    Incoming incoming{std::move(frames[0]), {}, PeerKeyOf(frames[1]), std::move(why), PeerAddressOf(frames[1])};
    incoming.message.envelope.set_request_id(RequestIdOf(frames[1]));
    return incoming;
  };
  if (!within_frame_count) return refuse(Status::Error(EBADMSG, "more frames than an envelope and its data"));
  size_t total_bytes = 0;
  for (size_t i = 1; i < frames.size(); ++i) total_bytes += frames[i].size();
  if (total_bytes > static_cast<size_t>(kMaxMessageBytes)) {
    return refuse(Status::Error(EMSGSIZE, "a message of " + std::to_string(total_bytes) + " bytes, over the limit of " +
                                              std::to_string(kMaxMessageBytes)));
  }
  std::string peer_key = PeerKeyOf(frames[1]);
  std::string peer_address = PeerAddressOf(frames[1]);
  auto message = ParseFrames(frames, 1);
  if (!message) return refuse(message.error());
  return Incoming{std::move(frames[0]), std::move(*message), std::move(peer_key), Status::Ok(), std::move(peer_address)};
}

void LogAtRate(LogRateLimit& limit, const std::string& what, const Status& why) {
  uint64_t held_back = 0;
  if (!limit.Allow(MonotonicMs(), &held_back)) return;
  LOG(WARNING) << what << ": " << why.ToString()
               << (held_back != 0 ? " (" + std::to_string(held_back) + " more like it were not logged)" : "");
}

Status CheckReceived(const Incoming& incoming) {
  if (!incoming.malformed.ok()) return incoming.malformed;
  const Message& message = incoming.message;
  if (Status allowed = CheckPeer(incoming.peer_key, message.envelope); !allowed.ok()) return allowed;
  return CheckRequest(message.envelope, message.has_data ? message.data.size() : 0);
}

Status SendReply(zmq::socket_t& router, const zmq::message_t& identity, const wire::Envelope& reply,
                 zmq::message_t* data) {
  try {
    zmq::message_t id_copy;
    id_copy.copy(const_cast<zmq::message_t&>(identity));
    if (!router.send(id_copy, zmq::send_flags::sndmore)) return Status::Error(EAGAIN, "reply not sent");
    if (!SendEnvelope(router, reply, data != nullptr)) return Status::Error(EAGAIN, "reply not sent");
    if (data != nullptr && !router.send(*data, zmq::send_flags::none))
      return Status::Error(EAGAIN, "reply data not sent");
    return Status::Ok();
  } catch (const zmq::error_t& error) {
    return Status::Error(error.num(), std::string("reply not sent: ") + error.what());
  }
}

wire::Envelope MakeReply(const wire::Envelope& request, const Status& status) {
  wire::Envelope reply;
  reply.set_request_id(request.request_id());
  wire::Reply* body = reply.mutable_reply();
  if (!status.ok()) {
    body->set_error(status.error());
    body->set_error_message(status.message());
  }
  return reply;
}

Status ReplyStatus(const wire::Reply& reply) {
  if (reply.error() == 0) return Status::Ok();
  return Status::Error(reply.error(), reply.error_message());
}

uint64_t NextRequestId() { return g_next_request_id.fetch_add(1, std::memory_order_relaxed); }

Connection::Connection(Peer peer)
    : address_(std::move(peer.address)), server_key_(std::move(peer.public_key)), plain_(peer.plain) {
  Reset();
}

void Connection::Reset() {
  socket_ = zmq::socket_t(Context(), zmq::socket_type::dealer);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::reconnect_ivl, 50);
  socket_.set(zmq::sockopt::reconnect_ivl_max, 500);
  socket_.set(zmq::sockopt::maxmsgsize, kMaxMessageBytes);
  // Without the server's key no handshake could succeed: Send says why. Never plaintext.
  if (SecureAsClientOf(socket_, Peer{address_, server_key_, plain_})) socket_.connect(Endpoint(address_));
}

Result<Message> Connection::Call(wire::Envelope request, zmq::message_t* data, int timeout_ms) {
  auto request_id = Send(std::move(request), data, timeout_ms);
  if (!request_id) return Fail(request_id.error());
  return Wait(*request_id);
}

Result<uint64_t> Connection::Send(wire::Envelope request, zmq::message_t* data, int timeout_ms) {
  if (request.request_id() == 0) request.set_request_id(NextRequestId());
  const uint64_t request_id = request.request_id();
  deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  timeout_ms_ = timeout_ms;
  if (g_curve && !plain_ && !curve::IsZ85Key(server_key_)) {
    return Fail(EACCES, "no CURVE public key known for " + address_ + " (is it a registered chunkserver?)");
  }
  std::optional<SealedDataRequest> sealed;
  if (plain_) {
    std::optional<std::string_view> data_view;
    if (data != nullptr) data_view = View(*data);
    auto made = SealDataRequest(std::move(request), data_view);
    if (!made) return Fail(made.error());
    sealed = std::move(*made);
    call_key_ = sealed->key;
  }
  auto send_envelope = [&] {
    if (!sealed) return SendEnvelope(socket_, request, data != nullptr);
    auto more = data != nullptr ? zmq::send_flags::sndmore : zmq::send_flags::none;
    return socket_.send(zmq::buffer(sealed->authenticator), zmq::send_flags::sndmore).has_value() &&
           socket_.send(zmq::buffer(sealed->envelope_bytes), more).has_value();
  };
  try {
    socket_.set(zmq::sockopt::sndtimeo, timeout_ms);
    if (!send_envelope() || (data != nullptr && !socket_.send(*data, zmq::send_flags::none))) {
      Reset();
      return Fail(ETIMEDOUT, "cannot send to " + address_);
    }
  } catch (const zmq::error_t& error) {
    Reset();
    return Fail(error.num(), "call to " + address_ + " failed: " + error.what());
  }
  return request_id;
}

size_t WaitForAny(std::span<Connection* const> connections) {
  while (true) {
    auto now = std::chrono::steady_clock::now();
    size_t earliest = 0;
    std::vector<zmq::pollitem_t> items;
    for (size_t i = 0; i < connections.size(); i++) {
      if (connections[i]->deadline_ < connections[earliest]->deadline_) earliest = i;
      items.push_back({connections[i]->socket_.handle(), 0, ZMQ_POLLIN, 0});
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(connections[earliest]->deadline_ - now);
    if (left.count() <= 0) return earliest;
    try {
      zmq::poll(items.data(), items.size(), left);
    } catch (const zmq::error_t&) {
      continue;  // EINTR: poll again until the deadline
    }
    for (size_t i = 0; i < items.size(); i++) {
      if (items[i].revents & ZMQ_POLLIN) return i;
    }
  }
}

Result<Message> Connection::Wait(uint64_t request_id) {
  try {
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
      // Past the deadline, still take an answer that is already here: a caller that waited
      // for several connections in turn must not lose the later ones' answers to the time
      // an earlier one took.
      bool last_look = left.count() <= 0;
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, last_look ? std::chrono::milliseconds(0) : left);
      if (!(item.revents & ZMQ_POLLIN)) {
        if (last_look) break;
        continue;
      }
      std::vector<zmq::message_t> frames;
      zmq::message_t first;
      if (!socket_.recv(first, zmq::recv_flags::dontwait)) continue;
      frames.push_back(std::move(first));
      // A plain peer's reply has its authenticator in front (data_frame_auth.h).
      size_t envelope_frame = plain_ ? 1 : 0;
      if (!ReceiveRest(socket_, &frames, envelope_frame + 2)) {
        LOG(WARNING) << "dropped a malformed reply from " << address_;
        continue;
      }
      auto reply = ParseFrames(frames, envelope_frame);
      if (!reply) {
        LOG(WARNING) << "dropped a reply from " << address_ << ": " << reply.error().ToString();
        continue;
      }
      if (reply->envelope.request_id() != request_id) continue;  // a late answer to an earlier call
      if (!reply->envelope.has_reply()) return Fail(EBADMSG, "answer from " + address_ + " is not a reply");
      if (plain_) {
        // Not EBADMSG: that would report the replica's data as bad, and this is the wire.
        std::optional<std::string_view> data;
        if (reply->has_data) data = View(reply->data);
        Status authentic =
            CheckDataFrameAuthenticator(call_key_, FrameDirection::kReply, View(frames[1]), data, View(frames[0]));
        if (!authentic.ok()) return Fail(EPROTO, "reply from " + address_ + ": " + authentic.message());
      }
      return reply;
    }
  } catch (const zmq::error_t& error) {
    Reset();
    return Fail(error.num(), "call to " + address_ + " failed: " + error.what());
  }
  Reset();
  return Fail(ETIMEDOUT, "no answer from " + address_ + " within " + std::to_string(timeout_ms_) + " ms");
}

Connection& ThreadConnection(const Peer& peer) {
  thread_local std::unordered_map<std::string, std::unique_ptr<Connection>> connections;
  auto& slot = connections[peer.address + " " + peer.public_key + (peer.plain ? " plain" : "")];
  if (!slot) slot = std::make_unique<Connection>(peer);
  return *slot;
}

}  // namespace hafs::rpc
