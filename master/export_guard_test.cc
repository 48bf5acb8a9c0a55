// The export checks as the master applies them to client requests: which subtree a client
// may mount, and that every request stays inside it, read-only where the export says so,
// squashed and within the goal range. The file's syntax is tested in exports_test.cc.
#include "master/export_guard.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace hafs::master {
namespace {

constexpr int64_t kNowNs = 1'700'000'000'000'000'000;

wire::Credentials Root() {
  wire::Credentials root;
  root.add_groups(0);
  return root;
}

class ExportGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() / ("exports-" + std::to_string(::getpid()))).string();
    std::ofstream(path_) << "alice /a rw,root_squash\n"
                            "bob   /a ro\n"
                            "carol /  rw,goal=2-3\n";
    guard_ = std::make_unique<ExportGuard>(path_);
    ASSERT_TRUE(guard_->Load().ok());
    a_ = Mkdir(kRootInode, "a");
    b_ = Mkdir(kRootInode, "b");
    in_a_ = Mknod(a_, "f");
    in_b_ = Mknod(b_, "g");
  }
  void TearDown() override { std::filesystem::remove(path_); }

  uint64_t Mkdir(uint64_t parent, const std::string& name) {
    wire::MkdirRequest request;
    request.set_parent(parent);
    request.set_name(name);
    request.set_mode(0777);
    *request.mutable_credentials() = Root();
    return tree_.Mkdir(request, kNowNs)->inode();
  }
  uint64_t Mknod(uint64_t parent, const std::string& name) {
    wire::MknodRequest request;
    request.set_parent(parent);
    request.set_name(name);
    request.set_mode(S_IFREG | 0666);
    *request.mutable_credentials() = Root();
    return tree_.Mknod(request, kNowNs)->inode();
  }
  static ExportClient Client(const std::string& name) { return {"", name, "127.0.0.1"}; }
  Result<wire::Reply> Mount(const std::string& name, const std::string& subdir) {
    wire::MountRequest request;
    request.set_subdir(subdir);
    ExportClient client = Client(name);
    return guard_->Mount(&client, request, tree_);
  }
  static wire::Envelope GetAttr(uint64_t root, uint64_t inode) {
    wire::Envelope request;
    request.set_mount_root(root);
    request.mutable_get_attr()->set_inode(inode);
    return request;
  }
  static wire::Envelope MknodAsRoot(uint64_t root, uint64_t parent) {
    wire::Envelope request;
    request.set_mount_root(root);
    request.mutable_mknod()->set_parent(parent);
    request.mutable_mknod()->set_name("new");
    request.mutable_mknod()->set_mode(S_IFREG | 0644);
    *request.mutable_mknod()->mutable_credentials() = Root();
    return request;
  }
  int Admit(const std::string& name, wire::Envelope request) {
    return guard_->Admit(Client(name), &request, tree_).error();
  }

  std::string path_;
  std::unique_ptr<ExportGuard> guard_;
  Namespace tree_;
  uint64_t a_ = 0, b_ = 0, in_a_ = 0, in_b_ = 0;
};

TEST_F(ExportGuardTest, AClientMountsOnlyWhatAnExportGivesIt) {
  auto alice = Mount("alice", "/a/");
  ASSERT_TRUE(alice.has_value()) << alice.error().ToString();
  EXPECT_EQ(alice->mount_root(), a_);
  EXPECT_FALSE(alice->read_only());
  EXPECT_EQ(alice->squash(), 1u) << "root_squash, for the mount's own open checks";
  EXPECT_EQ(alice->anonymous_uid(), 65534u);
  EXPECT_EQ(Mount("alice", "/").error().error(), EACCES);
  EXPECT_EQ(Mount("alice", "/b").error().error(), EACCES);
  EXPECT_EQ(Mount("alice", "/a/missing").error().error(), ENOENT);
  EXPECT_EQ(Mount("alice", "/a/f").error().error(), ENOTDIR);
  EXPECT_EQ(Mount("alice", "/a/../b").error().error(), EINVAL);
  EXPECT_EQ(Mount("mallory", "/").error().error(), EACCES) << "no export names it";
  EXPECT_TRUE(Mount("bob", "/a")->read_only());
  EXPECT_EQ(Mount("carol", "/b")->max_goal(), 3u);
  wire::MountRequest admin;
  admin.set_subdir("/b");
  EXPECT_EQ(guard_->Mount(nullptr, admin, tree_)->mount_root(), b_) << "an admin key mounts anything";
}

TEST_F(ExportGuardTest, RequestsStayInsideTheMountedSubtree) {
  EXPECT_EQ(Admit("alice", GetAttr(a_, in_a_)), 0);
  EXPECT_EQ(Admit("alice", GetAttr(a_, a_)), 0);
  EXPECT_EQ(Admit("alice", GetAttr(a_, in_b_)), EACCES) << "a file outside /a";
  EXPECT_EQ(Admit("alice", GetAttr(a_, kRootInode)), EACCES) << "the parent of its root";
  EXPECT_EQ(Admit("alice", GetAttr(0, in_a_)), EACCES) << "no export gives alice the whole tree";
  EXPECT_EQ(Admit("alice", GetAttr(b_, in_b_)), EACCES) << "nor /b, whatever root it claims";
  EXPECT_EQ(Admit("alice", GetAttr(a_, 999)), 0) << "a missing inode is the handler's ENOENT";
  EXPECT_EQ(Admit("mallory", GetAttr(0, in_a_)), EACCES);

  // A file moved out of the subtree leaves it; one hard-linked in comes in with its link.
  wire::RenameRequest out;
  out.set_parent(a_);
  out.set_name("f");
  out.set_new_parent(b_);
  out.set_new_name("f");
  std::vector<uint64_t> freed;
  ASSERT_TRUE(tree_.Rename(out, kNowNs, &freed).ok());
  EXPECT_EQ(Admit("alice", GetAttr(a_, in_a_)), EACCES);
  wire::LinkRequest link;
  link.set_inode(in_b_);
  link.set_new_parent(a_);
  link.set_new_name("g");
  ASSERT_TRUE(tree_.Link(link, kNowNs).has_value());
  EXPECT_EQ(Admit("alice", GetAttr(a_, in_b_)), 0);
}

TEST_F(ExportGuardTest, ReadOnlyExportsRefuseChangesWithErofs) {
  EXPECT_EQ(Admit("bob", MknodAsRoot(a_, a_)), EROFS);
  EXPECT_EQ(Admit("bob", GetAttr(a_, in_a_)), 0);
  wire::Envelope lease;
  lease.set_mount_root(a_);
  lease.mutable_write_lease()->set_inode(in_a_);
  EXPECT_EQ(Admit("bob", lease), EROFS) << "data writes too";
}

TEST_F(ExportGuardTest, LocksStayInsideTheSubtreeAndAreAReadersToTakeEvenReadOnly) {
  auto lock = [](uint64_t root, uint64_t inode) {
    wire::Envelope request;
    request.set_mount_root(root);
    request.mutable_lock()->set_inode(inode);
    *request.mutable_lock()->mutable_credentials() = Root();
    return request;
  };
  EXPECT_EQ(Admit("alice", lock(a_, in_a_)), 0);
  EXPECT_EQ(Admit("alice", lock(a_, in_b_)), EACCES);
  EXPECT_EQ(Admit("bob", lock(a_, in_a_)), 0) << "a lock changes no file";
  wire::Envelope squashed = lock(a_, in_a_);
  ASSERT_EQ(guard_->Admit(Client("alice"), &squashed, tree_).error(), 0);
  EXPECT_EQ(squashed.lock().credentials().uid(), 65534u) << "checked as the squashed user";
}

TEST_F(ExportGuardTest, RootSquashMapsUidZero) {
  wire::Envelope create = MknodAsRoot(a_, a_);
  ASSERT_TRUE(guard_->Admit(Client("alice"), &create, tree_).ok());
  EXPECT_EQ(create.mknod().credentials().uid(), 65534u);
  EXPECT_EQ(create.mknod().credentials().gid(), 65534u);
  EXPECT_EQ(create.mknod().credentials().groups_size(), 0);
  wire::Envelope as_user = MknodAsRoot(a_, a_);
  as_user.mutable_mknod()->mutable_credentials()->set_uid(1000);
  as_user.mutable_mknod()->mutable_credentials()->set_gid(1000);
  ASSERT_TRUE(guard_->Admit(Client("alice"), &as_user, tree_).ok());
  EXPECT_EQ(as_user.mknod().credentials().uid(), 1000u) << "root_squash leaves other users alone";
  wire::Envelope unsquashed = MknodAsRoot(0, kRootInode);
  ASSERT_TRUE(guard_->Admit(Client("carol"), &unsquashed, tree_).ok());
  EXPECT_EQ(unsquashed.mknod().credentials().uid(), 0u);
}

TEST_F(ExportGuardTest, GoalsStayInTheExportsRange) {
  wire::Envelope set_goal;
  set_goal.mutable_set_goal()->set_inode(in_b_);
  set_goal.mutable_set_goal()->set_goal(5);
  EXPECT_EQ(Admit("carol", set_goal), EPERM);
  set_goal.mutable_set_goal()->set_goal(2);
  EXPECT_EQ(Admit("carol", set_goal), 0);
}

TEST_F(ExportGuardTest, AReloadThatDoesNotParseKeepsTheOldExports) {
  std::ofstream(path_) << "alice / rw\n";
  ExportGuard::RequestReload();
  guard_->MaybeReload();
  EXPECT_EQ(Admit("alice", GetAttr(0, in_b_)), 0) << "alice now has the whole tree";
  std::ofstream(path_) << "alice / sideways\n";
  ExportGuard::RequestReload();
  guard_->MaybeReload();
  EXPECT_EQ(Admit("alice", GetAttr(0, in_b_)), 0);
  EXPECT_EQ(Admit("bob", GetAttr(a_, in_a_)), EACCES) << "bob's line went with the first reload";
}

}  // namespace
}  // namespace hafs::master
