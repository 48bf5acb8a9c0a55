#include "chunkserver/master_link.h"

#include "common/log.h"

namespace hafs {
namespace {

constexpr int kRegisterRetryMs = 500;

}  // namespace

void MasterLink::Start() {
  heartbeat_interval_ms_ = options_.heartbeat_interval_ms;
  thread_ = std::thread(&MasterLink::Run, this);
}

void MasterLink::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool MasterLink::SleepMs(int ms) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
}

void MasterLink::Run() {
  // Connections are made here: a zmq socket belongs to the thread that uses it.
  try {
    for (const auto& master : options_.masters) connections_.push_back(std::make_unique<rpc::Connection>(master));
  } catch (const zmq::error_t& error) {
    LOG(ERROR) << "bad master address, not registering: " << error.what();
    return;
  }
  bool said_waiting = false;
  while (true) {
    if (!registered_) {
      if (Register()) {
        said_waiting = false;
      } else {
        if (!said_waiting) {
          LOG(INFO) << "waiting for a master to register with";
        }
        said_waiting = true;
        if (!SleepMs(kRegisterRetryMs)) break;
        continue;
      }
    }
    if (!SleepMs(heartbeat_interval_ms_)) break;
    Heartbeat();
  }
  connections_.clear();
}

Result<rpc::Message> MasterLink::CallMaster(wire::Envelope request) {
  request.set_epoch(state_.epoch());
  auto answer = connections_[current_master_]->Call(std::move(request), options_.call_timeout_ms);
  if (!answer) current_master_ = (current_master_ + 1) % connections_.size();
  return answer;
}

void MasterLink::HandleCommonReply(const rpc::Message& answer) {
  state_.AdmitEpoch(answer.envelope.epoch());
  for (uint64_t chunk_id : answer.envelope.reply().delete_chunks()) {
    Status deleted = store_.Delete(chunk_id);
    if (deleted.ok()) {
      LOG(INFO) << "deleted chunk " << chunk_id << " as the master asked";
    } else if (deleted.error() != ENOENT) {
      LOG(WARNING) << "cannot delete chunk " << chunk_id << ": " << deleted.ToString();
    }
  }
}

bool MasterLink::Register() {
  wire::Envelope request;
  auto* body = request.mutable_register_();
  body->set_chunkserver_uuid(store_.uuid());
  body->set_address(state_.address());
  *body->mutable_space() = store_.Space();
  body->set_label(options_.label);
  for (auto& chunk : store_.Chunks()) *body->add_chunks() = std::move(chunk);
  auto answer = CallMaster(std::move(request));
  if (!answer) return false;
  const wire::Reply& reply = answer->envelope.reply();
  if (reply.error() != 0) {
    LOG(WARNING) << "master refused registration: " << rpc::ReplyStatus(reply).ToString();
    return false;
  }
  HandleCommonReply(*answer);
  state_.set_chunkserver_id(reply.chunkserver_id());
  if (reply.heartbeat_interval_ms() > 0) heartbeat_interval_ms_ = static_cast<int>(reply.heartbeat_interval_ms());
  registered_ = true;
  LOG(INFO) << "registered with master " << options_.masters[current_master_] << " as chunkserver "
            << reply.chunkserver_id() << " (" << body->chunks_size() << " chunks)";
  return true;
}

bool MasterLink::Heartbeat() {
  std::vector<wire::ChunkReport> lost = store_.TakeLostChunks();
  wire::Envelope request;
  auto* body = request.mutable_heartbeat();
  body->set_chunkserver_id(state_.chunkserver_id());
  *body->mutable_space() = store_.Space();
  body->set_chunk_count(store_.ChunkCount());
  body->set_requests_in_flight(state_.requests_in_flight());
  body->set_full(store_.Full());
  for (const auto& chunk : lost) *body->add_lost_chunks() = chunk;
  auto answer = CallMaster(std::move(request));
  if (!answer) {
    store_.PutBackLostChunks(lost);
    LOG(DEBUG) << "heartbeat not answered: " << answer.error().ToString();
    return false;
  }
  const wire::Reply& reply = answer->envelope.reply();
  if (reply.error() == ENOENT) {
    LOG(INFO) << "the master does not know this chunkserver (it restarted?); registering again";
    store_.PutBackLostChunks(lost);
    registered_ = false;
    return false;
  }
  if (reply.error() != 0) {
    store_.PutBackLostChunks(lost);
    LOG(WARNING) << "heartbeat refused: " << rpc::ReplyStatus(reply).ToString();
    return false;
  }
  HandleCommonReply(*answer);
  return true;
}

}  // namespace hafs
