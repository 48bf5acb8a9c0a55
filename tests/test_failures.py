"""Faults the design claims to survive, each caused for real: a chunkserver killed or hung in
the middle of a read or a write, a replica corrupted on disk, the master killed and restarted."""

import hashlib
import os
import stat
import threading
import time

from conftest import wait_until
from test_data import MiB, sha256_of, write_random

BIG = 256 * MiB


class TimedReader(threading.Thread):
    """Reads a file in 1 MiB pieces, recording the longest time one read() took."""

    def __init__(self, path):
        super().__init__()
        self.path = path
        self.longest_stall_s = 0.0
        self.bytes_read = 0
        self.digest = None
        self.error = None

    def run(self):
        try:
            digest = hashlib.sha256()
            with open(self.path, "rb", buffering=0) as handle:
                while True:
                    started = time.monotonic()
                    block = handle.read(MiB)
                    self.longest_stall_s = max(self.longest_stall_s, time.monotonic() - started)
                    if not block:
                        break
                    digest.update(block)
                    self.bytes_read += len(block)
            self.digest = digest.hexdigest()
        except Exception as error:
            self.error = error


def drop_caches():
    with open("/proc/sys/vm/drop_caches", "w") as handle:
        handle.write("3\n")


def read_with_fault(cluster, path, fault):
    """Starts a reader, applies `fault` once a quarter of the file is read, waits for the end."""
    drop_caches()
    reader = TimedReader(path)
    reader.start()
    wait_until(lambda: reader.bytes_read >= BIG // 4 or not reader.is_alive(), what="reader progress")
    fault()
    reader.join(timeout=120)
    assert not reader.is_alive(), "reader hung"
    assert reader.error is None, reader.error
    return reader


def test_kill_chunkserver_during_read(cluster):
    path = cluster.mnt / "big"
    digest = write_random(path, BIG, seed=1)
    reader = read_with_fault(cluster, path, lambda: cluster.kill("cs1"))
    assert reader.digest == digest


def test_hung_chunkserver_during_read_stalls_under_a_second(cluster):
    path = cluster.mnt / "big"
    digest = write_random(path, BIG, seed=2)
    try:
        reader = read_with_fault(cluster, path, lambda: cluster.pause("cs2"))
    finally:
        cluster.resume("cs2")
    assert reader.digest == digest
    assert reader.longest_stall_s < 1.0, f"longest stall {reader.longest_stall_s:.2f}s"


def test_hung_chunkserver_during_fsynced_write(cluster):
    path = cluster.mnt / "written-through-a-hang"
    result = {}

    def writer():
        try:
            result["digest"] = write_random(path, BIG, seed=3)
        except Exception as error:
            result["error"] = error

    thread = threading.Thread(target=writer)
    thread.start()
    wait_until(lambda: path.exists() and path.stat().st_size >= BIG // 4 or not thread.is_alive(),
               what="writer progress")
    cluster.pause("cs3")
    try:
        thread.join(timeout=180)
        assert not thread.is_alive(), "writer hung"
    finally:
        cluster.resume("cs3")
    assert "error" not in result, result.get("error")
    drop_caches()
    assert sha256_of(path) == result["digest"]
    # The chunks written after the hang live on (at least) the two remaining chunkservers.
    info = cluster.hafs_json("fileinfo", str(path))
    for chunk in info["chunks"]:
        assert sum(r["state"] == "valid" for r in chunk["replicas"]) >= 2


def test_corrupted_replica_is_never_returned_and_is_reported(cluster):
    path = cluster.mnt / "to-corrupt"
    digest = write_random(path, 8 * MiB, seed=4)
    files = cluster.chunk_files("cs1")
    assert files, "cs1 stores no chunk files"
    for chunk_file in files:
        size = chunk_file.stat().st_size
        with open(chunk_file, "r+b") as handle:  # flip bytes in the data region, keep headers intact
            for offset in range(size - 8 * MiB + 1000, size, 1 * MiB):
                handle.seek(offset)
                old = handle.read(16)
                handle.seek(offset)
                handle.write(bytes(b ^ 0xFF for b in old))
    # Read many times so that every replica, cs1's included, is asked at least once.
    for _ in range(6):
        drop_caches()
        assert sha256_of(path) == digest

    # cs1 reports its bad replica; self-healing drops it and copies a good one back
    # (cs1 is the only chunkserver without a replica then), so the end state is three
    # valid replicas again, all of which read back right.
    wait_until(lambda: "reporting it lost" in cluster.log("cs1"), what="cs1 to report its corrupt replica")
    wait_until(lambda: "copied chunk" in cluster.log("master1") + cluster.log("master2"),
               what="a good copy to replace the corrupt replica")

    def healthy_again():
        chunks = cluster.hafs_json("fileinfo", str(path))["chunks"]
        return all(sum(r["state"] == "valid" for r in c["replicas"]) == 3 for c in chunks)

    wait_until(healthy_again, what="three valid replicas again")
    for _ in range(6):
        drop_caches()
        assert sha256_of(path) == digest


def snapshot(root):
    """Every path under root with its type, mode, owner, size, mtime, link target and content hash."""
    entries = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            entry = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_size,
                     st.st_mtime_ns, st.st_nlink)
            if stat.S_ISLNK(st.st_mode):
                entry += (os.readlink(path),)
            elif stat.S_ISREG(st.st_mode):
                entry += (sha256_of(path),)
            entries[os.path.relpath(path, root)] = entry
    return entries


def test_master_kill_and_restart_keeps_everything(cluster):
    mnt = cluster.mnt
    (mnt / "dir" / "sub").mkdir(parents=True)
    write_random(mnt / "dir" / "data", 70 * MiB, seed=5)
    (mnt / "dir" / "small").write_bytes(b"small file")
    os.chmod(mnt / "dir" / "small", 0o604)
    os.chown(mnt / "dir" / "small", 1000, 2000)
    os.utime(mnt / "dir" / "small", ns=(1_500_000_000_000_000_000, 1_600_000_000_000_000_000))
    os.symlink("data", mnt / "dir" / "link")
    os.link(mnt / "dir" / "data", mnt / "dir" / "hardlink")
    os.rename(mnt / "dir" / "sub", mnt / "renamed")
    os.mkfifo(mnt / "fifo")
    for i in range(300):
        (mnt / "renamed" / f"f{i}").write_bytes(str(i).encode())
    before = snapshot(mnt)

    cluster.kill("master1")
    cluster.start("master1")
    wait_until(lambda: cluster.hafs_json("status")["chunkservers"]["up"] == 3, what="chunkservers to re-register")
    drop_caches()
    assert snapshot(mnt) == before
