// The master's side of chunk access tokens (docs/design.md, "Chunk access tokens"): a read
// token for every chunk of a GetChunks answer, a read and write token for the chain of every
// write lease, and a read token naming the source of every self-healing copy. Tokens go into
// answers after MasterState made them, so none is ever logged, checkpointed or kept in the
// deduplication record: a retried request gets a fresh one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "common/access_token.h"

namespace hafs::master {

class TokenIssuer {
 public:
  // No key: tokens are off and nothing is issued.
  TokenIssuer(std::optional<TokenKey> key, int64_t lifetime_ms) : key_(std::move(key)), lifetime_ms_(lifetime_ms) {}

  // Adds tokens to `reply`, the answer to `request`, if it is a successful get_chunks or
  // write_lease answer, or a delegation answer with chunks placed ahead. `now_ms`: the wall clock.
  void AddTokens(const wire::Envelope& request, wire::Reply* reply, int64_t now_ms) const;
  // The source token of a copy of `chunk_id` at `chunk_version` from `source_address`
  // (empty without a key).
  wire::ChunkToken CopyToken(uint64_t chunk_id, uint64_t chunk_version, const std::string& source_address,
                             int64_t now_ms) const;
  // Whether a client's report of a bad replica comes with a read token this cluster issued
  // for that chunk, unexpired at `now_ms` (OK without a key); EACCES saying why not.
  Status CheckReport(const wire::ReportBadReplicaRequest& report, int64_t now_ms) const;

 private:
  // A read and write token for `location`'s chain, ending with a write lease of `lease_ms`.
  void AddWriteToken(wire::ChunkLocation* location, uint32_t lease_ms, int64_t now_ms) const;

  const std::optional<TokenKey> key_;
  const int64_t lifetime_ms_;
};

}  // namespace hafs::master
