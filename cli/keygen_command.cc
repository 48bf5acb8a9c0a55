// `hafs keygen FILE`: makes a CURVE key pair file for one hafs process (docs/security.md).
#include <iostream>

#include "cli/commands.h"
#include "common/curve_keys.h"

namespace hafs::cli {

int KeyGen(const CliOptions& options) {
  if (options.arguments.size() != 1) return UsageError("keygen takes exactly one FILE");
  if (!options.role.empty() && !curve::ParseRole(options.role)) {
    return UsageError("--role is one of master, chunkserver, client, admin");
  }
  if (options.role.empty() && !options.name.empty()) return UsageError("--name goes with --role");
  auto keys = curve::GenerateKeyPair();
  if (!keys) return ClusterError(keys.error());
  if (Status written = curve::WriteKeyPairFile(options.arguments[0], *keys); !written.ok()) {
    return ClusterError(written);
  }
  // With a role: the line to add to the authorized keys file of every host.
  if (options.role.empty()) {
    std::cout << keys->public_key << "\n";
  } else {
    std::cout << options.role << " " << keys->public_key << (options.name.empty() ? "" : " " + options.name) << "\n";
  }
  return kExitOk;
}

}  // namespace hafs::cli
