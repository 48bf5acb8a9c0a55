#include "chunkserver/data_service.h"

#include <algorithm>
#include <cstring>
#include <deque>

#include "chunkserver/chunkserver_metrics.h"
#include "chunkserver/plain_data_port.h"
#include "chunkserver/replication_chain.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/message_codec.h"

namespace hafs {
namespace {

constexpr int kWorkerPollMs = 100;  // how soon a worker notices Stop()

// Largest read the proxy thread serves itself. Every other request waits behind it: a
// read this size costs the proxy a copy and the checksums of at most three 64 KiB blocks
// (tens of microseconds), while the two wake-ups it saves cost the same at any size; past
// this, a read goes to a worker as before.
constexpr uint64_t kMaxProxyReadBytes = 128 * 1024;
// Requests, and their bytes, that the proxy holds for a worker before it stops reading the
// public socket: peers sending writes faster than the disks take them wait in their own
// queues, and cannot grow this daemon past about this much.
constexpr size_t kMaxWaitingRequests = 4096;
constexpr size_t kMaxWaitingBytes = 512ull << 20;

std::atomic<int> g_next_service_number{0};

std::span<const std::byte> Bytes(const zmq::message_t& message) {
  return {static_cast<const std::byte*>(message.data()), message.size()};
}

// What the plain port advertises: its bound port on the host clients reach the CURVE port
// at, when that was set (a wildcard bound address is no address to connect to).
std::string PlainAdvertised(const std::string& advertise_address, const std::string& plain_bound) {
  size_t host_end = advertise_address.rfind(':');
  size_t port_at = plain_bound.rfind(':');
  if (advertise_address.empty() || host_end == std::string::npos || port_at == std::string::npos) return plain_bound;
  return advertise_address.substr(0, host_end) + plain_bound.substr(port_at);
}

}  // namespace

Result<std::string> DataService::Start() {
  std::string bound_address;
  auto frontend = rpc::BindRouter(options_.listen, &bound_address);
  if (!frontend) return Fail(frontend.error());
  std::optional<zmq::socket_t> plain;
  std::string plain_bound;
  if (!options_.plain_data_listen.empty()) {
    if (!options_.token_key) return Fail(EINVAL, "a plain data port needs chunk access tokens (a --token-key-file)");
    auto bound_plain = rpc::BindRouter(options_.plain_data_listen, &plain_bound, /*plain=*/true);
    if (!bound_plain) return Fail(bound_plain.error());
    plain = std::move(*bound_plain);
  }
  int number = g_next_service_number.fetch_add(1);
  backend_endpoint_ = "inproc://hafs-chunkserver-workers-" + std::to_string(number);
  control_endpoint_ = "inproc://hafs-chunkserver-control-" + std::to_string(number);
  try {
    zmq::socket_t backend(rpc::Context(), zmq::socket_type::router);
    backend.set(zmq::sockopt::linger, 0);
    backend.bind(backend_endpoint_);
    zmq::socket_t control(rpc::Context(), zmq::socket_type::pair);
    control.bind(control_endpoint_);
    proxy_thread_ = std::thread(&DataService::ProxyLoop, this, std::move(*frontend), std::move(plain),
                                std::move(backend), std::move(control));
  } catch (const zmq::error_t& error) {
    return Fail(error.num(), std::string("cannot start the data service: ") + error.what());
  }
  state_.set_address(options_.advertise_address.empty() ? bound_address : options_.advertise_address);
  if (!plain_bound.empty()) state_.set_plain_data_address(PlainAdvertised(options_.advertise_address, plain_bound));
  for (int i = 0; i < std::max(1, options_.workers); ++i) worker_threads_.emplace_back(&DataService::WorkerLoop, this);
  LOG(INFO) << "data service listening on " << bound_address << " with " << worker_threads_.size() << " workers"
            << (plain_bound.empty() ? "" : "; plain data port (unencrypted chunk data) on " + plain_bound);
  return bound_address;
}

void DataService::Stop() {
  if (!proxy_thread_.joinable()) return;
  stopping_ = true;
  for (auto& worker : worker_threads_) worker.join();
  worker_threads_.clear();
  try {
    zmq::socket_t control(rpc::Context(), zmq::socket_type::pair);
    control.connect(control_endpoint_);
    control.send(zmq::str_buffer("TERMINATE"), zmq::send_flags::none);
  } catch (const zmq::error_t& error) {
    LOG(ERROR) << "cannot stop the data service proxy: " << error.what();
  }
  proxy_thread_.join();
}

// Between the public socket and the workers, some requests are answered here at once.
// Leadership leases: behind chunk writes on busy workers they could wait longer than the
// lease, and a loaded chunkserver would let the active master's lease lapse. Small reads
// of cached data: a worker would cost them two thread wake-ups. Every other request goes
// to an idle worker (each says so with an empty frame, then with each reply), or waits
// here for one: handed out in turn, a request could wait behind a worker stuck in a long
// copy or chain write while others sit idle, and two chunkservers copying from each
// other would each wait for the other's stuck worker.
void DataService::ProxyLoop(zmq::socket_t frontend, std::optional<zmq::socket_t> plain, zmq::socket_t backend,
                            zmq::socket_t control) {
  try {
    std::vector<zmq::message_t> frames;
    std::deque<zmq::message_t> idle_workers;                   // identities on the backend
    std::deque<std::vector<zmq::message_t>> waiting_requests;  // for an idle worker
    size_t waiting_bytes = 0;
    auto bytes_of = [](const std::vector<zmq::message_t>& request) {
      size_t bytes = 0;
      for (const zmq::message_t& frame : request) bytes += frame.size();
      return bytes;
    };
    auto dispatch = [&] {
      while (!idle_workers.empty() && !waiting_requests.empty()) {
        std::vector<zmq::message_t>& request = waiting_requests.front();
        waiting_bytes -= bytes_of(request);
        request.insert(request.begin(), std::move(idle_workers.front()));
        idle_workers.pop_front();
        SendFrames(backend, &request);
        waiting_requests.pop_front();
      }
    };
    while (true) {
      // A full queue stops taking requests; the senders' queues hold them meanwhile.
      bool room = waiting_requests.size() < kMaxWaitingRequests && waiting_bytes < kMaxWaitingBytes;
      short frontend_events = room ? ZMQ_POLLIN : 0;
      zmq::pollitem_t items[] = {{control.handle(), 0, ZMQ_POLLIN, 0},
                                 {backend.handle(), 0, ZMQ_POLLIN, 0},
                                 {frontend.handle(), 0, frontend_events, 0},
                                 {plain ? plain->handle() : nullptr, 0, frontend_events, 0}};
      zmq::poll(items, plain ? 4 : 3, std::chrono::milliseconds(-1));
      if (items[0].revents & ZMQ_POLLIN) return;  // Stop()
      auto wait_for_worker = [&] {
        waiting_bytes += bytes_of(frames);
        waiting_requests.push_back(std::move(frames));
      };
      if ((items[2].revents & ZMQ_POLLIN) && ReceiveFrames(frontend, &frames) && !AnswerHere(frontend, frames)) {
        frames.front() = plain_port::CurveRoute(frames.front());
        wait_for_worker();
      }
      if (plain && (items[3].revents & ZMQ_POLLIN) && ReceiveFrames(*plain, &frames) &&
          !AnswerPlainHere(*plain, &frames)) {
        wait_for_worker();
      }
      if ((items[1].revents & ZMQ_POLLIN) && ReceiveFrames(backend, &frames) && !frames.empty()) {
        idle_workers.push_back(std::move(frames.front()));
        frames.erase(frames.begin());
        bool ready_only = frames.size() == 1 && frames.front().size() == 0;
        if (!ready_only) ReturnAnswer(frontend, plain, &frames);
      }
      dispatch();
    }
  } catch (const zmq::error_t& error) {
    LOG(ERROR) << "data service proxy stopped: " << error.what();
  }
}

bool DataService::ReceiveFrames(zmq::socket_t& socket, std::vector<zmq::message_t>* frames) {
  frames->clear();
  do {
    zmq::message_t frame;
    if (!socket.recv(frame, frames->empty() ? zmq::recv_flags::dontwait : zmq::recv_flags::none)) return false;
    frames->push_back(std::move(frame));
  } while (frames->back().more());
  return true;
}

void DataService::SendFrames(zmq::socket_t& socket, std::vector<zmq::message_t>* frames) {
  for (size_t i = 0; i < frames->size(); ++i) {
    bool last = i + 1 == frames->size();
    if (!socket.send((*frames)[i], last ? zmq::send_flags::none : zmq::send_flags::sndmore)) {
      LOG(WARNING) << "data service proxy could not pass a message on";
      return;
    }
  }
}

bool DataService::AnswerHere(zmq::socket_t& frontend, const std::vector<zmq::message_t>& frames) {
  if (frames.size() < 2 || frames.size() > 3) return false;  // [identity][envelope][data?]
  wire::Envelope request;
  if (!DecodeEnvelope(frames[1].data(), frames[1].size(), &request).ok()) return false;
  // Only here is the sender's key known: what reaches the workers came over inproc.
  if (Status allowed = rpc::CheckPeer(rpc::PeerKeyOf(frames[1]), request); !allowed.ok()) {
    rpc::LogAtRate(refusal_log_, "refused a " + RequestName(request) + " request", allowed);
    if (Status sent = rpc::SendReply(frontend, frames[0], rpc::MakeReply(request, allowed)); !sent.ok()) {
      LOG(WARNING) << "reply lost: " << sent.ToString();
    }
    return true;
  }
  if (frames.size() != 2) return false;  // leases and reads have no data frame
  zmq::message_t data;
  bool has_data = false;
  auto reply = Handle(request, &data, &has_data, ReadMode::kNoWait);
  if (!reply) return false;
  if (Status sent = rpc::SendReply(frontend, frames[0], *reply, has_data ? &data : nullptr); !sent.ok()) {
    LOG(WARNING) << "reply lost: " << sent.ToString();
  }
  return true;
}

bool DataService::AnswerPlainHere(zmq::socket_t& plain, std::vector<zmq::message_t>* frames) {
  plain_port::Opened opened = plain_port::Open(*options_.token_key, *frames);
  Metrics().plain_requests.With(opened.status.ok() ? "accepted" : "refused").Increment();
  auto answer = [&](const wire::Envelope& reply, zmq::message_t* data) {
    Status sent = plain_port::SendReply(plain, frames->front(), opened.reply_key, reply, data);
    if (!sent.ok()) {
      LOG(WARNING) << "reply lost: " << sent.ToString();
    }
  };
  if (!opened.status.ok()) {
    rpc::LogAtRate(refusal_log_, "refused a request on the plain data port", opened.status);
    Metrics().errors.With(metrics::ErrorKind(opened.status.error())).Increment();
    answer(rpc::MakeReply(opened.request, opened.status), nullptr);
    return true;
  }
  bool has_data_frame = frames->size() == 4;
  if (!has_data_frame) {
    zmq::message_t data;
    bool has_data = false;
    if (auto reply = Handle(opened.request, &data, &has_data, ReadMode::kNoWait)) {
      answer(*reply, has_data ? &data : nullptr);
      return true;
    }
  }
  // The worker checks the token as on the CURVE port, with the MAC put back.
  std::vector<zmq::message_t> for_worker;
  for_worker.push_back(plain_port::PlainRoute(opened.reply_key, frames->front()));
  std::string envelope = opened.request.SerializeAsString();
  for_worker.emplace_back(envelope.data(), envelope.size());
  if (has_data_frame) for_worker.push_back(std::move(frames->back()));
  *frames = std::move(for_worker);
  return false;
}

void DataService::ReturnAnswer(zmq::socket_t& frontend, std::optional<zmq::socket_t>& plain,
                               std::vector<zmq::message_t>* frames) {
  auto route = plain_port::ParseRoute(frames->front());
  if (!route || frames->size() < 2 || (route->plain && !plain)) {
    LOG(ERROR) << "a worker's answer without a route: dropped";
    return;
  }
  if (!route->plain) {
    frames->front() = std::move(route->identity);
    SendFrames(frontend, frames);
    return;
  }
  zmq::message_t* data = frames->size() > 2 ? &(*frames)[2] : nullptr;
  Status sent = plain_port::SendReply(*plain, route->identity, route->reply_key, std::move((*frames)[1]), data);
  if (!sent.ok()) {
    LOG(WARNING) << "reply lost: " << sent.ToString();
  }
}

void DataService::WorkerLoop() {
  try {
    zmq::socket_t socket(rpc::Context(), zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(backend_endpoint_);
    auto ready = [&socket] { socket.send(zmq::message_t(), zmq::send_flags::none); };
    ready();  // see ProxyLoop
    while (!stopping_) {
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(kWorkerPollMs));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      auto incoming = rpc::ReceiveRequest(socket);
      if (!incoming) {
        if (incoming.error().error() != EAGAIN) {
          rpc::LogAtRate(refusal_log_, "dropped a request", incoming.error());
          ready();  // no reply will say so
        }
        continue;
      }
      rpc::Message& message = incoming->message;
      bool has_data = message.has_data;
      wire::Envelope reply;
      if (!incoming->malformed.ok()) {
        // Answered, so that the sender does not wait out its timeout.
        rpc::LogAtRate(refusal_log_, "refused a request", incoming->malformed);
        reply = rpc::MakeReply(message.envelope, incoming->malformed);
        has_data = false;
      } else {
        reply = Handle(message.envelope, &message.data, &has_data);
      }
      Status sent = rpc::SendReply(socket, incoming->identity, reply, has_data ? &message.data : nullptr);
      if (!sent.ok()) {
        LOG(WARNING) << "reply lost: " << sent.ToString();
      }
    }
  } catch (const zmq::error_t& error) {
    LOG(ERROR) << "data service worker stopped: " << error.what();
  }
}

std::optional<wire::Envelope> DataService::Handle(const wire::Envelope& request, zmq::message_t* data, bool* has_data,
                                                  ReadMode mode) {
  // Writes and truncates wait for the disk and the chain.
  if (mode == ReadMode::kNoWait && !request.has_leadership_lease() && !request.has_read_chunk()) return std::nullopt;
  auto started = std::chrono::steady_clock::now();
  ChunkserverState::InFlight in_flight(state_);
  if (request.has_read_chunk() || request.has_write_chunk()) state_.NoteClientData(MonotonicMs());
  bool request_has_data = *has_data;
  *has_data = false;
  wire::Envelope reply = rpc::MakeReply(request);
  wire::Reply* body = reply.mutable_reply();
  Status status = CheckRequest(request, request_has_data ? data->size() : 0);
  if (!status.ok()) {
    // A malformed request: refused and logged below like any other.
  } else if (request.has_leadership_lease()) {
    // Fenced on the body's epoch inside; the envelope epoch of a refused candidate must
    // not raise the fence (it would cut off the holder before its lease expires).
    if (lease_ == nullptr) {
      status = Status::Error(EINVAL, "this chunkserver grants no leadership leases");
    } else {
      lease_->Handle(request.leadership_lease(), body);
    }
  } else if (!state_.Believable(request.epoch())) {
    status = Status::Error(EINVAL, "epoch " + std::to_string(request.epoch()) + " is more than " +
                                       std::to_string(kEpochWindow) + " above the highest learned from a master (" +
                                       std::to_string(state_.learned_epoch()) + ")");
  } else if (!state_.AdmitEpoch(request.epoch())) {
    status = Status::Error(
        ESTALE, "epoch " + std::to_string(request.epoch()) + " is older than " + std::to_string(state_.epoch()));
  } else if (request.has_read_chunk()) {
    status = HandleRead(request.read_chunk(), mode, body, data, has_data);
    if (mode == ReadMode::kNoWait && status.error() == EAGAIN) return std::nullopt;
  } else if (request.has_write_chunk()) {
    const auto& write = request.write_chunk();
    if (!request_has_data) *data = zmq::message_t();
    HandleChained(request, data, body, [&] {
      Status written = store_.Write(write.chunk_id(), write.chunk_version(), write.offset(), Bytes(*data));
      if (written.ok()) Metrics().written_bytes.Increment(data->size());
      return written.ok() && write.sync() ? store_.Sync(write.chunk_id()) : written;
    });
  } else if (request.has_replicate_chunk()) {
    status = copier_.Copy(request.replicate_chunk(), request.epoch());
  } else if (request.has_truncate_chunk()) {
    const auto& truncate = request.truncate_chunk();
    HandleChained(request, nullptr, body, [&] {
      return store_.Truncate(truncate.chunk_id(), truncate.chunk_version(), truncate.new_length());
    });
  } else if (request.has_fallocate_chunk()) {
    const auto& fallocate = request.fallocate_chunk();
    HandleChained(request, nullptr, body, [&] {
      return fallocate.punch() ? store_.PunchHole(fallocate.chunk_id(), fallocate.chunk_version(), fallocate.offset(),
                                                  fallocate.length())
                               : store_.Reserve(fallocate.chunk_id(), fallocate.chunk_version(), fallocate.offset(),
                                                fallocate.length());
    });
  } else {
    status = Status::Error(EBADMSG, "not a chunkserver request (body " + std::to_string(request.body_case()) + ")");
  }
  if (!status.ok()) {
    body->set_error(status.error());
    body->set_error_message(status.message());
    if (status.error() != ENOENT) rpc::LogAtRate(refusal_log_, "request refused", status);
  }
  // Counted once answered: a read the proxy hands on to a worker is counted by the worker.
  const std::string& op = RequestName(request);
  Metrics().requests.With(op).Increment();
  Metrics().request_duration.With(op).Observe(metrics::SecondsSince(started));
  if (body->error() != 0) Metrics().errors.With(metrics::ErrorKind(body->error())).Increment();
  reply.set_epoch(state_.epoch());
  return reply;
}

Status DataService::HandleRead(const wire::ReadChunkRequest& request, ReadMode mode, wire::Reply* reply,
                               zmq::message_t* data, bool* has_data) {
  if (request.length() > kChunkSize || request.offset() > kChunkSize - request.length()) {
    return Status::Error(EINVAL, "read beyond the chunk");
  }
  if (mode == ReadMode::kNoWait && request.length() > kMaxProxyReadBytes) {
    return Status::Error(EAGAIN, "too large a read for the proxy thread");
  }
  if (Status allowed = tokens_.Read(request); !allowed.ok()) return allowed;
  zmq::message_t out(request.length());
  auto length = store_.Read(request.chunk_id(), request.chunk_version(), request.offset(),
                            {static_cast<std::byte*>(out.data()), out.size()}, mode);
  if (!length) return length.error();
  // Bytes past the stored length are zeros, not data read.
  uint64_t stored_bytes = *length > request.offset() ? *length - request.offset() : 0;
  Metrics().read_bytes.Increment(std::min<uint64_t>(request.length(), stored_bytes));
  reply->set_chunk_length(*length);
  *data = std::move(out);
  *has_data = true;
  return Status::Ok();
}

template <typename StoreLocally>
void DataService::HandleChained(const wire::Envelope& request, zmq::message_t* data, wire::Reply* reply,
                                StoreLocally store_locally) {
  // Refused before anything is stored or forwarded: no replica results, like a fenced epoch.
  Status allowed = request.has_write_chunk()      ? tokens_.Write(request.write_chunk())
                   : request.has_truncate_chunk() ? tokens_.Truncate(request.truncate_chunk())
                                                  : tokens_.Fallocate(request.fallocate_chunk());
  if (!allowed.ok()) {
    rpc::LogAtRate(refusal_log_, "request refused", allowed);
    reply->set_error(allowed.error());
    reply->set_error_message(allowed.message());
    return;
  }
  ChainForward forward(request, data, state_.epoch());
  Status local = store_locally();
  if (!local.ok() && local.error() != ESTALE) {
    LOG(WARNING) << "chunk update failed: " << local.ToString();
  }
  uint64_t epoch_seen = 0;
  auto downstream = forward.Finish(&epoch_seen);
  if (state_.Believable(epoch_seen)) state_.AdmitEpoch(epoch_seen);
  auto* own = reply->add_replica_results();
  own->set_chunkserver_id(state_.chunkserver_id());
  own->set_address(state_.address());
  own->set_error(local.error());
  for (auto& result : downstream) *reply->add_replica_results() = std::move(result);
  // The answer succeeds only if every replica did; the first failure names the error.
  for (const auto& result : reply->replica_results()) {
    if (result.error() == 0) continue;
    reply->set_error(result.error());
    reply->set_error_message(local.ok() ? "replica " + result.address() + " failed: " + std::strerror(result.error())
                                        : local.message());
    break;
  }
}

}  // namespace hafs
