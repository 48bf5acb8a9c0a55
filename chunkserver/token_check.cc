#include "chunkserver/token_check.h"

#include "common/clock.h"

namespace hafs {
namespace {

ChunkAccessRequest Access(uint64_t chunk_id, uint64_t chunk_version, wire::ChunkAccess mode) {
  ChunkAccessRequest access;
  access.chunk_id = chunk_id;
  access.chunk_version = chunk_version;
  access.mode = mode;
  return access;
}

}  // namespace

Status TokenCheck::Read(const wire::ReadChunkRequest& request) const {
  if (!key_) return Status::Ok();
  return VerifyChunkToken(*key_, request.token(),
                          Access(request.chunk_id(), request.chunk_version(), wire::CHUNK_ACCESS_READ), WallClockMs());
}

template <typename Body>
Status TokenCheck::Chained(const Body& request) const {
  if (!key_) return Status::Ok();
  ChunkAccessRequest access = Access(request.chunk_id(), request.chunk_version(), wire::CHUNK_ACCESS_WRITE);
  access.own_address = state_.address();
  for (const wire::ChunkserverAddress& replica : request.chain()) access.downstream.push_back(replica.address());
  return VerifyChunkToken(*key_, request.token(), access, WallClockMs());
}

Status TokenCheck::Write(const wire::WriteChunkRequest& request) const { return Chained(request); }

Status TokenCheck::Truncate(const wire::TruncateChunkRequest& request) const { return Chained(request); }

Status TokenCheck::Fallocate(const wire::FallocateChunkRequest& request) const { return Chained(request); }

Status TokenCheck::Copy(const wire::ReplicateChunkRequest& request) const {
  if (!key_) return Status::Ok();
  const wire::ChunkToken& token = request.source_token();
  Status status = VerifyChunkToken(
      *key_, token, Access(request.chunk_id(), request.chunk_version(), wire::CHUNK_ACCESS_READ), WallClockMs());
  if (status.ok() && (token.chain_size() != 1 || token.chain(0) != request.source())) {
    return Status::Error(
        EACCES, "chunk access token refused: it does not name " + request.source() + " as the source of the copy");
  }
  return status;
}

}  // namespace hafs
