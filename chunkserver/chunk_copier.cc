#include "chunkserver/chunk_copier.h"

#include <algorithm>
#include <thread>

#include "chunkserver/chunkserver_metrics.h"
#include "common/block_checksum.h"
#include "common/log.h"
#include "common/rpc.h"

namespace hafs {
namespace {

// Read from the source this much at a time: large enough to stream, small enough that a
// client read to either server is never queued behind a long transfer.
constexpr uint64_t kCopyPieceBytes = 4 << 20;

}  // namespace

void ChunkCopier::Pace(uint64_t bytes) {
  auto cost = std::chrono::nanoseconds(bytes * 1000000000ull / (uint64_t{options_.mib_per_s} << 20));
  std::chrono::steady_clock::time_point start;
  {
    std::lock_guard lock(pace_mutex_);
    start = std::max(std::chrono::steady_clock::now(), next_free_);
    next_free_ = start + cost;
  }
  std::this_thread::sleep_until(start);
}

Status ChunkCopier::CopyData(const wire::ReplicateChunkRequest& request, uint64_t epoch) {
  rpc::Connection& source = rpc::ThreadConnection({request.source(), request.source_public_key()});
  uint64_t length = kChunkSize;  // the stored length, known from the first answer
  for (uint64_t offset = 0; offset < length; offset += kCopyPieceBytes) {
    uint64_t piece = std::min(kCopyPieceBytes, length - offset);
    Pace(piece);
    wire::Envelope read;
    read.set_epoch(epoch);
    wire::ReadChunkRequest* body = read.mutable_read_chunk();
    body->set_chunk_id(request.chunk_id());
    body->set_chunk_version(request.chunk_version());
    body->set_offset(offset);
    body->set_length(static_cast<uint32_t>(piece));
    *body->mutable_token() = request.source_token();
    auto answer = source.Call(std::move(read), options_.read_timeout_ms);
    if (!answer) return answer.error();
    if (Status status = rpc::ReplyStatus(answer->envelope.reply()); !status.ok()) {
      return Status::Error(status.error(), "source " + request.source() + ": " + status.message());
    }
    length = std::min(length, answer->envelope.reply().chunk_length());
    if (offset >= length) break;
    uint64_t useful = std::min(piece, length - offset);
    if (answer->data.size() < useful) return Status::Error(EBADMSG, "short piece from " + request.source());
    auto bytes = std::span(static_cast<const std::byte*>(answer->data.data()), useful);
    if (Status written = store_.Write(request.chunk_id(), 0, offset, bytes); !written.ok()) return written;
    Metrics().copied_bytes.Increment(useful);
  }
  if (length == 0) return store_.Write(request.chunk_id(), 0, 0, {});
  return store_.Sync(request.chunk_id());
}

Status ChunkCopier::Copy(const wire::ReplicateChunkRequest& request, uint64_t epoch) {
  if (request.chunk_version() == 0 || request.source().empty()) {
    return Status::Error(EINVAL, "a copy needs a chunk version and a source");
  }
  if (Status allowed = tokens_.Copy(request); !allowed.ok()) return allowed;
  if (running_.fetch_add(1) >= options_.max_copies) {
    running_.fetch_sub(1);
    Metrics().copies.With("busy").Increment();
    return Status::Error(EAGAIN, "already running " + std::to_string(options_.max_copies) + " copies");
  }
  (void)store_.Delete(request.chunk_id());  // a stale local copy, if any
  Status copied = CopyData(request, epoch);
  if (copied.ok()) copied = store_.Write(request.chunk_id(), request.chunk_version(), 0, {});
  if (copied.ok()) copied = store_.Sync(request.chunk_id());
  if (!copied.ok()) {
    LOG(WARNING) << "copy of chunk " << request.chunk_id() << " v" << request.chunk_version() << " from "
                 << request.source() << " failed: " << copied.ToString();
    (void)store_.Delete(request.chunk_id());
  }
  running_.fetch_sub(1);
  Metrics().copies.With(copied.ok() ? "ok" : "failed").Increment();
  return copied;
}

}  // namespace hafs
