#include "common/message_codec.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace hafs
