#include "common/curve_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/request_roles.h"

namespace hafs::curve {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))).string();
}

TEST(CurveKeysTest, AKeyPairFileIsPrivateAndReadsBack) {
  std::string path = TempPath("hafs-key");
  std::filesystem::remove(path);
  auto keys = GenerateKeyPair();
  ASSERT_TRUE(keys.has_value());
  ASSERT_TRUE(WriteKeyPairFile(path, *keys).ok());
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto read = ReadKeyPairFile(path);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_EQ(read->public_key, keys->public_key);
  EXPECT_EQ(read->secret_key, keys->secret_key);
  EXPECT_EQ(WriteKeyPairFile(path, *keys).error(), EEXIST) << "never replaces a key";
  std::filesystem::remove(path);
}

TEST(CurveKeysTest, AFileThatIsNotAKeyPairIsRefused) {
  std::string path = TempPath("hafs-not-a-key");
  std::ofstream(path) << "public-key = short\nsecret-key = also short\n";
  EXPECT_EQ(ReadKeyPairFile(path).error().error(), EINVAL);
  std::filesystem::remove(path);
  EXPECT_EQ(ReadKeyPairFile(path).error().error(), ENOENT);
}

TEST(CurveKeysTest, AuthorizedKeysGiveEachKeyItsRole) {
  auto master = GenerateKeyPair(), chunkserver = GenerateKeyPair(), client = GenerateKeyPair();
  std::string text = "# cluster keys\nmaster " + master->public_key + " masters\n\n  chunkserver " +
                     chunkserver->public_key + "\nclient " + client->public_key + " alice\n";
  auto keys = AuthorizedKeys::Parse(text, "test");
  ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
  EXPECT_EQ(keys->size(), 3u);
  EXPECT_EQ(keys->RoleOf(master->public_key), Role::kMaster);
  EXPECT_EQ(keys->RoleOf(chunkserver->public_key), Role::kChunkserver);
  EXPECT_EQ(keys->RoleOf(client->public_key), Role::kClient);
  EXPECT_FALSE(keys->RoleOf(GenerateKeyPair()->public_key).has_value());
  EXPECT_EQ(*keys->MasterKey(), master->public_key);
  EXPECT_EQ(keys->NameOf(client->public_key), "alice");
  EXPECT_EQ(keys->NameOf(chunkserver->public_key), "");
}

TEST(CurveKeysTest, BadAuthorizedKeysNameTheLine) {
  auto key = GenerateKeyPair()->public_key;
  auto unknown_role = AuthorizedKeys::Parse("\nroot " + key + "\n", "keys");
  EXPECT_NE(unknown_role.error().message().find("keys:2"), std::string::npos) << unknown_role.error().ToString();
  EXPECT_FALSE(AuthorizedKeys::Parse("client not-a-key\n", "keys").has_value());
  EXPECT_FALSE(AuthorizedKeys::Parse("client " + key + "\nadmin " + key + "\n", "keys").has_value())
      << "one key, one role";
  EXPECT_FALSE(AuthorizedKeys::Parse("client " + key + "\n", "keys")->MasterKey().has_value()) << "no master key";
}

TEST(RequestRolesTest, EachRoleMakesOnlyItsOwnRequests) {
  using Body = wire::Envelope::BodyCase;
  EXPECT_TRUE(MayAsk(Role::kClient, Body::kLookup));
  EXPECT_TRUE(MayAsk(Role::kClient, Body::kWriteChunk));
  EXPECT_FALSE(MayAsk(Role::kClient, Body::kRegister));
  EXPECT_FALSE(MayAsk(Role::kClient, Body::kAppendLog));
  EXPECT_FALSE(MayAsk(Role::kClient, Body::kLeadershipLease));
  EXPECT_FALSE(MayAsk(Role::kClient, Body::kReplicateChunk));
  EXPECT_FALSE(MayAsk(Role::kClient, Body::kChunkserverMode));
  EXPECT_TRUE(MayAsk(Role::kAdmin, Body::kChunkserverMode));
  EXPECT_TRUE(MayAsk(Role::kChunkserver, Body::kHeartbeat));
  EXPECT_TRUE(MayAsk(Role::kChunkserver, Body::kReadChunk));
  EXPECT_FALSE(MayAsk(Role::kChunkserver, Body::kMkdir));
  EXPECT_FALSE(MayAsk(Role::kChunkserver, Body::kMasterHello));
  EXPECT_TRUE(MayAsk(Role::kMaster, Body::kMasterHello));
  EXPECT_TRUE(MayAsk(Role::kMaster, Body::kLeadershipLease));
  EXPECT_FALSE(MayAsk(Role::kMaster, Body::kRegister));
  EXPECT_FALSE(MayAsk(Role::kMaster, Body::kUnlink));
}

}  // namespace
}  // namespace hafs::curve
