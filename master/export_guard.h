// Holds every request of a client key to the export that admits it (docs/exports.md). A
// mount first asks to mount a subtree (MountRequest) and then names that subtree's inode in
// every request (Envelope.mount_root); the guard finds, per request, the first export line
// that admits the client's key and address with a subtree holding that root. Nothing is
// remembered per client, so a new active master after a takeover judges the same way.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "common/proto/hafs.pb.h"
#include "common/rpc.h"
#include "common/status.h"
#include "master/exports.h"
#include "master/namespace.h"

namespace hafs::master {

// Who asks: the key proven in the handshake ("" without CURVE), its NAME in
// authorized_keys, and the address the connection comes from.
struct ExportClient {
  std::string key;
  std::string key_name;
  std::string address;
};

// The client behind a request that exports hold (a client key's, or with --insecure any
// client request's); none for the other roles (admin keys are the operator's: unconfined).
std::optional<ExportClient> ExportClientOf(const rpc::Incoming& incoming);

class ExportGuard {
 public:
  // `exports_file` "" grants every client everything (Exports::EveryClient).
  explicit ExportGuard(std::string exports_file = "") : exports_file_(std::move(exports_file)) {}

  // Reads the exports file (at start: an error stops the master).
  Status Load();
  // Async-signal-safe (SIGHUP): the next MaybeReload rereads the file; a file that does not
  // parse leaves the exports as they were, logged.
  static void RequestReload();
  void MaybeReload();

  // A MountRequest: mount_root, read_only and the goal range, or EACCES when no export
  // admits this client to that subdirectory, ENOENT / ENOTDIR when it is not a directory.
  // `client` null: an admin key, which may mount any directory read-write.
  Result<wire::Reply> Mount(const ExportClient* client, const wire::MountRequest& request, const Namespace& tree) const;

  // A client request, before it is handled: EACCES when no export admits the client at the
  // request's mount root or the request names an inode outside that root, EROFS for a change
  // under a read-only export, EPERM for a goal outside the export's range. On success the
  // request's credentials are squashed as the export says.
  Status Admit(const ExportClient& client, wire::Envelope* request, const Namespace& tree) const;

 private:
  // The first line admitting `client` whose subtree holds inode `root`; null if none.
  const Export* ExportAt(const ExportClient& client, uint64_t root, const Namespace& tree) const;

  std::string exports_file_;
  Exports exports_ = Exports::EveryClient();
};

}  // namespace hafs::master
