#include "master/token_issuer.h"

#include <algorithm>
#include <vector>

namespace hafs::master {

void TokenIssuer::AddTokens(const wire::Envelope& request, wire::Reply* reply, int64_t now_ms) const {
  if (!key_ || reply->error() != 0) return;
  if (request.has_get_chunks()) {
    for (wire::ChunkLocation& location : *reply->mutable_locations()) {
      if (location.chunk_id() == 0) continue;  // a hole: nothing to read
      *location.mutable_token() = IssueChunkToken(*key_, location.chunk_id(), location.chunk_version(),
                                                  wire::CHUNK_ACCESS_READ, now_ms, lifetime_ms_);
    }
  } else if (request.has_write_lease()) {
    AddWriteToken(reply->mutable_location(), reply->write_lease_ms(), now_ms);
  } else if (request.has_delegation()) {
    // Chunks placed ahead: written like a new lease's chain.
    for (wire::ChunkLocation& location : *reply->mutable_placements()) {
      AddWriteToken(&location, reply->write_lease_ms(), now_ms);
    }
  }
}

void TokenIssuer::AddWriteToken(wire::ChunkLocation* location, uint32_t lease_ms, int64_t now_ms) const {
  std::vector<std::string> chain;
  for (const wire::ChunkserverAddress& replica : location->replicas()) chain.push_back(replica.address());
  // A write token ends with its lease (give or take the allowed clock skew): past that,
  // self-healing may copy the chunk at this version, and a write the copy would miss is
  // then refused by the chunkservers, not only left unsent by a well-behaved mount.
  int64_t lifetime_ms = std::min<int64_t>(lifetime_ms_, lease_ms);
  *location->mutable_token() = IssueChunkToken(*key_, location->chunk_id(), location->chunk_version(),
                                               wire::CHUNK_ACCESS_READ | wire::CHUNK_ACCESS_WRITE, now_ms,
                                               lifetime_ms, chain);
}

wire::ChunkToken TokenIssuer::CopyToken(uint64_t chunk_id, uint64_t chunk_version, const std::string& source_address,
                                        int64_t now_ms) const {
  if (!key_) return wire::ChunkToken();
  return IssueChunkToken(*key_, chunk_id, chunk_version, wire::CHUNK_ACCESS_READ, now_ms, lifetime_ms_,
                         std::span(&source_address, 1));
}

Status TokenIssuer::CheckReport(const wire::ReportBadReplicaRequest& report, int64_t now_ms) const {
  if (!key_) return Status::Ok();
  const wire::ChunkToken& token = report.read_token();
  // Any version the token names: the replica may have been read just before a new lease.
  ChunkAccessRequest read;
  read.chunk_id = report.chunk_id();
  read.chunk_version = token.chunk_version();
  if (Status held = VerifyChunkToken(*key_, token, read, now_ms); !held.ok()) {
    return Status::Error(EACCES, "a report of a bad replica of chunk " + std::to_string(report.chunk_id()) +
                                     " without a read token for it: " + held.message());
  }
  return Status::Ok();
}

}  // namespace hafs::master
