#include "common/curve_keys.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <sstream>
#include <zmq.h>

#include "common/durable_file.h"
#include "common/text_file.h"

namespace hafs::curve {
namespace {

constexpr std::array<std::pair<Role, const char*>, 4> kRoleNames = {
    {{Role::kMaster, "master"}, {Role::kChunkserver, "chunkserver"}, {Role::kClient, "client"}, {Role::kAdmin, "admin"}}};

}  // namespace

const char* RoleName(Role role) {
  for (const auto& [known, name] : kRoleNames) {
    if (known == role) return name;
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (const auto& [role, known] : kRoleNames) {
    if (name == known) return role;
  }
  return std::nullopt;
}

bool IsZ85Key(std::string_view key) {
  if (key.size() != kZ85KeyLength) return false;
  std::array<uint8_t, 32> binary;
  std::string terminated(key);
  return zmq_z85_decode(binary.data(), terminated.c_str()) != nullptr;
}

std::string Z85OfBinaryKey(std::string_view binary) {
  if (binary.size() != 32) return {};
  std::array<char, kZ85KeyLength + 1> text;
  if (zmq_z85_encode(text.data(), reinterpret_cast<const uint8_t*>(binary.data()), binary.size()) == nullptr) return {};
  return std::string(text.data(), kZ85KeyLength);
}

Result<KeyPair> GenerateKeyPair() {
  std::array<char, kZ85KeyLength + 1> public_key;
  std::array<char, kZ85KeyLength + 1> secret_key;
  if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0) {
    return Fail(ErrnoStatus("cannot make a CURVE key pair (is libzmq built with CURVE?)"));
  }
  return KeyPair{std::string(public_key.data(), kZ85KeyLength), std::string(secret_key.data(), kZ85KeyLength)};
}

Status WriteKeyPairFile(const std::string& path, const KeyPair& keys) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return ErrnoStatus("cannot create " + path);
  std::string text = "# hafs CURVE key pair; the secret key must stay private (0600)\npublic-key = " +
                     keys.public_key + "\nsecret-key = " + keys.secret_key + "\n";
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  Status status = written ? Status::Ok() : ErrnoStatus("cannot write " + path);
  ::close(fd);
  return status;
}

Result<KeyPair> ReadKeyPairFile(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return Fail(text.error());
  KeyPair keys;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    std::string_view content = TrimSpaces(line);
    if (content.empty() || content.front() == '#') continue;
    size_t equals = content.find('=');
    std::string_view name = TrimSpaces(content.substr(0, equals));
    std::string_view value = equals == std::string_view::npos ? std::string_view() : TrimSpaces(content.substr(equals + 1));
    if (name == "public-key") {
      keys.public_key = value;
    } else if (name == "secret-key") {
      keys.secret_key = value;
    } else {
      return Fail(EINVAL, path + ": unknown line '" + std::string(name) + "' (want public-key = KEY, secret-key = KEY)");
    }
  }
  if (!IsZ85Key(keys.public_key) || !IsZ85Key(keys.secret_key)) {
    return Fail(EINVAL, path + ": not a key pair file (make one with: hafs keygen " + path + ")");
  }
  return keys;
}

Result<AuthorizedKeys> AuthorizedKeys::Parse(std::string_view text, const std::string& source) {
  AuthorizedKeys keys;
  Status parsed = ForEachConfigLine(text, source, [&keys](std::string_view line, const std::string& where) {
    std::istringstream fields{std::string(line)};
    std::string role_name, key, name;
    fields >> role_name >> key >> name;
    auto role = ParseRole(role_name);
    if (!role) {
      return Status::Error(EINVAL, where + ": unknown role '" + role_name + "' (master, chunkserver, client, admin)");
    }
    if (!IsZ85Key(key)) return Status::Error(EINVAL, where + ": not a Z85 public key: '" + key + "'");
    if (auto [it, added] = keys.roles_.emplace(key, *role); !added && it->second != *role) {
      return Status::Error(EINVAL, where + ": the key is listed already as " + RoleName(it->second));
    }
    if (*role == Role::kMaster) keys.master_keys_.push_back(key);
    if (!name.empty()) keys.names_[key] = name;
    return Status::Ok();
  });
  if (!parsed.ok()) return Fail(parsed);
  return keys;
}

Result<AuthorizedKeys> AuthorizedKeys::Load(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return Fail(text.error());
  return Parse(*text, path);
}

std::optional<Role> AuthorizedKeys::RoleOf(const std::string& public_key) const {
  auto found = roles_.find(public_key);
  if (found == roles_.end()) return std::nullopt;
  return found->second;
}

std::string AuthorizedKeys::NameOf(const std::string& public_key) const {
  auto found = names_.find(public_key);
  return found == names_.end() ? std::string() : found->second;
}

Result<std::string> AuthorizedKeys::MasterKey() const {
  if (master_keys_.size() != 1) {
    return Fail(EINVAL, "the authorized keys list " + std::to_string(master_keys_.size()) +
                            " master keys; the masters share one key pair, so exactly one is expected");
  }
  return master_keys_.front();
}

}  // namespace hafs::curve
