#include "chunkserver/disk_error_window.h"

#include <gtest/gtest.h>

namespace hafs {
namespace {

constexpr int64_t kWindowMs = 600'000;

TEST(DiskErrorWindowTest, CountsOnlyTheErrorsOfAFailingDisk) {
  for (int error : {EIO, EROFS, EUCLEAN, ENODEV, ENXIO}) EXPECT_TRUE(IsDiskFailure(error)) << error;
  for (int error : {0, ENOENT, ENOSPC, EDQUOT, EBADMSG, ESTALE, EINVAL, EMFILE, ENFILE, ENOMEM, EAGAIN}) {
    EXPECT_FALSE(IsDiskFailure(error)) << error;
  }
}

TEST(DiskErrorWindowTest, SecondIoErrorWithinTheWindowTakesTheDirectoryOut) {
  DiskErrorWindow window(2, kWindowMs);
  EXPECT_FALSE(window.Record(EIO, 1'000));
  EXPECT_TRUE(window.Record(EUCLEAN, 1'000 + kWindowMs - 1));
}

TEST(DiskErrorWindowTest, ErrorsOlderThanTheWindowAreForgotten) {
  DiskErrorWindow window(2, kWindowMs);
  EXPECT_FALSE(window.Record(EIO, 1'000));
  EXPECT_FALSE(window.Record(EIO, 1'000 + kWindowMs));
  EXPECT_FALSE(window.Record(EIO, 1'000 + 3 * kWindowMs));
  EXPECT_TRUE(window.Record(EIO, 1'000 + 3 * kWindowMs + 5));
}

TEST(DiskErrorWindowTest, ReadOnlyOrVanishedDeviceTakesTheDirectoryOutAtOnce) {
  for (int error : {EROFS, ENODEV, ENXIO}) {
    DiskErrorWindow window(5, kWindowMs);
    EXPECT_TRUE(window.Record(error, 0)) << error;
  }
}

TEST(DiskErrorWindowTest, LimitOneTakesItOutAtTheFirstError) {
  DiskErrorWindow window(1, kWindowMs);
  EXPECT_TRUE(window.Record(EIO, 0));
}

}  // namespace
}  // namespace hafs
