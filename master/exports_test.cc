#include "master/exports.h"

#include <gtest/gtest.h>

namespace hafs::master {
namespace {

TEST(ExportsTest, LinesParseWithTheirOptions) {
  auto exports = Exports::Parse(
      "# who  what  how\n"
      "alice   /home/alice/   rw,goal=2-3\n"
      "\n"
      "*       /public         ro,all_squash=1000:1001,from=10.0.0.0/8,from=::1\n"
      "lab     /               root_squash\n",
      "exports");
  ASSERT_TRUE(exports.has_value()) << exports.error().ToString();
  ASSERT_EQ(exports->size(), 3u);
  auto alice = exports->For("", "alice", "127.0.0.1");
  ASSERT_EQ(alice.size(), 1u) << "the * line is for 10/8 and ::1 only";
  EXPECT_EQ(alice[0]->subtree, "/home/alice");
  EXPECT_FALSE(alice[0]->read_only);
  EXPECT_EQ(alice[0]->min_goal, 2u);
  EXPECT_EQ(alice[0]->max_goal, 3u);
  EXPECT_EQ(alice[0]->source, "exports:2");

  auto anyone = exports->For("", "bob", "10.1.2.3");
  ASSERT_EQ(anyone.size(), 1u);
  EXPECT_TRUE(anyone[0]->read_only) << "ro is the default and was asked for";
  EXPECT_EQ(anyone[0]->squash, Squash::kAll);
  EXPECT_EQ(anyone[0]->anonymous_uid, 1000u);
  EXPECT_EQ(anyone[0]->anonymous_gid, 1001u);
  EXPECT_EQ(exports->For("", "bob", "::1").size(), 1u);
  EXPECT_TRUE(exports->For("", "bob", "11.0.0.1").empty());

  auto lab = exports->For("", "lab", "192.168.0.1");
  ASSERT_EQ(lab.size(), 1u);
  EXPECT_TRUE(lab[0]->read_only);
  EXPECT_EQ(lab[0]->squash, Squash::kRoot);
  EXPECT_EQ(lab[0]->anonymous_uid, 65534u);
}

TEST(ExportsTest, AClientIsNamedByItsKeyOrItsName) {
  std::string key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  auto exports = Exports::Parse(key + " / rw\n", "exports");
  ASSERT_TRUE(exports.has_value()) << exports.error().ToString();
  EXPECT_EQ(exports->For(key, "", "127.0.0.1").size(), 1u);
  EXPECT_TRUE(exports->For("another", "", "127.0.0.1").empty());
  EXPECT_TRUE(exports->For("", "", "127.0.0.1").empty()) << "no key matches only *";
}

TEST(ExportsTest, BadLinesNameTheirLine) {
  for (const char* text : {"alice\n", "alice home rw\n", "alice / rw,fast\n", "alice / goal=3-2\n",
                           "alice / goal=0-2\n", "alice / from=10.0.0.0/33\n", "alice / from=nowhere\n",
                           "alice /a/../b rw\n", "alice / root_squash=x\n", "alice / rw extra\n"}) {
    auto exports = Exports::Parse(std::string("# header\n") + text, "exports");
    ASSERT_FALSE(exports.has_value()) << text;
    EXPECT_NE(exports.error().message().find("exports:2"), std::string::npos) << exports.error().ToString();
  }
}

TEST(ExportsTest, AddressRangesMatchByPrefix) {
  auto loopback = AddressRange::Parse("127.0.0.0/8");
  ASSERT_TRUE(loopback.has_value());
  EXPECT_TRUE(loopback->Contains("127.3.4.5"));
  EXPECT_FALSE(loopback->Contains("128.0.0.1"));
  EXPECT_FALSE(loopback->Contains("::1"));
  EXPECT_FALSE(loopback->Contains("not an address"));
  auto host = AddressRange::Parse("192.168.1.7");
  ASSERT_TRUE(host.has_value());
  EXPECT_TRUE(host->Contains("192.168.1.7"));
  EXPECT_FALSE(host->Contains("192.168.1.8"));
  auto v6 = AddressRange::Parse("fd00::/8");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->Contains("fd12::1"));
  EXPECT_FALSE(v6->Contains("fe80::1"));
  EXPECT_TRUE(AddressRange::Parse("0.0.0.0/0")->Contains("8.8.8.8"));
}

TEST(ExportsTest, SubtreePathsAreNormal) {
  EXPECT_EQ(NormalSubtreePath("/"), "/");
  EXPECT_EQ(NormalSubtreePath("//a///b/"), "/a/b");
  EXPECT_FALSE(NormalSubtreePath("a/b").has_value());
  EXPECT_FALSE(NormalSubtreePath("/a/./b").has_value());
  EXPECT_FALSE(NormalSubtreePath("").has_value());
}

TEST(ExportsTest, WithoutAFileEveryClientMountsEverythingReadWrite) {
  Exports exports = Exports::EveryClient();
  auto lines = exports.For("any-key", "", "10.0.0.1");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]->subtree, "/");
  EXPECT_FALSE(lines[0]->read_only);
}

}  // namespace
}  // namespace hafs::master
