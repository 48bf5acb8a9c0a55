#include "common/message_codec.h"

#include <string>

#include "common/block_checksum.h"
#include "common/fallocate_range.h"
#include "common/goal.h"
#include "common/protocol_limits.h"

namespace hafs {
namespace {

constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxSymlinkBytes = 4096;
constexpr size_t kMaxPathBytes = 4096;  // PATH_MAX
constexpr size_t kMaxAddressBytes = 256;
constexpr int kMaxChainLength = 16;
// Open files one message may name (a session's full set, a batch of closes): the master
// holds at most this many per session (master/open_files.h).
constexpr int kMaxOpenFilesPerMessage = 65536;

Status CheckName(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return Status::Error(EINVAL, "invalid name '" + name + "'");
  if (name.size() > kMaxNameBytes) return Status::Error(ENAMETOOLONG, "name longer than 255 bytes");
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
    return Status::Error(EINVAL, "name contains '/' or NUL");
  }
  return Status::Ok();
}

constexpr size_t kMaxXattrValueBytes = 65536;

// The length only; which namespaces the master keeps is its own business (XattrStore).
Status CheckXattrName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Status::Error(ERANGE, "an extended attribute's name must be 1-255 bytes");
  }
  return Status::Ok();
}

Status CheckInode(uint64_t inode) {
  if (inode == 0) return Status::Error(EINVAL, "inode 0");
  return Status::Ok();
}

Status CheckFileBytes(uint64_t bytes) {
  if (bytes > kMaxFileBytes) {
    return Status::Error(EFBIG, "size " + std::to_string(bytes) + " is past the largest file (16 TiB)");
  }
  return Status::Ok();
}

Status CheckChunkIndex(uint64_t chunk_index) {
  if (chunk_index >= kMaxChunksPerFile) {
    return Status::Error(EFBIG, "chunk index " + std::to_string(chunk_index) + " is past the largest file (16 TiB)");
  }
  return Status::Ok();
}

Status CheckChunkRange(uint64_t offset, uint64_t length) {
  if (offset > kChunkSize || length > kChunkSize - offset) {
    return Status::Error(EINVAL, "range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                                     ") is outside a 64 MiB chunk");
  }
  return Status::Ok();
}

template <typename Chain>
Status CheckChain(const Chain& chain) {
  if (chain.size() > kMaxChainLength) return Status::Error(EINVAL, "replication chain too long");
  for (const auto& link : chain) {
    if (link.address().empty() || link.address().size() > kMaxAddressBytes ||
        link.plain_data_address().size() > kMaxAddressBytes) {
      return Status::Error(EINVAL, "bad chunkserver address in chain");
    }
  }
  return Status::Ok();
}

// Applies each check in order and returns the first failure.
template <typename... Checks>
Status All(Checks... results) {
  Status first;
  ((first.ok() && !results.ok() ? (first = results, 0) : 0), ...);
  return first;
}

}  // namespace

Status DecodeEnvelope(const void* data, size_t size, wire::Envelope* envelope) {
  if (size > static_cast<size_t>(INT32_MAX) || !envelope->ParseFromArray(data, static_cast<int>(size))) {
    return Status::Error(EBADMSG, "envelope does not parse");
  }
  return Status::Ok();
}

const std::string& RequestName(const wire::Envelope& envelope) {
  static const std::string kNone = "none";
  const auto* field = wire::Envelope::descriptor()->FindFieldByNumber(envelope.body_case());
  return field != nullptr ? field->name() : kNone;
}

Status CheckRequest(const wire::Envelope& envelope, size_t data_size) {
  using E = wire::Envelope;
  switch (envelope.body_case()) {
    case E::BODY_NOT_SET: return Status::Error(EBADMSG, "message has no body");
    case E::kReply: return Status::Error(EBADMSG, "a reply where a request was expected");
    case E::kLookup: return All(CheckInode(envelope.lookup().parent()), CheckName(envelope.lookup().name()));
    case E::kGetAttr: return CheckInode(envelope.get_attr().inode());
    case E::kSetAttr: {
      const auto& request = envelope.set_attr();
      return All(CheckInode(request.inode()),
                 (request.valid() & wire::SET_ATTR_SIZE) ? CheckFileBytes(request.size()) : Status::Ok());
    }
    case E::kMknod: return All(CheckInode(envelope.mknod().parent()), CheckName(envelope.mknod().name()));
    case E::kMkdir: return All(CheckInode(envelope.mkdir().parent()), CheckName(envelope.mkdir().name()));
    case E::kUnlink: return All(CheckInode(envelope.unlink().parent()), CheckName(envelope.unlink().name()));
    case E::kRmdir: return All(CheckInode(envelope.rmdir().parent()), CheckName(envelope.rmdir().name()));
    case E::kSymlink: {
      const auto& request = envelope.symlink();
      if (request.target().empty() || request.target().size() > kMaxSymlinkBytes) {
        return Status::Error(EINVAL, "symlink target empty or longer than 4096 bytes");
      }
      return All(CheckInode(request.parent()), CheckName(request.name()));
    }
    case E::kReadlink: return CheckInode(envelope.readlink().inode());
    case E::kLink:
      return All(CheckInode(envelope.link().inode()), CheckInode(envelope.link().new_parent()),
                 CheckName(envelope.link().new_name()));
    case E::kRename: {
      const auto& request = envelope.rename();
      if (request.flags() & ~3u) return Status::Error(EINVAL, "unknown rename flags");
      if (request.flags() == 3u) return Status::Error(EINVAL, "RENAME_NOREPLACE with RENAME_EXCHANGE");
      return All(CheckInode(request.parent()), CheckName(request.name()), CheckInode(request.new_parent()),
                 CheckName(request.new_name()));
    }
    case E::kReadDir: return CheckInode(envelope.read_dir().inode());
    case E::kGetChunks:
      return All(CheckInode(envelope.get_chunks().inode()), CheckChunkIndex(envelope.get_chunks().first_index()));
    case E::kWriteLease:
      return All(CheckInode(envelope.write_lease().inode()), CheckChunkIndex(envelope.write_lease().chunk_index()));
    case E::kWriteDone:
      return All(CheckInode(envelope.write_done().inode()), CheckFileBytes(envelope.write_done().end_offset()));
    case E::kAppend:
      return All(CheckInode(envelope.append().inode()), CheckFileBytes(envelope.append().length()));
    case E::kFallocate:
      return All(CheckInode(envelope.fallocate().inode()),
                 CheckFallocateRange(envelope.fallocate().offset(), envelope.fallocate().length()));
    case E::kFileInfo: return CheckInode(envelope.file_info().inode());
    case E::kMount:
      if (envelope.mount().subdir().size() > kMaxPathBytes) {
        return Status::Error(ENAMETOOLONG, "a mount subdir longer than 4096 bytes");
      }
      return Status::Ok();
    case E::kSetXattr:
      if (envelope.set_xattr().value().size() > kMaxXattrValueBytes) {
        return Status::Error(E2BIG, "an extended attribute's value is at most 64 KiB");
      }
      return All(CheckInode(envelope.set_xattr().inode()), CheckXattrName(envelope.set_xattr().name()));
    case E::kRemoveXattr:
      return All(CheckInode(envelope.remove_xattr().inode()), CheckXattrName(envelope.remove_xattr().name()));
    case E::kGetXattr:
      return All(CheckInode(envelope.get_xattr().inode()), CheckXattrName(envelope.get_xattr().name()));
    case E::kListXattr: return CheckInode(envelope.list_xattr().inode());
    // Ranges and counts are the lock table's to check (master/lock_table.h).
    case E::kLock:
      if (envelope.client_id() == 0) return Status::Error(EINVAL, "a lock needs the mount's client_id (its session)");
      return CheckInode(envelope.lock().inode());
    case E::kSession: {
      const auto& request = envelope.session();
      if (request.host().size() > kMaxNameBytes || request.version().size() > kMaxNameBytes ||
          request.mount_point().size() > kMaxPathBytes || request.subdir().size() > kMaxPathBytes) {
        return Status::Error(ENAMETOOLONG, "a session's host, version, mount point or subdir is too long");
      }
      if (envelope.client_id() == 0) return Status::Error(EINVAL, "a session needs the mount's client_id");
      if (request.open_inodes_size() > kMaxOpenFilesPerMessage) {
        return Status::Error(ENFILE, "a session holds at most 65536 files open");
      }
      return Status::Ok();
    }
    case E::kWatchNames:
      if (envelope.client_id() == 0) return Status::Error(EINVAL, "a name watch needs the mount's client_id");
      return Status::Ok();
    case E::kCloseFiles:
      if (envelope.close_files().closed_size() > kMaxOpenFilesPerMessage) {
        return Status::Error(E2BIG, "at most 65536 closed files per message");
      }
      if (envelope.client_id() == 0) return Status::Error(EINVAL, "closed files need the mount's client_id");
      return Status::Ok();
    case E::kSetGoal:
      if (!ValidGoal(envelope.set_goal().goal())) return Status::Error(EINVAL, "goal outside 1..9");
      return CheckInode(envelope.set_goal().inode());
    case E::kGetGoal: return CheckInode(envelope.get_goal().inode());
    case E::kRegister: {
      const auto& request = envelope.register_();
      if (request.chunkserver_uuid().empty() || request.address().empty() ||
          request.address().size() > kMaxAddressBytes || request.plain_data_address().size() > kMaxAddressBytes) {
        return Status::Error(EINVAL, "register without uuid or address");
      }
      return Status::Ok();
    }
    case E::kReadChunk:
      return CheckChunkRange(envelope.read_chunk().offset(), envelope.read_chunk().length());
    case E::kWriteChunk:
      return All(CheckChunkRange(envelope.write_chunk().offset(), data_size), CheckChain(envelope.write_chunk().chain()));
    case E::kTruncateChunk:
      return All(CheckChunkRange(envelope.truncate_chunk().new_length(), 0),
                 CheckChain(envelope.truncate_chunk().chain()));
    case E::kFallocateChunk:
      return All(CheckChunkRange(envelope.fallocate_chunk().offset(), envelope.fallocate_chunk().length()),
                 CheckChain(envelope.fallocate_chunk().chain()));
    default: return Status::Ok();  // requests with no fields to check (statfs, status, heartbeat, ...)
  }
}

}  // namespace hafs
