#include "master/posix_acl.h"

#include <sys/stat.h>

#include <algorithm>

namespace hafs::master {
namespace {

constexpr size_t kHeaderBytes = 4;
constexpr size_t kEntryBytes = 8;
constexpr uint16_t kPermBits = 7;

uint32_t LoadLittle(std::string_view bytes, size_t at, size_t width) {
  uint32_t value = 0;
  for (size_t i = 0; i < width; ++i) value |= uint32_t(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  return value;
}

void StoreLittle(std::string* out, uint32_t value, size_t width) {
  for (size_t i = 0; i < width; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

Status Invalid(const std::string& why) { return Status::Error(EINVAL, "invalid POSIX ACL: " + why); }

// posix_acl_valid's walk: the tags in their order, each named entry needing a MASK.
Status CheckOrder(const std::vector<PosixAcl::Entry>& entries) {
  enum Stage { kWantUserObj, kInUsers, kInGroups, kWantOther, kDone } stage = kWantUserObj;
  bool needs_mask = false;
  bool has_mask = false;
  for (const PosixAcl::Entry& entry : entries) {
    if (stage == kDone) return Invalid("entries after OTHER");
    switch (entry.tag) {
      case PosixAcl::kUserObj:
        if (stage != kWantUserObj) return Invalid("USER_OBJ not first or repeated");
        stage = kInUsers;
        break;
      case PosixAcl::kUser:
      case PosixAcl::kGroup:
        if (stage != (entry.tag == PosixAcl::kUser ? kInUsers : kInGroups)) return Invalid("named entry out of order");
        if (entry.id == PosixAcl::kUndefinedId) return Invalid("named entry without an id");
        needs_mask = true;
        break;
      case PosixAcl::kGroupObj:
        if (stage != kInUsers) return Invalid("GROUP_OBJ out of order or repeated");
        stage = kInGroups;
        break;
      case PosixAcl::kMask:
        if (stage != kInGroups) return Invalid("MASK out of order or repeated");
        has_mask = true;
        stage = kWantOther;
        break;
      case PosixAcl::kOther:
        if (stage != kInGroups && stage != kWantOther) return Invalid("OTHER out of order");
        if (needs_mask && !has_mask) return Invalid("named entries without MASK");
        stage = kDone;
        break;
      default:
        return Invalid("unknown tag " + std::to_string(entry.tag));
    }
  }
  return stage == kDone ? Status::Ok() : Invalid("missing OTHER");
}

}  // namespace

Result<PosixAcl> PosixAcl::Parse(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes + kEntryBytes || (bytes.size() - kHeaderBytes) % kEntryBytes != 0) {
    return Fail(Invalid(std::to_string(bytes.size()) + " bytes"));
  }
  if (LoadLittle(bytes, 0, 4) != kVersion) return Fail(Invalid("version " + std::to_string(LoadLittle(bytes, 0, 4))));
  size_t count = (bytes.size() - kHeaderBytes) / kEntryBytes;
  if (count > kMaxEntries) return Fail(ENOSPC, "a POSIX ACL of " + std::to_string(count) + " entries is too long");
  std::vector<Entry> entries;
  entries.reserve(count);
  for (size_t at = kHeaderBytes; at < bytes.size(); at += kEntryBytes) {
    Entry entry{.tag = static_cast<uint16_t>(LoadLittle(bytes, at, 2)),
                .perm = static_cast<uint16_t>(LoadLittle(bytes, at + 2, 2)),
                .id = LoadLittle(bytes, at + 4, 4)};
    if (entry.perm & ~kPermBits) return Fail(Invalid("perm " + std::to_string(entry.perm)));
    if (entry.tag != kUser && entry.tag != kGroup) entry.id = kUndefinedId;
    entries.push_back(entry);
  }
  if (Status status = CheckOrder(entries); !status.ok()) return Fail(status);
  // Named entries by id, as libacl writes them; one id twice would leave the answer to the
  // order of the entries. CheckOrder left each tag's entries together.
  auto by_id = [](const Entry& a, const Entry& b) { return a.id < b.id; };
  auto same_id = [](const Entry& a, const Entry& b) { return a.id == b.id; };
  for (auto run = entries.begin(); run != entries.end();) {
    auto end = std::find_if(run, entries.end(), [&](const Entry& entry) { return entry.tag != run->tag; });
    std::sort(run, end, by_id);
    if (std::adjacent_find(run, end, same_id) != end) return Fail(Invalid("two entries for one id"));
    run = end;
  }
  return PosixAcl(std::move(entries));
}

PosixAcl PosixAcl::FromMode(uint32_t mode) {
  return PosixAcl({{kUserObj, static_cast<uint16_t>((mode >> 6) & 7), kUndefinedId},
                   {kGroupObj, static_cast<uint16_t>((mode >> 3) & 7), kUndefinedId},
                   {kOther, static_cast<uint16_t>(mode & 7), kUndefinedId}});
}

std::string PosixAcl::Serialize() const {
  std::string out;
  out.reserve(kHeaderBytes + entries_.size() * kEntryBytes);
  StoreLittle(&out, kVersion, 4);
  for (const Entry& entry : entries_) {
    StoreLittle(&out, entry.tag, 2);
    StoreLittle(&out, entry.perm, 2);
    StoreLittle(&out, entry.id, 4);
  }
  return out;
}

PosixAcl::Entry* PosixAcl::Find(uint16_t tag) {
  return const_cast<Entry*>(static_cast<const PosixAcl*>(this)->Find(tag));
}

const PosixAcl::Entry* PosixAcl::Find(uint16_t tag) const {
  auto entry = std::ranges::find(entries_, tag, &Entry::tag);
  return entry == entries_.end() ? nullptr : &*entry;
}

uint16_t PosixAcl::MaskPerm() const {
  const Entry* mask = Find(kMask);
  return mask ? mask->perm : kPermBits;
}

uint32_t PosixAcl::ModeBits() const {
  const Entry* group = Find(kMask);
  if (!group) group = Find(kGroupObj);
  return uint32_t(Find(kUserObj)->perm) << 6 | uint32_t(group->perm) << 3 | Find(kOther)->perm;
}

void PosixAcl::Chmod(uint32_t mode) {
  Find(kUserObj)->perm = (mode >> 6) & kPermBits;
  Entry* group = Find(kMask);
  if (!group) group = Find(kGroupObj);
  group->perm = (mode >> 3) & kPermBits;
  Find(kOther)->perm = mode & kPermBits;
}

uint32_t PosixAcl::MaskForCreate(uint32_t mode) {
  Entry* group = Find(kMask);
  if (!group) group = Find(kGroupObj);
  uint32_t bits = 0;
  for (auto [entry, shift] : {std::pair{Find(kUserObj), 6}, {group, 3}, {Find(kOther), 0}}) {
    entry->perm &= (mode >> shift) & kPermBits;
    bits |= uint32_t(entry->perm) << shift;
  }
  return (mode & ~uint32_t{0777}) | bits;
}

bool PosixAcl::Grants(uint32_t uid, const std::function<bool(uint32_t gid)>& in_group, uint32_t owner_uid,
                      uint32_t owner_gid, uint32_t want) const {
  auto holds = [want](uint32_t perm) { return (want & ~perm) == 0; };
  bool group_matched = false;
  for (const Entry& entry : entries_) {
    switch (entry.tag) {
      case kUserObj:
        if (uid == owner_uid) return holds(entry.perm);
        break;
      case kUser:
        if (uid == entry.id) return holds(entry.perm & MaskPerm());
        break;
      case kGroupObj:
      case kGroup:
        if (in_group(entry.tag == kGroupObj ? owner_gid : entry.id)) {
          if (holds(entry.perm & MaskPerm())) return true;
          group_matched = true;
        }
        break;
      case kOther:
        return !group_matched && holds(entry.perm);
      default:  // MASK
        break;
    }
  }
  return false;
}

}  // namespace hafs::master
