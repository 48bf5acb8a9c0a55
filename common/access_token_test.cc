#include "common/access_token.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

namespace hafs {
namespace {

constexpr int64_t kNowMs = 1'700'000'000'000;
constexpr int64_t kLifetimeMs = 600'000;
const std::vector<std::string> kChain = {"10.0.0.1:9422", "10.0.0.2:9422", "10.0.0.3:9422"};

TokenKey KeyOf(uint8_t fill) {
  TokenKey key;
  key.bytes.fill(fill);
  return key;
}

wire::ChunkToken ReadToken(const TokenKey& key = KeyOf(7)) {
  return IssueChunkToken(key, 42, 5, wire::CHUNK_ACCESS_READ, kNowMs, kLifetimeMs);
}

wire::ChunkToken WriteToken() {
  return IssueChunkToken(KeyOf(7), 42, 5, wire::CHUNK_ACCESS_READ | wire::CHUNK_ACCESS_WRITE, kNowMs, kLifetimeMs,
                         kChain);
}

ChunkAccessRequest Read() { return {42, 5, wire::CHUNK_ACCESS_READ, "", {}}; }

// A write arriving at chain entry `at`, forwarding to the entries after it.
ChunkAccessRequest WriteAt(size_t at) {
  return {42, 5, wire::CHUNK_ACCESS_WRITE, kChain[at], std::vector<std::string>(kChain.begin() + at + 1, kChain.end())};
}

void ExpectRefused(const Status& status, const std::string& reason_part) {
  EXPECT_EQ(status.error(), EACCES) << status.ToString();
  EXPECT_NE(status.message().find(reason_part), std::string::npos) << status.message();
}

TEST(AccessToken, ReadTokenAllowsReadsOfItsChunk) {
  wire::ChunkToken token = ReadToken();
  EXPECT_EQ(token.mac().size(), kTokenMacBytes);
  EXPECT_EQ(token.expiry_ms(), kNowMs + kLifetimeMs);
  EXPECT_TRUE(VerifyChunkToken(KeyOf(7), token, Read(), kNowMs + 1000).ok());
}

TEST(AccessToken, WriteTokenAllowsWritesAtEveryHopOfItsChain) {
  for (size_t at = 0; at < kChain.size(); ++at) {
    EXPECT_TRUE(VerifyChunkToken(KeyOf(7), WriteToken(), WriteAt(at), kNowMs).ok()) << "hop " << at;
  }
  EXPECT_TRUE(VerifyChunkToken(KeyOf(7), WriteToken(), Read(), kNowMs).ok());  // it reads the chunk it writes
}

TEST(AccessToken, RefusesAnotherChunkOrVersion) {
  ChunkAccessRequest other_chunk = Read();
  other_chunk.chunk_id = 43;
  ExpectRefused(VerifyChunkToken(KeyOf(7), ReadToken(), other_chunk, kNowMs), "not chunk 43");
  ChunkAccessRequest other_version = Read();
  other_version.chunk_version = 6;
  ExpectRefused(VerifyChunkToken(KeyOf(7), ReadToken(), other_version, kNowMs), "version 6");
}

TEST(AccessToken, RefusesAModeItDoesNotGrant) {
  ChunkAccessRequest write = WriteAt(0);
  wire::ChunkToken read_only = IssueChunkToken(KeyOf(7), 42, 5, wire::CHUNK_ACCESS_READ, kNowMs, kLifetimeMs, kChain);
  ExpectRefused(VerifyChunkToken(KeyOf(7), read_only, write, kNowMs), "does not allow writes");
  wire::ChunkToken write_only = IssueChunkToken(KeyOf(7), 42, 5, wire::CHUNK_ACCESS_WRITE, kNowMs, kLifetimeMs, kChain);
  ExpectRefused(VerifyChunkToken(KeyOf(7), write_only, Read(), kNowMs), "does not allow reads");
}

TEST(AccessToken, ExpiresAfterItsLifetimeAndTheAllowedSkew) {
  int64_t expiry = kNowMs + kLifetimeMs;
  EXPECT_TRUE(VerifyChunkToken(KeyOf(7), ReadToken(), Read(), expiry).ok());
  EXPECT_TRUE(VerifyChunkToken(KeyOf(7), ReadToken(), Read(), expiry + kTokenClockSkewMs).ok());
  ExpectRefused(VerifyChunkToken(KeyOf(7), ReadToken(), Read(), expiry + kTokenClockSkewMs + 1), "expired");
}

TEST(AccessToken, RefusesAnotherKey) {
  ExpectRefused(VerifyChunkToken(KeyOf(8), ReadToken(), Read(), kNowMs), "bad MAC");
  ExpectRefused(VerifyChunkToken(KeyOf(7), ReadToken(KeyOf(8)), Read(), kNowMs), "bad MAC");
}

TEST(AccessToken, RefusesEveryAlteredField) {
  std::vector<std::function<void(wire::ChunkToken*)>> alterations = {
      [](wire::ChunkToken* token) { token->set_chunk_id(43); },
      [](wire::ChunkToken* token) { token->set_chunk_version(6); },
      [](wire::ChunkToken* token) { token->set_modes(wire::CHUNK_ACCESS_READ); },
      [](wire::ChunkToken* token) { token->set_issued_ms(token->issued_ms() + 1); },
      [](wire::ChunkToken* token) { token->set_expiry_ms(token->expiry_ms() + 3'600'000); },
      [](wire::ChunkToken* token) { token->set_chain(1, "10.0.0.9:9422"); },
      [](wire::ChunkToken* token) { token->add_chain("10.0.0.9:9422"); },
      [](wire::ChunkToken* token) { (*token->mutable_mac())[0] ^= 1; },
      [](wire::ChunkToken* token) { (*token->mutable_mac())[31] ^= 0x80; },
  };
  for (size_t i = 0; i < alterations.size(); ++i) {
    wire::ChunkToken token = WriteToken();
    alterations[i](&token);
    // The request asks for what the altered token now says, so only the MAC can catch it.
    ChunkAccessRequest read = {token.chunk_id(), token.chunk_version(), wire::CHUNK_ACCESS_READ, "", {}};
    ExpectRefused(VerifyChunkToken(KeyOf(7), token, read, kNowMs), "bad MAC");
  }
  wire::ChunkToken no_mac = WriteToken();
  no_mac.clear_mac();
  ExpectRefused(VerifyChunkToken(KeyOf(7), no_mac, Read(), kNowMs), "no MAC");
  ExpectRefused(VerifyChunkToken(KeyOf(7), wire::ChunkToken(), Read(), kNowMs), "no token");
}

TEST(AccessToken, WriteRefusedOffTheTokensChain) {
  ChunkAccessRequest outsider = WriteAt(1);
  outsider.downstream = {"10.0.0.66:9422"};  // forwards to a chunkserver the master did not place
  ExpectRefused(VerifyChunkToken(KeyOf(7), WriteToken(), outsider, kNowMs), "forwards to 10.0.0.66:9422");
  ChunkAccessRequest skips = WriteAt(0);
  skips.downstream = {kChain[2]};  // leaves out the middle replica
  ExpectRefused(VerifyChunkToken(KeyOf(7), WriteToken(), skips, kNowMs), "forwards to " + kChain[2]);
  ChunkAccessRequest backwards = WriteAt(1);
  backwards.downstream = {kChain[0]};  // forwards up the chain
  ExpectRefused(VerifyChunkToken(KeyOf(7), WriteToken(), backwards, kNowMs), "forwards to " + kChain[0]);
  ChunkAccessRequest elsewhere = WriteAt(0);
  elsewhere.own_address = "10.0.0.66:9422";  // the token sent to a chunkserver not in the chain
  ExpectRefused(VerifyChunkToken(KeyOf(7), WriteToken(), elsewhere, kNowMs), "is not in the token's chain");
  ChunkAccessRequest longer = WriteAt(0);
  longer.downstream.push_back("10.0.0.66:9422");
  ExpectRefused(VerifyChunkToken(KeyOf(7), WriteToken(), longer, kNowMs), "longer than the token's");
}

// A small write goes to each replica on its own (fan-out), and a chain may stop early.
TEST(AccessToken, WriteAllowedToEachReplicaAloneAndDownAPartOfTheChain) {
  for (size_t at = 0; at < kChain.size(); ++at) {
    ChunkAccessRequest alone = WriteAt(at);
    alone.downstream.clear();
    EXPECT_TRUE(VerifyChunkToken(KeyOf(7), WriteToken(), alone, kNowMs).ok()) << "replica " << at;
  }
  ChunkAccessRequest first_two = WriteAt(0);
  first_two.downstream.pop_back();
  EXPECT_TRUE(VerifyChunkToken(KeyOf(7), WriteToken(), first_two, kNowMs).ok());
}

class TokenKeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("access_token_test." + std::to_string(::getpid()) + "." +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& contents) {
    std::string path = dir_ / name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(TokenKeyFile, CreatedPrivateAndRandomAndLoadsBack) {
  std::string first = dir_ / "first.key";
  std::string second = dir_ / "second.key";
  ASSERT_TRUE(CreateTokenKeyFile(first).ok());
  ASSERT_TRUE(CreateTokenKeyFile(second).ok());
  struct stat info;
  ASSERT_EQ(::stat(first.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(info.st_size, 65);  // 64 hex digits and a newline
  auto key = LoadTokenKey(first);
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  auto other = LoadTokenKey(second);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(key->bytes, other->bytes);
  EXPECT_EQ(CreateTokenKeyFile(first).error(), EEXIST);  // never replaced
}

TEST_F(TokenKeyFile, RawAndHexFormsGiveTheSameKey) {
  std::string raw(32, '\0');
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>(i * 7 + 1);
  std::string hex;
  for (unsigned char byte : raw) {
    const char digits[] = "0123456789abcdef";
    hex += digits[byte >> 4];
    hex += digits[byte & 15];
  }
  auto from_raw = LoadTokenKey(Write("raw", raw));
  auto from_hex = LoadTokenKey(Write("hex", hex));
  auto from_hex_line = LoadTokenKey(Write("hex_line", hex + "\n"));
  ASSERT_TRUE(from_raw && from_hex && from_hex_line);
  EXPECT_EQ(from_raw->bytes, from_hex->bytes);
  EXPECT_EQ(from_raw->bytes, from_hex_line->bytes);
}

TEST_F(TokenKeyFile, MalformedOrMissingIsAnErrorNamingThePath) {
  std::string good_hex(64, 'a');
  for (const std::string& contents : {std::string(), std::string(31, 'x'), std::string(33, 'x'), good_hex + "\n\n",
                                      good_hex.substr(1) + "g", good_hex + " "}) {
    std::string path = Write("bad", contents);
    auto key = LoadTokenKey(path);
    ASSERT_FALSE(key.has_value()) << "contents of " << contents.size() << " bytes";
    EXPECT_EQ(key.error().error(), EINVAL);
    EXPECT_NE(key.error().message().find(path), std::string::npos);
  }
  auto missing = LoadTokenKey(dir_ / "missing");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().error(), ENOENT);
}

TEST_F(TokenKeyFile, EmptyOptionMeansTokensOffOnlyWhenInsecure) {
  auto key = TokenKeyFromOption("", /*insecure=*/true);
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(key->has_value());
  EXPECT_EQ(TokenKeyFromOption("", /*insecure=*/false).error().error(), EINVAL);
  EXPECT_FALSE(TokenKeyFromOption(Write("bad", "short"), true).has_value());
}

}  // namespace
}  // namespace hafs
