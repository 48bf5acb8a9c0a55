"""The background scrubber finds a replica rotted on disk that no client has read: the
chunkserver reports it lost, the master drops that replica, self-healing copies a good one
in its place, and the file reads byte-exact."""

import pytest

from conftest import make_cluster, wait_until
from test_data import CHUNK, MiB, sha256_of, write_random
from test_failures import drop_caches


@pytest.fixture
def scrubbing_cluster(request):
    """Three chunkservers that scrub fast (a pass over this test's data takes well under a second)."""
    return make_cluster(request, env={"HAFS_CHUNKSERVER_ARGS": "--scrub-rate-mib 512"})


def flip_bytes(chunk_file, offsets):
    with open(chunk_file, "r+b") as handle:
        for offset in offsets:
            handle.seek(offset)
            old = handle.read(16)
            handle.seek(offset)
            handle.write(bytes(b ^ 0xFF for b in old))


def valid_on(cluster, path, chunkserver):
    """The ids of the file's chunks that the master lists as valid on `chunkserver`."""
    address = cluster.address(chunkserver)
    chunks = cluster.hafs_json("fileinfo", str(path))["chunks"]
    return {c["id"] for c in chunks if any(r["address"] == address and r["state"] == "valid" for r in c["replicas"])}


def test_scrubber_finds_a_rotted_replica_and_it_is_rebuilt(scrubbing_cluster):
    cluster = scrubbing_cluster
    path = cluster.mnt / "to-rot"
    digest = write_random(path, CHUNK + 8 * MiB, seed=11)  # two chunks
    chunks = cluster.hafs_json("fileinfo", str(path))["chunks"]
    assert len(chunks) == 2
    bad, good = chunks[0], chunks[1]
    assert valid_on(cluster, path, "cs1") == {bad["id"], good["id"]}

    # Rot the first chunk's replica on cs1 in its data region (header and table intact),
    # without reading anything through the mount.
    bad_file = next(f for f in cluster.chunk_files("cs1") if f.name == f"{bad['id']:016x}.chunk")
    data_offset = 12288
    flip_bytes(bad_file, [data_offset + 5 * MiB + 3, data_offset + 40 * MiB + 1000])

    log_line = f"chunk {bad['id']} version {bad['version']} replica is corrupt"
    wait_until(lambda: log_line in cluster.log("cs1"), timeout_s=60, what="the scrubber on cs1 to report the rot")
    assert f"chunk {good['id']} version {good['version']} replica is corrupt" not in cluster.log("cs1")
    # With three chunkservers, the only place for a new copy is cs1 itself: the rotted
    # replica is dropped, deleted and copied afresh from a good one.
    copied = f"copied chunk {bad['id']} v{bad['version']} from chunkserver"
    wait_until(lambda: copied in cluster.log("master1") + cluster.log("master2"), timeout_s=60,
               what="a good copy of the rotted chunk")
    wait_until(lambda: valid_on(cluster, path, "cs1") == {bad["id"], good["id"]}, timeout_s=30,
               what="cs1 to hold a valid replica of both chunks again")
    # The rebuilt replica passes the scrubber from now on: no second report of that chunk.
    assert cluster.log("cs1").count(log_line) == 1
    drop_caches()
    assert sha256_of(path) == digest
