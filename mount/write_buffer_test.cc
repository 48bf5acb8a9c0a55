#include "mount/write_buffer.h"

#include <gtest/gtest.h>

#include <random>

namespace hafs::mount {
namespace {

TEST(WriteBuffer, TouchingAndOverlappingWritesBecomeOneExtentWithTheNewestBytesOnTop) {
  WriteBuffer buffer;
  buffer.Add(10, "abcd");
  buffer.Add(14, "ef");   // touches the end
  buffer.Add(8, "XY");    // touches the start
  buffer.Add(11, "!!");   // inside
  auto extents = buffer.Take();
  ASSERT_EQ(extents.size(), 1u);
  EXPECT_EQ(extents[0].offset, 8u);
  EXPECT_EQ(extents[0].data, "XYa!!def");
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.bytes(), 0u);
}

TEST(WriteBuffer, SeparateWritesStaySeparateInFileOrder) {
  WriteBuffer buffer;
  buffer.Add(4096, "page two");
  buffer.Add(0, "page one");
  EXPECT_EQ(buffer.bytes(), 16u);
  EXPECT_TRUE(buffer.Overlaps(4100, 1));
  EXPECT_TRUE(buffer.Overlaps(0, 1));
  EXPECT_FALSE(buffer.Overlaps(8, 4088));   // the gap between them
  EXPECT_FALSE(buffer.Overlaps(4104, 100));  // past the end
  EXPECT_FALSE(buffer.Overlaps(5, 0));
  auto extents = buffer.Take();
  ASSERT_EQ(extents.size(), 2u);
  EXPECT_EQ(extents[0].offset, 0u);
  EXPECT_EQ(extents[1].offset, 4096u);
}

TEST(WriteBuffer, AWriteSpanningSeveralExtentsSwallowsThem) {
  WriteBuffer buffer;
  buffer.Add(0, "aa");
  buffer.Add(10, "bb");
  buffer.Add(20, "cc");
  buffer.Add(1, std::string(20, 'z'));  // from inside the first to inside the last
  auto extents = buffer.Take();
  ASSERT_EQ(extents.size(), 1u);
  EXPECT_EQ(extents[0].data, "a" + std::string(20, 'z') + "c");
}

// Against a plain byte array: whatever the order of writes, the extents hold exactly the
// bytes last written, never touch one another, and count their bytes right.
TEST(WriteBuffer, RandomWritesMatchAByteArray) {
  std::mt19937 random(7);
  for (int round = 0; round < 200; ++round) {
    WriteBuffer buffer;
    std::string model(300, '\0');
    std::vector<bool> written(300, false);
    for (int i = 0; i < 12; ++i) {
      uint64_t offset = random() % 250;
      std::string data(1 + random() % 40, static_cast<char>('a' + random() % 26));
      buffer.Add(offset, data);
      model.replace(offset, data.size(), data);
      for (size_t j = 0; j < data.size(); ++j) written[offset + j] = true;
    }
    uint64_t counted = 0;
    for (uint64_t offset = 0; offset < 300; ++offset) {
      ASSERT_EQ(buffer.Overlaps(offset, 1), written[offset]) << offset;
      counted += written[offset] ? 1 : 0;
    }
    ASSERT_EQ(buffer.bytes(), counted);
    uint64_t previous_end = 0;
    bool first = true;
    for (const auto& extent : buffer.Take()) {
      ASSERT_TRUE(first || extent.offset > previous_end) << "extents touch at " << extent.offset;
      first = false;
      ASSERT_EQ(extent.data, model.substr(extent.offset, extent.data.size()));
      for (size_t j = 0; j < extent.data.size(); ++j) ASSERT_TRUE(written[extent.offset + j]);
      previous_end = extent.offset + extent.data.size();
    }
  }
}

}  // namespace
}  // namespace hafs::mount
