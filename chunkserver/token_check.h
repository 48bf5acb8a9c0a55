// The chunkserver's side of chunk access tokens (docs/design.md, "Chunk access tokens"):
// with a token key, ReadChunk, WriteChunk and TruncateChunk are served, and ReplicateChunk
// obeyed, only with a token from the master for that chunk, version and kind of access.
// A write must also arrive at a replica the token's chain names, and may only name the
// replicas after it in that chain, so a chunkserver forwards only where the master placed
// replicas; a copy's token names its source, so a copy reads only from where the master
// said. Every failure is EACCES. Without a key, tokens are off and every check passes.
#pragma once

#include <optional>
#include <utility>

#include "chunkserver/chunkserver_state.h"
#include "common/access_token.h"

namespace hafs {

class TokenCheck {
 public:
  TokenCheck(std::optional<TokenKey> key, const ChunkserverState& state) : key_(std::move(key)), state_(state) {}

  Status Read(const wire::ReadChunkRequest& request) const;
  Status Write(const wire::WriteChunkRequest& request) const;
  Status Truncate(const wire::TruncateChunkRequest& request) const;
  Status Fallocate(const wire::FallocateChunkRequest& request) const;
  // The source token of a copy: a read token whose chain is exactly the copy's source.
  Status Copy(const wire::ReplicateChunkRequest& request) const;

 private:
  template <typename Body>
  Status Chained(const Body& request) const;

  const std::optional<TokenKey> key_;
  const ChunkserverState& state_;
};

}  // namespace hafs
