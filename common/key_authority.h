// The process's ZAP handler (ZeroMQ RFC 27): every CURVE handshake on a server socket of
// this process is accepted only for a public key in the authorized keys file, and the
// connection's messages then carry that key as their "User-Id" (rpc::Incoming::peer_key).
// SIGHUP rereads the file: added keys connect at once; a revoked key's connections stay
// open but every request on them is refused (servers look the role up per request).
#pragma once

#include <optional>
#include <string>

#include "common/curve_keys.h"
#include "common/status.h"

namespace hafs::curve {

class KeyAuthority {
 public:
  // Loads `authorized_keys_path` and starts answering handshakes. Once per process,
  // before the first server socket binds.
  static Status Start(const std::string& authorized_keys_path);
  // Safe in a signal handler: the file is reread within a fraction of a second.
  static void RequestReload();
  // The role of `public_key` (Z85) in the list as it is now; none when unknown or revoked.
  static std::optional<Role> RoleOf(const std::string& public_key);
  // The key's NAME in the list as it is now ("" when it has none or is unknown).
  static std::string NameOf(const std::string& public_key);
  // How many times the file was (re)loaded successfully; for tests and logs.
  static uint64_t loads();
};

}  // namespace hafs::curve
