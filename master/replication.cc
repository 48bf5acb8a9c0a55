#include "master/replication.h"

#include <chrono>

#include "common/block_checksum.h"
#include "common/log.h"
#include "common/message_codec.h"

namespace hafs::master {

uint64_t SerializedChecksum(const std::string& bytes) {
  return RecordChecksum(std::span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
}

void RecordRing::Add(const wire::LogRecord& record) {
  Entry entry{record.position(), 0, record.SerializeAsString()};
  entry.checksum = SerializedChecksum(entry.bytes);
  if (!records_.empty() && records_.back().position + 1 != entry.position) Clear();
  bytes_ += entry.bytes.size();
  records_.push_back(std::move(entry));
  while (records_.size() > kMaxRecords || (bytes_ > kMaxBytes && records_.size() > 1)) {
    bytes_ -= records_.front().bytes.size();
    records_.pop_front();
  }
}

void RecordRing::Clear() {
  records_.clear();
  bytes_ = 0;
}

uint64_t RecordRing::ChecksumOf(uint64_t position) const {
  if (!Has(position)) return 0;
  return records_[position - first_position()].checksum;
}

void RecordRing::Fill(uint64_t first, size_t max_bytes, wire::AppendLogRequest* request) const {
  request->set_first_position(first);
  request->set_previous_record_checksum(ChecksumOf(first - 1));
  size_t bytes = 0;
  for (uint64_t position = first; Has(position); ++position) {
    const Entry& entry = records_[position - first_position()];
    if (bytes > 0 && bytes + entry.bytes.size() > max_bytes) break;
    bytes += entry.bytes.size();
    request->add_records(entry.bytes);
  }
}

PeerChannel::PeerChannel(std::string address) : address_(std::move(address)) { Reset(); }

void PeerChannel::Reset() {
  socket_ = zmq::socket_t(rpc::Context(), zmq::socket_type::dealer);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::reconnect_ivl, 50);
  socket_.set(zmq::sockopt::reconnect_ivl_max, 500);
  socket_.set(zmq::sockopt::maxmsgsize, rpc::kMaxMessageBytes);
  socket_.set(zmq::sockopt::sndhwm, 100);
  // The masters' key is known whenever CURVE is on (SetUpSecurity requires it).
  if (rpc::SecureAsClientOf(socket_, rpc::MasterPeer(address_))) socket_.connect(rpc::Endpoint(address_));
}

uint64_t PeerChannel::Send(wire::Envelope request) {
  if (request.request_id() == 0) request.set_request_id(rpc::NextRequestId());
  std::string bytes = request.SerializeAsString();
  try {
    zmq::message_t frame(bytes.data(), bytes.size());
    if (!socket_.send(frame, zmq::send_flags::dontwait)) return 0;
  } catch (const zmq::error_t&) {
    return 0;
  }
  return request.request_id();
}

std::optional<wire::Envelope> PeerChannel::Receive(uint64_t request_id, int wait_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  try {
    while (true) {
      zmq::message_t frame;
      if (socket_.recv(frame, zmq::recv_flags::dontwait)) {
        bool more = frame.more();
        while (more) {  // a data frame (fetch_checkpoint) is not expected here: drop it
          zmq::message_t rest;
          if (!socket_.recv(rest, zmq::recv_flags::none)) break;
          more = rest.more();
        }
        wire::Envelope reply;
        if (!DecodeEnvelope(frame.data(), frame.size(), &reply).ok() || !reply.has_reply()) continue;
        if (reply.request_id() == request_id) return reply;
        continue;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, left);
    }
  } catch (const zmq::error_t& error) {
    LOG(WARNING) << "peer channel to " << address_ << ": " << error.what();
    Reset();
    return std::nullopt;
  }
}

const char* StandbySyncName(StandbySync sync) {
  switch (sync) {
    case StandbySync::kInSync:
      return "in sync";
    case StandbySync::kCatchingUp:
      return "catching up";
    case StandbySync::kOutOfSync:
      return "out of sync";
  }
  return "?";
}

}  // namespace hafs::master
