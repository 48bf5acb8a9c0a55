"""Small writes held in the mount (mount/write_buffer.h, docs/design.md "Small writes"): they go
to the replicas once, merged, at the file's close, fsync, lock change or a read of them, so the
other mount sees them after any of those, and never before a close has put them on every
replica. Run on the shared two-mount cluster, as root and as nobody."""

import fcntl
import os
import random
import subprocess
import sys

from test_metrics import daemons, scrape, value


def chunk_writes(cluster):
    """WriteChunk requests every chunkserver has served (a chained write counts once per replica)."""
    return sum(value(scrape(daemon["metrics"]), "hafs_chunkserver_requests_total", op="write_chunk")
               for name, daemon in daemons(cluster).items() if name.startswith("cs") and daemon.get("metrics"))


def pieces(seed, count=300, size=100):
    """(offset, bytes) writes that cover [0, count * size) in a shuffled order, then overwrite
    some of it again; and the bytes the file must hold after them."""
    rng = random.Random(seed)
    writes = [(i * size, rng.randbytes(size)) for i in range(count)]
    rng.shuffle(writes)
    writes += [(rng.randrange(count * size - 50), rng.randbytes(50)) for _ in range(20)]
    expected = bytearray(count * size)
    for offset, data in writes:
        expected[offset:offset + len(data)] = data
    return writes, bytes(expected)


WRITER = r"""
import os, sys
path, writes = sys.argv[1], eval(sys.stdin.readline())
fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
for offset, data in writes:
    os.pwrite(fd, data, offset)
print("written", flush=True)
sys.stdin.readline()
os.close(fd)
print("closed", flush=True)
"""


def test_small_writes_by_another_user_go_out_once_at_close_and_the_other_mount_reads_them_then(two):
    cluster = two
    directory = cluster.mnt / "small-writes"
    directory.mkdir()
    os.chmod(directory, 0o777)
    path = directory / "pieces"
    writes, expected = pieces(seed=1)
    before = chunk_writes(cluster)
    writer = subprocess.Popen(["runuser", "-u", "nobody", "--", sys.executable, "-c", WRITER, str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        writer.stdin.write(repr(writes) + "\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "written"
        # 320 writes and not one has left the mount while the file is open.
        assert chunk_writes(cluster) == before
        writer.stdin.write("close\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "closed"
    finally:
        writer.stdin.close()
        writer.wait(timeout=60)
    assert writer.returncode == 0
    # One contiguous extent: one write down a chain of three replicas.
    assert chunk_writes(cluster) - before == 3
    other = cluster.root / "mnt2" / "small-writes" / "pieces"
    assert other.read_bytes() == expected
    assert os.stat(other).st_uid == os.stat(path).st_uid != 0


def test_a_read_of_held_bytes_finds_them_and_gaps_stay_zeros(two):
    cluster = two
    path = cluster.mnt / "held-read"
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        # Parts of pages, so the kernel's page cache cannot answer the read by itself.
        for i in range(10):
            os.pwrite(fd, bytes([65 + i]) * 100, 1000 + 300 * i)
        expected = bytearray(1000 + 300 * 9 + 100)
        for i in range(10):
            expected[1000 + 300 * i:1100 + 300 * i] = bytes([65 + i]) * 100
        assert os.pread(fd, 8192, 0) == bytes(expected)
    finally:
        os.close(fd)
    assert (cluster.root / "mnt2" / "held-read").read_bytes() == bytes(expected)


def test_an_unlock_puts_held_writes_where_the_next_lock_holder_on_the_other_mount_reads_them(two):
    """sqlite's way across hosts: write under a lock, unlock, and whoever locks next reads it,
    with no close and no fsync in between."""
    cluster = two
    path = cluster.mnt / "locked-pages"
    path.write_bytes(bytes(16384))
    writer = os.open(path, os.O_RDWR)
    reader = None
    try:
        fcntl.lockf(writer, fcntl.LOCK_EX)
        os.pwrite(writer, b"page one, changed", 0)
        os.pwrite(writer, b"page three, changed", 8192)
        os.pwrite(writer, b"and a new fifth page", 16384)
        fcntl.lockf(writer, fcntl.LOCK_UN)
        reader = os.open(cluster.root / "mnt2" / "locked-pages", os.O_RDONLY)
        fcntl.lockf(reader, fcntl.LOCK_SH)
        seen = os.pread(reader, 32768, 0)
        assert len(seen) == 16384 + 20
        assert seen[:17] == b"page one, changed" and seen[8192:8192 + 19] == b"page three, changed"
        assert seen[16384:] == b"and a new fifth page"
        fcntl.lockf(reader, fcntl.LOCK_UN)
    finally:
        os.close(writer)
        if reader is not None:
            os.close(reader)


def test_writes_through_o_sync_and_o_dsync_are_on_the_replicas_before_they_return(two):
    cluster = two
    for name, flags in (("sync", os.O_SYNC), ("dsync", os.O_DSYNC)):
        fd = os.open(cluster.mnt / f"written-through-{name}", os.O_CREAT | os.O_WRONLY | flags, 0o644)
        try:
            before = chunk_writes(cluster)
            os.write(fd, b"out at once")
            assert chunk_writes(cluster) > before, name
        finally:
            os.close(fd)
