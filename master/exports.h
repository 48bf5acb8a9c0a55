// Exports (docs/exports.md): which client keys, from which addresses, may mount which
// subtree, and on what terms. The master reads them from --exports-file and rereads them on
// SIGHUP. One export per line, the first line that fits a client and the subtree it asks for
// wins:
//
//   CLIENT  SUBTREE  [OPTION,OPTION,...]
//
// CLIENT is a client key's NAME in authorized_keys, its Z85 public key, or * (any client).
// SUBTREE is an absolute path; the client may mount it or any directory below it.
// OPTIONS: ro (the default) or rw; root_squash[=UID:GID] or all_squash[=UID:GID] (UID:GID
// defaults to 65534:65534); goal=MIN-MAX (the goals the client may set, default 1-9);
// from=ADDRESS[/BITS] (IPv4 or IPv6, may repeat; default any address).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hafs::master {

// An address range ("10.0.0.0/8", "::1", "192.168.1.7"), IPv4 addresses as IPv4-mapped IPv6.
class AddressRange {
 public:
  static Result<AddressRange> Parse(std::string_view text);
  // `address` as ZeroMQ reports a peer ("127.0.0.1", "::1"); false when it does not parse.
  bool Contains(std::string_view address) const;

 private:
  std::array<uint8_t, 16> prefix_{};
  int bits_ = 0;
};

// "/a//b/" -> "/a/b", "/" -> "/"; none for a relative path or one with "." or "..".
std::optional<std::string> NormalSubtreePath(std::string_view path);

// Numbered as MountRequest's answer (Reply.squash) gives them to the mount.
enum class Squash { kNone = 0, kRoot = 1, kAll = 2 };

struct Export {
  std::string client;   // a key's name, a Z85 key, or "*"
  std::string subtree = "/";  // or "/a/b", without a trailing slash
  bool read_only = true;
  Squash squash = Squash::kNone;
  uint32_t anonymous_uid = 65534;
  uint32_t anonymous_gid = 65534;
  uint32_t min_goal = 1;
  uint32_t max_goal = 9;
  std::vector<AddressRange> from;  // empty: any address
  std::string source;              // "FILE:LINE", for logs

  // Whether this line names the client with `key` (its NAME `key_name`) at `address`.
  bool Admits(const std::string& key, const std::string& key_name, const std::string& address) const;
};

class Exports {
 public:
  // `source` names the text in error messages ("FILE:LINE").
  static Result<Exports> Parse(std::string_view text, const std::string& source);
  static Result<Exports> Load(const std::string& path);
  // What a cluster without an exports file grants: every client key the whole file system,
  // read-write, as MooseFS's shipped mfsexports.cfg does.
  static Exports EveryClient();

  // The lines that admit this client, in file order.
  std::vector<const Export*> For(const std::string& key, const std::string& key_name,
                                 const std::string& address) const;
  size_t size() const { return lines_.size(); }

 private:
  std::vector<Export> lines_;
};

}  // namespace hafs::master
