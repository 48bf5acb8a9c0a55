"""Cluster-wide file locks (issue 13, docs/design.md "Locks"): flock(2), POSIX fcntl locks and
OFD locks taken on one mount hold on the other, blocking waits wake when the lock goes (by
unlock, close, or the holder's mount being killed), EDEADLK and EINTR are as on Linux, and a
lock survives a master takeover.

Locks are taken by agent processes (python3 reading commands on stdin), one per lock owner,
each killed by pid at the end of its test; both mounts are of one cluster shared by the module."""

import errno
import os
import select
import signal
import struct
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import wait_until
from test_bad_input import reply_of

# Runs commands from stdin, one per line, and answers each on stdout:
#   open PATH r|w|rw       close
#   lk CMD r|w|u START LEN  (CMD: setlk, setlkw, getlk, ofdsetlk, ofdsetlkw, ofdgetlk)
#   flock sh|ex|un[nb]
# Answers: "ok", "err NAME" (errno), "lock r|w START LEN PID" / "unlocked" (getlk), and
# "interrupted" when SIGUSR1 ended a blocking call.
AGENT = r"""
import errno, fcntl, os, signal, struct, sys
class Interrupted(Exception): pass
def interrupt(signum, frame): raise Interrupted()
signal.signal(signal.SIGUSR1, interrupt)
FLOCK = "@hhqqixxxx"  # struct flock on 64-bit Linux
CMDS = {"setlk": fcntl.F_SETLK, "setlkw": fcntl.F_SETLKW, "getlk": fcntl.F_GETLK,
        "ofdgetlk": 36, "ofdsetlk": 37, "ofdsetlkw": 38}
TYPES = {"r": fcntl.F_RDLCK, "w": fcntl.F_WRLCK, "u": fcntl.F_UNLCK}
NAMES = {fcntl.F_RDLCK: "r", fcntl.F_WRLCK: "w"}
FLOCKS = {"sh": fcntl.LOCK_SH, "ex": fcntl.LOCK_EX, "un": fcntl.LOCK_UN}
fd = None
def run(words):
    global fd
    if words[0] == "open":
        fd = os.open(words[1], {"r": os.O_RDONLY, "w": os.O_WRONLY, "rw": os.O_RDWR}[words[2]])
        return "ok"
    if words[0] == "close":
        os.close(fd)
        return "ok"
    if words[0] == "lk":
        arg = struct.pack(FLOCK, TYPES[words[2]], os.SEEK_SET, int(words[3]), int(words[4]), 0)
        out = fcntl.fcntl(fd, CMDS[words[1]], arg)
        if "getlk" not in words[1]:
            return "ok"
        kind, _, start, length, pid = struct.unpack(FLOCK, out)
        return "unlocked" if kind == fcntl.F_UNLCK else f"lock {NAMES[kind]} {start} {length} {pid}"
    if words[0] == "flock":
        op = FLOCKS[words[1][:2]] | (fcntl.LOCK_NB if words[1].endswith("nb") else 0)
        fcntl.flock(fd, op)
        return "ok"
    return "unknown command"
for line in sys.stdin:
    try:
        answer = run(line.split())
    except Interrupted:
        answer = "interrupted"
    except OSError as error:
        answer = "err " + errno.errorcode[error.errno]
    print(answer, flush=True)
"""


class Agent:
    """One process holding one file open: one POSIX lock owner, one open file description."""

    def __init__(self, **popen):
        self.process = subprocess.Popen(["python3", "-c", AGENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1, **popen)
        self.pid = self.process.pid

    def send(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def answered(self) -> bool:
        return bool(select.select([self.process.stdout], [], [], 0)[0])

    def answer(self, timeout_s=15.0) -> str:
        if not select.select([self.process.stdout], [], [], timeout_s)[0]:
            raise AssertionError(f"agent {self.pid} did not answer within {timeout_s}s")
        return self.process.stdout.readline().strip()

    def do(self, command, timeout_s=15.0) -> str:
        self.send(command)
        return self.answer(timeout_s)

    def blocked(self) -> bool:
        """Waiting in the kernel for the mount's answer to a lock request."""
        with open(f"/proc/{self.pid}/wchan") as wchan:
            where = wchan.read()
        return "fuse" in where or "request_wait_answer" in where

    def kill(self):
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def agents():
    """Starts agents; every one is killed by pid when the test ends, however it ends."""
    started = []

    def start(**popen):
        started.append(Agent(**popen))
        return started[-1]

    yield start
    for agent in started:
        agent.kill()


def new_file(two, name, mode=0o644) -> tuple[str, str]:
    """The file's path on mount 1 and on mount 2."""
    path = two.mnt / name
    path.write_bytes(b"x" * 100)
    path.chmod(mode)
    return str(path), str(two.root / "mnt2" / name)


def opened_on_each_mount(two, agents, name) -> tuple[Agent, Agent]:
    """A new file, and an agent with it open for reading and writing on each mount."""
    on_one, on_two = new_file(two, name)
    first, second = agents(), agents()
    assert first.do(f"open {on_one} rw") == "ok" and second.do(f"open {on_two} rw") == "ok"
    return first, second


def wait_blocked(agent):
    wait_until(agent.blocked, timeout_s=10, what=f"agent {agent.pid} to block in a lock request")
    assert not agent.answered()


def lock_waiters(cluster) -> float:
    """hafs_lock_waiters of the active master (published every half second)."""
    address = (cluster.root / cluster.wait_active() / "metrics").read_text().strip()
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith("hafs_lock_waiters "):
                return float(line.split()[1])
    return 0.0


def test_a_lock_held_on_one_mount_keeps_the_other_mount_out_until_released(two, agents):
    holder, other = opened_on_each_mount(two, agents, "held")
    assert holder.do("lk setlk w 10 20") == "ok"
    assert holder.do("flock ex") == "ok", "flock and POSIX locks are apart, as on Linux"

    assert other.do("lk setlk w 0 0") == "err EAGAIN"
    assert other.do("lk setlk r 29 1") == "err EAGAIN"
    assert other.do("lk setlk w 30 0") == "ok", "past the held range"
    assert other.do("lk getlk r 0 0") == "lock w 10 20 0", "the holder; its pid means nothing on this host"
    assert other.do("lk ofdsetlk r 15 1") == "err EAGAIN", "OFD locks meet POSIX locks"
    assert other.do("lk ofdgetlk w 0 0") == "lock w 10 20 -1", "F_OFD_GETLK's pid is always -1 on Linux"
    assert other.do("flock exnb") == "err EAGAIN"  # EWOULDBLOCK

    assert holder.do("lk setlk u 10 10") == "ok"  # keeps bytes 20-29
    assert other.do("lk setlk w 10 10") == "ok"
    assert other.do("lk getlk w 20 1") == "lock w 20 10 0"
    assert holder.do("lk getlk w 30 1") == "lock w 30 0 0"
    neighbour = agents()  # another process of the holding mount learns the holder's pid
    assert neighbour.do(f"open {two.root / 'mnt2' / 'held'} r") == "ok"
    assert neighbour.do("lk getlk w 30 1") == f"lock w 30 0 {other.pid}"

    assert holder.do("close") == "ok"
    assert other.do("lk setlk w 0 0") == "ok", "any close ends the process's POSIX locks (FUSE's flush)"
    # The last close of the description ends its flock lock, when the kernel's release (sent
    # after close returns) arrives.
    wait_until(lambda: other.do("flock exnb") == "ok", timeout_s=5, what="the flock lock to end with the close")


def test_a_blocked_wait_wakes_when_the_lock_is_released(two, agents):
    holder, waiter = opened_on_each_mount(two, agents, "waited")
    assert holder.do("lk setlk w 0 0") == "ok"
    waiter.send("lk setlkw w 0 1")
    wait_blocked(waiter)
    released = time.monotonic()
    assert holder.do("lk setlk u 0 0") == "ok"
    assert waiter.answer() == "ok"
    assert time.monotonic() - released < 1.0, "a waiter notices a release within ~100 ms"

    assert waiter.do("flock ex") == "ok"
    assert holder.do("flock exnb") == "err EAGAIN"
    holder.send("flock ex")
    wait_blocked(holder)
    assert waiter.do("close") == "ok"  # the last close of the description ends its flock lock
    assert holder.answer() == "ok"


def test_a_cycle_of_waiting_owners_across_mounts_is_edeadlk_and_a_signal_interrupts_a_wait(two, agents):
    first, second = opened_on_each_mount(two, agents, "cycle")
    assert first.do("lk setlk w 0 1") == "ok" and second.do("lk setlk w 1 1") == "ok"
    first.send("lk setlkw w 1 1")
    wait_blocked(first)
    # The master must know the first waiter, or the second would be the first to wait.
    wait_until(lambda: lock_waiters(two) >= 1, timeout_s=10, what="the master to know the waiter")
    assert second.do("lk setlkw w 0 1") == "err " + errno.errorcode[errno.EDEADLK]
    assert not first.answered(), "the owner that came first keeps waiting"

    os.kill(first.pid, signal.SIGUSR1)
    assert first.answer() == "interrupted"
    assert second.do("lk setlk u 1 1") == "ok"
    assert first.do("lk getlk w 0 2") == "unlocked"
    assert first.do("lk setlk w 1 1") == "ok"


def test_a_non_root_user_locks_only_what_it_may_open_as_it_opened_it(two, agents):
    secret, _ = new_file(two, "secret", mode=0o600)
    public, _ = new_file(two, "public", mode=0o644)
    nobody = agents(user=65534, group=65534, extra_groups=[])
    assert nobody.do(f"open {secret} r") == "err EACCES"
    assert nobody.do(f"open {public} r") == "ok"
    assert nobody.do("lk setlk w 0 0") == "err EBADF", "a write lock needs a descriptor open for writing"
    assert nobody.do("lk setlk r 0 0") == "ok"
    assert nobody.do("flock ex") == "ok"


def test_hostile_lock_requests_are_refused(two, wire):
    active = two.wait_active()

    def answer(client_id, start, end, held=0):
        request = wire.Envelope(request_id=1, client_id=client_id)
        request.lock.inode = 1
        request.lock.range.start, request.lock.range.end, request.lock.range.type = start, end, wire.LOCK_TYPE_WRITE
        if held:
            request.lock.op = wire.LOCK_OP_REASSERT
            request.lock.held.extend([request.lock.range] * held)
        return reply_of(wire, two.call(active, request.SerializeToString())).error

    assert answer(0, 0, 1) == errno.EINVAL, "no session to hold it"
    assert answer(12345, 5, 4) == errno.EINVAL
    assert answer(12345, 0, 2**64 - 1) == errno.EINVAL, "past the largest offset"
    assert answer(12345, 0, 1, held=100_000) == errno.ENOLCK, "more than a session may hold"
    assert answer(12345, 0, 1) == errno.EAGAIN, "a session the master does not know (yet)"
    assert two.active_master() == active


def test_a_killed_mounts_locks_end_with_its_session(two, agents):
    holder, waiter = opened_on_each_mount(two, agents, "killed")
    assert holder.do("lk setlk w 0 0") == "ok"
    waiter.send("lk setlkw r 0 0")
    wait_blocked(waiter)
    try:
        two.kill("mount")
        assert waiter.answer(timeout_s=15) == "ok", "granted once the killed mount's session timed out"
    finally:
        holder.kill()
        two.start("mount")


def test_a_lock_survives_a_master_takeover(two, agents):
    holder, other = opened_on_each_mount(two, agents, "takeover")
    assert holder.do("lk setlk w 0 0") == "ok"
    active = two.wait_active()
    two.kill(active)
    two.wait_active(not_name=active)
    assert other.do("lk setlk w 0 0", timeout_s=30) == "err EAGAIN", "re-asserted at the new active"
    assert other.do("lk getlk w 0 0") == "lock w 0 0 0"
    assert holder.do("lk setlk u 0 0") == "ok"
    assert other.do("lk setlk w 0 0") == "ok"
    two.start(active)


# Commits `count` rows, one transaction each, into the database at argv[1] as `tag`; prints
# each row's number once its commit returned.
SQLITE_WRITER = r"""
import sqlite3, sys
path, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = sqlite3.connect(path, timeout=60, isolation_level=None)
for i in range(count):
    db.execute("BEGIN IMMEDIATE")
    total = db.execute("SELECT count(*) FROM t").fetchone()[0]
    db.execute("INSERT INTO t (mount, i, seen, payload) VALUES (?, ?, ?, randomblob(3000))", (tag, i, total))
    db.execute("COMMIT")
    print(i, flush=True)
"""


def test_sqlite_with_a_writer_on_each_mount_keeps_every_committed_row(two):
    """sqlite locks its database with fcntl and trusts what it reads under the lock: both hold
    only if locks are cluster-wide and a lock brings the other mount's writes with it."""
    mnt1, mnt2 = two.mnt, two.root / "mnt2"
    subprocess.run(["sqlite3", str(mnt1 / "shared.db"),
                    "CREATE TABLE t (mount TEXT, i INTEGER, seen INTEGER, payload BLOB)"], check=True, timeout=60)
    count = 30
    writers = [subprocess.Popen([sys.executable, "-c", SQLITE_WRITER, str(where / "shared.db"), tag, str(count)],
                                stdout=subprocess.PIPE, text=True) for where, tag in ((mnt1, "one"), (mnt2, "two"))]
    try:
        committed = [writer.communicate(timeout=300)[0].split() for writer in writers]
        assert [writer.returncode for writer in writers] == [0, 0]
    finally:
        for writer in writers:
            writer.kill()
    assert committed == [[str(i) for i in range(count)]] * 2
    for where in (mnt1, mnt2):
        check = subprocess.run(["sqlite3", str(where / "shared.db"), "PRAGMA integrity_check"],
                               capture_output=True, text=True, timeout=60)
        assert check.stdout.strip() == "ok", check.stdout + check.stderr
        rows = subprocess.run(["sqlite3", str(where / "shared.db"), "SELECT mount, i, seen FROM t ORDER BY rowid"],
                              capture_output=True, text=True, timeout=60, check=True).stdout.split()
        # Every transaction saw every row committed before it: "seen" counts up by one.
        assert [int(row.split("|")[2]) for row in rows] == list(range(2 * count))
        assert sorted(row.rsplit("|", 1)[0] for row in rows) == sorted(
            f"{tag}|{i}" for tag in ("one", "two") for i in range(count))
