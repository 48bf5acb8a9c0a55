#include "master/lock_table.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace hafs::master {
namespace {

constexpr uint64_t kMountA = 100;  // two mounts' sessions
constexpr uint64_t kMountB = 200;
constexpr int64_t kSessionTimeoutMs = 3000;

wire::LockRequest Lock(uint64_t inode, uint64_t owner, uint64_t start, uint64_t end, wire::LockType type,
                       uint64_t wait_id = 0) {
  wire::LockRequest request;
  request.set_inode(inode);
  request.set_owner(owner);
  request.set_op(wire::LOCK_OP_SET);
  request.mutable_range()->set_start(start);
  request.mutable_range()->set_end(end);
  request.mutable_range()->set_type(type);
  request.mutable_range()->set_pid(4242);
  request.set_wait_id(wait_id);
  return request;
}

wire::LockRequest Flock(uint64_t inode, uint64_t owner, wire::LockType type) {
  wire::LockRequest request = Lock(inode, owner, 0, 0, type);
  request.set_kind(wire::LOCK_KIND_FLOCK);
  return request;
}

wire::LockRequest WithOp(wire::LockRequest request, wire::LockOp op) {
  request.set_op(op);
  return request;
}

class LockTableTest : public ::testing::Test {
 protected:
  LockTableTest() {
    wire::MknodRequest mknod;
    mknod.set_parent(kRootInode);
    mknod.set_name("f");
    mknod.set_mode(S_IFREG | 0600);
    file_ = tree_.Mknod(mknod, 0)->inode();
    mknod.set_name("g");
    other_file_ = tree_.Mknod(mknod, 0)->inode();
  }

  wire::Reply Call(uint64_t session, const wire::LockRequest& request) {
    return table_.Handle(session, true, request, tree_, now_ms_);
  }
  // Granted: no error, no conflict.
  bool Granted(uint64_t session, const wire::LockRequest& request) {
    wire::Reply reply = Call(session, request);
    EXPECT_EQ(reply.error(), 0) << reply.error_message();
    return reply.error() == 0 && !reply.has_lock_conflict();
  }

  Namespace tree_;
  uint64_t file_ = 0;
  uint64_t other_file_ = 0;
  int64_t now_ms_ = 10'000;
  LockTable table_{kSessionTimeoutMs};
};

TEST_F(LockTableTest, AWriteLockKeepsOtherOwnersOutUntilItIsUnlocked) {
  ASSERT_TRUE(Granted(kMountA, Lock(file_, 1, 0, 99, wire::LOCK_TYPE_WRITE)));
  wire::Reply refused = Call(kMountB, Lock(file_, 1, 50, 50, wire::LOCK_TYPE_READ));
  ASSERT_TRUE(refused.has_lock_conflict()) << "same lock_owner, other mount: another owner";
  EXPECT_EQ(refused.lock_conflict().start(), 0u);
  EXPECT_EQ(refused.lock_conflict().end(), 99u);
  EXPECT_EQ(refused.lock_conflict().type(), wire::LOCK_TYPE_WRITE);
  EXPECT_EQ(refused.lock_conflict().pid(), 0u) << "a pid of another host means nothing";
  wire::Reply tested = Call(kMountA, WithOp(Lock(file_, 2, 0, kLockEnd, wire::LOCK_TYPE_READ), wire::LOCK_OP_TEST));
  EXPECT_EQ(tested.lock_conflict().pid(), 4242u) << "its own mount learns the pid";
  EXPECT_FALSE(
      Call(kMountA, WithOp(Lock(file_, 1, 0, 9, wire::LOCK_TYPE_WRITE), wire::LOCK_OP_TEST)).has_lock_conflict())
      << "an owner never conflicts with itself";
  EXPECT_TRUE(Granted(kMountB, Lock(file_, 1, 100, 200, wire::LOCK_TYPE_WRITE))) << "beside it";
  EXPECT_TRUE(Granted(kMountB, Lock(other_file_, 1, 0, 99, wire::LOCK_TYPE_WRITE))) << "another file";

  wire::Reply unlocked = Call(kMountA, Lock(file_, 1, 0, 99, wire::LOCK_TYPE_UNLOCK));
  EXPECT_EQ(unlocked.locks_held_size(), 0);
  EXPECT_TRUE(Granted(kMountB, Lock(file_, 1, 50, 50, wire::LOCK_TYPE_READ)));
  EXPECT_EQ(table_.size(), 3u);
}

TEST_F(LockTableTest, ReadLocksShareAndAnUpgradeWaitsForTheOtherReaders) {
  ASSERT_TRUE(Granted(kMountA, Lock(file_, 1, 0, kLockEnd, wire::LOCK_TYPE_READ)));
  ASSERT_TRUE(Granted(kMountB, Lock(file_, 2, 0, kLockEnd, wire::LOCK_TYPE_READ)));
  EXPECT_TRUE(Call(kMountA, Lock(file_, 1, 0, kLockEnd, wire::LOCK_TYPE_WRITE)).has_lock_conflict());
  wire::Reply held = Call(kMountB, Lock(file_, 2, 10, 19, wire::LOCK_TYPE_UNLOCK));
  ASSERT_EQ(held.locks_held_size(), 2) << "split around the unlocked range";
  EXPECT_EQ(held.locks_held(0).end(), 9u);
  EXPECT_EQ(held.locks_held(1).start(), 20u);
  wire::Reply upgraded = Call(kMountA, Lock(file_, 1, 10, 19, wire::LOCK_TYPE_WRITE));
  ASSERT_EQ(upgraded.locks_held_size(), 3);
  EXPECT_EQ(upgraded.locks_held(1).type(), wire::LOCK_TYPE_WRITE);
  EXPECT_TRUE(Granted(kMountA, Lock(file_, 1, 10, 19, wire::LOCK_TYPE_READ))) << "a downgrade";
  EXPECT_EQ(Call(kMountA, Lock(file_, 1, 0, 0, wire::LOCK_TYPE_READ)).locks_held_size(), 1) << "merged back";
}

TEST_F(LockTableTest, FlockLocksCoverTheWholeFileAndNeverMeetPosixLocks) {
  ASSERT_TRUE(Granted(kMountA, Flock(file_, 7, wire::LOCK_TYPE_WRITE)));
  EXPECT_TRUE(Call(kMountB, Flock(file_, 8, wire::LOCK_TYPE_READ)).has_lock_conflict());
  EXPECT_TRUE(Granted(kMountB, Lock(file_, 8, 0, kLockEnd, wire::LOCK_TYPE_WRITE))) << "as on Linux";
  ASSERT_TRUE(Granted(kMountA, Flock(file_, 7, wire::LOCK_TYPE_READ))) << "a downgrade";
  EXPECT_TRUE(Granted(kMountB, Flock(file_, 8, wire::LOCK_TYPE_READ)));
}

TEST_F(LockTableTest, ACycleOfPosixOwnersWaitingIsADeadlockForTheOwnerClosingIt) {
  ASSERT_TRUE(Granted(kMountA, Lock(file_, 1, 0, 0, wire::LOCK_TYPE_WRITE)));
  ASSERT_TRUE(Granted(kMountB, Lock(file_, 2, 1, 1, wire::LOCK_TYPE_WRITE)));
  ASSERT_TRUE(Granted(kMountB, Lock(other_file_, 3, 0, 0, wire::LOCK_TYPE_WRITE)));
  // A waits for B's byte 1; B's owner 3 waits for A's byte 0 through a third owner: fine.
  ASSERT_TRUE(Call(kMountA, Lock(file_, 1, 1, 1, wire::LOCK_TYPE_WRITE, /*wait_id=*/11)).has_lock_conflict());
  EXPECT_EQ(table_.waiters(), 1u);
  ASSERT_TRUE(Call(kMountB, Lock(file_, 3, 0, 0, wire::LOCK_TYPE_WRITE, 12)).has_lock_conflict());
  // B's owner 2 now asks for byte 0: A waits for 2, 2 would wait for A.
  wire::Reply closing = Call(kMountB, Lock(file_, 2, 0, 0, wire::LOCK_TYPE_WRITE, 13));
  EXPECT_EQ(closing.error(), EDEADLK);
  EXPECT_EQ(table_.waiters(), 2u) << "the refused request waits no more";
  // A non-blocking try is only refused, and the waiter that came first keeps waiting.
  EXPECT_TRUE(Call(kMountB, Lock(file_, 2, 0, 0, wire::LOCK_TYPE_WRITE)).has_lock_conflict());
  EXPECT_TRUE(Call(kMountA, Lock(file_, 1, 1, 1, wire::LOCK_TYPE_WRITE, 11)).has_lock_conflict());

  // A waiter that stopped trying is forgotten: no cycle through it.
  now_ms_ += LockTable::kWaiterLifetimeMs + 1;
  EXPECT_TRUE(Call(kMountB, Lock(file_, 2, 0, 0, wire::LOCK_TYPE_WRITE, 14)).has_lock_conflict());
  EXPECT_EQ(table_.waiters(), 1u);
}

TEST_F(LockTableTest, FlockWaitersAreNoDeadlock) {
  ASSERT_TRUE(Granted(kMountA, Flock(file_, 1, wire::LOCK_TYPE_WRITE)));
  ASSERT_TRUE(Granted(kMountB, Flock(other_file_, 2, wire::LOCK_TYPE_WRITE)));
  ASSERT_TRUE(Call(kMountA, Flock(other_file_, 1, wire::LOCK_TYPE_WRITE)).has_lock_conflict());
  wire::LockRequest request = Flock(file_, 2, wire::LOCK_TYPE_WRITE);
  request.set_wait_id(5);
  EXPECT_EQ(Call(kMountB, request).error(), 0) << "flock(2) has no EDEADLK";
}

TEST_F(LockTableTest, AnEndedSessionReleasesItsLocksAndWaiters) {
  ASSERT_TRUE(Granted(kMountA, Lock(file_, 1, 0, 9, wire::LOCK_TYPE_WRITE)));
  ASSERT_TRUE(Granted(kMountA, Lock(file_, 1, 20, 29, wire::LOCK_TYPE_WRITE)));
  ASSERT_TRUE(Granted(kMountA, Flock(other_file_, 1, wire::LOCK_TYPE_WRITE)));
  ASSERT_TRUE(Granted(kMountB, Lock(other_file_, 2, 0, 0, wire::LOCK_TYPE_WRITE)));
  ASSERT_TRUE(Call(kMountA, Lock(other_file_, 1, 0, 0, wire::LOCK_TYPE_READ, 3)).has_lock_conflict());
  EXPECT_TRUE(Call(kMountB, Lock(file_, 2, 0, kLockEnd, wire::LOCK_TYPE_WRITE)).has_lock_conflict());
  table_.ReleaseSession(kMountA);
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.waiters(), 0u);
  EXPECT_TRUE(Granted(kMountB, Lock(file_, 2, 0, kLockEnd, wire::LOCK_TYPE_WRITE)));
  EXPECT_TRUE(Granted(kMountB, Flock(other_file_, 2, wire::LOCK_TYPE_WRITE)));
}

TEST_F(LockTableTest, ReleaseDropsOneOwnersLocksOnOneFileOfOneKind) {
  ASSERT_TRUE(Granted(kMountA, Lock(file_, 1, 0, 9, wire::LOCK_TYPE_WRITE)));
  ASSERT_TRUE(Granted(kMountA, Lock(file_, 1, 20, 29, wire::LOCK_TYPE_READ)));
  ASSERT_TRUE(Granted(kMountA, Lock(file_, 2, 40, 49, wire::LOCK_TYPE_WRITE)));
  ASSERT_TRUE(Granted(kMountA, Flock(file_, 1, wire::LOCK_TYPE_WRITE)));
  EXPECT_EQ(Call(kMountA, WithOp(Lock(file_, 1, 0, 0, wire::LOCK_TYPE_UNLOCK), wire::LOCK_OP_RELEASE)).error(), 0);
  EXPECT_EQ(table_.size(), 2u) << "owner 2's lock and the flock lock stay";
}

TEST_F(LockTableTest, LocksAndWaitersPerSessionAreBounded) {
  LockTable small(kSessionTimeoutMs, {.locks_per_session = 3, .waiters_per_session = 1, .locks = 5});
  auto call = [&](uint64_t session, const wire::LockRequest& request) {
    return small.Handle(session, true, request, tree_, now_ms_);
  };
  for (uint64_t byte : {0, 2, 4})
    ASSERT_EQ(call(kMountA, Lock(file_, 1, byte, byte, wire::LOCK_TYPE_WRITE)).error(), 0);
  EXPECT_EQ(call(kMountA, Lock(file_, 1, 6, 6, wire::LOCK_TYPE_WRITE)).error(), ENOLCK);
  EXPECT_EQ(call(kMountA, Lock(file_, 1, 1, 1, wire::LOCK_TYPE_WRITE)).error(), 0) << "merges: no more locks";
  EXPECT_EQ(call(kMountA, Lock(file_, 1, 6, 6, wire::LOCK_TYPE_WRITE)).error(), 0);
  EXPECT_EQ(call(kMountA, Lock(file_, 1, 1, 1, wire::LOCK_TYPE_UNLOCK)).error(), ENOLCK) << "an unlock that splits";
  ASSERT_EQ(call(kMountB, Lock(file_, 2, 100, 100, wire::LOCK_TYPE_WRITE)).error(), 0);
  ASSERT_EQ(call(kMountB, Lock(file_, 2, 102, 102, wire::LOCK_TYPE_WRITE)).error(), 0);
  EXPECT_EQ(call(kMountB, Lock(file_, 2, 104, 104, wire::LOCK_TYPE_WRITE)).error(), ENOLCK) << "5 in all";
  EXPECT_EQ(small.size(), 5u);

  EXPECT_EQ(call(kMountB, Lock(file_, 2, 0, 0, wire::LOCK_TYPE_WRITE, 1)).error(), 0);
  EXPECT_EQ(call(kMountB, Lock(file_, 2, 0, 0, wire::LOCK_TYPE_WRITE, 1)).error(), 0) << "the same waiter again";
  EXPECT_EQ(call(kMountB, Lock(file_, 3, 1, 1, wire::LOCK_TYPE_WRITE, 2)).error(), ENOLCK);
  EXPECT_EQ(call(kMountB, WithOp(Lock(file_, 2, 0, 0, wire::LOCK_TYPE_WRITE, 1), wire::LOCK_OP_CANCEL_WAIT)).error(),
            0);
  EXPECT_EQ(call(kMountB, Lock(file_, 3, 1, 1, wire::LOCK_TYPE_WRITE, 2)).error(), 0);
  EXPECT_EQ(small.waiters(), 1u);
}

TEST_F(LockTableTest, HostileRequestsAreRefused) {
  EXPECT_EQ(Call(kMountA, Lock(file_, 1, 10, 9, wire::LOCK_TYPE_WRITE)).error(), EINVAL);
  EXPECT_EQ(Call(kMountA, Lock(file_, 1, 0, kLockEnd + 1, wire::LOCK_TYPE_WRITE)).error(), EINVAL);
  EXPECT_EQ(Call(kMountA, Lock(file_, 1, UINT64_MAX, UINT64_MAX, wire::LOCK_TYPE_READ)).error(), EINVAL);
  EXPECT_EQ(Call(kMountA, Lock(file_, 1, 0, 1, static_cast<wire::LockType>(77))).error(), EINVAL);
  wire::LockRequest request = Lock(file_, 1, 0, 1, wire::LOCK_TYPE_WRITE);
  request.set_kind(static_cast<wire::LockKind>(9));
  EXPECT_EQ(Call(kMountA, request).error(), EINVAL);
  EXPECT_EQ(Call(kMountA, WithOp(Lock(file_, 1, 0, 1, wire::LOCK_TYPE_WRITE), static_cast<wire::LockOp>(99))).error(),
            EINVAL);
  EXPECT_EQ(Call(kMountA, Lock(999, 1, 0, 1, wire::LOCK_TYPE_WRITE)).error(), ENOENT);
  EXPECT_EQ(table_.Handle(kMountA, false, Lock(file_, 1, 0, 1, wire::LOCK_TYPE_WRITE), tree_, now_ms_).error(), EAGAIN)
      << "no session (or another key's): nothing to end the lock with";
  wire::LockRequest nobody = Lock(file_, 1, 0, 1, wire::LOCK_TYPE_READ);
  nobody.mutable_credentials()->set_uid(65534);
  EXPECT_EQ(Call(kMountA, nobody).error(), EACCES) << "a 0600 file of root";
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(LockTableTest, ANewActiveTakesOnlyReassertionsInItsGracePeriod) {
  table_.StartServing(/*epoch=*/1, now_ms_);
  EXPECT_TRUE(Granted(kMountA, Lock(file_, 1, 0, 9, wire::LOCK_TYPE_WRITE))) << "the first active: no grace";

  table_.StartServing(/*epoch=*/2, now_ms_);
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(Call(kMountB, Lock(file_, 2, 0, 9, wire::LOCK_TYPE_WRITE)).error(), EAGAIN) << "not before A re-asserts";
  wire::LockRequest reassert = WithOp(Lock(file_, 1, 0, 0, wire::LOCK_TYPE_UNLOCK), wire::LOCK_OP_REASSERT);
  wire::LockRange* held = reassert.add_held();
  held->set_start(0);
  held->set_end(9);
  held->set_type(wire::LOCK_TYPE_WRITE);
  EXPECT_EQ(Call(kMountA, reassert).locks_held_size(), 1);
  reassert.set_owner(3);
  EXPECT_EQ(Call(kMountB, reassert).error(), ENOLCK) << "conflicts with the lock A re-asserted";
  wire::LockRequest hostile = reassert;
  hostile.mutable_held(0)->set_end(UINT64_MAX);
  EXPECT_EQ(Call(kMountB, hostile).error(), EINVAL);

  now_ms_ += kSessionTimeoutMs / 3 + LockTable::kGraceMarginMs;
  EXPECT_TRUE(Call(kMountB, Lock(file_, 2, 0, 9, wire::LOCK_TYPE_WRITE)).has_lock_conflict());
  reassert.set_owner(4);
  reassert.mutable_held(0)->set_start(50);
  reassert.mutable_held(0)->set_end(59);
  EXPECT_EQ(Call(kMountB, reassert).error(), ENOLCK) << "too late: another mount may have had it meanwhile";
  table_.Clear();
  EXPECT_TRUE(Granted(kMountB, Lock(file_, 2, 0, 9, wire::LOCK_TYPE_WRITE)));
}

}  // namespace
}  // namespace hafs::master
