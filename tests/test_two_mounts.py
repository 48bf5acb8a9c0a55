"""Two mounts of one cluster, as two hosts have it: `tools/hafs-local up --mounts 2` gives a
second mount (mount2) at $HAFS_LOCAL_DIR/mnt2, started, stopped and listed like any daemon."""

import errno
import json

import pytest

from conftest import make_cluster, wait_until
from test_bad_input import reply_of


def mounted(where) -> bool:
    return f" {where} fuse.hafs " in open("/proc/mounts").read()


@pytest.fixture(scope="module")
def two(request):
    """One cluster with two mounts for the module; its masters end a session after 2 s."""
    return make_cluster(request, mounts=2, env={"HAFS_MASTER_ARGS": "--session-timeout-s 2"})


def test_up_with_two_mounts_gives_a_second_mount_of_the_same_cluster(two):
    cluster = two
    mnt2 = cluster.root / "mnt2"
    assert mounted(cluster.mnt) and mounted(mnt2)
    (cluster.mnt / "from-one").write_bytes(b"written on mount 1\n")
    assert (mnt2 / "from-one").read_bytes() == b"written on mount 1\n"
    (mnt2 / "from-two").write_bytes(b"written on mount 2\n")
    assert (cluster.mnt / "from-two").read_bytes() == b"written on mount 2\n"

    daemons = {daemon["name"]: daemon for daemon in json.loads(cluster.local("status", "--json").stdout)["daemons"]}
    assert daemons["mount"]["running"] and daemons["mount2"]["running"]
    assert daemons["mount2"]["pid"] != daemons["mount"]["pid"]

    cluster.stop("mount2")
    assert not mounted(mnt2) and mounted(cluster.mnt)
    assert (cluster.mnt / "from-two").read_bytes() == b"written on mount 2\n"
    cluster.start("mount2")
    assert (mnt2 / "from-one").read_bytes() == b"written on mount 1\n"


def sessions(cluster) -> dict:
    """The active master's sessions, by mount point ({} while no master answers)."""
    result = cluster.hafs("--json", "sessions", check=False)
    if result.returncode != 0:
        return {}
    return {session["mount_point"]: session for session in json.loads(result.stdout)["sessions"]}


def test_every_mount_has_a_session_that_ends_with_it_and_survives_a_takeover(two, wire):
    cluster = two
    mnt1, mnt2 = str(cluster.mnt), str(cluster.root / "mnt2")
    wait_until(lambda: set(sessions(cluster)) == {mnt1, mnt2}, timeout_s=30, what="both mounts' sessions")
    listed = sessions(cluster)
    assert listed[mnt1]["id"] != listed[mnt2]["id"]
    assert listed[mnt1]["client"] == "client" and listed[mnt1]["address"] == "127.0.0.1"
    assert listed[mnt1]["subdir"] == "/" and listed[mnt1]["host"] and listed[mnt1]["version"]
    text = cluster.hafs("sessions").stdout
    assert mnt1 in text and mnt2 in text
    # Other clients' hosts and mount points are the operator's to see, not a client key's.
    listing = wire.Envelope(request_id=1)
    listing.list_sessions.SetInParent()
    assert reply_of(wire, cluster.call(cluster.wait_active(), listing.SerializeToString())).error == errno.EACCES

    cluster.stop("mount2")  # an unmount ends its session at once
    assert set(sessions(cluster)) == {mnt1}
    cluster.start("mount2")
    wait_until(lambda: set(sessions(cluster)) == {mnt1, mnt2}, timeout_s=30, what="mount2's new session")

    # kill -9: nobody ends it, the timeout does.
    cluster.kill("mount2")
    wait_until(lambda: set(sessions(cluster)) == {mnt1}, timeout_s=30, what="the killed mount's session to end")

    # A new active learns the live mount's session from its next renewal.
    old_active = cluster.wait_active()
    cluster.kill(old_active)
    cluster.wait_active(not_name=old_active)
    wait_until(lambda: set(sessions(cluster)) == {mnt1}, timeout_s=30, what="the session re-asserted after a takeover")
    (cluster.mnt / "after-takeover").write_bytes(b"still mounted\n")

    cluster.down()
    assert not mounted(cluster.mnt) and not mounted(mnt2)
