"""A data directory whose disk fails (issue 4): the chunkserver takes it out of service and
reports its chunks lost, self-healing copies them elsewhere, the chunkserver keeps serving
its other data directory, and every file stays byte-exact.

The failure is real, from the kernel: each of cs1's two data directories is an ext4 file
system in an image file on a loop device, and the second one is shut down with the ext4
shutdown ioctl (EXT4_IOC_SHUTDOWN, what xfstests' "godown" uses to simulate a dead disk).
From then on every open, read, write and fsync on it fails with EIO, cached pages included.
The device-mapper `error` target would fail the device one layer lower, but these machines'
kernel has no device-mapper (CONFIG_MD is off and there are no modules to load). Without
loop devices, mkfs.ext4 or root the fixture fails with the reason: the test never passes
without having failed a disk."""

import fcntl
import os
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import make_cluster, wait_until
from test_data import MiB, sha256_of, write_random
from test_failures import drop_caches
from token_maker import READ, make_token, token_key

EXT4_IOC_SHUTDOWN = 0x8004587D  # _IOR('X', 125, __u32)
EXT4_GOING_FLAGS_NOLOGFLUSH = 2  # down at once, journal not flushed: a disk that vanished
DISK_BYTES = 1024 * MiB  # sparse: only what is written takes space


def run(*cmd):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout.strip()


class LoopDisk:
    """An ext4 file system in a sparse image on a loop device, mounted at `mount_point`."""

    def __init__(self, image: Path, mount_point: Path):
        self.image, self.mount_point, self.device, self.mounted = image, mount_point, None, False

    def create(self):
        with open(self.image, "wb") as handle:
            handle.truncate(DISK_BYTES)
        run("mkfs.ext4", "-q", "-F", str(self.image))
        self.device = run("losetup", "--find", "--show", str(self.image))
        self.mount_point.mkdir(parents=True, exist_ok=True)
        run("mount", "-t", "ext4", self.device, str(self.mount_point))
        self.mounted = True
        return self

    def fail(self):
        """From now on every I/O on this file system fails with EIO."""
        fd = os.open(self.mount_point, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, struct.pack("I", EXT4_GOING_FLAGS_NOLOGFLUSH))
        finally:
            os.close(fd)

    def remove(self):
        """Unmounts and detaches; safe to call after a failed or partial create."""
        if self.mounted and subprocess.run(["umount", str(self.mount_point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(self.mount_point)], capture_output=True)
        self.mounted = False
        if self.device:
            subprocess.run(["losetup", "--detach", self.device], capture_output=True)
            self.device = None


@pytest.fixture
def disk_cluster(request):
    """Three chunkservers; cs1 keeps chunks in two loop-mounted ext4 file systems of the
    same size (its own data/ first, then disk2/), so new chunks alternate between them."""
    cluster = make_cluster(request, chunkservers=3, start=False)
    home = cluster.root / "cs1"
    good = LoopDisk(cluster.root / "good.img", home / "data")
    bad = LoopDisk(cluster.root / "bad.img", home / "disk2")

    def teardown():  # runs before make_cluster's: the daemons must let go of the disks first
        cluster.down()
        bad.remove()
        good.remove()

    request.addfinalizer(teardown)
    good.create()
    bad.create()
    # A small reserve: these disks are small. Scrubbing as by default.
    cluster.env["HAFS_CS1_ARGS"] = f"--data-dir {bad.mount_point} --reserve-mb 16"
    cluster.up()
    return cluster, good, bad


def chunk_ids_in(directory: Path) -> set[int]:
    return {int(path.stem, 16) for path in directory.glob("??/*.chunk")}


def stored_version(directory: Path, chunk_id: int) -> int | None:
    """The version in the header of the chunk file in `directory` (docs/design.md: offset 24)."""
    path = directory / f"{chunk_id & 0xff:02x}" / f"{chunk_id:016x}.chunk"
    if not path.exists():
        return None
    with open(path, "rb") as handle:
        handle.seek(24)
        return struct.unpack("<Q", handle.read(8))[0]


def read_chunk(cluster, wire, name, chunk_id, version, length):
    request = wire.Envelope(request_id=1)
    request.read_chunk.chunk_id = chunk_id
    request.read_chunk.chunk_version = version
    request.read_chunk.length = length
    request.read_chunk.token.CopyFrom(make_token(wire, token_key(cluster), chunk_id, version, READ))
    frames = cluster.call(name, request.SerializeToString(), timeout_ms=5000)
    assert frames is not None, f"{name} did not answer a read"
    envelope = wire.Envelope()
    envelope.ParseFromString(frames[0])
    return envelope.reply, frames[1] if len(frames) > 1 else b""


def test_failed_data_directory_is_rebuilt_elsewhere(disk_cluster, wire):
    cluster, good, bad = disk_cluster
    # Nine chunks; cs1 puts each new one in the directory with more free space, so both get some.
    sizes = {"a": 80 * MiB, "b": 16 * MiB, "c": 15 * MiB, "d": 14 * MiB, "e": 13 * MiB, "f": 12 * MiB,
             "g": 11 * MiB, "h": 10 * MiB}
    contents = {name: write_random(cluster.mnt / name, size, seed=60 + i) for i, (name, size) in enumerate(sizes.items())}

    def chunks():
        """{chunk id: (version, {address: state})} over every file."""
        found = {}
        for name in sizes:
            for chunk in cluster.hafs_json("fileinfo", str(cluster.mnt / name))["chunks"]:
                found[chunk["id"]] = (chunk["version"], {r["address"]: r["state"] for r in chunk["replicas"]})
        return found

    def three_valid():
        found = chunks()
        return found if all(sum(s == "valid" for s in states.values()) == 3 for _, states in found.values()) else None

    before = wait_until(three_valid, what="three replicas of every chunk")
    assert len(before) == 9
    on_good, on_bad = chunk_ids_in(good.mount_point), chunk_ids_in(bad.mount_point)
    assert on_good | on_bad == set(before) and not on_good & on_bad, (on_good, on_bad)
    assert on_good and on_bad, f"cs1 put every chunk in one directory: {on_good}, {on_bad}"

    bad.fail()
    # Clients read through it: pieces that cs1 cannot serve come from another replica.
    drop_caches()
    for name, digest in contents.items():
        assert sha256_of(cluster.mnt / name) == digest
    out_of_service = f"data directory {bad.mount_point} taken out of service"
    wait_until(lambda: out_of_service in cluster.log("cs1"), timeout_s=60,
               what="cs1 to take its failing data directory out of service (a read or the scrubber hits it)")

    # cs1 serves its other directory on, and says only that one is left.
    some_good = min(on_good)
    reply, data = read_chunk(cluster, wire, "cs1", some_good, before[some_good][0], 4096)
    assert reply.error == 0, reply.error_message
    assert len(data) == 4096
    cs1 = next(cs for cs in cluster.hafs_json("chunkservers")["chunkservers"] if cs["address"] == cluster.address("cs1"))
    assert cs1["state"] == "up", cs1
    good_fs = os.statvfs(good.mount_point)
    wait_until(lambda: next(cs for cs in cluster.hafs_json("chunkservers")["chunkservers"]
                            if cs["address"] == cluster.address("cs1"))["total_bytes"]
               == good_fs.f_blocks * good_fs.f_frsize, timeout_s=10,
               what="cs1 to count only the space of its working directory")

    # Self-healing: every chunk has three valid replicas again, cs1's in its working directory.
    cs1_address = cluster.address("cs1")

    def rebuilt():
        found = three_valid()
        return found if found and all(states.get(cs1_address) == "valid"
                                      and stored_version(good.mount_point, chunk_id) == version
                                      for chunk_id, (version, states) in found.items()) else None

    after = wait_until(rebuilt, timeout_s=90, what="the lost replicas copied into cs1's working directory")
    assert set(after) == set(before)
    status = cluster.hafs_json("status")
    assert status["chunks"]["under_replicated"] == status["chunks"]["corrupt"] == status["chunks"]["missing"] == 0, status
    assert status["chunkservers"]["up"] == 3, status
    drop_caches()
    for name, digest in contents.items():
        assert sha256_of(cluster.mnt / name) == digest
    log = cluster.log("cs1")
    assert log.count(out_of_service) == 1, log
    assert "no data directory is in service" not in log
