"""POSIX ownership and permissions as a local file system has them, checked as other users
(the mount runs as root with allow_other and default_permissions)."""

import errno
import os
import stat
import subprocess
import sys

import pytest


NOBODY = 65534
OTHER = 4242


def as_user(uid, gid, script):
    """Runs a shell snippet as another user; returns (exit code, stderr)."""
    result = subprocess.run(["sh", "-c", script], user=uid, group=gid, extra_groups=[], capture_output=True,
                            text=True, timeout=30)
    return result.returncode, result.stderr


@pytest.fixture
def d(shared_cluster, request):
    path = shared_cluster.mnt / request.node.name
    path.mkdir()
    os.chmod(path, 0o777)
    return path


def test_new_files_belong_to_the_caller(d):
    code, err = as_user(NOBODY, NOBODY, f"echo hi > {d}/mine && mkdir {d}/mydir")
    assert code == 0, err
    for name in ["mine", "mydir"]:
        st = (d / name).stat()
        assert (st.st_uid, st.st_gid) == (NOBODY, NOBODY)


def test_umask_is_applied(d):
    code, err = as_user(NOBODY, NOBODY, f"umask 027 && touch {d}/f && mkdir {d}/g")
    assert code == 0, err
    assert stat.S_IMODE((d / "f").stat().st_mode) == 0o640
    assert stat.S_IMODE((d / "g").stat().st_mode) == 0o750


def test_access_is_checked_for_other_users(d):
    secret = d / "secret"
    secret.write_bytes(b"root only")
    os.chmod(secret, 0o600)
    code, _ = as_user(NOBODY, NOBODY, f"cat {secret}")
    assert code != 0
    code, _ = as_user(NOBODY, NOBODY, f"echo x >> {secret}")
    assert code != 0
    os.chmod(secret, 0o644)
    code, err = as_user(NOBODY, NOBODY, f"cat {secret}")
    assert code == 0, err
    locked = d / "locked"
    locked.mkdir(mode=0o700)
    code, _ = as_user(NOBODY, NOBODY, f"touch {locked}/x")
    assert code != 0


def test_only_root_may_chown(d):
    code, err = as_user(NOBODY, NOBODY, f"touch {d}/f")
    assert code == 0, err
    code, _ = as_user(NOBODY, NOBODY, f"chown {OTHER} {d}/f")
    assert code != 0
    assert (d / "f").stat().st_uid == NOBODY


def test_setgid_directory_passes_its_group_on(d):
    shared = d / "shared"
    shared.mkdir()
    os.chown(shared, 0, OTHER)
    os.chmod(shared, 0o2777)
    code, err = as_user(NOBODY, NOBODY, f"touch {shared}/f && mkdir {shared}/sub")
    assert code == 0, err
    assert (shared / "f").stat().st_gid == OTHER
    sub = (shared / "sub").stat()
    assert sub.st_gid == OTHER and sub.st_mode & stat.S_ISGID


def test_sticky_bit_protects_other_users_files(d):
    tmp = d / "tmp"
    tmp.mkdir()
    os.chmod(tmp, 0o1777)
    code, err = as_user(OTHER, OTHER, f"touch {tmp}/theirs")
    assert code == 0, err
    code, _ = as_user(NOBODY, NOBODY, f"rm -f {tmp}/theirs")
    assert code != 0
    assert (tmp / "theirs").exists()
    code, _ = as_user(NOBODY, NOBODY, f"mv {tmp}/theirs {tmp}/stolen")
    assert code != 0
    code, err = as_user(OTHER, OTHER, f"rm {tmp}/theirs")
    assert code == 0, err


# The master checks every namespace request itself: a process that speaks the protocol
# directly, claiming a uid, may do what that uid may do and nothing more.

@pytest.fixture(scope="module")
def active_master(shared_cluster):
    return shared_cluster.wait_active()


@pytest.fixture
def ask(shared_cluster, active_master, wire):
    """ask(kind, caller, **fields): one `kind` request (an Envelope field) straight to the
    active master, with uid and gid `caller` as its credentials (none for get_attr); the reply."""
    def send(kind, caller, **fields):
        request = wire.Envelope(request_id=1)
        body = getattr(request, kind)
        body.SetInParent()
        for name, value in fields.items():
            setattr(body, name, value)
        if kind != "get_attr":
            body.credentials.uid = body.credentials.gid = caller
        answer = shared_cluster.ask(wire, active_master, request.SerializeToString())
        assert answer is not None, f"the master did not answer {kind}"
        return answer.reply
    return send


def owned(path, uid, mode):
    """Sets path's owner (uid, gid uid) and mode through the mount, and fsyncs it: a mount
    writing back may hold a chmod until then, and these tests ask the master by inode number,
    which recalls nothing. Its inode number."""
    os.chown(path, uid, uid)
    os.chmod(path, mode)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return path.stat().st_ino


def test_master_refuses_a_chmod_of_another_users_file(d, ask, wire):
    secret = d / "secret"
    secret.write_bytes(b"root only")
    inode = owned(secret, 0, 0o600)
    assert ask("set_attr", NOBODY, inode=inode, valid=wire.SET_ATTR_MODE, mode=0o666).error == errno.EPERM
    assert stat.S_IMODE(ask("get_attr", 0, inode=inode).attr.mode) == 0o600
    assert ask("set_attr", 0, inode=inode, valid=wire.SET_ATTR_MODE, mode=0o640).error == 0
    assert stat.S_IMODE(ask("get_attr", 0, inode=inode).attr.mode) == 0o640


def test_master_refuses_an_unlink_in_a_directory_the_uid_may_not_write(d, ask):
    (d / "roots").mkdir()
    parent = owned(d / "roots", 0, 0o755)
    (d / "roots" / "f").write_bytes(b"")
    assert ask("unlink", NOBODY, parent=parent, name=b"f").error == errno.EACCES
    assert ask("lookup", NOBODY, parent=parent, name=b"f").error == 0
    assert ask("unlink", 0, parent=parent, name=b"f").error == 0
    assert ask("lookup", 0, parent=parent, name=b"f").error == errno.ENOENT


def test_master_refuses_a_truncate_of_a_file_the_uid_may_not_write(d, ask, wire):
    (d / "f").write_bytes(b"")
    inode = owned(d / "f", 0, 0o644)
    assert ask("set_attr", NOBODY, inode=inode, valid=wire.SET_ATTR_SIZE, size=10).error == errno.EACCES
    assert ask("get_attr", 0, inode=inode).attr.size == 0
    owned(d / "f", 0, 0o646)
    assert ask("set_attr", NOBODY, inode=inode, valid=wire.SET_ATTR_SIZE, size=10).error == 0
    assert ask("get_attr", 0, inode=inode).attr.size == 10


def test_master_hands_out_chunks_only_to_a_uid_that_may_use_the_file(d, ask):
    secret = d / "secret"
    secret.write_bytes(b"root only" * 1000)
    inode = owned(secret, 0, 0o600)
    refused = ask("get_chunks", NOBODY, inode=inode, first_index=0, count=1)
    assert refused.error == errno.EACCES and not refused.locations
    assert ask("write_lease", NOBODY, inode=inode, chunk_index=0).error == errno.EACCES
    assert ask("write_done", NOBODY, inode=inode, end_offset=1 << 30).error == errno.EACCES
    assert ask("get_attr", 0, inode=inode).attr.size == 9000
    allowed = ask("get_chunks", 0, inode=inode, first_index=0, count=1)
    assert allowed.error == 0 and allowed.locations[0].chunk_id != 0
    # The owner passes whatever the bits say (a descriptor opened before a chmod); the
    # others by the bits.
    theirs = d / "theirs"
    theirs.write_bytes(b"")
    inode = owned(theirs, NOBODY, 0o404)
    assert ask("write_lease", NOBODY, inode=inode, chunk_index=0).error == 0
    assert ask("write_lease", OTHER, inode=inode, chunk_index=0).error == errno.EACCES
    assert ask("get_chunks", OTHER, inode=inode, first_index=0, count=1).error == 0


def test_a_descriptor_keeps_working_for_its_owner_whatever_the_mode(d):
    """A file created 0444 is written, truncated and read through the descriptor that made
    it, also after a fchmod to 0 (as on ext4)."""
    path = d / "readonly-from-birth"
    script = f"""
import os
fd = os.open({str(path)!r}, os.O_CREAT | os.O_RDWR, 0o444)
assert os.write(fd, b"x" * 100000) == 100000
os.ftruncate(fd, 70000)
os.fchmod(fd, 0)
assert os.pwrite(fd, b"tail", 70000) == 4
os.fsync(fd)
assert os.pread(fd, 100, 69998) == b"xxtail"
os.close(fd)
"""
    result = subprocess.run([sys.executable, "-c", script], user=NOBODY, group=NOBODY, extra_groups=[],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert path.stat().st_size == 70004
    assert stat.S_IMODE(path.stat().st_mode) == 0
    assert path.read_bytes() == b"x" * 70000 + b"tail"


def test_master_refuses_a_chown_by_anyone_but_root(d, ask, wire):
    (d / "f").write_bytes(b"")
    inode = owned(d / "f", NOBODY, 0o644)
    assert ask("set_attr", NOBODY, inode=inode, valid=wire.SET_ATTR_UID, uid=OTHER).error == errno.EPERM
    assert ask("set_attr", NOBODY, inode=inode, valid=wire.SET_ATTR_GID, gid=OTHER).error == errno.EPERM
    assert ask("get_attr", 0, inode=inode).attr.uid == NOBODY
    assert ask("set_attr", 0, inode=inode, valid=wire.SET_ATTR_UID, uid=OTHER).error == 0
    assert ask("get_attr", 0, inode=inode).attr.uid == OTHER


def test_master_refuses_a_rename_of_another_users_file_out_of_a_sticky_directory(d, ask):
    (d / "tmp").mkdir()
    tmp = owned(d / "tmp", 0, 0o1777)
    (d / "tmp" / "theirs").write_bytes(b"")
    owned(d / "tmp" / "theirs", OTHER, 0o666)
    target = d.stat().st_ino  # 0777
    rename = dict(parent=tmp, name=b"theirs", new_parent=target, new_name=b"stolen")
    assert ask("rename", NOBODY, **rename).error == errno.EPERM
    assert ask("lookup", NOBODY, parent=tmp, name=b"theirs").error == 0
    assert ask("rename", OTHER, **rename).error == 0
    assert ask("lookup", OTHER, parent=target, name=b"stolen").error == 0


def test_master_refuses_lookup_and_listing_of_another_users_private_directory(d, ask):
    (d / "private").mkdir()
    (d / "private" / "inside").write_bytes(b"")
    private = owned(d / "private", OTHER, 0o700)
    assert ask("lookup", NOBODY, parent=private, name=b"inside").error == errno.EACCES
    listing = ask("read_dir", NOBODY, inode=private)
    assert listing.error == errno.EACCES and not listing.entries
    assert ask("lookup", OTHER, parent=private, name=b"inside").error == 0
    assert [entry.name for entry in ask("read_dir", OTHER, inode=private).entries] == [b"inside"]
