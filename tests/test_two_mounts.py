"""Two mounts of one cluster, as two hosts have it: `tools/hafs-local up --mounts 2` gives a
second mount (mount2) at $HAFS_LOCAL_DIR/mnt2, started, stopped and listed like any daemon."""

import json

from conftest import make_cluster


def mounted(where) -> bool:
    return f" {where} fuse.hafs " in open("/proc/mounts").read()


def test_up_with_two_mounts_gives_a_second_mount_of_the_same_cluster(request):
    cluster = make_cluster(request, mounts=2)
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

    cluster.down()
    assert not mounted(cluster.mnt) and not mounted(mnt2)
