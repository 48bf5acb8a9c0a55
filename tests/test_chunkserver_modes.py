"""Chunkserver modes and rebalancing on real clusters (issue 4): a chunkserver in maintenance is
restarted without a single copy being made; a decommissioned one is emptied without any chunk
ever dropping below its goal; a new, empty one receives chunks until usage is even. Every wait
has a deadline; the windows in which nothing may happen are bounded, checked repeatedly."""

import re
import time

import pytest

from conftest import make_cluster, wait_until
from test_data import MiB, sha256_of, write_random
from test_failures import drop_caches
from test_healing import fully_replicated, holders, replica_states

CHUNKSERVERS = ["cs1", "cs2", "cs3", "cs4"]
GOAL = 3
# The master's defaults (hafs-master --help): --rebalance-margin-percent 10, --write-lease-ms 10000.
MARGIN = 0.10
WRITE_LEASE_S = 10.0


def write_files(cluster, count, size, seed):
    """`count` files of `size` bytes (one chunk each when size <= 64 MiB); {path: sha256}."""
    return {cluster.mnt / f"f{i}": write_random(cluster.mnt / f"f{i}", size, seed=seed + i) for i in range(count)}


def all_replicated(cluster, paths, without=None):
    return all(fully_replicated(cluster, path, without=without) for path in paths)


def chunkserver(cluster, name):
    """The `hafs chunkservers --json` entry of chunkserver `name`, or None before it registered."""
    address = cluster.address(name)
    return next((entry for entry in cluster.hafs_json("chunkservers")["chunkservers"]
                 if entry["address"] == address), None)


def mode_entry(status, address):
    """The status's "modes" entry of the chunkserver at `address` (only those not in normal mode)."""
    return next((entry for entry in status["modes"] if entry["address"] == address), None)


def assert_byte_exact(digests):
    drop_caches()
    for path, digest in digests.items():
        assert sha256_of(path) == digest, path


def test_maintenance_holds_repairs_back_during_a_planned_restart(request):
    # Rebalancing off: its moves are copies too, and here no copy may start at all.
    cluster = make_cluster(request, chunkservers=4, env={"HAFS_MASTER_ARGS": "--rebalance-copies 0"})
    digests = write_files(cluster, 4, 3 * MiB, seed=60)
    wait_until(lambda: all_replicated(cluster, digests), what="three replicas of every chunk")
    victim = max(CHUNKSERVERS, key=lambda name: sum(holders(cluster, path, name) for path in digests))
    held = {path: holders(cluster, path, victim) for path in digests}
    assert sum(held.values()) > 0
    address = cluster.address(victim)

    active = cluster.wait_active()
    cluster.wait_standby_in_sync("master2" if active == "master1" else "master1")
    answer = cluster.hafs("maintenance", address, "on").stdout
    assert f"({address}, up): maintenance" in answer, answer
    # The mode is replicated state: the standby that takes over has it (and knows the
    # victim's replicas from its registrations). The old active comes back as the standby.
    cluster.kill(active)
    cluster.wait_active(not_name=active)
    cluster.start(active)
    # A new active copies nothing before it has served a write lease's time (leases from
    # before it may be in use): the window below must reach past that, or it would prove
    # nothing.
    repairs_possible_at = time.monotonic() + WRITE_LEASE_S + 1.0
    assert chunkserver(cluster, victim)["mode"] == "maintenance"
    recent_before = cluster.hafs_json("status")["repair"]["recent"]

    cluster.stop(victim)  # SIGTERM: a planned restart
    wait_until(lambda: cluster.hafs_json("status")["chunkservers"]["down"] == 1, timeout_s=30,
               what=f"{victim} to be down")
    window_end = max(time.monotonic() + 3.0, repairs_possible_at)
    checks = 0
    while time.monotonic() < window_end:
        status = cluster.hafs_json("status")
        assert status["repair"]["being_copied"] == 0, status["repair"]
        assert status["repair"]["recent"] == recent_before, status["repair"]
        # Its replicas still count: nothing is under-replicated.
        if status["chunks"]["under_replicated"] or status["chunks"]["missing"]:
            # Seen once in CI, never here: say which replica went uncounted, and where.
            replicas = {str(path): replica_states(cluster, path) for path in digests}
            pytest.fail(f"{status['chunks']}; replicas: {replicas}; "
                        f"chunkservers: {cluster.hafs_json('chunkservers')['chunkservers']}")
        assert status["chunkservers"]["down"] == 1
        assert mode_entry(status, address)["mode"] == "maintenance"
        checks += 1
        time.sleep(0.2)
    assert checks >= 3  # a status call takes long on a loaded machine: a few, spread over the window
    text = cluster.hafs("status").stdout
    assert f"({address}, down): maintenance" in text, text

    cluster.start(victim)
    wait_until(lambda: chunkserver(cluster, victim)["state"] == "up", timeout_s=30, what=f"{victim} back up")
    assert "normal" in cluster.hafs("maintenance", address, "off").stdout
    assert chunkserver(cluster, victim)["mode"] == "normal"
    wait_until(lambda: all_replicated(cluster, digests), timeout_s=30, what="every chunk valid again")
    assert {path: holders(cluster, path, victim) for path in digests} == held, "its replicas count again, as they were"
    status = cluster.hafs_json("status")
    assert not any("copied" in line for line in status["repair"]["recent"]), status["repair"]
    assert_byte_exact(digests)


def test_decommission_empties_a_chunkserver_without_any_chunk_below_its_goal(request):
    cluster = make_cluster(request, chunkservers=4)
    digests = write_files(cluster, 6, 2 * MiB, seed=70)
    wait_until(lambda: all_replicated(cluster, digests), what="three replicas of every chunk")
    victim = max(CHUNKSERVERS, key=lambda name: sum(holders(cluster, path, name) for path in digests))
    held = sum(holders(cluster, path, victim) for path in digests)
    assert held >= 2
    victim_id = chunkserver(cluster, victim)["id"]
    address = cluster.address(victim)

    answer = cluster.hafs("decommission", str(victim_id)).stdout
    # The rebalancer may have moved a replica off it since `held` was counted.
    left = re.search(rf"\({re.escape(address)}, up\): decommissioning, (\d+) chunks left", answer)
    assert left and 0 < int(left.group(1)) <= held, answer
    lowest = GOAL

    def drained():
        nonlocal lowest
        chunks = [chunk for path in digests for chunk in replica_states(cluster, path)]
        valid = [sum(state == "valid" for state in chunk.values()) for chunk in chunks]
        lowest = min(lowest, *valid)
        assert lowest >= GOAL, f"a chunk had {lowest} valid replicas: {chunks}"
        entry = mode_entry(cluster.hafs_json("status"), address)
        return not any(address in chunk for chunk in chunks) and entry["replicas"] == 0 and entry["drained"]

    wait_until(drained, timeout_s=45, what=f"{victim} to be drained", interval_s=0.1)
    wait_until(lambda: not cluster.chunk_files(victim), timeout_s=15, what=f"{victim}'s chunk files to be deleted")
    text = cluster.hafs("status").stdout
    assert f"({address}, up): decommissioned: empty" in text, text
    assert all_replicated(cluster, digests, without=victim)
    assert_byte_exact(digests)

    assert "normal" in cluster.hafs("decommission", address, "cancel").stdout
    assert chunkserver(cluster, victim)["mode"] == "normal"
    assert cluster.hafs_json("status")["modes"] == []


def balanced(cluster):
    """Whether every up chunkserver stores within the margin of its share (as the master's
    rebalancer judges: chunk bytes over stored + free, the band at least one average chunk)."""
    entries = [entry for entry in cluster.hafs_json("chunkservers")["chunkservers"] if entry["state"] == "up"]
    used = sum(entry["used_bytes"] for entry in entries)
    capacity = sum(entry["used_bytes"] + entry["free_bytes"] for entry in entries)
    chunk_bytes = used / max(1, sum(entry["chunks"] for entry in entries))
    for entry in entries:
        target = used / capacity * (entry["used_bytes"] + entry["free_bytes"])
        if abs(entry["used_bytes"] - target) > max(MARGIN * target, chunk_bytes):
            return False
    return True


def test_a_new_empty_chunkserver_receives_its_share(request):
    cluster = make_cluster(request, chunkservers=3)
    digests = write_files(cluster, 8, 2 * MiB, seed=80)
    wait_until(lambda: all_replicated(cluster, digests), what="three replicas of every chunk")
    cluster.start("cs4")
    wait_until(lambda: (chunkserver(cluster, "cs4") or {}).get("state") == "up", what="cs4 to register")
    # It came empty (rebalancing may already have begun by the time the CLI answers).
    address = cluster.address("cs4")
    assert any(f"({address}, uuid" in line and "registered with 0 chunks" in line
               for name in cluster.master_names() for line in cluster.log(name).splitlines())
    # Rebalancing starts once the master has served a write lease's time, then moves
    # chunks two at a time.
    wait_until(lambda: balanced(cluster) and cluster.hafs_json("status")["repair"]["being_moved"] == 0,
               timeout_s=45, what="usage within the margin of the mean", interval_s=0.2)
    received = chunkserver(cluster, "cs4")["chunks"]
    assert received >= 5, received  # 24 replicas over four: six each, within one chunk
    status = cluster.hafs_json("status")
    assert any("(rebalancing)" in line for line in status["repair"]["recent"]), status["repair"]
    # Balanced means settled: nothing more moves (no back and forth).
    settled = status["repair"]["recent"]
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        status = cluster.hafs_json("status")
        assert status["repair"]["recent"] == settled and status["repair"]["being_copied"] == 0, status["repair"]
        time.sleep(0.2)
    assert all_replicated(cluster, digests)
    assert_byte_exact(digests)
