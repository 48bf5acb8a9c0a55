// POSIX ACLs through MasterState as a mount's requests reach it: setting them (and who may),
// the mode they set, chmod, inheritance on create, checks following them, and the same
// state after replay and after a checkpoint. The ACL rules themselves are in
// posix_acl_test.cc, the checks in access_check_test.cc.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "master/checkpoint.h"
#include "master/master_state.h"
#include "master/test_util.h"

namespace hafs::master {
namespace {

constexpr int64_t kNowNs = 1'700'000'000'000'000'000;
constexpr uint32_t kNobody = 65534;
constexpr uint32_t kNone = PosixAcl::kUndefinedId;

wire::Credentials As(uint32_t uid, uint32_t umask = 0) {
  wire::Credentials credentials;
  credentials.set_uid(uid);
  credentials.set_gid(uid);
  credentials.set_umask(umask);
  return credentials;
}

// u::rwx,u:nobody:<perm>,g::---,m::rwx,o::---
std::string NobodyMay(uint16_t perm) {
  return testing::AclBytes({{PosixAcl::kUserObj, 7, kNone},
                            {PosixAcl::kUser, perm, kNobody},
                            {PosixAcl::kGroupObj, 0, kNone},
                            {PosixAcl::kMask, 7, kNone},
                            {PosixAcl::kOther, 0, kNone}});
}

class NamespaceAclTest : public ::testing::Test {
 protected:
  NamespaceAclTest() : state_(MasterOptions{}) { state_.StartEpoch(0, kNowNs, &records_); }

  wire::Reply Call(const wire::Envelope& request) { return state_.Handle(request, 1000, kNowNs, &records_); }
  // A new inode in `parent` by root with `umask`: its attributes.
  wire::Attr Make(uint64_t parent, const std::string& name, uint32_t mode, uint32_t umask = 0) {
    wire::Reply reply = Call(testing::CreateRequest(parent, name, mode, As(0, umask)));
    EXPECT_EQ(reply.error(), 0) << reply.error_message();
    return reply.attr();
  }
  int SetAcl(uint64_t inode, std::string_view name, const std::string& bytes, uint32_t uid = 0) {
    wire::Envelope request;
    request.mutable_set_xattr()->set_inode(inode);
    request.mutable_set_xattr()->set_name(std::string(name));
    request.mutable_set_xattr()->set_value(bytes);
    *request.mutable_set_xattr()->mutable_credentials() = As(uid);
    return Call(request).error();
  }
  int RemoveAcl(uint64_t inode, std::string_view name) {
    wire::Envelope request;
    request.mutable_remove_xattr()->set_inode(inode);
    request.mutable_remove_xattr()->set_name(std::string(name));
    return Call(request).error();
  }
  Result<std::string> Acl(const MasterState& state, uint64_t inode, std::string_view name) {
    wire::GetXattrRequest request;
    request.set_inode(inode);
    request.set_name(std::string(name));
    wire::Reply reply;
    Status status = state.name_space().GetXattr(request, &reply);
    if (!status.ok()) return Fail(status);
    return reply.xattr_value();
  }
  // Whether nobody may look a name up in `directory` (search permission).
  static int NobodySearches(MasterState& state, uint64_t directory) {
    wire::Envelope lookup;
    lookup.mutable_lookup()->set_parent(directory);
    lookup.mutable_lookup()->set_name("anything");
    *lookup.mutable_lookup()->mutable_credentials() = As(kNobody);
    std::vector<wire::LogRecord> records;
    return state.Handle(lookup, 1000, kNowNs, &records).error();
  }
  uint32_t Mode(uint64_t inode) { return state_.name_space().GetAttr(inode)->mode() & 07777; }
  void ExpectReplayAndCheckpointGiveTheSameState() {
    MasterState replayed(MasterOptions{});
    for (const wire::LogRecord& record : records_) ASSERT_TRUE(replayed.Replay(record).ok());
    EXPECT_EQ(testing::Dump(replayed), testing::Dump(state_));
    testing::TempDirectory directory;
    ASSERT_TRUE(WriteCheckpoint(directory.path(), state_).ok());
    MasterState restored(MasterOptions{});
    auto loaded = LoadNewestCheckpoint(directory.path(), &restored);
    ASSERT_TRUE(loaded && *loaded);
    EXPECT_EQ(testing::Dump(restored), testing::Dump(state_));
  }

  MasterState state_;
  std::vector<wire::LogRecord> records_;
};

TEST_F(NamespaceAclTest, AnAccessAclLetsANamedUserInAndSetsTheGroupBitsToTheMask) {
  uint64_t dir = Make(kRootInode, "private", S_IFDIR | 0700).inode();
  EXPECT_EQ(NobodySearches(state_, dir), EACCES);
  ASSERT_EQ(SetAcl(dir, kAccessAclName, NobodyMay(5)), 0);
  EXPECT_EQ(Mode(dir), 0770u) << "the group bits are the mask's";
  EXPECT_EQ(NobodySearches(state_, dir), ENOENT) << "searched, and the name is not there";
  EXPECT_EQ(*Acl(state_, dir, kAccessAclName), NobodyMay(5));
  ExpectReplayAndCheckpointGiveTheSameState();
  MasterState restored(MasterOptions{});
  for (const wire::LogRecord& record : records_) ASSERT_TRUE(restored.Replay(record).ok());
  EXPECT_EQ(NobodySearches(restored, dir), ENOENT) << "a replayed ACL is checked too";

  ASSERT_EQ(RemoveAcl(dir, kAccessAclName), 0);
  EXPECT_EQ(NobodySearches(state_, dir), EACCES);
  EXPECT_EQ(Mode(dir), 0770u) << "removing the ACL leaves the mode";
  EXPECT_EQ(Acl(state_, dir, kAccessAclName).error().error(), ENODATA);
}

TEST_F(NamespaceAclTest, AnAclTheModeBitsSayIsNotStored) {
  uint64_t file = Make(kRootInode, "plain", S_IFREG | 0600).inode();
  ASSERT_EQ(
      SetAcl(file, kAccessAclName,
             testing::AclBytes(
                 {{PosixAcl::kUserObj, 6, kNone}, {PosixAcl::kGroupObj, 4, kNone}, {PosixAcl::kOther, 4, kNone}})),
      0);
  EXPECT_EQ(Mode(file), 0644u);
  EXPECT_FALSE(state_.name_space().GetAttr(file)->has_xattrs()) << "nothing kept: no memory";
  EXPECT_EQ(Acl(state_, file, kAccessAclName).error().error(), ENODATA);

  ASSERT_EQ(SetAcl(file, kAccessAclName, NobodyMay(4)), 0);
  EXPECT_TRUE(state_.name_space().GetAttr(file)->has_xattrs());
  ASSERT_EQ(SetAcl(file, kAccessAclName, PosixAcl::FromMode(0640).Serialize()), 0);
  EXPECT_FALSE(state_.name_space().GetAttr(file)->has_xattrs()) << "an equivalent ACL drops the stored one";
  EXPECT_EQ(Mode(file), 0640u);
}

TEST_F(NamespaceAclTest, OnlyValidAclsFromTheOwnerOnWhatCanHaveThem) {
  uint64_t file = Make(kRootInode, "file", S_IFREG | 0666).inode();
  records_.clear();
  EXPECT_EQ(SetAcl(file, kAccessAclName, NobodyMay(4), kNobody), EPERM) << "w on the file is not enough";
  EXPECT_EQ(SetAcl(file, kAccessAclName, std::string("\x02\0\0\0garbage!", 12)), EINVAL);
  EXPECT_EQ(SetAcl(file, kAccessAclName, ""), EINVAL);
  EXPECT_EQ(SetAcl(file, kDefaultAclName, NobodyMay(4)), EACCES) << "a default ACL on a file, as Linux";
  EXPECT_EQ(SetAcl(file, "system.posix_acl_other", NobodyMay(4)), EOPNOTSUPP);
  EXPECT_TRUE(records_.empty()) << "refused before logging, or failed without a change";
  EXPECT_EQ(Mode(file), 0666u);
}

TEST_F(NamespaceAclTest, ChmodChangesTheMaskNotTheNamedEntries) {
  uint64_t dir = Make(kRootInode, "dir", S_IFDIR | 0700).inode();
  ASSERT_EQ(SetAcl(dir, kAccessAclName, NobodyMay(5)), 0);
  wire::Envelope chmod;
  chmod.mutable_set_attr()->set_inode(dir);
  chmod.mutable_set_attr()->set_valid(wire::SET_ATTR_MODE);
  chmod.mutable_set_attr()->set_mode(0705);
  ASSERT_EQ(Call(chmod).error(), 0);
  EXPECT_EQ(NobodySearches(state_, dir), EACCES) << "the mask is --- now";
  EXPECT_EQ(*Acl(state_, dir, kAccessAclName), testing::AclBytes({{PosixAcl::kUserObj, 7, kNone},
                                                                  {PosixAcl::kUser, 5, kNobody},
                                                                  {PosixAcl::kGroupObj, 0, kNone},
                                                                  {PosixAcl::kMask, 0, kNone},
                                                                  {PosixAcl::kOther, 5, kNone}}));
  ExpectReplayAndCheckpointGiveTheSameState();
}

TEST_F(NamespaceAclTest, NewInodesInheritTheDefaultAclOrGetTheUmask) {
  uint64_t plain = Make(kRootInode, "plain", S_IFDIR | 0777, 022).inode();
  EXPECT_EQ(Mode(plain), 0755u) << "the umask, which the kernel leaves to us";
  EXPECT_EQ(Mode(Make(plain, "file", S_IFREG | 0666, 022).inode()), 0644u);

  uint64_t shared = Make(kRootInode, "shared", S_IFDIR | 0700).inode();
  ASSERT_EQ(SetAcl(shared, kDefaultAclName, NobodyMay(7)), 0);
  EXPECT_EQ(Mode(shared), 0700u) << "a default ACL leaves the mode";
  wire::Attr file = Make(shared, "file", S_IFREG | 0640, 077);
  EXPECT_EQ(file.mode() & 07777, 0640u) << "no umask: the default ACL and the mode mask each other";
  EXPECT_EQ(*Acl(state_, file.inode(), kAccessAclName), testing::AclBytes({{PosixAcl::kUserObj, 6, kNone},
                                                                           {PosixAcl::kUser, 7, kNobody},
                                                                           {PosixAcl::kGroupObj, 0, kNone},
                                                                           {PosixAcl::kMask, 4, kNone},
                                                                           {PosixAcl::kOther, 0, kNone}}));
  wire::Attr sub = Make(shared, "sub", S_IFDIR | 0777, 077);
  EXPECT_EQ(sub.mode() & 07777, 0770u);
  EXPECT_EQ(*Acl(state_, sub.inode(), kDefaultAclName), NobodyMay(7)) << "a directory passes it on";
  EXPECT_EQ(NobodySearches(state_, sub.inode()), ENOENT);
  EXPECT_EQ(Acl(state_, file.inode(), kDefaultAclName).error().error(), ENODATA);

  wire::Envelope symlink;
  symlink.mutable_symlink()->set_parent(shared);
  symlink.mutable_symlink()->set_name("link");
  symlink.mutable_symlink()->set_target("file");
  wire::Reply link = Call(symlink);
  EXPECT_EQ(link.attr().mode() & 07777, 0777u);
  EXPECT_FALSE(link.attr().has_xattrs()) << "symlinks get no ACL";
  ExpectReplayAndCheckpointGiveTheSameState();
}

}  // namespace
}  // namespace hafs::master
