"""Bytes in, the same bytes out: random content of random sizes across block and chunk
boundaries, three replicas on three chunkservers, two mounts seeing each other's writes."""

import hashlib
import os
import random
import subprocess
import threading

from conftest import BUILD, wait_until

MiB = 1024 * 1024
CHUNK = 64 * MiB


def write_random(path, size, seed, piece=1 * MiB):
    rng = random.Random(seed)
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        left = size
        while left:
            n = min(piece, left)
            data = rng.randbytes(n)
            handle.write(data)
            digest.update(data)
            left -= n
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest()


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(4 * MiB):
            digest.update(block)
    return digest.hexdigest()


def test_random_sizes_across_boundaries(shared_cluster):
    sizes = [0, 1, 4095, 65535, 65536, 65537, 3 * 65536 + 17, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 12345]
    rng = random.Random(7)
    sizes += [rng.randrange(1, 3 * MiB) for _ in range(5)]
    expected = {}
    for i, size in enumerate(sizes):
        path = shared_cluster.mnt / f"random-{i}"
        expected[path] = (write_random(path, size, seed=i, piece=rng.choice([4096, 65536 + 7, MiB])), size)
    for path, (digest, size) in expected.items():
        assert path.stat().st_size == size
        assert sha256_of(path) == digest, path


def test_unaligned_overwrites_match_a_model(shared_cluster):
    """Random writes at random offsets (across chunk boundaries) against an in-memory model."""
    path = shared_cluster.mnt / "overwrites"
    size = CHUNK + 3 * MiB
    model = bytearray(size)
    rng = random.Random(11)
    with open(path, "wb") as handle:
        handle.truncate(size)
        for _ in range(200):
            offset = rng.choice([rng.randrange(size - 70000), CHUNK - rng.randrange(1, 70000)])
            data = rng.randbytes(rng.randrange(1, 70000))
            handle.seek(offset)
            handle.write(data)
            model[offset:offset + len(data)] = data
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(model).digest()


def test_concurrent_writers_to_different_files(shared_cluster):
    results, errors = {}, []

    def writer(i):
        try:
            path = shared_cluster.mnt / f"concurrent-{i}"
            results[path] = write_random(path, 20 * MiB + i * 4099, seed=100 + i)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for path, digest in results.items():
        assert sha256_of(path) == digest


def test_fileinfo_shows_three_replicas_on_three_chunkservers(shared_cluster):
    path = shared_cluster.mnt / "replicated"
    write_random(path, CHUNK + MiB, seed=3)
    info = shared_cluster.hafs_json("fileinfo", str(path))
    assert len(info["chunks"]) == 2
    for chunk in info["chunks"]:
        replicas = chunk["replicas"]
        assert len(replicas) == 3
        assert len({r["chunkserver"] for r in replicas}) == 3
        assert len({r["address"] for r in replicas}) == 3
        assert all(r["state"] == "valid" for r in replicas)
    # The path alone finds the cluster, as MooseFS's tools do.
    command = [str(BUILD / "hafs"), *shared_cluster.key_flags("admin"), "--json", "fileinfo", str(path)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_second_mount_sees_changes_after_close(shared_cluster, tmp_path):
    with shared_cluster.second_mount(tmp_path / "other-mount") as other:
        (shared_cluster.mnt / "c2o").write_bytes(b"first version")
        assert (other / "c2o").read_bytes() == b"first version"
        (other / "c2o").write_bytes(b"second, longer version")
        assert (shared_cluster.mnt / "c2o").read_bytes() == b"second, longer version"
        (shared_cluster.mnt / "c2o").write_bytes(b"third")
        assert (other / "c2o").read_bytes() == b"third"
        (other / "made-there").mkdir()
        assert (shared_cluster.mnt / "made-there").is_dir()
