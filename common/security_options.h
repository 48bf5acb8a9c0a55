// The flags every hafs binary has for CurveZMQ (docs/security.md): its key pair file, the
// cluster's authorized keys, and --insecure for plaintext.
#pragma once

#include <string>

#include "common/options.h"
#include "common/status.h"

namespace hafs {

struct SecurityOptions {
  bool insecure = false;
  std::string key_file;
  std::string authorized_keys;
};

// Adds --key-file (default /etc/hafs/keys/<key_name>.key), --authorized-keys and --insecure.
void AddSecurityOptions(po::options_description& description, SecurityOptions* options, const std::string& key_name);

enum class Serves { kNothing, kRequests };

// Loads this process's keys and makes every socket use CURVE; a process that serves
// requests also starts answering handshakes from the authorized keys (reloaded on
// SIGHUP: call curve::KeyAuthority::RequestReload from the handler). Under --insecure,
// only logs a warning. Call once, before any socket.
Status SetUpSecurity(const SecurityOptions& options, Serves serves);

}  // namespace hafs
