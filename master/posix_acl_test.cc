// PosixAcl against what Linux's fs/posix_acl.c does with the same ACL: the format, the
// validation, the evaluation, chmod and create.
#include "master/posix_acl.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <initializer_list>
#include <set>

#include "master/test_util.h"

namespace hafs::master {
namespace {

using Entry = PosixAcl::Entry;
using testing::AclBytes;
constexpr uint32_t kNone = PosixAcl::kUndefinedId;

// u::rw-,u:1000:r--,g::r--,m::r--,o::---
std::string Named() {
  return AclBytes({{PosixAcl::kUserObj, 6, kNone},
                   {PosixAcl::kUser, 4, 1000},
                   {PosixAcl::kGroupObj, 4, kNone},
                   {PosixAcl::kMask, 4, kNone},
                   {PosixAcl::kOther, 0, kNone}});
}

PosixAcl Parsed(const std::string& bytes) {
  auto acl = PosixAcl::Parse(bytes);
  EXPECT_TRUE(acl.has_value()) << acl.error().ToString();
  return acl ? *acl : PosixAcl::FromMode(0);
}

int ParseError(const std::string& bytes) {
  auto acl = PosixAcl::Parse(bytes);
  return acl ? 0 : acl.error().error();
}

TEST(PosixAclTest, RoundTripsLinuxsFormat) {
  EXPECT_EQ(Parsed(Named()).Serialize(), Named());
  PosixAcl from_mode = PosixAcl::FromMode(S_IFREG | 0640);
  EXPECT_EQ(from_mode.Serialize(),
            AclBytes({{PosixAcl::kUserObj, 6, kNone}, {PosixAcl::kGroupObj, 4, kNone}, {PosixAcl::kOther, 0, kNone}}));
  EXPECT_TRUE(from_mode.EquivalentToMode());
  EXPECT_FALSE(Parsed(Named()).EquivalentToMode());
}

TEST(PosixAclTest, NamedEntriesAreSortedByIdAndAnIdIsNamedOnce) {
  std::string unsorted = AclBytes({{PosixAcl::kUserObj, 7, kNone},
                                   {PosixAcl::kUser, 4, 2000},
                                   {PosixAcl::kUser, 2, 1000},
                                   {PosixAcl::kGroupObj, 4, kNone},
                                   {PosixAcl::kGroup, 1, 30},
                                   {PosixAcl::kGroup, 4, 20},
                                   {PosixAcl::kMask, 7, kNone},
                                   {PosixAcl::kOther, 0, kNone}});
  std::vector<uint32_t> ids;
  PosixAcl sorted = Parsed(unsorted);
  for (const Entry& entry : sorted.entries()) ids.push_back(entry.id);
  EXPECT_EQ(ids, (std::vector<uint32_t>{kNone, 1000, 2000, kNone, 20, 30, kNone, kNone}));
  EXPECT_EQ(ParseError(AclBytes({{PosixAcl::kUserObj, 7, kNone},
                                 {PosixAcl::kUser, 4, 1000},
                                 {PosixAcl::kUser, 2, 1000},
                                 {PosixAcl::kGroupObj, 4, kNone},
                                 {PosixAcl::kMask, 7, kNone},
                                 {PosixAcl::kOther, 0, kNone}})),
            EINVAL);
}

TEST(PosixAclTest, RefusesWhatPosixAclValidRefuses) {
  const Entry user_obj{PosixAcl::kUserObj, 6, kNone};
  const Entry group_obj{PosixAcl::kGroupObj, 4, kNone};
  const Entry other{PosixAcl::kOther, 4, kNone};
  const Entry mask{PosixAcl::kMask, 4, kNone};
  const Entry bob{PosixAcl::kUser, 4, 2000};
  EXPECT_EQ(ParseError(AclBytes({user_obj, group_obj, other})), 0);
  EXPECT_EQ(ParseError(AclBytes({user_obj, group_obj, mask, other})), 0) << "a MASK without named entries is fine";
  EXPECT_EQ(ParseError(AclBytes({user_obj, group_obj, other}, 1)), EINVAL) << "version";
  EXPECT_EQ(ParseError(AclBytes({})), EINVAL) << "no entries";
  EXPECT_EQ(ParseError(AclBytes({user_obj, group_obj, other}) + "x"), EINVAL) << "a partial entry";
  EXPECT_EQ(ParseError("\x02\x00"), EINVAL) << "a partial header";
  EXPECT_EQ(ParseError(AclBytes({user_obj, other})), EINVAL) << "no GROUP_OBJ";
  EXPECT_EQ(ParseError(AclBytes({group_obj, user_obj, other})), EINVAL) << "out of order";
  EXPECT_EQ(ParseError(AclBytes({user_obj, user_obj, group_obj, other})), EINVAL) << "USER_OBJ twice";
  EXPECT_EQ(ParseError(AclBytes({user_obj, group_obj, other, other})), EINVAL) << "OTHER twice";
  EXPECT_EQ(ParseError(AclBytes({user_obj, group_obj})), EINVAL) << "no OTHER";
  EXPECT_EQ(ParseError(AclBytes({user_obj, bob, group_obj, other})), EINVAL) << "a named entry needs MASK";
  EXPECT_EQ(ParseError(AclBytes({user_obj, group_obj, bob, mask, other})), EINVAL) << "a user among groups";
  EXPECT_EQ(ParseError(AclBytes({user_obj, group_obj, other, mask})), EINVAL) << "MASK after OTHER";
  EXPECT_EQ(ParseError(AclBytes({user_obj, {PosixAcl::kUser, 4, kNone}, group_obj, mask, other})), EINVAL)
      << "a named entry without an id";
  EXPECT_EQ(ParseError(AclBytes({user_obj, group_obj, {PosixAcl::kOther, 8, kNone}})), EINVAL) << "perm bit 8";
  EXPECT_EQ(ParseError(AclBytes({user_obj, group_obj, {0x40, 4, kNone}, other})), EINVAL) << "unknown tag";

  std::string many = AclBytes({user_obj});
  for (uint32_t id = 0; id < PosixAcl::kMaxEntries; ++id) many += AclBytes({{PosixAcl::kUser, 4, id}}).substr(4);
  many += AclBytes({group_obj, mask, other}).substr(4);
  EXPECT_EQ(ParseError(many), ENOSPC);
}

TEST(PosixAclTest, EveryByteStringParsesOrFailsCleanly) {
  // Hostile peers: every truncation and every single-byte corruption of a valid ACL.
  std::string valid = Named();
  for (size_t size = 0; size <= valid.size(); ++size) (void)PosixAcl::Parse(valid.substr(0, size));
  for (size_t at = 0; at < valid.size(); ++at) {
    for (int value : {0x00, 0x01, 0x08, 0x10, 0x20, 0x7f, 0xff}) {
      std::string bytes = valid;
      bytes[at] = static_cast<char>(value);
      if (auto acl = PosixAcl::Parse(bytes)) {
        EXPECT_EQ(PosixAcl::Parse(acl->Serialize())->Serialize(), acl->Serialize());
      }
    }
  }
}

TEST(PosixAclTest, ModeBitsTakeTheMaskForTheGroupClass) {
  EXPECT_EQ(Parsed(Named()).ModeBits(), 0640u);
  EXPECT_EQ(PosixAcl::FromMode(0751).ModeBits(), 0751u);
}

TEST(PosixAclTest, GrantsAsPosixAclPermission) {
  constexpr uint32_t kOwner = 500, kOwnerGroup = 500;
  // u::rw-,u:1000:rwx,g::r--,g:20:-w-,m::r-x,o::---
  PosixAcl acl = Parsed(AclBytes({{PosixAcl::kUserObj, 6, kNone},
                                  {PosixAcl::kUser, 7, 1000},
                                  {PosixAcl::kGroupObj, 4, kNone},
                                  {PosixAcl::kGroup, 2, 20},
                                  {PosixAcl::kMask, 5, kNone},
                                  {PosixAcl::kOther, 0, kNone}}));
  auto groups = [](std::set<uint32_t> in) { return [in](uint32_t gid) { return in.contains(gid); }; };
  auto grants = [&](uint32_t uid, std::set<uint32_t> in, uint32_t want) {
    return acl.Grants(uid, groups(in), kOwner, kOwnerGroup, want);
  };
  EXPECT_TRUE(grants(kOwner, {}, 6)) << "owner by USER_OBJ, never masked";
  EXPECT_FALSE(grants(kOwner, {20}, 1)) << "the owner class decides alone";
  EXPECT_TRUE(grants(1000, {}, 5)) << "named user, within the mask";
  EXPECT_FALSE(grants(1000, {}, 2)) << "named user's w is masked";
  EXPECT_TRUE(grants(1001, {kOwnerGroup}, 4)) << "owning group";
  EXPECT_FALSE(grants(1001, {20}, 2)) << "named group's w is masked";
  EXPECT_TRUE(grants(1001, {20, kOwnerGroup}, 4)) << "any matching group entry grants";
  EXPECT_FALSE(grants(1001, {20}, 4)) << "a matching group that does not grant: not OTHER either";
  EXPECT_FALSE(grants(1001, {}, 4)) << "others: OTHER";
  PosixAcl open_other =
      Parsed(AclBytes({{PosixAcl::kUserObj, 6, kNone}, {PosixAcl::kGroupObj, 0, kNone}, {PosixAcl::kOther, 4, kNone}}));
  EXPECT_TRUE(open_other.Grants(1001, groups({}), kOwner, kOwnerGroup, 4));
  EXPECT_FALSE(open_other.Grants(1001, groups({kOwnerGroup}), kOwner, kOwnerGroup, 4)) << "the group denies";
}

TEST(PosixAclTest, ChmodSetsOwnerMaskAndOther) {
  PosixAcl acl = Parsed(Named());
  acl.Chmod(0705);
  EXPECT_EQ(acl.ModeBits(), 0705u);
  EXPECT_EQ(acl.Serialize(), AclBytes({{PosixAcl::kUserObj, 7, kNone},
                                       {PosixAcl::kUser, 4, 1000},
                                       {PosixAcl::kGroupObj, 4, kNone},
                                       {PosixAcl::kMask, 0, kNone},
                                       {PosixAcl::kOther, 5, kNone}}))
      << "named entries and GROUP_OBJ stay, the mask takes the group bits";
  PosixAcl plain = PosixAcl::FromMode(0644);
  plain.Chmod(0750);
  EXPECT_EQ(plain.Serialize(), PosixAcl::FromMode(0750).Serialize()) << "without MASK, GROUP_OBJ takes them";
}

TEST(PosixAclTest, CreateMasksTheDefaultAclAndTheModeByEachOther) {
  PosixAcl inherited = Parsed(AclBytes({{PosixAcl::kUserObj, 7, kNone},
                                        {PosixAcl::kUser, 7, 1000},
                                        {PosixAcl::kGroupObj, 5, kNone},
                                        {PosixAcl::kMask, 7, kNone},
                                        {PosixAcl::kOther, 5, kNone}}));
  EXPECT_EQ(inherited.MaskForCreate(S_IFREG | 0666), uint32_t{S_IFREG | 0664});
  EXPECT_EQ(inherited.Serialize(), AclBytes({{PosixAcl::kUserObj, 6, kNone},
                                             {PosixAcl::kUser, 7, 1000},
                                             {PosixAcl::kGroupObj, 5, kNone},
                                             {PosixAcl::kMask, 6, kNone},
                                             {PosixAcl::kOther, 4, kNone}}));
  PosixAcl plain = PosixAcl::FromMode(0750);
  EXPECT_EQ(plain.MaskForCreate(S_IFDIR | S_ISGID | 0777), uint32_t{S_IFDIR | S_ISGID | 0750});
  EXPECT_TRUE(plain.EquivalentToMode());
}

}  // namespace
}  // namespace hafs::master
