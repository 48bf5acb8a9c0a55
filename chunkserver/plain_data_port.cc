#include "chunkserver/plain_data_port.h"

#include <cstring>

#include "common/data_frame_auth.h"
#include "common/rpc.h"

namespace hafs::plain_port {
namespace {

constexpr char kCurveMark = 'C';
constexpr char kPlainMark = 'P';

std::string_view View(const zmq::message_t& frame) { return {static_cast<const char*>(frame.data()), frame.size()}; }

zmq::message_t Joined(std::string_view head, const zmq::message_t& tail) {
  zmq::message_t joined(head.size() + tail.size());
  std::memcpy(joined.data(), head.data(), head.size());
  if (tail.size() != 0) std::memcpy(static_cast<char*>(joined.data()) + head.size(), tail.data(), tail.size());
  return joined;
}

}  // namespace

zmq::message_t CurveRoute(const zmq::message_t& identity) { return Joined(std::string_view(&kCurveMark, 1), identity); }

zmq::message_t PlainRoute(std::string_view reply_key, const zmq::message_t& identity) {
  std::string head(1, kPlainMark);
  head.append(reply_key.substr(0, kTokenMacBytes));
  head.resize(1 + kTokenMacBytes, '\0');  // fixed width, so ParseRoute finds the identity
  return Joined(head, identity);
}

std::optional<Route> ParseRoute(const zmq::message_t& route) {
  std::string_view bytes = View(route);
  if (bytes.empty()) return std::nullopt;
  Route parsed;
  size_t identity_at = 1;
  if (bytes[0] == kPlainMark) {
    if (bytes.size() < 1 + kTokenMacBytes) return std::nullopt;
    parsed.plain = true;
    parsed.reply_key = std::string(bytes.substr(1, kTokenMacBytes));
    identity_at += kTokenMacBytes;
  } else if (bytes[0] != kCurveMark) {
    return std::nullopt;
  }
  parsed.identity = zmq::message_t(bytes.data() + identity_at, bytes.size() - identity_at);
  return parsed;
}

Opened Open(const TokenKey& token_key, const std::vector<zmq::message_t>& frames) {
  Opened opened;
  // frames[0] is the routing id; ZeroMQ never delivers fewer than one frame after it.
  if (frames.size() < 2 || frames.size() > 4) {
    if (frames.size() > 2) opened.request.set_request_id(rpc::RequestIdOf(frames[2]));
    opened.status = Status::Error(EBADMSG, "not [authenticator][envelope][data?]");
    return opened;
  }
  // No authenticator: the first frame is most likely the envelope, whose request id lets
  // the sender see why.
  if (frames[1].size() != kDataFrameAuthenticatorBytes || frames.size() == 2) {
    opened.request.set_request_id(rpc::RequestIdOf(frames[1]));
    opened.status = Status::Error(EACCES, "a request to a plain data port without its authenticator frame");
    return opened;
  }
  std::optional<std::string_view> data;
  if (frames.size() == 4) data = View(frames[3]);
  opened.status =
      OpenDataRequest(token_key, View(frames[1]), View(frames[2]), data, &opened.request, &opened.reply_key);
  if (!opened.status.ok() && opened.request.request_id() == 0) {
    opened.request.set_request_id(rpc::RequestIdOf(frames[2]));
  }
  return opened;
}

Status SendReply(zmq::socket_t& plain, const zmq::message_t& identity, std::string_view reply_key,
                 zmq::message_t envelope, zmq::message_t* data) {
  std::optional<std::string_view> data_view;
  if (data != nullptr) data_view = View(*data);
  std::string authenticator =
      reply_key.empty() ? std::string()
                        : DataFrameAuthenticator(reply_key, FrameDirection::kReply, View(envelope), data_view);
  try {
    zmq::message_t id_copy;
    id_copy.copy(const_cast<zmq::message_t&>(identity));
    bool sent = plain.send(id_copy, zmq::send_flags::sndmore) &&
                plain.send(zmq::buffer(authenticator), zmq::send_flags::sndmore) &&
                plain.send(envelope, data != nullptr ? zmq::send_flags::sndmore : zmq::send_flags::none) &&
                (data == nullptr || plain.send(*data, zmq::send_flags::none));
    return sent ? Status::Ok() : Status::Error(EAGAIN, "reply not sent");
  } catch (const zmq::error_t& error) {
    return Status::Error(error.num(), std::string("reply not sent: ") + error.what());
  }
}

Status SendReply(zmq::socket_t& plain, const zmq::message_t& identity, std::string_view reply_key,
                 const wire::Envelope& reply, zmq::message_t* data) {
  std::string bytes = reply.SerializeAsString();
  return SendReply(plain, identity, reply_key, zmq::message_t(bytes.data(), bytes.size()), data);
}

}  // namespace hafs::plain_port
