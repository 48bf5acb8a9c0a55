"""Exports (docs/exports.md): which client key may mount which subtree, read-only or
read-write, squashed, within a goal range, from which addresses. Checked through real mounts
with keys of their own and with requests sent directly, as a client that lies would."""

import errno
import os
import subprocess

import pytest

from conftest import wait_until

EXPORTS = """# the cluster's own mount, and the keys these tests make
client    /        rw
reader    /        ro
squashed  /shared  rw,root_squash
lab       /proj    rw,goal=1-2
faraway   /        rw,from=10.0.0.0/8
"""


@pytest.fixture(scope="module")
def exported(shared_cluster):
    cluster = shared_cluster
    for name in ("reader", "squashed", "lab", "faraway", "stranger"):
        cluster.add_key(name)
    cluster.set_exports(EXPORTS)
    (cluster.mnt / "proj" / "sub").mkdir(parents=True)
    (cluster.mnt / "proj" / "sub" / "inside").write_bytes(b"inside the subtree\n")
    (cluster.mnt / "outside").write_bytes(b"outside the subtree\n")
    (cluster.mnt / "shared").mkdir()
    os.chmod(cluster.mnt / "shared", 0o1777)
    (cluster.mnt / "shared" / "roots").write_bytes(b"root's\n")
    os.chmod(cluster.mnt / "shared" / "roots", 0o644)
    return cluster


def ask(cluster, wire, key, build, mount_root=0):
    """One request made with `key` straight to the active master; its Reply."""
    request = wire.Envelope(request_id=7, mount_root=mount_root)
    build(request)
    return cluster.ask(wire, cluster.active_master(), request.SerializeToString(), key=key).reply


def mount_refusal(cluster, tmp_path, key, *flags):
    """Runs hafs-mount with `key`; what it says when the master refuses (it must)."""
    where = tmp_path / f"refused-{key}"
    where.mkdir()
    result = subprocess.run(cluster.mount_command(where, *flags, key=key), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result
    assert f" {where} " not in open("/proc/mounts").read()
    return result.stderr


def inode_of(path):
    return os.stat(path).st_ino


def test_a_client_key_without_an_export_is_refused(exported, wire, tmp_path):
    cluster = exported
    said = mount_refusal(cluster, tmp_path, "stranger")
    assert "no export admits client stranger" in said, said

    def lookup(request):
        request.lookup.parent = 1
        request.lookup.name = b"outside"

    reply = ask(cluster, wire, "stranger", lookup)
    assert reply.error == errno.EACCES and b"no export" in reply.error_message, reply
    # A key whose export is for another address range is a stranger here, on loopback.
    assert ask(cluster, wire, "faraway", lookup).error == errno.EACCES
    assert "faraway from 127.0.0.1" in mount_refusal(cluster, tmp_path, "faraway")
    assert ask(cluster, wire, "client", lookup).error == 0


def test_a_read_only_export_gets_erofs_on_writes(exported, wire, tmp_path):
    cluster = exported
    with cluster.second_mount(tmp_path / "ro", key="reader") as ro:
        assert (ro / "outside").read_bytes() == b"outside the subtree\n"
        for write in (lambda: (ro / "new").write_bytes(b"x"), lambda: (ro / "d").mkdir(),
                      lambda: (ro / "outside").write_bytes(b"changed"), lambda: os.unlink(ro / "outside")):
            with pytest.raises(OSError) as refused:
                write()
            assert refused.value.errno == errno.EROFS
    assert (cluster.mnt / "outside").read_bytes() == b"outside the subtree\n"

    # The master refuses too: a reader that skips its kernel's read-only mount gains nothing.
    def mkdir(request):
        request.mkdir.parent = 1
        request.mkdir.name = b"sneaked-in"
        request.mkdir.mode = 0o755

    def lease(request):
        request.write_lease.inode = inode_of(cluster.mnt / "outside")

    assert ask(cluster, wire, "reader", mkdir).error == errno.EROFS
    assert ask(cluster, wire, "reader", lease).error == errno.EROFS
    assert not (cluster.mnt / "sneaked-in").exists()


def test_root_squash_maps_uid_0(exported, wire, tmp_path):
    cluster = exported
    shared = inode_of(cluster.mnt / "shared")
    with cluster.second_mount(tmp_path / "squashed", "--subdir", "/shared", key="squashed") as squashed:
        (squashed / "made-by-root").write_bytes(b"squashed\n")
        made = os.stat(cluster.mnt / "shared" / "made-by-root")
        assert (made.st_uid, made.st_gid) == (65534, 65534)
        # Root's own file is another user's file to a squashed root: not writable, whether
        # the open truncates it (the master checks) or not (the mount checks the open).
        for flags in (os.O_WRONLY | os.O_TRUNC, os.O_WRONLY, os.O_RDWR):
            with pytest.raises(OSError) as refused:
                os.close(os.open(squashed / "roots", flags))
            assert refused.value.errno == errno.EACCES, flags
        assert (squashed / "roots").read_bytes() == b"root's\n"  # 0644: readable
        with pytest.raises(OSError) as refused:
            os.chmod(squashed / "roots", 0o666)
        assert refused.value.errno == errno.EPERM
    assert (cluster.mnt / "shared" / "roots").read_bytes() == b"root's\n"

    # Sent directly, claiming uid 0: made as nobody all the same.
    def mknod(request):
        request.mknod.parent = shared
        request.mknod.name = b"claimed-root"
        request.mknod.mode = 0o100644
        request.mknod.credentials.uid = 0

    assert ask(cluster, wire, "squashed", mknod, mount_root=shared).error == 0
    assert os.stat(cluster.mnt / "shared" / "claimed-root").st_uid == 65534

    # Nor does a write lease or a size change claimed for uid 0 reach root's file.
    roots = inode_of(cluster.mnt / "shared" / "roots")

    def lease(request):
        request.write_lease.inode = roots
        request.write_lease.credentials.uid = 0

    def done(request):
        request.write_done.inode = roots
        request.write_done.end_offset = 1 << 20
        request.write_done.credentials.uid = 0

    assert ask(cluster, wire, "squashed", lease, mount_root=shared).error == errno.EACCES
    assert ask(cluster, wire, "squashed", done, mount_root=shared).error == errno.EACCES
    assert os.stat(cluster.mnt / "shared" / "roots").st_size == len(b"root's\n")


def test_a_subtree_mount_cannot_see_its_parent(exported, wire, tmp_path):
    cluster = exported
    proj = inode_of(cluster.mnt / "proj")
    with cluster.second_mount(tmp_path / "lab", "--subdir", "/proj", key="lab") as lab:
        assert sorted(os.listdir(lab)) == ["sub"]
        assert (lab / "sub" / "inside").read_bytes() == b"inside the subtree\n"
        assert os.stat(lab).st_ino == 1  # the subtree is the mount's root
        (lab / "sub" / "new").write_bytes(b"written through the subtree\n")
        # The CLI knows the mount's root stands for /proj, not for the file system's root.
        cluster.hafs("setgoal", "2", str(cluster.mnt / "proj"))
        assert cluster.hafs_json("getgoal", str(lab)) == cluster.hafs_json("getgoal", str(cluster.mnt / "proj")) | {
            "path": str(lab)}
        assert cluster.hafs_json("getgoal", str(lab))["goal"] == 2
    assert (cluster.mnt / "proj" / "sub" / "new").read_bytes() == b"written through the subtree\n"
    assert "no export admits client lab" in mount_refusal(cluster, tmp_path, "lab")  # not "/"

    outside = inode_of(cluster.mnt / "outside")

    def get_attr(inode):
        def build(request):
            request.get_attr.inode = inode
        return build

    def lookup(parent, name):
        def build(request):
            request.lookup.parent = parent
            request.lookup.name = name
        return build

    # Inside: answered. Outside, whatever root it claims: refused.
    assert ask(cluster, wire, "lab", get_attr(inode_of(cluster.mnt / "proj" / "sub")), mount_root=proj).error == 0
    assert ask(cluster, wire, "lab", get_attr(outside), mount_root=proj).error == errno.EACCES
    assert ask(cluster, wire, "lab", get_attr(1), mount_root=proj).error == errno.EACCES
    assert ask(cluster, wire, "lab", lookup(1, b"outside"), mount_root=proj).error == errno.EACCES
    assert ask(cluster, wire, "lab", get_attr(outside), mount_root=0).error == errno.EACCES
    assert ask(cluster, wire, "lab", get_attr(outside), mount_root=outside).error == errno.EACCES

    def rename_out(request):
        request.rename.parent = inode_of(cluster.mnt / "proj" / "sub")
        request.rename.name = b"inside"
        request.rename.new_parent = 1
        request.rename.new_name = b"escaped"

    assert ask(cluster, wire, "lab", rename_out, mount_root=proj).error == errno.EACCES
    assert (cluster.mnt / "proj" / "sub" / "inside").exists()

    # Goals outside the export's range are EPERM; inside it, set.
    def set_goal(goal):
        def build(request):
            request.set_goal.inode = inode_of(cluster.mnt / "proj" / "sub" / "inside")
            request.set_goal.goal = goal
        return build

    assert ask(cluster, wire, "lab", set_goal(3), mount_root=proj).error == errno.EPERM
    assert ask(cluster, wire, "lab", set_goal(2), mount_root=proj).error == 0


def test_a_file_with_a_link_in_the_subtree_is_inside_it_whatever_its_other_links(exported, wire):
    cluster = exported
    proj = inode_of(cluster.mnt / "proj")
    inside = cluster.mnt / "proj" / "sub" / "linked"
    inside.write_bytes(b"linked both ways\n")
    os.link(inside, cluster.mnt / "linked-outside")  # the newest link is outside
    file = inode_of(inside)

    def get_attr(request):
        request.get_attr.inode = file

    def get_chunks(request):
        request.get_chunks.inode = file
        request.get_chunks.count = 1

    assert ask(cluster, wire, "lab", get_attr, mount_root=proj).error == 0
    assert ask(cluster, wire, "lab", get_chunks, mount_root=proj).error == 0
    os.unlink(inside)  # now only outside
    assert ask(cluster, wire, "lab", get_attr, mount_root=proj).error == errno.EACCES
    assert ask(cluster, wire, "lab", get_chunks, mount_root=proj).error == errno.EACCES
    os.unlink(cluster.mnt / "linked-outside")


def test_exports_change_with_sighup_and_survive_a_takeover(exported, wire, tmp_path):
    cluster = exported

    def lookup(request):
        request.lookup.parent = 1
        request.lookup.name = b"outside"

    try:
        cluster.set_exports(EXPORTS + "stranger / ro\n")
        assert ask(cluster, wire, "stranger", lookup).error == 0
        # The standby judges by the same file: after a takeover, the same answers.
        old = cluster.active_master()
        cluster.kill(old)
        cluster.wait_active(not_name=old)
        assert ask(cluster, wire, "stranger", lookup).error == 0
        assert ask(cluster, wire, "reader", lookup).error == 0
        assert ask(cluster, wire, "lab", lookup).error == errno.EACCES
        cluster.start(old)
        cluster.wait_standby_in_sync(old)
    finally:
        cluster.set_exports(EXPORTS)
    wait_until(lambda: ask(cluster, wire, "stranger", lookup).error == errno.EACCES, timeout_s=15,
               what="the stranger's export to go")
