// Every rule of AccessCheck, against what Linux answers on ext4 for the same inode and caller.
#include "master/access_check.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <initializer_list>

#include "master/test_util.h"

namespace hafs::master {
namespace {

constexpr uint32_t kRoot = 0;
constexpr uint32_t kAlice = 1000;  // group 1000
constexpr uint32_t kBob = 2000;    // group 2000, and in group 3000
constexpr uint32_t kShared = 3000;

wire::Credentials As(uint32_t uid, uint32_t gid, std::initializer_list<uint32_t> groups = {}) {
  wire::Credentials credentials;
  credentials.set_uid(uid);
  credentials.set_gid(gid);
  for (uint32_t group : groups) credentials.add_groups(group);
  return credentials;
}
const wire::Credentials kRootUser = As(kRoot, kRoot);
const wire::Credentials kAliceUser = As(kAlice, kAlice);
const wire::Credentials kBobUser = As(kBob, kBob, {kShared});

Inode Make(uint32_t type_and_mode, uint32_t uid, uint32_t gid) {
  return Inode{.mode = type_and_mode, .uid = uid, .gid = gid};
}
Inode Dir(uint32_t mode, uint32_t uid, uint32_t gid = 0) { return Make(S_IFDIR | mode, uid, gid ? gid : uid); }
Inode File(uint32_t mode, uint32_t uid, uint32_t gid = 0) { return Make(S_IFREG | mode, uid, gid ? gid : uid); }

int Error(const Status& status) { return status.error(); }

wire::SetAttrRequest SetAttr(uint32_t valid) {
  wire::SetAttrRequest request;
  request.set_valid(valid);
  return request;
}
// The error of a setattr, and the request as it would be applied.
int SetAttrError(const wire::Credentials& who, const Inode& inode, wire::SetAttrRequest* request) {
  return AccessCheck(who).MaySetAttr(inode, request).error();
}

TEST(AccessCheckTest, TheCallersClassDecidesAloneOwnerThenGroupThenOthers) {
  Inode file = File(0604, kAlice, kShared);  // owner rw, group none, others r
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayRead(file)), 0);
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayWrite(file)), 0);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayRead(file)), EACCES) << "in the group: the group's bits, not the others'";
  EXPECT_EQ(Error(AccessCheck(As(4000, 4000)).MayRead(file)), 0);
  EXPECT_EQ(Error(AccessCheck(As(4000, 4000)).MayWrite(file)), EACCES);
  Inode owner_locked_out = File(0077, kAlice);
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayRead(owner_locked_out)), EACCES);
}

TEST(AccessCheckTest, SupplementaryGroupsAndThePrimaryGroupCount) {
  Inode file = File(0640, kAlice, kShared);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayRead(file)), 0) << "bob is in group 3000 as a supplementary group";
  EXPECT_EQ(Error(AccessCheck(As(4000, kShared)).MayRead(file)), 0) << "primary group";
  EXPECT_EQ(Error(AccessCheck(As(4000, 4000)).MayRead(file)), EACCES);
}

TEST(AccessCheckTest, RootPassesEveryBitButSearchesOnlyDirectories) {
  EXPECT_EQ(Error(AccessCheck(kRootUser).MayRead(File(0000, kAlice))), 0);
  EXPECT_EQ(Error(AccessCheck(kRootUser).MayWrite(File(0000, kAlice))), 0);
  EXPECT_EQ(Error(AccessCheck(kRootUser).MaySearch(Dir(0000, kAlice))), 0);
  EXPECT_EQ(Error(AccessCheck(kRootUser).MaySearch(File(0644, kAlice))), EACCES) << "exec of a file with no x bit";
  EXPECT_EQ(Error(AccessCheck(kRootUser).MaySearch(File(0100, kAlice))), 0);
}

TEST(AccessCheckTest, DataThroughADescriptorLetsTheOwnerThroughWhateverTheBits) {
  Inode read_only = File(0444, kAlice, kShared);
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayWriteData(read_only)), 0) << "created 0444, written through its fd";
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayWrite(read_only)), EACCES) << "truncate(2) by path still needs w";
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayReadData(File(0000, kAlice))), 0) << "fchmod 0 after the open";
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayWriteData(read_only)), EACCES);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayReadData(read_only)), 0);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayReadData(File(0600, kAlice))), EACCES);
  EXPECT_EQ(Error(AccessCheck(kRootUser).MayWriteData(File(0000, kAlice))), 0);
}

TEST(AccessCheckTest, FtruncateThroughADescriptorIsADataWrite) {
  Inode read_only = File(0444, kAlice);
  wire::SetAttrRequest by_path = SetAttr(wire::SET_ATTR_SIZE);
  EXPECT_EQ(SetAttrError(kAliceUser, read_only, &by_path), EACCES);
  wire::SetAttrRequest through_fd = SetAttr(wire::SET_ATTR_SIZE);
  through_fd.set_through_open_file(true);
  EXPECT_EQ(SetAttrError(kAliceUser, read_only, &through_fd), 0);
  EXPECT_EQ(SetAttrError(kBobUser, read_only, &through_fd), EACCES);
}

TEST(AccessCheckTest, ExtendedAttributesFollowXattrPermission) {
  Inode file = File(0644, kAlice);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayReadXattr(file, "user.a")), 0);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayChangeXattr(file, "user.a")), EACCES);
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayChangeXattr(file, "user.a")), 0);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayReadXattr(File(0600, kAlice), "user.a")), EACCES);
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayReadXattr(file, "trusted.a")), ENODATA);
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayChangeXattr(file, "trusted.a")), EPERM);
  EXPECT_EQ(Error(AccessCheck(kRootUser).MayChangeXattr(file, "trusted.a")), 0);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayReadXattr(File(0600, kAlice), "security.a")), 0);
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayChangeXattr(file, "security.a")), EPERM);
  Inode link = Make(S_IFLNK | 0777, kAlice, kAlice);
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayChangeXattr(link, "user.a")), EPERM);
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayReadXattr(link, "user.a")), ENODATA);
  Inode sticky = Dir(01777, kAlice);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayChangeXattr(sticky, "user.a")), EPERM);
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayChangeXattr(sticky, "user.a")), 0);
  EXPECT_FALSE(AccessCheck(kAliceUser).MayListXattr("trusted.a"));
  EXPECT_TRUE(AccessCheck(kRootUser).MayListXattr("trusted.a"));
  EXPECT_TRUE(AccessCheck(kAliceUser).MayListXattr("security.a"));
}

TEST(AccessCheckTest, LookupNeedsSearchAndListingNeedsRead) {
  Inode dir = Dir(0700, kAlice);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MaySearch(dir)), EACCES);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayRead(dir)), EACCES);
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MaySearch(dir)), 0);
  Inode search_only = Dir(0711, kAlice);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MaySearch(search_only)), 0);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayRead(search_only)), EACCES);
}

TEST(AccessCheckTest, CreatingNeedsWriteAndSearchOnTheDirectory) {
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayCreateIn(Dir(0755, kAlice))), EACCES);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayCreateIn(Dir(0776, kAlice))), EACCES) << "w without x";
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayCreateIn(Dir(0777, kAlice))), 0);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayCreateIn(Dir(0770, kAlice, kShared))), 0);
  EXPECT_EQ(Error(AccessCheck(kRootUser).MayCreateIn(Dir(0555, kAlice))), 0);
}

TEST(AccessCheckTest, OnlyRootMakesDeviceNodes) {
  Inode dir = Dir(0777, kAlice);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayCreateIn(dir, S_IFCHR | 0644)), EPERM);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayCreateIn(dir, S_IFBLK | 0644)), EPERM);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayCreateIn(dir, S_IFIFO | 0644)), 0);
  EXPECT_EQ(Error(AccessCheck(kRootUser).MayCreateIn(dir, S_IFCHR | 0644)), 0);
}

TEST(AccessCheckTest, DeletingNeedsWriteAndSearchOnTheDirectory) {
  Inode file = File(0644, kBob);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayDelete(Dir(0755, kAlice), file)), EACCES) << "owning the file is not enough";
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayDelete(Dir(0777, kAlice), File(0000, kAlice))), 0)
      << "another user's file, no bits on it: the directory decides";
  EXPECT_EQ(Error(AccessCheck(kRootUser).MayDelete(Dir(0755, kAlice), file)), 0);
}

TEST(AccessCheckTest, StickyDirectoriesLetOnlyTheFilesOwnerTheDirectorysOwnerOrRootDelete) {
  Inode tmp = Dir(01777, kAlice);
  Inode bobs = File(0666, kBob);
  Inode carols = File(0666, 5000);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayDelete(tmp, bobs)), 0);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayDelete(tmp, carols)), EPERM) << "even with write permission on the file";
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayDelete(tmp, carols)), 0) << "the directory's owner";
  EXPECT_EQ(Error(AccessCheck(kRootUser).MayDelete(tmp, carols)), 0);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayDelete(Dir(01755, kAlice), bobs)), EACCES)
      << "bits come before the sticky rule";
}

TEST(AccessCheckTest, RenameNeedsDeleteFromTheSourceAndCreateInTheTarget) {
  Inode open_dir = Dir(0777, kAlice);
  Inode closed_dir = Dir(0755, kAlice);
  Inode file = File(0644, kBob);
  auto rename = [&](const Inode& from, const Inode& to, const Inode* target = nullptr, bool exchange = false,
                    const wire::Credentials& who = kBobUser) {
    return AccessCheck(who).MayRename({.source_parent = from,
                                       .source = file,
                                       .target_parent = to,
                                       .target = target,
                                       .same_parent = &from == &to,
                                       .exchange = exchange});
  };
  EXPECT_EQ(Error(rename(open_dir, open_dir)), 0);
  EXPECT_EQ(Error(rename(closed_dir, open_dir)), EACCES) << "source parent not writable";
  EXPECT_EQ(Error(rename(open_dir, closed_dir)), EACCES) << "target parent not writable";
  EXPECT_EQ(Error(rename(closed_dir, closed_dir, nullptr, false, kRootUser)), 0);
  EXPECT_EQ(Error(rename(open_dir, open_dir, &file)), 0) << "onto another link of the same inode: nothing happens";
}

TEST(AccessCheckTest, RenameHonoursTheStickyBitOnSourceAndReplacedTarget) {
  Inode tmp = Dir(01777, kAlice);
  Inode open_dir = Dir(0777, kAlice);
  Inode carols = File(0644, 5000);
  Inode bobs = File(0644, kBob);
  auto rename = [&](const Inode& from, const Inode& source, const Inode& to, const Inode* target) {
    return AccessCheck(kBobUser).MayRename({.source_parent = from,
                                            .source = source,
                                            .target_parent = to,
                                            .target = target,
                                            .same_parent = &from == &to,
                                            .exchange = false});
  };
  EXPECT_EQ(Error(rename(tmp, carols, open_dir, nullptr)), EPERM) << "moving another user's file out of /tmp";
  EXPECT_EQ(Error(rename(tmp, carols, tmp, nullptr)), EPERM) << "or renaming it inside";
  EXPECT_EQ(Error(rename(open_dir, bobs, tmp, &carols)), EPERM) << "replacing another user's file in /tmp";
  EXPECT_EQ(Error(rename(tmp, bobs, open_dir, nullptr)), 0);
  EXPECT_EQ(Error(rename(open_dir, bobs, tmp, nullptr)), 0);
}

TEST(AccessCheckTest, ADirectoryMovedToAnotherParentNeedsWritePermissionOnItself) {
  Inode from = Dir(0777, kAlice);
  Inode to = Dir(0777, kAlice);
  Inode alices_dir = Dir(0755, kAlice);
  Inode bobs_dir = Dir(0755, kBob);
  auto move = [&](const Inode& source, const Inode& target_parent, const Inode* target, bool exchange) {
    return AccessCheck(kBobUser).MayRename({.source_parent = from,
                                            .source = source,
                                            .target_parent = target_parent,
                                            .target = target,
                                            .same_parent = &from == &target_parent,
                                            .exchange = exchange});
  };
  EXPECT_EQ(Error(move(alices_dir, to, nullptr, false)), EACCES) << "its '..' changes";
  EXPECT_EQ(Error(move(alices_dir, from, nullptr, false)), 0) << "same parent: '..' stays";
  EXPECT_EQ(Error(move(bobs_dir, to, nullptr, false)), 0);
  EXPECT_EQ(Error(move(bobs_dir, to, &alices_dir, true)), EACCES) << "an exchanged directory moves too";
  EXPECT_EQ(Error(move(bobs_dir, to, &alices_dir, false)), 0) << "a replaced directory goes away: no '..' to change";
}

TEST(AccessCheckTest, ChmodIsTheOwnersOrRoots) {
  Inode file = File(0600, kRoot);
  wire::SetAttrRequest chmod = SetAttr(wire::SET_ATTR_MODE);
  chmod.set_mode(0666);
  EXPECT_EQ(SetAttrError(kBobUser, file, &chmod), EPERM);
  EXPECT_EQ(SetAttrError(kRootUser, file, &chmod), 0);
  EXPECT_EQ(SetAttrError(kBobUser, File(0600, kBob), &chmod), 0);
  EXPECT_EQ(SetAttrError(kBobUser, File(0666, kAlice), &chmod), EPERM) << "write permission is not enough";
}

TEST(AccessCheckTest, ChmodByAnOwnerOutsideTheFilesGroupDropsSetgid) {
  wire::SetAttrRequest chmod = SetAttr(wire::SET_ATTR_MODE);
  chmod.set_mode(02755);
  EXPECT_EQ(SetAttrError(kBobUser, File(0755, kBob, 7000), &chmod), 0);
  EXPECT_EQ(chmod.mode(), 0755u);
  chmod.set_mode(02755);
  EXPECT_EQ(SetAttrError(kBobUser, File(0755, kBob, kShared), &chmod), 0);
  EXPECT_EQ(chmod.mode(), 02755u) << "a supplementary group counts";
  EXPECT_EQ(SetAttrError(kRootUser, File(0755, kBob, 7000), &chmod), 0);
  EXPECT_EQ(chmod.mode(), 02755u);
  // With a chgrp in the same request, the new group decides.
  wire::SetAttrRequest both = SetAttr(wire::SET_ATTR_MODE | wire::SET_ATTR_GID);
  both.set_mode(02755);
  both.set_gid(kShared);
  EXPECT_EQ(SetAttrError(kBobUser, File(0755, kBob, 7000), &both), 0);
  EXPECT_EQ(both.mode() & 07777, 02755u);
}

TEST(AccessCheckTest, AWriterMayOnlyDropSetIdBitsAsTheKernelDoesOnWrite) {
  Inode setuid = File(04775, kAlice, kShared);  // bob writes through the group
  wire::SetAttrRequest kill = SetAttr(wire::SET_ATTR_MODE);
  kill.set_mode(0775);
  EXPECT_EQ(SetAttrError(kBobUser, setuid, &kill), 0);
  kill.set_mode(0777);
  EXPECT_EQ(SetAttrError(kBobUser, setuid, &kill), EPERM) << "anything more is a chmod";
  kill.set_mode(0775);
  EXPECT_EQ(SetAttrError(As(4000, 4000), setuid, &kill), EPERM) << "not a writer";
  kill.set_mode(04775);
  EXPECT_EQ(SetAttrError(kBobUser, setuid, &kill), EPERM) << "no change at all is a chmod too";
}

TEST(AccessCheckTest, ChownIsRootsAlone) {
  wire::SetAttrRequest chown = SetAttr(wire::SET_ATTR_UID);
  chown.set_uid(kAlice);
  EXPECT_EQ(SetAttrError(kBobUser, File(0644, kBob), &chown), EPERM) << "not even to give it away";
  EXPECT_EQ(SetAttrError(kRootUser, File(0644, kBob), &chown), 0);
  chown.set_uid(kBob);
  EXPECT_EQ(SetAttrError(kBobUser, File(0644, kBob), &chown), 0) << "to the owner it already has";
}

TEST(AccessCheckTest, ChgrpByTheOwnerOnlyToItsGroups) {
  wire::SetAttrRequest chgrp = SetAttr(wire::SET_ATTR_GID);
  chgrp.set_gid(kShared);
  EXPECT_EQ(SetAttrError(kBobUser, File(0644, kBob), &chgrp), 0) << "a supplementary group";
  chgrp.set_gid(kBob);
  EXPECT_EQ(SetAttrError(kBobUser, File(0644, kBob, 7000), &chgrp), 0) << "the primary group";
  chgrp.set_gid(7000);
  EXPECT_EQ(SetAttrError(kBobUser, File(0644, kBob, 7000), &chgrp), 0) << "the group it has";
  chgrp.set_gid(kAlice);
  EXPECT_EQ(SetAttrError(kBobUser, File(0644, kBob), &chgrp), EPERM) << "a group bob is not in";
  chgrp.set_gid(kShared);
  EXPECT_EQ(SetAttrError(kBobUser, File(0644, kAlice), &chgrp), EPERM) << "not the owner";
  chgrp.set_gid(12345);
  EXPECT_EQ(SetAttrError(kRootUser, File(0644, kAlice), &chgrp), 0);
}

TEST(AccessCheckTest, ChownAndChgrpDropSetIdBitsOfNonDirectories) {
  wire::SetAttrRequest chgrp = SetAttr(wire::SET_ATTR_GID);
  chgrp.set_gid(kShared);
  EXPECT_EQ(SetAttrError(kBobUser, File(06755, kBob), &chgrp), 0);
  EXPECT_TRUE(chgrp.valid() & wire::SET_ATTR_MODE);
  EXPECT_EQ(chgrp.mode() & 07777, 0755u);

  wire::SetAttrRequest chown = SetAttr(wire::SET_ATTR_UID);
  chown.set_uid(kAlice);
  EXPECT_EQ(SetAttrError(kRootUser, File(06755, kBob), &chown), 0);
  EXPECT_EQ(chown.mode() & 07777, 0755u) << "root too (Linux since 2.2.13)";

  chown = SetAttr(wire::SET_ATTR_UID);
  chown.set_uid(kAlice);
  EXPECT_EQ(SetAttrError(kRootUser, File(02644, kBob), &chown), 0);
  EXPECT_FALSE(chown.valid() & wire::SET_ATTR_MODE) << "S_ISGID without group x (mandatory locking) stays";
  chgrp = SetAttr(wire::SET_ATTR_GID);
  chgrp.set_gid(kShared);
  EXPECT_EQ(SetAttrError(kBobUser, File(02644, kBob, 7000), &chgrp), 0);
  EXPECT_EQ(chgrp.mode() & 07777, 0644u) << "unless the caller is outside the file's group";

  chgrp = SetAttr(wire::SET_ATTR_GID);
  chgrp.set_gid(kShared);
  EXPECT_EQ(SetAttrError(kBobUser, File(0755, kBob), &chgrp), 0);
  EXPECT_FALSE(chgrp.valid() & wire::SET_ATTR_MODE) << "nothing to drop: the mode is not touched";

  chown = SetAttr(wire::SET_ATTR_UID);
  chown.set_uid(kAlice);
  EXPECT_EQ(SetAttrError(kRootUser, Dir(02755, kBob), &chown), 0);
  EXPECT_FALSE(chown.valid() & wire::SET_ATTR_MODE) << "a directory keeps S_ISGID";
}

TEST(AccessCheckTest, TruncateNeedsWritePermission) {
  wire::SetAttrRequest truncate = SetAttr(wire::SET_ATTR_SIZE | wire::SET_ATTR_MTIME_NOW);
  EXPECT_EQ(SetAttrError(kBobUser, File(0644, kAlice), &truncate), EACCES);
  EXPECT_EQ(SetAttrError(kBobUser, File(0646, kAlice), &truncate), 0);
  EXPECT_EQ(SetAttrError(kBobUser, File(0444, kBob), &truncate), EACCES) << "the owner needs the bit too";
  EXPECT_EQ(SetAttrError(kRootUser, File(0444, kBob), &truncate), 0);
}

TEST(AccessCheckTest, TimesNowNeedOwnershipOrWritePermission) {
  wire::SetAttrRequest touch = SetAttr(wire::SET_ATTR_ATIME_NOW | wire::SET_ATTR_MTIME_NOW);
  EXPECT_EQ(SetAttrError(kBobUser, File(0644, kAlice), &touch), EACCES);
  EXPECT_EQ(SetAttrError(kBobUser, File(0666, kAlice), &touch), 0);
  EXPECT_EQ(SetAttrError(kBobUser, File(0444, kBob), &touch), 0) << "the owner, without write permission";
  EXPECT_EQ(SetAttrError(kRootUser, File(0000, kAlice), &touch), 0);
}

TEST(AccessCheckTest, ExplicitTimesNeedOwnership) {
  for (uint32_t field : {wire::SET_ATTR_ATIME, wire::SET_ATTR_MTIME, wire::SET_ATTR_CTIME}) {
    wire::SetAttrRequest times = SetAttr(field | wire::SET_ATTR_MTIME_NOW);
    EXPECT_EQ(SetAttrError(kBobUser, File(0666, kAlice), &times), EPERM) << "write permission is not enough";
    EXPECT_EQ(SetAttrError(kBobUser, File(0444, kBob), &times), 0);
    EXPECT_EQ(SetAttrError(kRootUser, File(0000, kAlice), &times), 0);
  }
}

TEST(AccessCheckTest, PermissionErrorsComeBeforeOwnershipErrors) {
  // Linux checks truncate's write permission before setattr_prepare's ownership rules.
  wire::SetAttrRequest both = SetAttr(wire::SET_ATTR_SIZE | wire::SET_ATTR_UID);
  both.set_uid(kBob);
  EXPECT_EQ(SetAttrError(kBobUser, File(0644, kAlice), &both), EACCES);
}

TEST(AccessCheckTest, NewFilesInAnotherGroupsSetgidDirectoryLoseAnExecutableSetgid) {
  Inode setgid_dir = Dir(02777, kAlice, 7000);
  EXPECT_EQ(AccessCheck(kBobUser).NewFileMode(setgid_dir, S_IFREG | 02755), S_IFREG | 0755u);
  EXPECT_EQ(AccessCheck(kBobUser).NewFileMode(setgid_dir, S_IFREG | 02644), S_IFREG | 02644u) << "no group x: stays";
  EXPECT_EQ(AccessCheck(kBobUser).NewFileMode(Dir(02777, kAlice, kShared), S_IFREG | 02755), S_IFREG | 02755u);
  EXPECT_EQ(AccessCheck(kBobUser).NewFileMode(Dir(0777, kAlice, 7000), S_IFREG | 02755), S_IFREG | 02755u);
  EXPECT_EQ(AccessCheck(kRootUser).NewFileMode(setgid_dir, S_IFREG | 02755), S_IFREG | 02755u);
}

TEST(AccessCheckTest, GoalsAreTheOwnersOrRoots) {
  EXPECT_TRUE(AccessCheck(kBobUser).MayChangeGoal(File(0000, kBob)));
  EXPECT_FALSE(AccessCheck(kBobUser).MayChangeGoal(File(0777, kAlice)));
  EXPECT_TRUE(AccessCheck(kRootUser).MayChangeGoal(File(0000, kAlice)));
}

// An access check that finds `acl` (u::rw-,u:2000:r--,g::---,m::r--,o::--- unless told) on
// the inodes that say they have one.
AccessCheck WithAcl(const wire::Credentials& who, const std::string& acl_bytes) {
  return AccessCheck(who, [acl_bytes](const Inode& inode) -> std::optional<PosixAcl> {
    EXPECT_TRUE(inode.has_access_acl);
    auto acl = PosixAcl::Parse(acl_bytes);
    return acl ? std::optional(*acl) : std::nullopt;
  });
}
std::string BobMayRead() {
  constexpr uint32_t kNone = PosixAcl::kUndefinedId;
  return testing::AclBytes({{PosixAcl::kUserObj, 6, kNone},
                            {PosixAcl::kUser, 4, kBob},
                            {PosixAcl::kGroupObj, 0, kNone},
                            {PosixAcl::kMask, 4, kNone},
                            {PosixAcl::kOther, 0, kNone}});
}

TEST(AccessCheckTest, AnAccessAclDecidesInsteadOfTheModeBits) {
  Inode file = File(0640, kAlice);  // the mode a setfacl of BobMayRead leaves: group bits = mask
  file.has_access_acl = true;
  EXPECT_EQ(Error(WithAcl(kBobUser, BobMayRead()).MayRead(file)), 0) << "the named user's entry";
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayRead(file)), EACCES) << "without the ACL: others' bits";
  EXPECT_EQ(Error(WithAcl(kBobUser, BobMayRead()).MayWrite(file)), EACCES);
  EXPECT_EQ(Error(WithAcl(kBobUser, BobMayRead()).MayReadData(file)), 0) << "data requests follow it too";
  EXPECT_EQ(Error(WithAcl(kAliceUser, BobMayRead()).MayWrite(file)), 0) << "the owner by USER_OBJ";
  EXPECT_EQ(Error(WithAcl(As(4000, kAlice), BobMayRead()).MayRead(file)), EACCES) << "the group: GROUP_OBJ ---";
  EXPECT_EQ(Error(WithAcl(As(4000, 4000), BobMayRead()).MayRead(file)), EACCES) << "others: OTHER";
  EXPECT_EQ(Error(WithAcl(kRootUser, BobMayRead()).MayWrite(file)), 0) << "root as ever";

  Inode dir = Dir(0750, kAlice);
  dir.has_access_acl = true;
  EXPECT_EQ(Error(WithAcl(kBobUser, BobMayRead()).MaySearch(dir)), EACCES) << "r without x";
  EXPECT_EQ(Error(WithAcl(kBobUser, BobMayRead()).MayCreateIn(dir)), EACCES);
}

TEST(AccessCheckTest, OnlyTheOwnerOrRootSetsAcls) {
  Inode file = File(0666, kAlice);
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayChangeXattr(file, kAccessAclName)), 0);
  EXPECT_EQ(Error(AccessCheck(kRootUser).MayChangeXattr(file, kDefaultAclName)), 0);
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayChangeXattr(file, kAccessAclName)), EPERM) << "w is not enough";
  EXPECT_EQ(Error(AccessCheck(kBobUser).MayReadXattr(File(0600, kAlice), kAccessAclName)), 0) << "anyone reads";
  EXPECT_EQ(Error(AccessCheck(kAliceUser).MayChangeXattr(Make(S_IFLNK | 0777, kAlice, kAlice), kAccessAclName)),
            EOPNOTSUPP);
}

}  // namespace
}  // namespace hafs::master
