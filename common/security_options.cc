#include "common/security_options.h"

#include "common/curve_keys.h"
#include "common/key_authority.h"
#include "common/log.h"
#include "common/rpc.h"

namespace hafs {

constexpr char kKeysDirectory[] = "/etc/hafs/keys/";

void AddSecurityOptions(po::options_description& description, SecurityOptions* options, const std::string& key_name) {
  description.add_options()(
      "key-file", po::value(&options->key_file)->default_value(kKeysDirectory + key_name + ".key"),
      "this process's CURVE key pair (make one with: hafs keygen FILE)")(
      "authorized-keys", po::value(&options->authorized_keys)->default_value(std::string(kKeysDirectory) + "authorized_keys"),
      "the cluster's public keys and their roles, one 'ROLE KEY [NAME]' a line (reread on SIGHUP)")(
      "insecure", po::bool_switch(&options->insecure),
      "no CURVE: plaintext, unauthenticated connections that anyone who reaches a port can use");
}

Status SetUpSecurity(const SecurityOptions& options, Serves serves) {
  if (options.insecure) {
    LOG(WARNING) << "--insecure: connections are plaintext and unauthenticated; any process that reaches a hafs port "
                    "can read, change or delete any file";
    return Status::Ok();
  }
  auto own = curve::ReadKeyPairFile(options.key_file);
  if (!own) return own.error();
  auto keys = curve::AuthorizedKeys::Load(options.authorized_keys);
  if (!keys) return keys.error();
  auto master_key = keys->MasterKey();
  if (!master_key) return Status::Error(EINVAL, options.authorized_keys + ": " + master_key.error().message());
  if (serves == Serves::kRequests && !keys->RoleOf(own->public_key)) {
    return Status::Error(EACCES, "the public key of " + options.key_file + " is not in " + options.authorized_keys +
                                     ": no other hafs process would accept this one");
  }
  if (serves == Serves::kRequests) {
    if (Status started = curve::KeyAuthority::Start(options.authorized_keys); !started.ok()) return started;
  }
  rpc::UseCurve(std::move(*own), std::move(*master_key));
  return Status::Ok();
}

}  // namespace hafs
