#include "common/block_checksum.h"

#define XXH_STATIC_LINKING_ONLY  // for XXH3_state_t on the stack
#include <xxhash.h>

#include <array>
#include <cstring>

namespace hafs {

uint64_t BlockChecksum(std::span<const std::byte> data) {
  if (data.size() >= kBlockSize) return XXH3_64bits(data.data(), kBlockSize);
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, data.data(), data.size());
  static const std::array<std::byte, kBlockSize> kZeros{};
  XXH3_64bits_update(&state, kZeros.data(), kBlockSize - data.size());
  return XXH3_64bits_digest(&state);
}

uint64_t RecordChecksum(std::span<const std::byte> data) { return XXH3_64bits(data.data(), data.size()); }

}  // namespace hafs
