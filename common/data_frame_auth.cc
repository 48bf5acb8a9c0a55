#include "common/data_frame_auth.h"

#include <sodium.h>

#include "common/block_checksum.h"
#include "common/message_codec.h"

namespace hafs {
namespace {

static_assert(kDataFrameMacBytes == crypto_auth_hmacsha512256_BYTES);
static_assert(kTokenMacBytes == crypto_auth_hmacsha512256_KEYBYTES);

constexpr std::string_view kRequestTag = "hafs-plainreq-v1";
constexpr std::string_view kReplyTag = "hafs-plainrep-v1";

const unsigned char* Unsigned(std::string_view bytes) { return reinterpret_cast<const unsigned char*>(bytes.data()); }

// The 8 little-endian bytes of the data frame's XXH3-64; zeros without one.
std::string DataChecksumBytes(std::optional<std::string_view> data) {
  uint64_t checksum =
      data ? RecordChecksum({reinterpret_cast<const std::byte*>(data->data()), data->size()}) : uint64_t{0};
  std::string bytes(8, '\0');
  for (size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>((checksum >> (8 * i)) & 0xff);
  return bytes;
}

// The MAC part of an authenticator (layout in the header).
std::string Mac(std::string_view key, FrameDirection direction, std::string_view checksum_bytes,
                std::string_view envelope_bytes) {
  std::string mac(kDataFrameMacBytes, '\0');
  if (key.size() != kTokenMacBytes) return mac;  // matches nothing CheckDataFrameAuthenticator accepts
  std::string_view tag = direction == FrameDirection::kRequest ? kRequestTag : kReplyTag;
  crypto_auth_hmacsha512256_state state;
  crypto_auth_hmacsha512256_init(&state, Unsigned(key), key.size());
  crypto_auth_hmacsha512256_update(&state, Unsigned(tag), tag.size());
  crypto_auth_hmacsha512256_update(&state, Unsigned(checksum_bytes), checksum_bytes.size());
  crypto_auth_hmacsha512256_update(&state, Unsigned(envelope_bytes), envelope_bytes.size());
  crypto_auth_hmacsha512256_final(&state, reinterpret_cast<unsigned char*>(mac.data()));
  sodium_memzero(&state, sizeof(state));
  return mac;
}

}  // namespace

wire::ChunkToken* MutableDataRequestToken(wire::Envelope* envelope) {
  switch (envelope->body_case()) {
    case wire::Envelope::kReadChunk:
      return envelope->mutable_read_chunk()->mutable_token();
    case wire::Envelope::kWriteChunk:
      return envelope->mutable_write_chunk()->mutable_token();
    case wire::Envelope::kTruncateChunk:
      return envelope->mutable_truncate_chunk()->mutable_token();
    case wire::Envelope::kFallocateChunk:
      return envelope->mutable_fallocate_chunk()->mutable_token();
    default:
      return nullptr;
  }
}

std::string DataFrameAuthenticator(std::string_view key, FrameDirection direction, std::string_view envelope_bytes,
                                   std::optional<std::string_view> data) {
  std::string checksum_bytes = DataChecksumBytes(data);
  return Mac(key, direction, checksum_bytes, envelope_bytes) + checksum_bytes;
}

Status CheckDataFrameAuthenticator(std::string_view key, FrameDirection direction, std::string_view envelope_bytes,
                                   std::optional<std::string_view> data, std::string_view authenticator) {
  if (key.size() != kTokenMacBytes) return Status::Error(EACCES, "no key to check the authenticator with");
  if (authenticator.size() != kDataFrameAuthenticatorBytes) {
    return Status::Error(EACCES, "the authenticator frame has " + std::to_string(authenticator.size()) +
                                     " bytes, not " + std::to_string(kDataFrameAuthenticatorBytes));
  }
  std::string_view sent_checksum = authenticator.substr(kDataFrameMacBytes);
  std::string expected = Mac(key, direction, sent_checksum, envelope_bytes);
  if (sodium_memcmp(expected.data(), authenticator.data(), kDataFrameMacBytes) != 0) {
    return Status::Error(EACCES, "bad authenticator (the envelope or its token was altered, or the key differs)");
  }
  if (DataChecksumBytes(data) != sent_checksum) {
    return Status::Error(EBADMSG, "the data frame does not match its checksum (damaged on the way)");
  }
  return Status::Ok();
}

Result<SealedDataRequest> SealDataRequest(wire::Envelope request, std::optional<std::string_view> data) {
  wire::ChunkToken* token = MutableDataRequestToken(&request);
  if (token == nullptr) {
    return Fail(EINVAL, "only chunk reads, writes, truncates and fallocates go to a plain data port");
  }
  if (token->mac().size() != kTokenMacBytes) return Fail(EINVAL, "a plain data request needs a token with a MAC");
  SealedDataRequest sealed;
  sealed.key = std::move(*token->mutable_mac());
  token->clear_mac();
  sealed.envelope_bytes = request.SerializeAsString();
  sealed.authenticator = DataFrameAuthenticator(sealed.key, FrameDirection::kRequest, sealed.envelope_bytes, data);
  return sealed;
}

Status OpenDataRequest(const TokenKey& token_key, std::string_view authenticator, std::string_view envelope_bytes,
                       std::optional<std::string_view> data, wire::Envelope* request, std::string* reply_key) {
  reply_key->clear();
  if (Status decoded = DecodeEnvelope(envelope_bytes.data(), envelope_bytes.size(), request); !decoded.ok()) {
    return decoded;
  }
  wire::ChunkToken* token = MutableDataRequestToken(request);
  if (token == nullptr) {
    return Status::Error(EACCES, "a plain data port serves only chunk reads, writes, truncates and fallocates, not a " +
                                     RequestName(*request) + " request");
  }
  // A MAC sent here would be the secret in the clear: refused, so no client gets used to it.
  if (!token->mac().empty()) return Status::Error(EACCES, "a request to a plain data port carried its token's MAC");
  *reply_key = ChunkTokenMac(token_key, *token);
  if (Status checked =
          CheckDataFrameAuthenticator(*reply_key, FrameDirection::kRequest, envelope_bytes, data, authenticator);
      !checked.ok()) {
    return checked;
  }
  token->set_mac(*reply_key);
  return Status::Ok();
}

}  // namespace hafs
