// The permission checks as MasterState applies them: a refused request is answered and
// logs nothing, an allowed one logs the change as Linux makes it, and replay never checks.
// The rules themselves are tested in access_check_test.cc.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "master/master_state.h"
#include "master/test_util.h"

namespace hafs::master {
namespace {

constexpr int64_t kNowNs = 1'700'000'000'000'000'000;
constexpr uint32_t kNobody = 65534;

wire::Credentials As(uint32_t uid) {
  wire::Credentials credentials;
  credentials.set_uid(uid);
  credentials.set_gid(uid);
  return credentials;
}

class NamespaceAccessTest : public ::testing::Test {
 protected:
  NamespaceAccessTest() : state_(MasterOptions{}) { state_.StartEpoch(0, kNowNs, &records_); }

  wire::Reply Call(const wire::Envelope& request) { return state_.Handle(request, 1000, kNowNs, &records_); }
  uint64_t Make(uint64_t parent, const std::string& name, uint32_t mode, uint32_t uid = 0) {
    wire::Reply reply = Call(testing::CreateRequest(parent, name, mode, As(uid)));
    EXPECT_EQ(reply.error(), 0) << reply.error_message();
    return reply.attr().inode();
  }
  static wire::Envelope SetAttr(uint64_t inode, uint32_t valid, uint32_t uid) {
    wire::Envelope request;
    request.mutable_set_attr()->set_inode(inode);
    request.mutable_set_attr()->set_valid(valid);
    *request.mutable_set_attr()->mutable_credentials() = As(uid);
    return request;
  }

  MasterState state_;
  std::vector<wire::LogRecord> records_;
};

TEST_F(NamespaceAccessTest, RefusedRequestsAreAnsweredAndLogNothing) {
  uint64_t secret = Make(kRootInode, "secret", S_IFREG | 0600);
  uint64_t private_dir = Make(kRootInode, "private", S_IFDIR | 0700);
  Make(private_dir, "inside", S_IFREG | 0644);
  records_.clear();

  wire::Envelope chmod = SetAttr(secret, wire::SET_ATTR_MODE, kNobody);
  chmod.mutable_set_attr()->set_mode(0666);
  EXPECT_EQ(Call(chmod).error(), EPERM);
  wire::Envelope unlink;
  unlink.mutable_unlink()->set_parent(kRootInode);
  unlink.mutable_unlink()->set_name("secret");
  *unlink.mutable_unlink()->mutable_credentials() = As(kNobody);
  EXPECT_EQ(Call(unlink).error(), EACCES);
  wire::Envelope lookup;
  lookup.mutable_lookup()->set_parent(private_dir);
  lookup.mutable_lookup()->set_name("inside");
  *lookup.mutable_lookup()->mutable_credentials() = As(kNobody);
  EXPECT_EQ(Call(lookup).error(), EACCES);
  wire::Envelope read_dir;
  read_dir.mutable_read_dir()->set_inode(private_dir);
  *read_dir.mutable_read_dir()->mutable_credentials() = As(kNobody);
  wire::Reply listing = Call(read_dir);
  EXPECT_EQ(listing.error(), EACCES);
  EXPECT_EQ(listing.entries_size(), 0);
  EXPECT_TRUE(records_.empty());
  EXPECT_EQ(state_.name_space().GetAttr(secret)->mode() & 07777, 0600u);

  // The same requests from the owner (root) pass.
  lookup.mutable_lookup()->clear_credentials();
  EXPECT_EQ(Call(lookup).error(), 0);
  read_dir.mutable_read_dir()->clear_credentials();
  EXPECT_EQ(Call(read_dir).entries_size(), 1);
  chmod.mutable_set_attr()->clear_credentials();
  EXPECT_EQ(Call(chmod).error(), 0);
  EXPECT_EQ(records_.size(), 1u);
}

TEST_F(NamespaceAccessTest, MissingNamesAreStillENOENTWhereSearchIsAllowed) {
  wire::Envelope unlink;
  unlink.mutable_unlink()->set_parent(kRootInode);
  unlink.mutable_unlink()->set_name("nothing");
  *unlink.mutable_unlink()->mutable_credentials() = As(kNobody);
  EXPECT_EQ(Call(unlink).error(), ENOENT) << "the root is searchable: the name comes before write permission";
  wire::Envelope mkdir;
  mkdir.mutable_mkdir()->set_parent(kRootInode);
  mkdir.mutable_mkdir()->set_name("private");
  Make(kRootInode, "private", S_IFDIR | 0700);
  *mkdir.mutable_mkdir()->mutable_credentials() = As(kNobody);
  EXPECT_EQ(Call(mkdir).error(), EEXIST) << "mkdir of an existing name is EEXIST, as in Linux";
}

TEST_F(NamespaceAccessTest, TheLoggedRecordHoldsTheChangeAsLinuxMakesIt) {
  uint64_t open_dir = Make(kRootInode, "open", S_IFDIR | 0777);
  uint64_t program = Make(open_dir, "program", S_IFREG | 06755, kNobody);
  wire::Envelope chgrp = SetAttr(program, wire::SET_ATTR_GID, kNobody);
  chgrp.mutable_set_attr()->set_gid(kNobody);
  ASSERT_EQ(Call(chgrp).error(), 0);
  EXPECT_EQ(state_.name_space().GetAttr(program)->mode() & 07777, 0755u) << "a chgrp drops the set-id bits";
  EXPECT_TRUE(records_.back().set_attr().valid() & wire::SET_ATTR_MODE);

  uint64_t shared = Make(kRootInode, "shared", S_IFDIR | 02777);  // root's group
  uint64_t planted = Make(shared, "planted", S_IFREG | 02755, kNobody);
  EXPECT_EQ(state_.name_space().GetAttr(planted)->mode() & 07777, 0755u)
      << "no setgid program of a group its maker is not in";

  MasterState replayed(MasterOptions{});
  for (const wire::LogRecord& record : records_) ASSERT_TRUE(replayed.Replay(record).ok());
  EXPECT_EQ(testing::Dump(replayed), testing::Dump(state_));
}

TEST_F(NamespaceAccessTest, ReplayAppliesWhatWasLoggedWithoutChecking) {
  uint64_t secret = Make(kRootInode, "secret", S_IFREG | 0600);
  // Checked when it was logged, if the rules of that version said so: replay applies
  // the record as it is, or a master would rebuild another tree than the one it served.
  wire::LogRecord record;
  record.set_position(state_.position() + 1);
  record.set_time_ns(kNowNs);
  *record.mutable_set_attr() = SetAttr(secret, wire::SET_ATTR_MODE, kNobody).set_attr();
  record.mutable_set_attr()->set_mode(0666);
  ASSERT_TRUE(state_.Replay(record).ok());
  EXPECT_EQ(state_.name_space().GetAttr(secret)->mode() & 07777, 0666u);
}

}  // namespace
}  // namespace hafs::master
