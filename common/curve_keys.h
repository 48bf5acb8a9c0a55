// CurveZMQ key pairs and the cluster's list of authorized public keys (docs/security.md).
// A key pair file holds one process's keys, Z85-encoded as ZeroMQ spells them:
//
//   # hafs CURVE key pair; the secret key must stay private (0600)
//   public-key = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
//   secret-key = JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6
//
// The authorized keys file is public and the same on every host: one key a line,
// "ROLE PUBLIC-KEY [NAME]", ROLE one of master, chunkserver, client, admin; '#' comments.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hafs::curve {

inline constexpr size_t kZ85KeyLength = 40;

struct KeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

// What a key may ask for (common/request_roles.h says which requests each role may make).
enum class Role { kMaster, kChunkserver, kClient, kAdmin };
const char* RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

Result<KeyPair> GenerateKeyPair();
// Writes a new key pair file, 0600; refuses to replace one that exists.
Status WriteKeyPairFile(const std::string& path, const KeyPair& keys);
Result<KeyPair> ReadKeyPairFile(const std::string& path);

// The Z85 spelling of a 32-byte binary key (as a ZAP request carries it).
std::string Z85OfBinaryKey(std::string_view binary);
bool IsZ85Key(std::string_view key);

class AuthorizedKeys {
 public:
  // `source` names the text in error messages ("FILE:LINE").
  static Result<AuthorizedKeys> Parse(std::string_view text, const std::string& source);
  static Result<AuthorizedKeys> Load(const std::string& path);

  std::optional<Role> RoleOf(const std::string& public_key) const;
  // The NAME a key's line gives it ("" when none): exports name client keys by it.
  std::string NameOf(const std::string& public_key) const;
  // The masters' public key: the masters of a cluster share one key pair (they are one
  // service to their clients), so exactly one master line is expected.
  Result<std::string> MasterKey() const;
  size_t size() const { return roles_.size(); }

 private:
  std::map<std::string, Role> roles_;  // by Z85 public key
  std::map<std::string, std::string> names_;
  std::vector<std::string> master_keys_;
};

}  // namespace hafs::curve
