"""Replication goals on a real cluster (issue 4): `hafs setgoal [-r] N PATH` and `hafs getgoal
PATH`. New files take their directory's goal, raising a goal makes copies, lowering it trims
replicas off the disks, the data stays byte-exact, and goals survive a kill -9 of the active
master. Every wait has a deadline."""

import errno
import json
import os
import shutil

from conftest import BUILD, make_cluster, wait_until
from test_data import MiB, sha256_of, write_random
from test_failures import drop_caches
from test_healing import replica_states
from test_permissions import NOBODY, as_user


def valid_counts(cluster, path):
    """How many valid replicas each chunk of `path` has, as the master lists them."""
    return [sum(state == "valid" for state in chunk.values()) for chunk in replica_states(cluster, path)]


def has_replicas(cluster, path, count):
    """Every chunk of `path` has exactly `count` valid replicas and nothing else."""
    chunks = replica_states(cluster, path)
    return chunks and all(sorted(chunk.values()) == ["valid"] * count for chunk in chunks)


def chunk_files_on_disks(cluster):
    return sum(len(cluster.chunk_files(f"cs{i}")) for i in range(1, cluster.chunkservers + 1))


def test_goals_drive_placement_copies_and_trims_and_survive_failover(request):
    cluster = make_cluster(request, chunkservers=4)
    two = cluster.mnt / "two"
    two.mkdir()
    assert cluster.hafs("getgoal", str(cluster.mnt)).stdout == f"{cluster.mnt}: 3\n"
    assert cluster.hafs("setgoal", "2", str(two)).stdout == f"{two}: 2\n"
    assert cluster.hafs_json("getgoal", str(two))["goal"] == 2

    # New files take the directory's goal and are written to two chunkservers.
    small, large = two / "small", two / "large"
    digests = {small: write_random(small, 3 * MiB, seed=61), large: write_random(large, 65 * MiB, seed=62)}
    for path in digests:
        info = cluster.hafs_json("fileinfo", str(path))
        assert info["goal"] == 2, info
        assert valid_counts(cluster, path) == [2] * len(info["chunks"]), info
    assert chunk_files_on_disks(cluster) == 2 * 3

    # Raising a file's goal: self-healing copies it onto every chunkserver.
    assert cluster.hafs_json("setgoal", "4", str(small)) == {"path": str(small), "inode": small.stat().st_ino,
                                                             "goal": 4, "changed": 1, "not_permitted": 0}
    wait_until(lambda: has_replicas(cluster, small, 4), timeout_s=90, what="four valid replicas of the small file")
    drop_caches()
    assert sha256_of(small) == digests[small]

    # Lowering the whole tree: surplus replicas are trimmed and their chunk files deleted.
    result = cluster.hafs("setgoal", "-r", "1", str(two)).stdout
    assert result == f"{two}: 1 (3 inodes changed, 0 left to their owners)\n"
    wait_until(lambda: has_replicas(cluster, small, 1) and has_replicas(cluster, large, 1), timeout_s=90,
               what="one replica of every chunk")
    wait_until(lambda: chunk_files_on_disks(cluster) == 3, timeout_s=60,
               what="the trimmed replicas' chunk files to leave the disks")
    status = cluster.hafs_json("status")["chunks"]
    assert status["over_replicated"] == 0 and status["under_replicated"] == 0, status
    later = two / "later"
    digests[later] = write_random(later, 2 * MiB, seed=63)
    assert cluster.hafs_json("fileinfo", str(later))["goal"] == 1
    assert valid_counts(cluster, later) == [1]
    drop_caches()
    for path, digest in digests.items():
        assert sha256_of(path) == digest, path

    # kill -9 of the active master: the standby took every goal change from the log.
    active = cluster.wait_active()
    standby = next(name for name in cluster.master_names() if name != active)
    cluster.wait_standby_in_sync(standby)
    cluster.kill(active)
    assert cluster.wait_active(not_name=active) == standby
    for path in [two, small, large, later]:
        assert cluster.hafs_json("getgoal", str(path))["goal"] == 1, path
    assert cluster.hafs("getgoal", str(cluster.mnt)).stdout == f"{cluster.mnt}: 3\n"
    # Its chunks' goals came along too: one replica each is healthy, not under-replicated.
    wait_until(lambda: cluster.hafs_json("status")["chunks"]["healthy"] == 4, timeout_s=60,
               what="the new active to count all four chunks healthy at goal 1")
    assert cluster.hafs_json("status")["chunks"]["under_replicated"] == 0
    cluster.hafs("setgoal", "2", str(large))
    wait_until(lambda: has_replicas(cluster, large, 2), timeout_s=90,
               what="the new active to copy the large file back to two replicas")
    drop_caches()
    for path, digest in digests.items():
        assert sha256_of(path) == digest, path


def test_only_owners_change_goals_and_bad_goals_are_refused(request, wire):
    cluster = make_cluster(request)
    shared = cluster.mnt / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    (shared / "roots").write_bytes(b"root's")
    # nobody's own copy of the client key: the CLI authenticates as a client, as the mount does.
    key = cluster.root / "nobody.key"
    shutil.copy(cluster.keys / "client.key", key)
    os.chown(key, NOBODY, NOBODY)
    hafs = (f"{BUILD / 'hafs'} --master {cluster.master_list()} --key-file {key} "
            f"--authorized-keys {cluster.keys / 'authorized_keys'}")
    code, err = as_user(NOBODY, NOBODY, f"{hafs} setgoal 1 {shared}/roots")
    assert code == 1 and "owner" in err, err
    code, err = as_user(NOBODY, NOBODY, f"mkdir {shared}/mine && touch {shared}/mine/file && "
                                        f"{hafs} setgoal 2 {shared}/mine/file")
    assert code == 0, err
    (shared / "mine" / "roots-inside").write_bytes(b"root's too")
    code, err = as_user(NOBODY, NOBODY, f"{hafs} --json setgoal -r 1 {shared}/mine")
    assert code == 0 and "1 inode(s)" in err, err
    assert cluster.hafs_json("getgoal", str(shared / "mine" / "file"))["goal"] == 1
    assert cluster.hafs_json("getgoal", str(shared / "mine" / "roots-inside"))["goal"] == 3
    assert cluster.hafs_json("getgoal", str(shared / "roots"))["goal"] == 3

    for bad in ["0", "10", "two"]:
        result = cluster.hafs("setgoal", bad, str(shared), check=False)
        assert result.returncode == 2 and "1 to 9" in result.stderr, result.stderr
    # The master checks the range itself: a peer's out-of-range goal is an error, not a crash.
    active = cluster.wait_active()
    cases = [(1, 0, errno.EINVAL), (1, 10, errno.EINVAL), (0, 2, errno.EINVAL), (987654321, 2, errno.ENOENT)]
    for request_id, (inode, goal, error) in enumerate(cases, start=1):
        envelope = wire.Envelope(request_id=request_id)
        envelope.set_goal.inode = inode
        envelope.set_goal.goal = goal
        frames = cluster.call(active, envelope.SerializeToString())
        assert frames is not None
        reply = wire.Envelope()
        reply.ParseFromString(frames[0])
        assert reply.reply.error == error, (inode, goal)
    assert json.loads(cluster.hafs("--json", "getgoal", str(cluster.mnt)).stdout)["goal"] == 3
