#include "common/message_codec.h"

#include <gtest/gtest.h>

#include "common/protocol_limits.h"

namespace hafs {
namespace {

TEST(RequestNameTest, IsTheBodyFieldName) {
  wire::Envelope envelope;
  EXPECT_EQ(RequestName(envelope), "none");
  envelope.mutable_get_attr()->set_inode(1);
  EXPECT_EQ(RequestName(envelope), "get_attr");
  envelope.mutable_write_chunk();
  EXPECT_EQ(RequestName(envelope), "write_chunk");
}

TEST(CheckRequestTest, PositionsPastTheLargestFileAreEfbig) {
  wire::Envelope lease;
  lease.mutable_write_lease()->set_inode(2);
  lease.mutable_write_lease()->set_chunk_index(kMaxChunksPerFile - 1);
  EXPECT_TRUE(CheckRequest(lease, 0).ok());
  for (uint64_t index : {kMaxChunksPerFile, uint64_t{1} << 61, UINT64_MAX}) {
    lease.mutable_write_lease()->set_chunk_index(index);
    EXPECT_EQ(CheckRequest(lease, 0).error(), EFBIG) << index;
  }
  wire::Envelope done;
  done.mutable_write_done()->set_inode(2);
  done.mutable_write_done()->set_end_offset(kMaxFileBytes);
  EXPECT_TRUE(CheckRequest(done, 0).ok());
  done.mutable_write_done()->set_end_offset(kMaxFileBytes + 1);
  EXPECT_EQ(CheckRequest(done, 0).error(), EFBIG);
  wire::Envelope truncate;
  truncate.mutable_set_attr()->set_inode(2);
  truncate.mutable_set_attr()->set_size(UINT64_MAX);  // not asked to change the size: ignored
  EXPECT_TRUE(CheckRequest(truncate, 0).ok());
  truncate.mutable_set_attr()->set_valid(wire::SET_ATTR_SIZE);
  EXPECT_EQ(CheckRequest(truncate, 0).error(), EFBIG);
  wire::Envelope chunks;
  chunks.mutable_get_chunks()->set_inode(2);
  chunks.mutable_get_chunks()->set_first_index(UINT64_MAX - 1);
  EXPECT_EQ(CheckRequest(chunks, 0).error(), EFBIG);
}

TEST(CheckRequestTest, FallocateRangesAreInsideTheLargestFileAndChunkRangesInsideAChunk) {
  wire::Envelope fallocate;
  fallocate.mutable_fallocate()->set_inode(2);
  fallocate.mutable_fallocate()->set_offset(kMaxFileBytes - 1);
  fallocate.mutable_fallocate()->set_length(1);
  EXPECT_TRUE(CheckRequest(fallocate, 0).ok());
  fallocate.mutable_fallocate()->set_length(UINT64_MAX);  // offset + length wraps around
  EXPECT_EQ(CheckRequest(fallocate, 0).error(), EFBIG);
  fallocate.mutable_fallocate()->set_length(0);
  EXPECT_EQ(CheckRequest(fallocate, 0).error(), EINVAL);
  wire::Envelope chunk;
  chunk.mutable_fallocate_chunk()->set_offset(kChunkSize - 10);
  chunk.mutable_fallocate_chunk()->set_length(10);
  EXPECT_TRUE(CheckRequest(chunk, 0).ok());
  chunk.mutable_fallocate_chunk()->set_length(11);
  EXPECT_EQ(CheckRequest(chunk, 0).error(), EINVAL);
}

TEST(CheckRequestTest, NamesAreBytes) {
  wire::Envelope lookup;
  lookup.mutable_lookup()->set_parent(1);
  lookup.mutable_lookup()->set_name(std::string("caf\xe9 \xff\x80", 7));
  EXPECT_TRUE(CheckRequest(lookup, 0).ok());
  wire::Envelope decoded;
  ASSERT_TRUE(DecodeEnvelope(lookup.SerializeAsString().data(), lookup.ByteSizeLong(), &decoded).ok());
  EXPECT_EQ(decoded.lookup().name(), lookup.lookup().name());
}

TEST(CheckRequestTest, OpenFileListsAreBounded) {
  wire::Envelope closes;
  closes.set_client_id(7);
  for (int i = 0; i < 65536; ++i) closes.mutable_close_files()->add_closed()->set_inode(2);
  EXPECT_TRUE(CheckRequest(closes, 0).ok());
  closes.mutable_close_files()->add_closed()->set_inode(2);
  EXPECT_EQ(CheckRequest(closes, 0).error(), E2BIG);
  closes.clear_client_id();
  closes.mutable_close_files()->clear_closed();
  EXPECT_EQ(CheckRequest(closes, 0).error(), EINVAL) << "closes belong to a mount's session";

  wire::Envelope renewal;
  renewal.set_client_id(7);
  for (int i = 0; i < 65537; ++i) renewal.mutable_session()->add_open_inodes(2);
  EXPECT_EQ(CheckRequest(renewal, 0).error(), ENFILE);
}

}  // namespace
}  // namespace hafs
