// Authenticated plain data frames (docs/security.md, "Data frames: encrypted or plain"):
// how a ReadChunk, WriteChunk or TruncateChunk travels to a chunkserver's plain data port,
// without CurveZMQ, yet authenticated and authorised. Kerberos-style, the shared secret is
// the request's chunk access token MAC, which the client only ever received over CURVE
// (GetChunks, WriteLease) and which the chunkserver recomputes from the token's fields
// with the cluster's token key. The MAC itself never crosses the plain port.
//
// Frames (a DEALER's view; the ROUTER sees the routing id in front):
//
//   request  [authenticator][Envelope, token.mac cleared][data?]
//   reply    [authenticator][Envelope][data?]
//
//   authenticator (40 bytes) = mac (32) then data_checksum (8, little-endian)
//     data_checksum = XXH3-64 of the data frame; 0 when there is none
//     mac = crypto_auth_hmacsha512256 keyed with the token's MAC (32 bytes) over
//           a 16-byte direction tag ("hafs-plainreq-v1" requests, "hafs-plainrep-v1"
//           replies, so neither can be reflected as the other), the 8 bytes of
//           data_checksum, then the envelope frame's exact bytes
//
// The data frame is covered by a checksum, not by the MAC: like Ceph msgr2's "crc" mode,
// that catches accidents on the wire, not an attacker (XXH3 is no cryptographic hash).
// Hashing every data frame with HMAC-SHA-512 would cost about what encrypting it does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/access_token.h"
#include "common/proto/hafs.pb.h"
#include "common/status.h"

namespace hafs {

inline constexpr size_t kDataFrameMacBytes = 32;  // crypto_auth_hmacsha512256_BYTES
inline constexpr size_t kDataFrameAuthenticatorBytes = kDataFrameMacBytes + 8;

enum class FrameDirection { kRequest, kReply };

// The token a plain data port accepts requests with: that of a read_chunk, write_chunk or
// truncate_chunk body; null for any other body (those are never served there).
wire::ChunkToken* MutableDataRequestToken(wire::Envelope* envelope);

// The authenticator of one message; `key` is a token MAC (kTokenMacBytes), `data` its data
// frame (nullopt: none).
std::string DataFrameAuthenticator(std::string_view key, FrameDirection direction, std::string_view envelope_bytes,
                                   std::optional<std::string_view> data);
// OK when `authenticator` is DataFrameAuthenticator(key, direction, envelope_bytes, data):
// EACCES when its MAC is wrong (compared in constant time; also for a key of the wrong size
// or a frame of the wrong length), EBADMSG when only the data frame fails its checksum.
Status CheckDataFrameAuthenticator(std::string_view key, FrameDirection direction, std::string_view envelope_bytes,
                                   std::optional<std::string_view> data, std::string_view authenticator);

// A client's request made ready for the plain port.
struct SealedDataRequest {
  std::string key;             // the token's MAC: authenticates the request and its reply
  std::string envelope_bytes;  // the envelope without it
  std::string authenticator;
};
// EINVAL when `request` is no data request or its token has no MAC of kTokenMacBytes
// (tokens off): such a request must go over CURVE.
Result<SealedDataRequest> SealDataRequest(wire::Envelope request, std::optional<std::string_view> data = std::nullopt);

// The chunkserver's side: decodes `envelope_bytes` into *request and, when it is a data
// request with a token, sets *reply_key to the MAC recomputed from the token's fields under
// `token_key` (the key to authenticate the answer with, a refusal too, so that the client of
// a genuine request hears why). OK when the authenticator is right under that key; then the
// token in *request carries the recomputed MAC and is checked as any other (token_check.h).
// EBADMSG for bytes that do not decode or a data frame that fails its checksum, EACCES for
// anything else refused.
Status OpenDataRequest(const TokenKey& token_key, std::string_view authenticator, std::string_view envelope_bytes,
                       std::optional<std::string_view> data, wire::Envelope* request, std::string* reply_key);

}  // namespace hafs
