// Chunk access tokens (docs/design.md, "Chunk access tokens"): the master's signed
// permission, checked by chunkservers, to read or write one chunk at one version for a
// few minutes, and for a write only through the replica chain the master placed. Modelled
// on HDFS block access tokens.
//
// The MAC is libsodium crypto_auth (HMAC-SHA-512-256) with the cluster's 32-byte token
// key over this byte string (integers little-endian), never over a protobuf encoding:
//
//   16  "hafs-chunktok-v1"       domain tag: a MAC made for anything else never matches
//    8  chunk_id
//    8  chunk_version
//    4  modes                    wire::ChunkAccess bits
//    8  issued_ms                signed; the master's wall clock, ms since the Unix epoch
//    8  expiry_ms                signed; same clock
//    4  n = number of chain entries
//    n  x (4-byte length, then that many bytes of "host:port")
//
// A token is accepted until expiry_ms + kTokenClockSkewMs on the checker's wall clock: the
// master and the chunkservers run on different hosts whose clocks agree only roughly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs {

inline constexpr size_t kTokenKeyBytes = 32;  // crypto_auth_KEYBYTES
inline constexpr size_t kTokenMacBytes = 32;  // crypto_auth_BYTES
// How far a checker's wall clock may be behind the master's without refusing a token in
// its last moments, or ahead of it without honouring one that long after its expiry.
inline constexpr int64_t kTokenClockSkewMs = 10'000;
inline constexpr int64_t kDefaultTokenLifetimeMs = 10 * 60'000;

struct TokenKey {
  std::array<uint8_t, kTokenKeyBytes> bytes{};
};

// A token key file holds exactly 32 raw bytes, or 64 hex digits and an optional newline.
// Anything else (a missing, short, long or non-hex file) is an error naming the path.
Result<TokenKey> LoadTokenKey(const std::string& path);
// A new random key (libsodium randombytes) written as hex and a newline to a new file of
// mode 0600; an existing file is never replaced (EEXIST).
Status CreateTokenKeyFile(const std::string& path);
// A daemon's --token-key-file: no key when `path` is empty, after a warning that chunk
// access tokens are off (nothing issued, nothing checked) — and that only with --insecure.
Result<std::optional<TokenKey>> TokenKeyFromOption(const std::string& path, bool insecure);

// A token for `chunk_id` at `chunk_version` allowing `modes` (wire::ChunkAccess bits) from
// `issued_ms` for `lifetime_ms`; `chain`: for write tokens, the replicas in pipeline order.
wire::ChunkToken IssueChunkToken(const TokenKey& key, uint64_t chunk_id, uint64_t chunk_version, uint32_t modes,
                                 int64_t issued_ms, int64_t lifetime_ms, std::span<const std::string> chain = {});

// The MAC `token`'s other fields should carry under `key` (kTokenMacBytes bytes). A plain
// data port recomputes it from a request whose token came without it (data_frame_auth.h).
std::string ChunkTokenMac(const TokenKey& key, const wire::ChunkToken& token);

// What one request does to a chunk, to check against the token it carries.
struct ChunkAccessRequest {
  uint64_t chunk_id = 0;
  uint64_t chunk_version = 0;
  wire::ChunkAccess mode = wire::CHUNK_ACCESS_READ;
  // Writes and truncations: the checking chunkserver's own address and the chain after it
  // that the request names (and it forwards to). The address must be in the token's chain
  // and the downstream the entries right after it (all, some or none of them), so a replica
  // forwards only to replicas the master placed after it.
  std::string own_address;
  std::vector<std::string> downstream;
};

// OK when `token`'s MAC is right under `key`, it names the request's chunk and version,
// allows its mode, has not expired at `now_ms` (the checker's wall clock, with the allowed
// skew) and, for a write, matches the chain; EACCES saying which check failed otherwise.
Status VerifyChunkToken(const TokenKey& key, const wire::ChunkToken& token, const ChunkAccessRequest& request,
                        int64_t now_ms);

}  // namespace hafs
