// The chunkserver's plain data port (--plain-data-listen; docs/security.md, "Data frames:
// encrypted or plain"): ReadChunk, WriteChunk and TruncateChunk without CurveZMQ, each
// request and reply authenticated with its chunk access token's MAC (frames and MAC in
// common/data_frame_auth.h). The data service's proxy opens requests here and hands them
// to the same workers as the CURVE port's.
//
// Route frame: a worker gets [route][envelope][data?] and echoes the route in front of its
// answer as it would a routing id; the route says which socket the answer goes back on:
//
//   'C', then the sender's routing id                       the CURVE port
//   'P', then the 32-byte reply key, then the routing id    the plain port
//
// The reply key never leaves the process (the workers' socket is inproc).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "common/access_token.h"
#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs::plain_port {

zmq::message_t CurveRoute(const zmq::message_t& identity);
zmq::message_t PlainRoute(std::string_view reply_key, const zmq::message_t& identity);

struct Route {
  bool plain = false;
  std::string reply_key;  // plain only
  zmq::message_t identity;
};
// nullopt for a frame CurveRoute or PlainRoute did not make.
std::optional<Route> ParseRoute(const zmq::message_t& route);

// A request as it came in on the plain port: [identity][authenticator][envelope][data?].
struct Opened {
  // OK: authenticated, and `request`'s token carries the MAC recomputed from its fields.
  // Otherwise the error to answer with: EACCES (no or a bad authenticator, not a data
  // request), EBADMSG (frames that are not a request).
  Status status;
  wire::Envelope request;  // when refused, at least the request id if it could be read
  std::string reply_key;   // "" when none could be derived: then no answer authenticates
};
Opened Open(const TokenKey& token_key, const std::vector<zmq::message_t>& frames);

// Sends [identity][authenticator][envelope][data?] on the plain port, the authenticator
// over `envelope`'s bytes with `reply_key` (an empty frame without a key).
Status SendReply(zmq::socket_t& plain, const zmq::message_t& identity, std::string_view reply_key,
                 zmq::message_t envelope, zmq::message_t* data);
Status SendReply(zmq::socket_t& plain, const zmq::message_t& identity, std::string_view reply_key,
                 const wire::Envelope& reply, zmq::message_t* data);

}  // namespace hafs::plain_port
