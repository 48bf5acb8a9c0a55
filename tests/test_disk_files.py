"""What the daemons keep on disk. A chunk file under another chunk's name (swapped by hand
while its chunkserver was down) is never served: the chunkserver checks the id in each
file's header against the name, reports the replica corrupt, and self-healing replaces it.
And every file and directory the daemons make is private: 0600 files in 0700 directories."""

import hashlib
import stat

from conftest import wait_until
from test_data import MiB, sha256_of, write_random
from test_failures import drop_caches
from test_scrub import valid_on


CHUNK_DATA_OFFSET = 12288  # header page and checksum table (chunkserver/chunk_file.h)


def chunk_file(cluster, chunkserver, chunk_id):
    return next(f for f in cluster.chunk_files(chunkserver) if f.name == f"{chunk_id:016x}.chunk")


def test_swapped_chunk_files_are_never_served_and_are_replaced(cluster):
    paths = [cluster.mnt / "first", cluster.mnt / "second"]
    digests = [write_random(path, 3 * MiB, seed=31 + i) for i, path in enumerate(paths)]
    ids = [cluster.hafs_json("fileinfo", str(path))["chunks"][0]["id"] for path in paths]
    for path, chunk_id in zip(paths, ids):
        assert valid_on(cluster, path, "cs1") == {chunk_id}

    # Both files are whole and sound (every checksum passes), each under the other's name.
    cluster.stop("cs1")
    first, second = (chunk_file(cluster, "cs1", chunk_id) for chunk_id in ids)
    parked = first.with_name("parked")
    first.rename(parked)
    second.rename(first)
    parked.rename(second)
    cluster.start("cs1")

    log = cluster.log("cs1")
    assert f"holds chunk {ids[1]}, not chunk {ids[0]}" in log
    assert f"holds chunk {ids[0]}, not chunk {ids[1]}" in log
    for path, digest in zip(paths, digests):
        drop_caches()
        assert sha256_of(path) == digest

    # With three chunkservers the only place for a new copy is cs1 itself: its swapped
    # files are deleted and good copies made in their place.
    masters_log = lambda: cluster.log("master1") + cluster.log("master2")  # noqa: E731
    for chunk_id in ids:
        wait_until(lambda: f"copied chunk {chunk_id} v" in masters_log(), timeout_s=60,
                   what=f"a good copy of chunk {chunk_id} on cs1")
    for path, chunk_id in zip(paths, ids):
        wait_until(lambda: valid_on(cluster, path, "cs1") == {chunk_id}, timeout_s=30,
                   what=f"cs1 to hold a valid replica of chunk {chunk_id} again")

    # The new replicas on cs1 are the chunks their names say, with the files' bytes.
    for chunk_id, digest in zip(ids, digests):
        replica = chunk_file(cluster, "cs1", chunk_id).read_bytes()
        assert int.from_bytes(replica[16:24], "little") == chunk_id
        assert hashlib.sha256(replica[CHUNK_DATA_OFFSET:]).hexdigest() == digest
    for path, digest in zip(paths, digests):
        drop_caches()
        assert sha256_of(path) == digest


def test_daemons_files_are_private(shared_cluster):
    cluster = shared_cluster
    write_random(cluster.mnt / "private", 2 * MiB, seed=41)
    active = cluster.wait_active()
    for name in cluster.master_names():
        if name != active:
            cluster.wait_standby_in_sync(name)  # it fetched a checkpoint: the active wrote one for it
    data_dirs = sorted(cluster.root.glob("*/data"))
    assert {d.parent.name for d in data_dirs} >= {"master1", "cs1", "cs2", "cs3"}

    wrong = []
    for data in data_dirs:
        for path in [data, *data.rglob("*")]:
            mode = path.lstat().st_mode
            expected = 0o700 if stat.S_ISDIR(mode) else 0o600
            if stat.S_IMODE(mode) != expected:
                wrong.append(f"{path.relative_to(cluster.root)} is {stat.S_IMODE(mode):o}, not {expected:o}")
    assert not wrong, "\n".join(wrong)
