"""Self-healing on a real cluster (issue 4): dead chunkservers are replaced by copies made
chunkserver to chunkserver, a returning chunkserver's stale replicas are deleted and surplus
copies trimmed, and the chunks of deleted files leave the disks. Every wait has a deadline."""

import time

from conftest import make_cluster, wait_until
from test_data import MiB, sha256_of, write_random
from test_failures import drop_caches


def replica_states(cluster, path):
    """For each chunk of `path`: {address: state} of its replicas, as the master lists them."""
    return [{r["address"]: r["state"] for r in chunk["replicas"]}
            for chunk in cluster.hafs_json("fileinfo", str(path))["chunks"]]


def fully_replicated(cluster, path, without=None):
    """Every chunk has exactly three valid replicas, none on the chunkserver `without`."""
    gone = cluster.address(without) if without else None
    chunks = replica_states(cluster, path)
    return chunks and all(sum(state == "valid" for state in chunk.values()) == 3 and chunk.get(gone) != "valid"
                          for chunk in chunks)


def holders(cluster, path, name):
    """How many chunks of `path` have a valid replica on chunkserver `name`."""
    address = cluster.address(name)
    return sum(chunk.get(address) == "valid" for chunk in replica_states(cluster, path))


def test_killed_chunkserver_is_replaced_and_the_data_stays_exact(request):
    cluster = make_cluster(request, chunkservers=4)
    path = cluster.mnt / "big"
    digest = write_random(path, 256 * MiB, seed=41)
    wait_until(lambda: fully_replicated(cluster, path), what="three replicas of every chunk")
    victim = max(["cs1", "cs2", "cs3", "cs4"], key=lambda name: holders(cluster, path, name))
    assert holders(cluster, path, victim) > 0
    killed = time.monotonic()
    cluster.kill(victim)
    wait_until(lambda: fully_replicated(cluster, path, without=victim), timeout_s=90,
               what=f"every chunk back to three replicas without {victim}")
    print(f"re-replicated {256 * MiB >> 20} MiB after kill -9 of {victim} in {time.monotonic() - killed:.1f} s")
    status = cluster.hafs_json("status")
    assert status["chunks"]["under_replicated"] == 0 and status["chunks"]["missing"] == 0, status
    assert any("copied chunk" in line for line in status["repair"]["recent"]), status["repair"]
    drop_caches()
    assert sha256_of(path) == digest


def test_returning_chunkserver_loses_stale_and_surplus_replicas(request):
    cluster = make_cluster(request, chunkservers=4)
    changed, kept = cluster.mnt / "changed", cluster.mnt / "kept"
    write_random(changed, 64 * MiB, seed=42)
    kept_digest = write_random(kept, 64 * MiB, seed=43)
    wait_until(lambda: fully_replicated(cluster, changed) and fully_replicated(cluster, kept),
               what="three replicas of both files")
    # A chunkserver holding both files' chunks goes away.
    away = next(name for name in ["cs1", "cs2", "cs3", "cs4"]
                if holders(cluster, changed, name) and holders(cluster, kept, name))
    cluster.stop(away)
    changed_digest = write_random(changed, 64 * MiB, seed=44)  # rewritten without it: new versions
    wait_until(lambda: fully_replicated(cluster, changed, without=away) and fully_replicated(cluster, kept, without=away),
               timeout_s=90, what=f"both files repaired without {away}")
    cluster.start(away)
    # Its replica of `changed` is stale and deleted; its replica of `kept` is current again,
    # which makes four: one is trimmed. Either way every chunk ends at exactly three.
    def settled():
        chunks = replica_states(cluster, changed) + replica_states(cluster, kept)
        return all(sorted(chunk.values()) == ["valid"] * 3 for chunk in chunks)
    wait_until(settled, timeout_s=60, what="stale replicas deleted and surplus ones trimmed")
    status = cluster.hafs_json("status")
    assert status["chunks"]["over_replicated"] == 0, status
    drop_caches()
    assert sha256_of(changed) == changed_digest
    assert sha256_of(kept) == kept_digest
    # What the master lists is what is on the disks: three chunk files per chunk in all.
    wait_until(lambda: sum(len(cluster.chunk_files(f"cs{i}")) for i in range(1, 5)) == 3 * 2,
               timeout_s=30, what="the chunk files on disk to match the master's replicas")


def test_chunks_of_deleted_files_leave_the_disks(request):
    cluster = make_cluster(request)
    for i in range(3):
        write_random(cluster.mnt / f"doomed-{i}", 3 * MiB, seed=50 + i)
    wait_until(lambda: all(cluster.chunk_files(f"cs{i}") for i in range(1, 4)), what="chunk files on disk")
    df_before = cluster.hafs_json("status")["space"]["used_bytes"]
    for i in range(3):
        (cluster.mnt / f"doomed-{i}").unlink()
    wait_until(lambda: not any(cluster.chunk_files(f"cs{i}") for i in range(1, 4)), timeout_s=30,
               what="every chunk file of the deleted files to be removed")
    wait_until(lambda: cluster.hafs_json("status")["space"]["used_bytes"] < df_before, timeout_s=30,
               what="hafs status to show the space back")
