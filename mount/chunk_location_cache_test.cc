#include "mount/chunk_location_cache.h"

#include <gtest/gtest.h>

#include <limits>

namespace hafs::mount {
namespace {

TEST(TokenRefreshAtMs, ThreeQuartersThroughTheLifetimeOnThisHostsClock) {
  wire::ChunkToken token;
  token.set_mac(std::string(32, 'm'));
  // The master's clock may be anywhere: only the lifetime it gave counts.
  token.set_issued_ms(5'000'000'000'000);
  token.set_expiry_ms(5'000'000'000'000 + 600'000);
  EXPECT_EQ(TokenRefreshAtMs(token, 1000), 1000 + 450'000);
  token.set_expiry_ms(token.issued_ms() - 1);  // nonsense from the master: renew at once
  EXPECT_EQ(TokenRefreshAtMs(token, 1000), 1000);
}

TEST(TokenRefreshAtMs, NeverWithoutAToken) {
  EXPECT_EQ(TokenRefreshAtMs(wire::ChunkToken(), 1000), std::numeric_limits<int64_t>::max());
}

}  // namespace
}  // namespace hafs::mount
