#include "common/access_token.h"

#include <algorithm>

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <type_traits>

#include "common/durable_file.h"
#include "common/log.h"

namespace hafs {
namespace {

static_assert(kTokenKeyBytes == crypto_auth_KEYBYTES && kTokenMacBytes == crypto_auth_BYTES);

constexpr char kDomainTag[] = "hafs-chunktok-v1";
// No chain is longer than the largest goal; a token naming more is refused unread.
constexpr int kMaxTokenChain = 16;

template <typename Integer>
void Append(std::string* out, Integer value) {
  auto bits = static_cast<std::make_unsigned_t<Integer>>(value);
  for (size_t i = 0; i < sizeof(Integer); ++i) out->push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

// The bytes the MAC covers: the layout in the header comment.
std::string SignedBytes(const wire::ChunkToken& token) {
  std::string bytes(kDomainTag, sizeof(kDomainTag) - 1);
  Append(&bytes, token.chunk_id());
  Append(&bytes, token.chunk_version());
  Append(&bytes, token.modes());
  Append(&bytes, token.issued_ms());
  Append(&bytes, token.expiry_ms());
  Append(&bytes, static_cast<uint32_t>(token.chain_size()));
  for (const std::string& address : token.chain()) {
    Append(&bytes, static_cast<uint32_t>(address.size()));
    bytes += address;
  }
  return bytes;
}

// libsodium's own setup (CPU features, the random source) before its first use; thread-safe.
bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

std::string ChunkTokenMac(const TokenKey& key, const wire::ChunkToken& token) {
  std::string bytes = SignedBytes(token);
  std::string mac(kTokenMacBytes, '\0');
  crypto_auth(reinterpret_cast<unsigned char*>(mac.data()), reinterpret_cast<const unsigned char*>(bytes.data()),
              bytes.size(), key.bytes.data());
  return mac;
}

namespace {

Status Refused(const std::string& why) { return Status::Error(EACCES, "chunk access token refused: " + why); }

// The chain checks of a write: the receiver is an entry of the token's chain and forwards only
// to the entries right after it, in order. It may forward to fewer of them, none at all when a
// client sends a small write to each replica itself (mount/chunk_writer.h, "fan-out").
Status CheckChain(const wire::ChunkToken& token, const ChunkAccessRequest& request) {
  const auto& entries = token.chain();
  auto own = std::find(entries.begin(), entries.end(), request.own_address);
  if (own == entries.end()) {
    return Refused("this chunkserver (" + request.own_address + ") is not in the token's chain");
  }
  size_t position = static_cast<size_t>(own - entries.begin());
  if (position + 1 + request.downstream.size() > static_cast<size_t>(entries.size())) {
    return Refused("the request's chain is longer than the token's");
  }
  for (size_t i = 0; i < request.downstream.size(); ++i) {
    if (token.chain(static_cast<int>(position + 1 + i)) != request.downstream[i]) {
      return Refused("the request forwards to " + request.downstream[i] + ", not in the token's chain there");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<TokenKey> LoadTokenKey(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Fail(ErrnoStatus("cannot read the token key file " + path));
  // One byte more than the longest valid file is enough to tell it is too long.
  std::string contents(kTokenKeyBytes * 2 + 2, '\0');
  file.read(contents.data(), static_cast<std::streamsize>(contents.size()));
  contents.resize(static_cast<size_t>(file.gcount()));
  if (file.bad()) return Fail(ErrnoStatus("cannot read the token key file " + path));
  TokenKey key;
  if (contents.size() == kTokenKeyBytes) {
    std::copy(contents.begin(), contents.end(), reinterpret_cast<char*>(key.bytes.data()));
    return key;
  }
  if (contents.size() == kTokenKeyBytes * 2 + 1 && contents.back() == '\n') contents.pop_back();
  size_t decoded = 0;
  if (contents.size() != kTokenKeyBytes * 2 ||
      sodium_hex2bin(key.bytes.data(), key.bytes.size(), contents.data(), contents.size(), nullptr, &decoded,
                     nullptr) != 0 ||
      decoded != kTokenKeyBytes) {
    return Fail(EINVAL, "the token key file " + path + " is malformed: it must hold 32 bytes, or 64 hex digits " +
                            "(hafs token-key PATH makes one)");
  }
  return key;
}

Status CreateTokenKeyFile(const std::string& path) {
  if (!SodiumReady()) return Status::Error(EIO, "libsodium cannot start");
  TokenKey key;
  randombytes_buf(key.bytes.data(), key.bytes.size());
  std::string hex(kTokenKeyBytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), key.bytes.data(), key.bytes.size());
  hex.back() = '\n';
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return ErrnoStatus("cannot create the token key file " + path);
  bool written = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  Status status = written ? Status::Ok() : ErrnoStatus("cannot write the token key file " + path);
  ::close(fd);
  if (!status.ok()) ::unlink(path.c_str());
  return status;
}

Result<std::optional<TokenKey>> TokenKeyFromOption(const std::string& path, bool insecure) {
  if (path.empty() && !insecure) {
    return Fail(EINVAL, "an empty --token-key-file (chunk access tokens off) goes only with --insecure");
  }
  if (path.empty()) {
    LOG(WARNING) << "no --token-key-file: chunk access tokens are off, so any client may read and write any chunk "
                    "on the chunkservers";
    return std::nullopt;
  }
  if (!SodiumReady()) return Fail(EIO, "libsodium cannot start");
  auto key = LoadTokenKey(path);
  if (!key) return Fail(key.error());
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
    LOG(WARNING) << "the token key file " << path << " is readable by others than its owner: anyone who reads it "
                 << "can make chunk access tokens";
  }
  LOG(INFO) << "chunk access tokens on, key from " << path;
  return std::optional<TokenKey>(*key);
}

wire::ChunkToken IssueChunkToken(const TokenKey& key, uint64_t chunk_id, uint64_t chunk_version, uint32_t modes,
                                 int64_t issued_ms, int64_t lifetime_ms, std::span<const std::string> chain) {
  wire::ChunkToken token;
  token.set_chunk_id(chunk_id);
  token.set_chunk_version(chunk_version);
  token.set_modes(modes);
  token.set_issued_ms(issued_ms);
  token.set_expiry_ms(issued_ms + lifetime_ms);
  for (const std::string& address : chain) token.add_chain(address);
  token.set_mac(ChunkTokenMac(key, token));
  return token;
}

Status VerifyChunkToken(const TokenKey& key, const wire::ChunkToken& token, const ChunkAccessRequest& request,
                        int64_t now_ms) {
  if (token.mac().size() != kTokenMacBytes) return Refused("no token, or no MAC in it");
  if (token.chain_size() > kMaxTokenChain) return Refused("the token's chain is too long");
  std::string bytes = SignedBytes(token);
  if (crypto_auth_verify(reinterpret_cast<const unsigned char*>(token.mac().data()),
                         reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), key.bytes.data()) != 0) {
    return Refused("bad MAC (forged, altered, or made with another key)");
  }
  if (token.chunk_id() != request.chunk_id || token.chunk_version() != request.chunk_version) {
    return Refused("it is for chunk " + std::to_string(token.chunk_id()) + " version " +
                   std::to_string(token.chunk_version()) + ", not chunk " + std::to_string(request.chunk_id) +
                   " version " + std::to_string(request.chunk_version));
  }
  if ((token.modes() & request.mode) == 0) {
    return Refused(std::string("it does not allow ") + (request.mode == wire::CHUNK_ACCESS_READ ? "reads" : "writes"));
  }
  // now - skew rather than expiry + skew: an expiry near the largest int64 must not wrap.
  if (token.expiry_ms() < now_ms - kTokenClockSkewMs) {
    return Refused("expired " + std::to_string(now_ms - token.expiry_ms()) + " ms ago");
  }
  return request.mode == wire::CHUNK_ACCESS_WRITE ? CheckChain(token, request) : Status::Ok();
}

}  // namespace hafs
