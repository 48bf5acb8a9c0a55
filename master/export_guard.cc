#include "master/export_guard.h"

#include <sys/stat.h>

#include <vector>

#include "common/key_authority.h"
#include "common/log.h"
#include "common/request_roles.h"

namespace hafs::master {
namespace {

std::atomic<bool> g_reload_requested{false};

// What a client request touches: the inodes it names, whether it changes anything, and
// the credentials it claims (null when it claims none).
struct Reach {
  std::vector<uint64_t> inodes;
  bool changes = false;
  wire::Credentials* credentials = nullptr;
};

Reach ReachOf(wire::Envelope* request) {
  using E = wire::Envelope;
  switch (request->body_case()) {
    case E::kLookup: return {{request->lookup().parent()}, false, request->mutable_lookup()->mutable_credentials()};
    case E::kReadDir: return {{request->read_dir().inode()}, false, request->mutable_read_dir()->mutable_credentials()};
    case E::kGetAttr: return {{request->get_attr().inode()}};
    case E::kReadlink: return {{request->readlink().inode()}};
    case E::kGetChunks:
      return {{request->get_chunks().inode()}, false, request->mutable_get_chunks()->mutable_credentials()};
    case E::kFileInfo: return {{request->file_info().inode()}};
    case E::kGetGoal: return {{request->get_goal().inode()}};
    case E::kSetAttr: return {{request->set_attr().inode()}, true, request->mutable_set_attr()->mutable_credentials()};
    case E::kMknod: return {{request->mknod().parent()}, true, request->mutable_mknod()->mutable_credentials()};
    case E::kMkdir: return {{request->mkdir().parent()}, true, request->mutable_mkdir()->mutable_credentials()};
    case E::kSymlink: return {{request->symlink().parent()}, true, request->mutable_symlink()->mutable_credentials()};
    case E::kUnlink: return {{request->unlink().parent()}, true, request->mutable_unlink()->mutable_credentials()};
    case E::kRmdir: return {{request->rmdir().parent()}, true, request->mutable_rmdir()->mutable_credentials()};
    case E::kLink:
      return {{request->link().inode(), request->link().new_parent()}, true,
              request->mutable_link()->mutable_credentials()};
    case E::kRename:
      return {{request->rename().parent(), request->rename().new_parent()}, true,
              request->mutable_rename()->mutable_credentials()};
    case E::kSetGoal: return {{request->set_goal().inode()}, true, request->mutable_set_goal()->mutable_credentials()};
    case E::kSetXattr:
      return {{request->set_xattr().inode()}, true, request->mutable_set_xattr()->mutable_credentials()};
    case E::kRemoveXattr:
      return {{request->remove_xattr().inode()}, true, request->mutable_remove_xattr()->mutable_credentials()};
    case E::kGetXattr:
      return {{request->get_xattr().inode()}, false, request->mutable_get_xattr()->mutable_credentials()};
    case E::kListXattr:
      return {{request->list_xattr().inode()}, false, request->mutable_list_xattr()->mutable_credentials()};
    case E::kLock:  // no change to the file: also under a read-only export (a reader's lock)
      return {{request->lock().inode()}, false, request->mutable_lock()->mutable_credentials()};
    case E::kWriteLease:
      return {{request->write_lease().inode()}, true, request->mutable_write_lease()->mutable_credentials()};
    case E::kAppend:
      return {{request->append().inode()}, true, request->mutable_append()->mutable_credentials()};
    case E::kWriteDone:
      return {{request->write_done().inode()}, true, request->mutable_write_done()->mutable_credentials()};
    case E::kAttachChunk:
      return {{request->attach_chunk().inode()}, true, request->mutable_attach_chunk()->mutable_credentials()};
    case E::kFallocate:
      return {{request->fallocate().inode()}, true, request->mutable_fallocate()->mutable_credentials()};
    // A delegation is for changes (none under a read-only export); a batch's changes are
    // admitted one by one as well.
    case E::kDelegation:
      return {{request->delegation().dir()}, true, request->mutable_delegation()->mutable_credentials()};
    case E::kChangeBatch: return {{}, true};
    default:
      // statfs, cluster status, lease releases, bad-replica reports: no inode of the tree.
      return {};
  }
}

void SquashCredentials(const Export& line, wire::Credentials* credentials) {
  if (line.squash == Squash::kNone || (line.squash == Squash::kRoot && credentials->uid() != 0)) return;
  credentials->set_uid(line.anonymous_uid);
  credentials->set_gid(line.anonymous_gid);
  credentials->clear_groups();
}

std::string Describe(const ExportClient& client) {
  std::string who = client.key_name.empty() ? (client.key.empty() ? "a client" : "key " + client.key)
                                            : "client " + client.key_name;
  return client.address.empty() ? who : who + " from " + client.address;
}

// Whether `subdir` lies in `subtree` (both normal, NormalSubtreePath).
bool PathWithin(const std::string& subdir, const std::string& subtree) {
  if (subtree == "/") return true;
  return subdir == subtree || (subdir.starts_with(subtree) && subdir[subtree.size()] == '/');
}

}  // namespace

std::optional<ExportClient> ExportClientOf(const rpc::Incoming& incoming) {
  auto kind = incoming.message.envelope.body_case();
  if (!rpc::CurveOn()) {
    if (!curve::MayAsk(curve::Role::kClient, kind)) return std::nullopt;
    return ExportClient{"", "", incoming.peer_address};
  }
  if (curve::KeyAuthority::RoleOf(incoming.peer_key) != curve::Role::kClient) return std::nullopt;
  return ExportClient{incoming.peer_key, curve::KeyAuthority::NameOf(incoming.peer_key), incoming.peer_address};
}

Status ExportGuard::Load() {
  if (exports_file_.empty()) return Status::Ok();
  auto loaded = Exports::Load(exports_file_);
  if (!loaded) return loaded.error();
  exports_ = std::move(*loaded);
  LOG(INFO) << "exports: " << exports_.size() << " lines from " << exports_file_;
  return Status::Ok();
}

void ExportGuard::RequestReload() { g_reload_requested.store(true); }

void ExportGuard::MaybeReload() {
  if (!g_reload_requested.exchange(false)) return;
  if (Status status = Load(); !status.ok()) {
    LOG(ERROR) << "exports not reloaded, the old ones stay: " << status.ToString();
  }
}

const Export* ExportGuard::ExportAt(const ExportClient& client, uint64_t root, const Namespace& tree) const {
  for (const Export* line : exports_.For(client.key, client.key_name, client.address)) {
    auto subtree = tree.ResolveDirectory(line->subtree);
    if (subtree && tree.IsUnder(root, *subtree)) return line;
  }
  return nullptr;
}

Result<wire::Reply> ExportGuard::Mount(const ExportClient* client, const wire::MountRequest& request,
                                       const Namespace& tree) const {
  auto normal = NormalSubtreePath(request.subdir());
  if (!normal) return Fail(EINVAL, "cannot mount '" + request.subdir() + "': not an absolute path without . or ..");
  const std::string& subdir = *normal;
  static const Export kAdmin = [] {
    Export admin;
    admin.read_only = false;
    return admin;
  }();
  const Export* admitted = client == nullptr ? &kAdmin : nullptr;
  if (client != nullptr) {
    for (const Export* line : exports_.For(client->key, client->key_name, client->address)) {
      if (PathWithin(subdir, line->subtree)) {
        admitted = line;
        break;
      }
    }
  }
  if (admitted == nullptr) return Fail(EACCES, "no export admits " + Describe(*client) + " to mount " + subdir);
  auto root = tree.ResolveDirectory(subdir);
  if (!root) return Fail(root.error().error(), "cannot mount " + subdir + ": " + root.error().message());
  wire::Reply reply;
  reply.set_mount_root(*root);
  reply.set_read_only(admitted->read_only);
  reply.set_min_goal(admitted->min_goal);
  reply.set_max_goal(admitted->max_goal);
  reply.set_squash(static_cast<uint32_t>(admitted->squash));
  reply.set_anonymous_uid(admitted->anonymous_uid);
  reply.set_anonymous_gid(admitted->anonymous_gid);
  return reply;
}

Status ExportGuard::Admit(const ExportClient& client, wire::Envelope* request, const Namespace& tree) const {
  uint64_t root = request->mount_root() == 0 ? kRootInode : request->mount_root();
  const Export* line = ExportAt(client, root, tree);
  if (line == nullptr) {
    return Status::Error(EACCES, "no export admits " + Describe(client) + " at inode " + std::to_string(root));
  }
  Reach reach = ReachOf(request);
  for (uint64_t inode : reach.inodes) {
    // A missing inode is the handler's to answer (ENOENT); one elsewhere is not the client's.
    if (tree.Exists(inode) && !tree.IsUnder(inode, root)) {
      return Status::Error(EACCES, "inode " + std::to_string(inode) + " is outside the subtree " + Describe(client) +
                                       " mounted (" + line->source + ")");
    }
  }
  if (reach.changes && line->read_only) {
    return Status::Error(EROFS, "the export " + line->source + " is read-only");
  }
  if (request->has_set_goal() &&
      (request->set_goal().goal() < line->min_goal || request->set_goal().goal() > line->max_goal)) {
    return Status::Error(EPERM, "the export " + line->source + " allows goals " + std::to_string(line->min_goal) +
                                    "-" + std::to_string(line->max_goal));
  }
  if (reach.credentials != nullptr) SquashCredentials(*line, reach.credentials);
  return Status::Ok();
}

}  // namespace hafs::master
