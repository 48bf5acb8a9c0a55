// Request/reply over ZeroMQ, as docs/design.md ("Wire protocol") describes: a client
// DEALER sends [Envelope][data?], a server ROUTER receives [identity][Envelope][data?]
// and answers on the same identity. Malformed frames are an error value, never a crash.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <zmq.hpp>

#include "common/curve_keys.h"
#include "common/log.h"
#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs::rpc {

// Largest message a server accepts, all its frames together (a chunk write is at most
// 64 MiB of data); ZeroMQ enforces it per frame as well.
inline constexpr int64_t kMaxMessageBytes = 72LL * 1024 * 1024;

// The process-wide ZeroMQ context.
zmq::context_t& Context();

// Makes every socket of this process use CurveZMQ (docs/security.md): servers with
// `own` as their key pair and the ZAP handler (curve::KeyAuthority) deciding who gets
// in, clients with `own` as their identity. Called once at start, before any socket;
// without it (--insecure, unit tests) sockets are plaintext and every request is allowed.
void UseCurve(curve::KeyPair own, std::string master_public_key);
bool CurveOn();

// A server to connect to: its address and, with CURVE, the public key it must prove; or a
// chunkserver's plain data port (common/data_frame_auth.h), reached without CURVE, where
// every request is a chunk read, write or truncate authenticated with its token's MAC.
struct Peer {
  std::string address;     // "host:port"
  std::string public_key = "";  // Z85; empty without CURVE
  bool plain = false;
  bool operator==(const Peer&) const = default;
};
// A master: they share one key pair, named in the authorized keys file.
Peer MasterPeer(const std::string& address);
// A chunkserver as the master placed it, with the key it proved registering.
Peer PeerOf(const wire::ChunkserverAddress& chunkserver);
// Where a chunk read, write or truncate carrying `token` goes: the chunkserver's plain data
// port when it registered one and the token has a MAC to authenticate with; else PeerOf.
Peer DataPeerOf(const wire::ChunkserverAddress& chunkserver, const wire::ChunkToken& token);

// Sets a client socket up to connect to `peer`: with CURVE when it is on. False when CURVE
// is on and no key is known for the peer: the caller must not connect (never plaintext).
bool SecureAsClientOf(zmq::socket_t& socket, const Peer& peer);

struct Message {
  wire::Envelope envelope;
  zmq::message_t data;  // the bulk data frame; empty when has_data is false
  bool has_data = false;
};

struct Incoming {
  zmq::message_t identity;  // the ROUTER routing id of the sender
  Message message;
  std::string peer_key;     // with CURVE: the sender's public key (Z85), proven in its handshake
  // EBADMSG when the request does not decode or has too many frames, EMSGSIZE when its
  // frames together pass kMaxMessageBytes: then `message.envelope` holds only the request
  // id (EnvelopeHeader) and the server answers with this error.
  Status malformed;
  std::string peer_address;  // the sender's IP address as ZeroMQ saw it (exports' from=)
};

// "tcp://host:port" for a "host:port".
std::string Endpoint(const std::string& host_port);

// Makes a ROUTER socket bound to host:port; port 0 picks a free port. Returns the
// bound "host:port" in *bound_address. `plain`: without CURVE (and so without the ZAP
// handler) whatever UseCurve said: a chunkserver's plain data port, which authenticates
// each request itself (common/data_frame_auth.h).
Result<zmq::socket_t> BindRouter(const std::string& host_port, std::string* bound_address, bool plain = false);

// Receives one request from a ROUTER socket that poll() said is readable. EAGAIN when
// there is none; a request that cannot be used is an Incoming with `malformed` set.
Result<Incoming> ReceiveRequest(zmq::socket_t& router);

// The request id of an envelope frame read from its first fields alone (EnvelopeHeader),
// for answering a request that does not decode as a whole; 0 when even those do not parse.
uint64_t RequestIdOf(const zmq::message_t& envelope_frame);

// What a server checks before any handler sees a request: `malformed`, whether the
// sender's key may make it (CheckPeer), then the request's fields (CheckRequest). The
// error to answer with, or OK.
Status CheckReceived(const Incoming& incoming);

// With CURVE: EACCES unless `peer_key` is authorized now and its role may make `request`.
Status CheckPeer(const std::string& peer_key, const wire::Envelope& request);

// The sender's public key of a frame received on a CURVE socket ("" otherwise).
std::string PeerKeyOf(const zmq::message_t& frame);

// Sends a reply (and an optional data frame) to `identity` on a ROUTER socket.
Status SendReply(zmq::socket_t& router, const zmq::message_t& identity, const wire::Envelope& reply,
                 zmq::message_t* data = nullptr);

// Reply envelope for `request` carrying `status` (request_id echoed).
wire::Envelope MakeReply(const wire::Envelope& request, const Status& status = Status::Ok());

// The Status a reply carries (OK when reply.error is 0).
Status ReplyStatus(const wire::Reply& reply);

// Logs `what` and `why` as a warning, at most at `limit`'s rate, saying how many lines it
// held back: for what any peer can cause as fast as it likes (a refused request, a report).
void LogAtRate(LogRateLimit& limit, const std::string& what, const Status& why);

// A new unique request id for this process.
uint64_t NextRequestId();

// One DEALER connection to one server; not thread-safe (use one per thread).
class Connection {
 public:
  explicit Connection(Peer peer);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `request` (request_id is filled in when 0) with an optional data frame and
  // waits up to timeout_ms for the matching reply. Transport failures (ETIMEDOUT,
  // EBADMSG) are errors; a reply with a non-zero error is still a Message. After a
  // timeout the socket is replaced so that a late reply cannot be mistaken for the next.
  // To a plain peer, `request` must be a data request with a token MAC (else EINVAL): it
  // goes sealed (SealDataRequest), and a reply whose authenticator fails is EPROTO.
  Result<Message> Call(wire::Envelope request, zmq::message_t* data, int timeout_ms);
  Result<Message> Call(wire::Envelope request, int timeout_ms) { return Call(std::move(request), nullptr, timeout_ms); }

  // Call in two halves, so the caller can work while the peer does (a chunkserver
  // forwards a write down the chain, stores it locally, then waits): Send returns the
  // request id to pass to Wait; both count against the deadline `timeout_ms` after Send.
  Result<uint64_t> Send(wire::Envelope request, zmq::message_t* data, int timeout_ms);
  Result<Message> Wait(uint64_t request_id);

  const std::string& address() const { return address_; }

 private:
  friend size_t WaitForAny(std::span<Connection* const> connections);
  void Reset();
  std::string address_;
  std::string server_key_;
  bool plain_ = false;
  std::string call_key_;  // plain: the token MAC of the call in progress, to check its reply
  zmq::socket_t socket_;
  std::chrono::steady_clock::time_point deadline_;  // of the call in progress
  int timeout_ms_ = 0;
};

// Of `connections` (non-empty, each between Send and Wait), the index of one whose Wait
// will not block: something arrived on it, or its deadline passed. Lets a caller that
// asked several servers at once take the first answer.
size_t WaitForAny(std::span<Connection* const> connections);

// This thread's connection to `peer`, made on first use and kept.
Connection& ThreadConnection(const Peer& peer);

}  // namespace hafs::rpc
