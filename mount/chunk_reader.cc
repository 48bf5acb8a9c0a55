#include "mount/chunk_reader.h"

#include <chrono>
#include <cstring>
#include <thread>

#include "common/block_checksum.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/rpc.h"
#include "mount/chunk_range.h"
#include "mount/mount_metrics.h"

namespace hafs::mount {
namespace {

// Rounds of "fetch locations again, try every replica" before a read fails with EIO;
// with the pause between them this rides out a master re-replicating a chunk.
constexpr int kReadRounds = 6;
constexpr int kRoundPauseMs = 250;

}  // namespace

Result<std::string> ChunkReader::Read(uint64_t inode, uint64_t offset, uint64_t length,
                                      const wire::Credentials& opener) {
  std::string buffer(length, '\0');
  for (const ChunkPiece& piece : SplitIntoChunks(offset, length, kChunkSize)) {
    Status status = ReadPiece(inode, piece.chunk_index, piece.offset_in_chunk, piece.length,
                              buffer.data() + piece.buffer_offset, opener);
    if (!status.ok()) return Fail(status);
  }
  return buffer;
}

Status ChunkReader::ReadPiece(uint64_t inode, uint64_t chunk_index, uint64_t offset_in_chunk, uint64_t length,
                              char* out, const wire::Credentials& opener) {
  Status last_error;
  for (int round = 0; round < kReadRounds; ++round) {
    if (round > 0) {
      locations_.ForgetChunk(inode, chunk_index);
      std::this_thread::sleep_for(std::chrono::milliseconds(kRoundPauseMs * round));
    }
    auto location = locations_.Get(inode, chunk_index, opener);
    if (!location) return location.error();  // the master client already retried
    if (location->chunk_id() == 0) {
      std::memset(out, 0, length);
      return Status::Ok();
    }
    std::vector<std::string> addresses;
    for (const auto& replica : location->replicas()) addresses.push_back(replica.address());
    bool stale = false;
    bool refused = false;
    for (size_t index : picker_.Order(addresses, location->chunk_id(), MonotonicMs())) {
      const wire::ChunkserverAddress& replica = location->replicas(index);
      Status status = ReadFromReplica(*location, replica, offset_in_chunk, length, out);
      if (status.ok()) return status;
      last_error = status;
      Metrics().replica_failovers.Increment();
      LOG(WARNING) << "read of chunk " << location->chunk_id() << " from " << replica.address()
                   << " failed: " << status.ToString();
      if (status.error() == ESTALE) {
        stale = true;  // our version is old: ask the master where the chunk is now
        break;
      }
      if (status.error() == EACCES) {
        // Our token expired or no longer fits: a new one comes with the location next round.
        // The next replica may still take this one (a replica with another key refuses
        // every token, and must not hold up the others).
        refused = true;
        continue;
      }
      picker_.Failed(replica.address(), MonotonicMs());
      if (status.error() == EBADMSG || status.error() == ENOENT) ReportBadReplica(*location, replica, status);
    }
    if (stale || refused) {
      LOG(INFO) << "chunk " << location->chunk_id() << (stale ? " moved to a new version" : ": access token refused")
                << ", refetching its location";
    }
  }
  LOG(ERROR) << "read of inode " << inode << " chunk " << chunk_index << " failed: " << last_error.ToString();
  return Status::Error(EIO, "every replica failed: " + last_error.ToString());
}

Status ChunkReader::ReadFromReplica(const wire::ChunkLocation& location, const wire::ChunkserverAddress& replica,
                                    uint64_t offset_in_chunk, uint64_t length, char* out) {
  wire::Envelope request;
  request.set_epoch(master_.epoch());
  wire::ReadChunkRequest* read = request.mutable_read_chunk();
  read->set_chunk_id(location.chunk_id());
  read->set_chunk_version(location.chunk_version());
  read->set_offset(offset_in_chunk);
  read->set_length(static_cast<uint32_t>(length));
  if (location.has_token()) *read->mutable_token() = location.token();
  OutstandingRead outstanding(picker_, replica.address());
  auto answer =
      rpc::ThreadConnection(rpc::DataPeerOf(replica, location.token())).Call(std::move(request), read_timeout_ms_);
  if (!answer) return answer.error();
  master_.ObserveEpoch(answer->envelope.epoch());
  Status status = rpc::ReplyStatus(answer->envelope.reply());
  if (!status.ok()) return status;
  if (!answer->has_data || answer->data.size() != length) {
    return Status::Error(EIO, "replica sent " + std::to_string(answer->data.size()) + " bytes, wanted " +
                                  std::to_string(length));
  }
  std::memcpy(out, answer->data.data(), length);
  return Status::Ok();
}

void ChunkReader::ReportBadReplica(const wire::ChunkLocation& location, const wire::ChunkserverAddress& replica,
                                   const Status& status) {
  wire::Envelope request;
  wire::ReportBadReplicaRequest* report = request.mutable_report_bad_replica();
  report->set_chunk_id(location.chunk_id());
  report->set_chunkserver_id(replica.chunkserver_id());
  report->set_error(status.error());
  report->set_reason(status.message());
  if (location.has_token()) *report->mutable_read_token() = location.token();
  auto reply = master_.CallOnce(std::move(request));  // best effort: the read goes on either way
  if (!reply) {
    LOG(WARNING) << "could not report a bad replica: " << reply.error().ToString();
  }
}

}  // namespace hafs::mount
