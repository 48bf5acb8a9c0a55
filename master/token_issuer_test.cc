#include "master/token_issuer.h"

#include <gtest/gtest.h>

namespace hafs::master {
namespace {

constexpr int64_t kNowMs = 1'700'000'000'000;

TokenKey Key() {
  TokenKey key;
  key.bytes.fill(9);
  return key;
}

wire::Reply LeaseReply() {
  wire::Reply reply;
  reply.set_write_lease_ms(10000);
  wire::ChunkLocation* location = reply.mutable_location();
  location->set_chunk_id(5);
  location->set_chunk_version(3);
  for (const char* address : {"10.0.0.1:9422", "10.0.0.2:9422"}) location->add_replicas()->set_address(address);
  return reply;
}

TEST(TokenIssuer, ReadTokenForEveryChunkOfGetChunksButHoles) {
  wire::Envelope request;
  request.mutable_get_chunks()->set_inode(2);
  wire::Reply reply;
  reply.add_locations()->set_chunk_id(0);  // a hole
  wire::ChunkLocation* chunk = reply.add_locations();
  chunk->set_chunk_id(7);
  chunk->set_chunk_version(2);
  TokenIssuer(Key(), 600000).AddTokens(request, &reply, kNowMs);
  EXPECT_FALSE(reply.locations(0).has_token());
  const wire::ChunkToken& token = reply.locations(1).token();
  EXPECT_EQ(token.expiry_ms(), kNowMs + 600000);
  EXPECT_EQ(token.chain_size(), 0);
  EXPECT_TRUE(VerifyChunkToken(Key(), token, {7, 2, wire::CHUNK_ACCESS_READ, "", {}}, kNowMs).ok());
}

TEST(TokenIssuer, WriteTokenForTheLeasesChainEndsWithTheLease) {
  wire::Envelope request;
  request.mutable_write_lease()->set_inode(2);
  wire::Reply reply = LeaseReply();
  TokenIssuer(Key(), 600000).AddTokens(request, &reply, kNowMs);
  const wire::ChunkToken& token = reply.location().token();
  EXPECT_EQ(token.expiry_ms(), kNowMs + 10000);
  EXPECT_TRUE(
      VerifyChunkToken(Key(), token, {5, 3, wire::CHUNK_ACCESS_WRITE, "10.0.0.1:9422", {"10.0.0.2:9422"}}, kNowMs)
          .ok());
  EXPECT_TRUE(VerifyChunkToken(Key(), token, {5, 3, wire::CHUNK_ACCESS_READ, "", {}}, kNowMs).ok());
}

TEST(TokenIssuer, NothingWithoutAKeyOrForAFailedAnswer) {
  wire::Envelope request;
  request.mutable_write_lease()->set_inode(2);
  wire::Reply reply = LeaseReply();
  TokenIssuer(std::nullopt, 600000).AddTokens(request, &reply, kNowMs);
  EXPECT_FALSE(reply.location().has_token());
  EXPECT_TRUE(TokenIssuer(std::nullopt, 600000).CopyToken(5, 3, "10.0.0.1:9422", kNowMs).mac().empty());
  reply.set_error(ENOSPC);
  TokenIssuer(Key(), 600000).AddTokens(request, &reply, kNowMs);
  EXPECT_FALSE(reply.location().has_token());
}

TEST(TokenIssuer, CopyTokenNamesTheSourceOnly) {
  wire::ChunkToken token = TokenIssuer(Key(), 600000).CopyToken(5, 3, "10.0.0.1:9422", kNowMs);
  ASSERT_EQ(token.chain_size(), 1);
  EXPECT_EQ(token.chain(0), "10.0.0.1:9422");
  EXPECT_EQ(token.modes(), static_cast<uint32_t>(wire::CHUNK_ACCESS_READ));
  EXPECT_TRUE(VerifyChunkToken(Key(), token, {5, 3, wire::CHUNK_ACCESS_READ, "", {}}, kNowMs).ok());
}

TEST(TokenIssuer, ABadReplicaReportNeedsAReadTokenForItsChunk) {
  TokenIssuer issuer(Key(), 600000);
  wire::Envelope request;
  request.mutable_get_chunks()->set_inode(2);
  wire::Reply reply;
  reply.add_locations()->set_chunk_id(7);
  issuer.AddTokens(request, &reply, kNowMs);
  wire::ReportBadReplicaRequest report;
  report.set_chunk_id(7);
  EXPECT_EQ(issuer.CheckReport(report, kNowMs).error(), EACCES) << "no token";
  *report.mutable_read_token() = reply.locations(0).token();
  EXPECT_TRUE(issuer.CheckReport(report, kNowMs).ok());
  EXPECT_EQ(issuer.CheckReport(report, kNowMs + 3600'000).error(), EACCES) << "expired";
  report.set_chunk_id(8);
  EXPECT_EQ(issuer.CheckReport(report, kNowMs).error(), EACCES) << "another chunk's token";
  report.set_chunk_id(7);
  report.mutable_read_token()->set_expiry_ms(kNowMs + 7200'000);
  EXPECT_EQ(issuer.CheckReport(report, kNowMs).error(), EACCES) << "forged";
  EXPECT_TRUE(TokenIssuer(std::nullopt, 600000).CheckReport(wire::ReportBadReplicaRequest(), kNowMs).ok())
      << "tokens off";
}

}  // namespace
}  // namespace hafs::master
