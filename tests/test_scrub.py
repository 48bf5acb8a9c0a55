"""The background scrubber finds a replica rotted on disk that no client has read: the
chunkserver reports it lost, the master drops that replica (and has it deleted), and the
file still reads byte-exact from the good copies."""

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


def test_scrubber_finds_a_rotted_replica_and_the_master_drops_it(scrubbing_cluster):
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

    wait_until(lambda: valid_on(cluster, path, "cs1") == {good["id"]}, timeout_s=60,
               what="the scrubber on cs1 to report the rotted replica and the master to drop it")
    log = cluster.log("cs1")
    assert f"chunk {bad['id']} version {bad['version']} replica is corrupt" in log
    assert f"chunk {good['id']} version {good['version']} replica is corrupt" not in log
    # The master has the dropped replica deleted.
    wait_until(lambda: not bad_file.exists(), timeout_s=30, what="cs1 to delete the rotted replica")

    drop_caches()
    assert sha256_of(path) == digest
