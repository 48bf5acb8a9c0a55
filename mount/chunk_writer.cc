#include "mount/chunk_writer.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "common/block_checksum.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/rpc.h"
#include "mount/chunk_range.h"

namespace hafs::mount {
namespace {

// New chains tried for one chunk operation before it fails; each failure removes at
// least one replica or renews a stale lease, so a handful is plenty.
constexpr int kChainAttempts = 8;
constexpr int kStalePauseMs = 50;
// Slack between this mount's clock and the master's when counting a write lease down.
constexpr int64_t kLeaseMarginMs = 1000;

// What a chained request (WriteChunkRequest, TruncateChunkRequest, FallocateChunkRequest) takes from its lease: the
// chunk and version, the replicas after chain[0] (as the first replica forwards them), the
// chunk access token and the head's forward timeout.
template <typename Body>
void SetLease(const WriteLease& lease, int forward_timeout_ms, Body* body) {
  const wire::ChunkLocation& chain = lease.chain;
  body->set_chunk_id(chain.chunk_id());
  body->set_chunk_version(chain.chunk_version());
  for (int i = 1; i < chain.replicas_size(); ++i) *body->add_chain() = chain.replicas(i);
  if (chain.has_token()) *body->mutable_token() = chain.token();
  body->set_forward_timeout_ms(forward_timeout_ms);
}

}  // namespace

Result<WriteLease> ChunkWriter::AskForLease(uint64_t inode, uint64_t chunk_index, const std::vector<uint32_t>& failed,
                                            const wire::Credentials& writer) {
  wire::Envelope request;
  wire::WriteLeaseRequest* ask = request.mutable_write_lease();
  ask->set_inode(inode);
  *ask->mutable_credentials() = writer;
  ask->set_chunk_index(chunk_index);
  for (uint32_t id : failed) ask->add_failed_chunkservers(id);
  int64_t asked_ms = MonotonicMs();
  auto reply = master_.Call(std::move(request));
  if (!reply) return Fail(reply.error());
  // Asked for again before the lease ends, and before its chunk access token does.
  int64_t renew_at_ms = std::min(asked_ms + reply->write_lease_ms() - WriteCallTimeoutMs(options_) - kLeaseMarginMs,
                                 TokenRefreshAtMs(reply->location().token(), asked_ms));
  WriteLease lease{reply->location(), reply->replication_goal(), std::max<uint32_t>(1, reply->min_write_replicas()),
                   renew_at_ms, reply->lease_token(), asked_ms};
  if (lease.chain.chunk_id() == 0 || lease.chain.replicas_size() == 0) return Fail(EIO, "write lease without replicas");
  if (static_cast<uint32_t>(lease.chain.replicas_size()) < lease.min_write_replicas) {
    return Fail(EIO, "write chain has " + std::to_string(lease.chain.replicas_size()) + " replicas, fewer than " +
                         std::to_string(lease.min_write_replicas));
  }
  return lease;
}

Result<WriteLease> ChunkWriter::Lease(OpenFile& file, uint64_t chunk_index, const std::vector<uint32_t>& failed,
                                      bool renew) {
  wire::Credentials writer;
  {
    std::lock_guard lock(file.mutex);
    auto cached = file.leases.find(chunk_index);
    if (!renew && cached != file.leases.end() && MonotonicMs() < cached->second.renew_at_ms) return cached->second;
    writer = file.writer;
  }
  auto lease = AskForLease(file.inode, chunk_index, failed, writer);
  if (!lease) return lease;
  locations_.Put(file.inode, chunk_index, lease->chain, lease->asked_ms);
  std::lock_guard lock(file.mutex);
  file.leases[chunk_index] = *lease;
  return lease;
}

Status ChunkWriter::RunOnChain(OpenFile& file, uint64_t chunk_index, const RequestBuilder& build,
                               std::optional<std::string_view> data) {
  {
    std::lock_guard lock(file.mutex);
    file.chain_operations++;
  }
  Status status = RunOnChainCounted(file, chunk_index, build, data);
  std::lock_guard lock(file.mutex);
  file.chain_operations--;
  return status;
}

void ChunkWriter::Absorb(const wire::ChunkserverAddress& target, const Result<rpc::Message>& answer, bool renewed,
                         Attempt* attempt) {
  if (!answer) {
    attempt->failed.push_back(target.chunkserver_id());
    picker_.Failed(target.address(), MonotonicMs());
    attempt->last_replica_error = answer.error().error();
    attempt->why = "no answer from " + target.address() + ": " + answer.error().ToString();
    return;
  }
  master_.ObserveEpoch(answer->envelope.epoch());
  const wire::Reply& reply = answer->envelope.reply();
  bool timed_out = false;
  size_t failed_before = attempt->failed.size();
  bool stale = false;
  for (const auto& result : reply.replica_results()) {
    if (result.error() == 0) continue;
    attempt->last_replica_error = result.error();
    if (result.error() == ESTALE) {
      stale = true;
      continue;
    }
    // A replica that timed out also "times out" everyone after it (nothing reached
    // them); only the first is known to be bad.
    if (result.error() == ETIMEDOUT && std::exchange(timed_out, true)) continue;
    attempt->failed.push_back(result.chunkserver_id());
    picker_.Failed(result.address(), MonotonicMs());
  }
  if (reply.error() != 0 && attempt->failed.size() == failed_before && !stale) {
    // The replica failed before it could list anyone. EACCES: it refused our chunk access
    // token, which a new lease renews, unless that lease was new already (then it refuses
    // every token: another key, or a clock far off).
    attempt->last_replica_error = reply.error();
    if (reply.error() == ESTALE || (reply.error() == EACCES && !renewed)) {
      stale = true;
    } else {
      attempt->failed.push_back(target.chunkserver_id());
    }
  }
  attempt->stale = attempt->stale || stale;
  if (reply.error() != 0 || attempt->failed.size() != failed_before || stale) {
    attempt->why = "via " + target.address() + ": " + rpc::ReplyStatus(reply).ToString();
  }
}

ChunkWriter::Attempt ChunkWriter::SendOnce(const WriteLease& lease, wire::Envelope request,
                                           std::optional<std::string_view> data, bool renewed) {
  Attempt attempt;
  const wire::ChunkLocation& chain = lease.chain;
  bool fan_out = data && data->size() <= kMaxFanOutBytes && request.has_write_chunk() && chain.replicas_size() > 1;
  if (!fan_out) {
    std::optional<zmq::message_t> frame;
    if (data) frame.emplace(data->data(), data->size());
    const wire::ChunkserverAddress& head = chain.replicas(0);
    auto answer = rpc::ThreadConnection(rpc::DataPeerOf(head, chain.token()))
                      .Call(std::move(request), frame ? &*frame : nullptr, WriteCallTimeoutMs(options_));
    Absorb(head, answer, renewed, &attempt);
    return attempt;
  }
  // Small: to every replica at once, each storing it alone (no downstream), so the write
  // costs one hop's time, not a hop per replica (docs/design.md, "Small writes").
  request.mutable_write_chunk()->clear_chain();
  std::vector<std::pair<rpc::Connection*, Result<uint64_t>>> sent;
  for (const wire::ChunkserverAddress& replica : chain.replicas()) {
    rpc::Connection& connection = rpc::ThreadConnection(rpc::DataPeerOf(replica, chain.token()));
    zmq::message_t frame(data->data(), data->size());
    sent.emplace_back(&connection, connection.Send(request, &frame, WriteCallTimeoutMs(options_)));
  }
  for (int i = 0; i < chain.replicas_size(); ++i) {
    auto& [connection, id] = sent[static_cast<size_t>(i)];
    if (id) {
      Absorb(chain.replicas(i), connection->Wait(*id), renewed, &attempt);
    } else {
      Absorb(chain.replicas(i), Fail(id.error()), renewed, &attempt);
    }
  }
  return attempt;
}

Status ChunkWriter::RunOnChainCounted(OpenFile& file, uint64_t chunk_index, const RequestBuilder& build,
                                      std::optional<std::string_view> data) {
  std::vector<uint32_t> failed;
  bool renew = false;
  int last_replica_error = 0;
  for (int attempt = 0; attempt < kChainAttempts; ++attempt) {
    auto lease = Lease(file, chunk_index, failed, renew);
    if (!lease) {
      // Out of replicas because they are full: the application should hear ENOSPC.
      if (last_replica_error == ENOSPC) return Status::Error(ENOSPC, lease.error().message());
      return lease.error();
    }
    wire::Envelope request = build(*lease);
    request.set_epoch(master_.epoch());
    Attempt outcome = SendOnce(*lease, std::move(request), data, renew);
    if (outcome.failed.empty() && !outcome.stale) return Status::Ok();
    failed = std::move(outcome.failed);
    if (outcome.last_replica_error != 0) last_replica_error = outcome.last_replica_error;
    LOG(WARNING) << "write to chunk " << lease->chain.chunk_id() << " " << outcome.why << ", " << failed.size()
                 << " replica(s) failed" << (outcome.stale ? ", lease stale" : "") << "; retrying on a new chain";
    if (outcome.stale && failed.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(kStalePauseMs));
    renew = true;
  }
  return Status::Error(last_replica_error == ENOSPC ? ENOSPC : EIO,
                       "chunk " + std::to_string(chunk_index) + " of inode " + std::to_string(file.inode) +
                           ": no working write chain after " + std::to_string(kChainAttempts) + " attempts");
}

Status ChunkWriter::WriteThrough(OpenFile& file, uint64_t offset, std::string_view data,
                                 const std::set<uint64_t>& syncing) {
  for (const ChunkPiece& piece : SplitIntoChunks(offset, data.size(), kChunkSize)) {
    bool sync = syncing.contains(piece.chunk_index);
    auto build = [&](const WriteLease& lease) {
      wire::Envelope request;
      wire::WriteChunkRequest* write = request.mutable_write_chunk();
      SetLease(lease, options_.write_timeout_ms, write);
      write->set_offset(piece.offset_in_chunk);
      write->set_sync(sync);
      return request;
    };
    Status status = RunOnChain(file, piece.chunk_index, build, data.substr(piece.buffer_offset, piece.length));
    if (!status.ok()) return status;
    std::lock_guard lock(file.mutex);
    if (sync) {
      file.unsynced_chunks.erase(piece.chunk_index);
    } else {
      file.unsynced_chunks.insert(piece.chunk_index);
    }
  }
  return Status::Ok();
}

bool ChunkWriter::Hold(OpenFile& file, uint64_t offset, std::string_view data) {
  uint64_t file_limit = static_cast<uint64_t>(options_.write_buffer_kb) * 1024;
  if (data.size() > kMaxHeldWrite || data.size() > file_limit) return false;
  std::lock_guard lock(file.mutex);
  if (file.held.bytes() + data.size() > file_limit) return false;
  // Counted before it is known how much overlaps: the total is a bound, not a tally.
  if (held_bytes_.fetch_add(data.size()) + data.size() > kMaxHeldBytes) {
    held_bytes_ -= data.size();
    return false;
  }
  uint64_t before = file.held.bytes();
  file.held.Add(offset, data);
  held_bytes_ -= data.size() - (file.held.bytes() - before);
  return true;
}

Status ChunkWriter::Write(OpenFile& file, uint64_t offset, std::string_view data, bool may_hold) {
  if (!may_hold || !Hold(file, offset, data)) {
    std::lock_guard writing(file.writing_out);
    Status status = WriteOutLocked(file);
    // Held again when there is room now; otherwise after what was held, straight out.
    if (status.ok() && !(may_hold && Hold(file, offset, data))) status = WriteThrough(file, offset, data);
    if (!status.ok()) return status;
  }
  std::lock_guard lock(file.mutex);
  file.end_offset = std::max(file.end_offset, offset + data.size());
  file.unreported = true;
  file.mtime_ns = WallClockNs();
  return Status::Ok();
}

Status ChunkWriter::WriteOutLocked(OpenFile& file, bool sync) {
  std::vector<WriteBuffer::Extent> extents;
  {
    std::lock_guard lock(file.mutex);
    held_bytes_ -= file.held.bytes();
    extents = file.held.Take();
  }
  // With `sync`: which chunks each extent is the last to write to.
  std::vector<std::set<uint64_t>> syncing(extents.size());
  if (sync) {
    std::set<uint64_t> later;
    for (size_t i = extents.size(); i-- > 0;) {
      for (const ChunkPiece& piece : SplitIntoChunks(extents[i].offset, extents[i].data.size(), kChunkSize)) {
        if (later.insert(piece.chunk_index).second) syncing[i].insert(piece.chunk_index);
      }
    }
  }
  for (size_t i = 0; i < extents.size(); ++i) {
    const WriteBuffer::Extent& extent = extents[i];
    Status status = WriteThrough(file, extent.offset, extent.data, syncing[i]);
    if (!status.ok()) {
      // The application hears of it at the file's next close or fsync (as after a failed
      // writeback of a local file's pages); what is left of the buffer is lost with it.
      LOG(WARNING) << "held writes to inode " << file.inode << " did not reach the replicas: " << status.ToString();
      std::lock_guard lock(file.mutex);
      if (file.held_error.ok()) file.held_error = status;
      return status;
    }
  }
  return Status::Ok();
}

Status ChunkWriter::WriteOut(OpenFile& file) {
  std::lock_guard writing(file.writing_out);
  return WriteOutLocked(file);
}

Status ChunkWriter::WriteOutBeforeRead(OpenFile& file, uint64_t offset, uint64_t length) {
  {
    std::lock_guard lock(file.mutex);
    if (!file.held.Overlaps(offset, length)) return Status::Ok();
  }
  return WriteOut(file);
}

Status ChunkWriter::TakeHeldError(OpenFile& file) {
  std::lock_guard lock(file.mutex);
  return std::exchange(file.held_error, Status::Ok());
}

Status ChunkWriter::Sync(OpenFile& file) {
  {
    std::lock_guard writing(file.writing_out);
    (void)WriteOutLocked(file, /*sync=*/true);  // a failure is in held_error
  }
  if (Status held = TakeHeldError(file); !held.ok()) return held;
  std::set<uint64_t> chunks;
  {
    std::lock_guard lock(file.mutex);
    chunks.swap(file.unsynced_chunks);
  }
  for (uint64_t chunk_index : chunks) {
    auto build = [&](const WriteLease& lease) {
      wire::Envelope request;
      wire::WriteChunkRequest* write = request.mutable_write_chunk();
      SetLease(lease, options_.write_timeout_ms, write);
      write->set_offset(0);
      write->set_sync(true);
      return request;
    };
    Status status = RunOnChain(file, chunk_index, build, std::string_view());
    if (!status.ok()) {
      std::lock_guard lock(file.mutex);
      file.unsynced_chunks.insert(chunks.begin(), chunks.end());  // still to be synced
      return status;
    }
  }
  return Status::Ok();
}

Status ChunkWriter::TruncateChunk(OpenFile& file, uint64_t chunk_index, uint64_t new_length) {
  auto build = [&](const WriteLease& lease) {
    wire::Envelope request;
    wire::TruncateChunkRequest* truncate = request.mutable_truncate_chunk();
    SetLease(lease, options_.write_timeout_ms, truncate);
    truncate->set_new_length(new_length);
    return request;
  };
  return RunOnChain(file, chunk_index, build, std::nullopt);
}

Status ChunkWriter::FallocateChunk(OpenFile& file, uint64_t chunk_index, uint64_t offset, uint64_t length, bool punch) {
  auto build = [&](const WriteLease& lease) {
    wire::Envelope request;
    wire::FallocateChunkRequest* fallocate = request.mutable_fallocate_chunk();
    SetLease(lease, options_.write_timeout_ms, fallocate);
    fallocate->set_offset(offset);
    fallocate->set_length(length);
    fallocate->set_punch(punch);
    return request;
  };
  return RunOnChain(file, chunk_index, build, std::nullopt);
}

void ChunkWriter::TakeLeases(OpenFile& file, google::protobuf::RepeatedPtrField<wire::LeaseToRelease>* released) {
  if (file.chain_operations > 0) return;
  for (const auto& [index, lease] : file.leases) {
    wire::LeaseToRelease* release = released->Add();
    release->set_chunk_id(lease.chain.chunk_id());
    release->set_lease_token(lease.token);
  }
  file.leases.clear();
}

Result<std::optional<wire::Attr>> ChunkWriter::ReportWrites(OpenFile& file, bool closing) {
  (void)WriteOut(file);  // a failure is in held_error
  if (Status held = TakeHeldError(file); !held.ok()) return Fail(held);
  wire::Envelope request;
  {
    std::lock_guard lock(file.mutex);
    if (file.unreported) {
      file.unreported = false;
      wire::WriteDoneRequest* done = request.mutable_write_done();
      done->set_inode(file.inode);
      done->set_end_offset(file.end_offset);
      done->set_mtime_ns(file.mtime_ns);
      *done->mutable_credentials() = file.writer;
      if (closing) TakeLeases(file, done->mutable_release_leases());
    } else if (closing) {
      // All reported already (by fsync): the leases go back on their own.
      TakeLeases(file, request.mutable_release_leases()->mutable_leases());
    }
  }
  if (request.has_release_leases()) {
    // Best effort: a lease not released runs out by itself.
    if (request.release_leases().leases_size() > 0) (void)master_.Call(std::move(request));
    return std::nullopt;
  }
  if (!request.has_write_done()) return std::nullopt;
  auto reply = master_.Call(std::move(request));
  if (!reply) {
    std::lock_guard lock(file.mutex);
    file.unreported = true;
    return Fail(reply.error());
  }
  return reply->attr();
}

}  // namespace hafs::mount
