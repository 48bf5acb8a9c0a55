#include "common/data_frame_auth.h"

#include <gtest/gtest.h>

namespace hafs {
namespace {

TokenKey KeyOf(uint8_t fill) {
  TokenKey key;
  key.bytes.fill(fill);
  return key;
}

// A read of chunk 42 as a client sends it, with the token the master issued under key 7.
wire::Envelope ReadRequest(const TokenKey& key = KeyOf(7)) {
  wire::Envelope request;
  request.set_request_id(9);
  auto* read = request.mutable_read_chunk();
  read->set_chunk_id(42);
  read->set_chunk_version(5);
  read->set_length(4096);
  *read->mutable_token() = IssueChunkToken(key, 42, 5, wire::CHUNK_ACCESS_READ, 1'700'000'000'000, 600'000);
  return request;
}

SealedDataRequest Sealed(wire::Envelope request = ReadRequest()) {
  auto sealed = SealDataRequest(std::move(request));
  EXPECT_TRUE(sealed.has_value()) << sealed.error().ToString();
  return sealed ? *sealed : SealedDataRequest{};
}

Status Open(const SealedDataRequest& sealed, const TokenKey& key = KeyOf(7), wire::Envelope* request = nullptr,
            std::string* reply_key = nullptr, std::optional<std::string_view> data = std::nullopt) {
  wire::Envelope opened;
  std::string key_out;
  return OpenDataRequest(key, sealed.authenticator, sealed.envelope_bytes, data, request ? request : &opened,
                         reply_key ? reply_key : &key_out);
}

TEST(DataFrameAuthTest, SealedRequestOpensWithTheTokenKeyAndGetsItsMacBack) {
  wire::Envelope original = ReadRequest();
  SealedDataRequest sealed = Sealed(original);
  EXPECT_EQ(sealed.key, original.read_chunk().token().mac());
  // The secret is not in what travels.
  EXPECT_EQ(sealed.envelope_bytes.find(sealed.key), std::string::npos);
  EXPECT_EQ(sealed.authenticator.size(), kDataFrameAuthenticatorBytes);
  wire::Envelope opened;
  std::string reply_key;
  ASSERT_TRUE(Open(sealed, KeyOf(7), &opened, &reply_key).ok());
  EXPECT_EQ(reply_key, sealed.key);
  EXPECT_EQ(opened.read_chunk().token().mac(), original.read_chunk().token().mac());
  EXPECT_EQ(opened.SerializeAsString(), original.SerializeAsString());
}

TEST(DataFrameAuthTest, EveryFlippedEnvelopeByteFails) {
  SealedDataRequest sealed = Sealed();
  for (size_t i = 0; i < sealed.envelope_bytes.size(); ++i) {
    SealedDataRequest altered = sealed;
    altered.envelope_bytes[i] ^= 0x01;
    Status status = Open(altered);
    // Either it no longer decodes, or it does and fails the authenticator.
    EXPECT_TRUE(status.error() == EACCES || status.error() == EBADMSG) << "byte " << i << ": " << status.ToString();
  }
}

TEST(DataFrameAuthTest, WrongKeyAlteredTokenAndMissingAuthenticatorFail) {
  SealedDataRequest sealed = Sealed();
  EXPECT_EQ(Open(sealed, KeyOf(8)).error(), EACCES);  // a chunkserver with another token key
  // Token fields changed (another chunk): the recomputed key differs, so does the check.
  wire::Envelope request;
  ASSERT_TRUE(request.ParseFromString(sealed.envelope_bytes));
  request.mutable_read_chunk()->set_chunk_id(43);
  request.mutable_read_chunk()->mutable_token()->set_chunk_id(43);
  SealedDataRequest forged = sealed;
  forged.envelope_bytes = request.SerializeAsString();
  EXPECT_EQ(Open(forged).error(), EACCES);
  // ... even authenticated with the original key, which the attacker does not have anyway.
  forged.authenticator =
      DataFrameAuthenticator(sealed.key, FrameDirection::kRequest, forged.envelope_bytes, std::nullopt);
  EXPECT_EQ(Open(forged).error(), EACCES);
  SealedDataRequest missing = sealed;
  missing.authenticator.clear();
  EXPECT_EQ(Open(missing).error(), EACCES);
  SealedDataRequest flipped = sealed;
  flipped.authenticator[5] ^= 0x80;
  EXPECT_EQ(Open(flipped).error(), EACCES);
}

TEST(DataFrameAuthTest, ARequestCarryingItsMacOrNoDataRequestIsRefused) {
  wire::Envelope with_mac = ReadRequest();
  std::string bytes = with_mac.SerializeAsString();
  std::string key = with_mac.read_chunk().token().mac();
  SealedDataRequest leaky{key, bytes, DataFrameAuthenticator(key, FrameDirection::kRequest, bytes, std::nullopt)};
  EXPECT_EQ(Open(leaky).error(), EACCES);
  wire::Envelope lookup;
  lookup.mutable_lookup()->set_parent(1);
  std::string lookup_bytes = lookup.SerializeAsString();
  SealedDataRequest not_data{key, lookup_bytes,
                             DataFrameAuthenticator(key, FrameDirection::kRequest, lookup_bytes, std::nullopt)};
  EXPECT_EQ(Open(not_data).error(), EACCES);
  EXPECT_EQ(Open(SealedDataRequest{key, "\xff\xff\xff", std::string(kDataFrameAuthenticatorBytes, 'a')}).error(),
            EBADMSG);
  // The client side refuses to seal what it could not authenticate.
  EXPECT_FALSE(SealDataRequest(lookup).has_value());
  wire::Envelope tokenless = ReadRequest();
  tokenless.mutable_read_chunk()->clear_token();
  EXPECT_FALSE(SealDataRequest(tokenless).has_value());
}

TEST(DataFrameAuthTest, DataFramesAreCheckedAgainstTheirAuthenticatedChecksum) {
  wire::Envelope write;
  write.mutable_write_chunk()->set_chunk_id(42);
  write.mutable_write_chunk()->set_chunk_version(5);
  *write.mutable_write_chunk()->mutable_token() = ReadRequest().read_chunk().token();
  std::string data(100000, 'd');
  auto sealed = SealDataRequest(write, data);
  ASSERT_TRUE(sealed.has_value());
  EXPECT_TRUE(Open(*sealed, KeyOf(7), nullptr, nullptr, data).ok());
  std::string damaged = data;
  damaged[77777] ^= 0x10;
  EXPECT_EQ(Open(*sealed, KeyOf(7), nullptr, nullptr, damaged).error(), EBADMSG);
  EXPECT_EQ(Open(*sealed, KeyOf(7), nullptr, nullptr, std::nullopt).error(), EBADMSG);       // frame dropped
  EXPECT_EQ(Open(Sealed(), KeyOf(7), nullptr, nullptr, std::string("x")).error(), EBADMSG);  // frame added
  // A checksum changed to fit other data fails the MAC.
  SealedDataRequest refitted = *sealed;
  std::string other = DataFrameAuthenticator(sealed->key, FrameDirection::kRequest, sealed->envelope_bytes, damaged);
  refitted.authenticator.replace(kDataFrameMacBytes, 8, other.substr(kDataFrameMacBytes));
  EXPECT_EQ(Open(refitted, KeyOf(7), nullptr, nullptr, damaged).error(), EACCES);
}

TEST(DataFrameAuthTest, RequestAndReplyAuthenticatorsDiffer) {
  std::string key(kTokenMacBytes, 'k');
  std::string envelope = "some envelope bytes";
  std::string as_request = DataFrameAuthenticator(key, FrameDirection::kRequest, envelope, std::nullopt);
  auto check = [&](std::string_view with_key, FrameDirection direction) {
    return CheckDataFrameAuthenticator(with_key, direction, envelope, std::nullopt, as_request);
  };
  EXPECT_TRUE(check(key, FrameDirection::kRequest).ok());
  EXPECT_EQ(check(key, FrameDirection::kReply).error(), EACCES);
  EXPECT_EQ(check(std::string(kTokenMacBytes, 'l'), FrameDirection::kRequest).error(), EACCES);
  EXPECT_EQ(check("short", FrameDirection::kRequest).error(), EACCES);
}

}  // namespace
}  // namespace hafs
