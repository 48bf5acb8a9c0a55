#include "chunkserver/master_link.h"

#include <cstring>

#include "common/clock.h"
#include "common/log.h"

namespace hafs {
namespace {

constexpr int kRegisterRetryMs = 500;

}  // namespace

MasterLink::MasterLink(ChunkStore& store, ChunkserverState& state, MasterLinkOptions options,
                       const LeadershipLease* lease)
    : store_(store), state_(state), options_(std::move(options)), lease_(lease) {
  for (size_t i = 0; i < options_.masters.size(); ++i) {
    auto peer = std::make_unique<Peer>();
    peer->address = options_.masters[i];
    peer->index = i;
    peer->heartbeat_interval_ms = options_.heartbeat_interval_ms;
    peers_.push_back(std::move(peer));
  }
}

void MasterLink::Start() {
  for (auto& peer : peers_) peer->thread = std::thread(&MasterLink::Run, this, std::ref(*peer));
}

void MasterLink::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& peer : peers_) {
    if (peer->thread.joinable()) peer->thread.join();
  }
}

bool MasterLink::registered() const {
  for (const auto& peer : peers_) {
    if (peer->registered) return true;
  }
  return false;
}

bool MasterLink::SleepUntil(int64_t deadline_ms) {
  std::unique_lock lock(mutex_);
  int64_t wait_ms = std::max<int64_t>(0, deadline_ms - MonotonicMs());
  return !wake_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return stopping_; });
}

void MasterLink::Run(Peer& peer) {
  // The connection is made here: a zmq socket belongs to the thread that uses it.
  std::unique_ptr<rpc::Connection> connection;
  try {
    connection = std::make_unique<rpc::Connection>(rpc::MasterPeer(peer.address));
  } catch (const zmq::error_t& error) {
    LOG(ERROR) << "bad master address " << peer.address << ", not registering with it: " << error.what();
    return;
  }
  bool said_waiting = false;
  int64_t next_heartbeat_ms = 0;
  while (true) {
    if (!peer.registered) {
      int64_t attempt_ms = MonotonicMs();
      if (Register(peer, *connection)) {
        said_waiting = false;
        next_heartbeat_ms = attempt_ms + peer.heartbeat_interval_ms;
      } else {
        if (!said_waiting) {
          LOG(INFO) << "waiting for master " << peer.address << " to register with";
        }
        said_waiting = true;
        if (!SleepUntil(attempt_ms + kRegisterRetryMs)) break;
        continue;
      }
    }
    if (!SleepUntil(next_heartbeat_ms)) break;
    // Due every interval from the previous start; after a long stall, not in a burst.
    int64_t started_ms = MonotonicMs();
    next_heartbeat_ms = std::max(next_heartbeat_ms + peer.heartbeat_interval_ms, started_ms);
    Heartbeat(peer, *connection);
  }
}

std::vector<wire::ChunkReport> MasterLink::TakeLost(Peer& peer) {
  std::lock_guard lock(lost_mutex_);
  for (const auto& chunk : store_.TakeLostChunks()) {
    for (auto& other : peers_) other->lost[chunk.chunk_id()] = chunk;
  }
  std::vector<wire::ChunkReport> mine;
  for (auto& [chunk_id, chunk] : peer.lost) mine.push_back(std::move(chunk));
  peer.lost.clear();
  return mine;
}

void MasterLink::PutBackLost(Peer& peer, const std::vector<wire::ChunkReport>& chunks) {
  std::lock_guard lock(lost_mutex_);
  for (const auto& chunk : chunks) peer.lost.try_emplace(chunk.chunk_id(), chunk);
}

void MasterLink::UpdateChunkserverId() {
  std::string holder = lease_ ? lease_->Holder() : std::string();
  const Peer* chosen = nullptr;
  for (const auto& peer : peers_) {
    if (!peer->registered) continue;
    if (!holder.empty() && peer->address == holder) {
      chosen = peer.get();
      break;
    }
    if (chosen == nullptr) chosen = peer.get();
  }
  if (chosen != nullptr && chosen->chunkserver_id != 0) state_.set_chunkserver_id(chosen->chunkserver_id);
}

void MasterLink::HandleCommonReply(Peer& peer, const rpc::Message& answer) {
  uint64_t reply_epoch = answer.envelope.epoch();
  bool fenced = reply_epoch != 0 && reply_epoch < state_.epoch();
  state_.LearnEpoch(reply_epoch);
  if (options_.verify_replica) {
    for (uint64_t chunk_id : answer.envelope.reply().verify_chunks()) options_.verify_replica(chunk_id);
  }
  const auto& deletions = answer.envelope.reply().delete_chunks();
  if (deletions.empty()) return;
  std::string why_not;
  if (fenced) {
    why_not = "its epoch " + std::to_string(reply_epoch) + " is below " + std::to_string(state_.epoch());
  } else if (lease_ != nullptr && lease_->EverGranted()) {
    std::string holder = lease_->Holder();
    if (holder != peer.address) {
      why_not = holder.empty() ? "no master holds this chunkserver's leadership lease now"
                               : "the leadership lease is held by " + holder;
    }
  }
  if (!why_not.empty()) {
    if (!peer.deletions_refused) {
      LOG(INFO) << "not deleting " << deletions.size() << " chunks master " << peer.address << " asks for: "
                << why_not;
    }
    peer.deletions_refused = true;
    return;
  }
  // A later batch taken does not bring back the ones refused before (the master sent those
  // once): only registering again does, which the next heartbeat under the lease does while
  // deletions_refused stays set.
  for (uint64_t chunk_id : deletions) {
    Status deleted = store_.Delete(chunk_id);
    if (deleted.ok()) {
      LOG(INFO) << "deleted chunk " << chunk_id << " as master " << peer.address << " asked";
    } else if (deleted.error() != ENOENT) {
      LOG(WARNING) << "cannot delete chunk " << chunk_id << ": " << deleted.ToString();
    }
  }
}

bool MasterLink::Register(Peer& peer, rpc::Connection& connection) {
  wire::Envelope request;
  request.set_epoch(state_.epoch());
  auto* body = request.mutable_register_();
  body->set_chunkserver_uuid(store_.uuid());
  body->set_address(state_.address());
  body->set_plain_data_address(state_.plain_data_address());
  *body->mutable_space() = store_.Space();
  body->set_label(options_.label);
  for (auto& chunk : store_.Chunks()) *body->add_chunks() = std::move(chunk);
  int chunk_count = body->chunks_size();
  auto answer = connection.Call(std::move(request), options_.call_timeout_ms);
  if (!answer) return false;
  const wire::Reply& reply = answer->envelope.reply();
  if (reply.error() != 0) {
    if (reply.error() != peer.last_refusal) {
      LOG(WARNING) << "master " << peer.address << " refused registration: " << rpc::ReplyStatus(reply).ToString();
    }
    peer.last_refusal = reply.error();
    return false;
  }
  peer.last_refusal = 0;
  HandleCommonReply(peer, *answer);
  peer.chunkserver_id = reply.chunkserver_id();
  if (reply.heartbeat_interval_ms() > 0) peer.heartbeat_interval_ms = static_cast<int>(reply.heartbeat_interval_ms());
  peer.registered = true;
  UpdateChunkserverId();
  LOG(INFO) << "registered with master " << peer.address << " as chunkserver " << reply.chunkserver_id() << " ("
            << chunk_count << " chunks)";
  return true;
}

bool MasterLink::Heartbeat(Peer& peer, rpc::Connection& connection) {
  std::vector<wire::ChunkReport> lost = TakeLost(peer);
  wire::Envelope request;
  request.set_epoch(state_.epoch());
  auto* body = request.mutable_heartbeat();
  body->set_chunkserver_id(peer.chunkserver_id);
  *body->mutable_space() = store_.Space();
  body->set_chunk_count(store_.ChunkCount());
  body->set_requests_in_flight(state_.requests_in_flight());
  body->set_full(store_.Full());
  for (const auto& chunk : lost) *body->add_lost_chunks() = chunk;
  auto answer = connection.Call(std::move(request), options_.call_timeout_ms);
  if (!answer) {
    PutBackLost(peer, lost);
    LOG(DEBUG) << "heartbeat to " << peer.address << " not answered: " << answer.error().ToString();
    return false;
  }
  const wire::Reply& reply = answer->envelope.reply();
  if (reply.error() == ENOENT) {
    LOG(INFO) << "master " << peer.address << " does not know this chunkserver (it restarted?); registering again";
    PutBackLost(peer, lost);
    peer.registered = false;
    return false;
  }
  if (reply.error() != 0) {
    PutBackLost(peer, lost);
    if (reply.error() != peer.last_refusal) {
      LOG(WARNING) << "heartbeat refused by " << peer.address << ": " << rpc::ReplyStatus(reply).ToString();
    }
    peer.last_refusal = reply.error();
    return false;
  }
  peer.last_refusal = 0;
  HandleCommonReply(peer, *answer);
  UpdateChunkserverId();
  if (peer.deletions_refused && lease_ != nullptr && lease_->Holder() == peer.address) {
    LOG(INFO) << "master " << peer.address << " holds the leadership lease now: registering again for the deletions "
              << "refused before";
    peer.deletions_refused = false;
    peer.registered = false;
  }
  return true;
}

}  // namespace hafs
