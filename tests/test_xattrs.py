"""Extended attributes (user.*, trusted.*, security.*) and POSIX ACLs as ext4 has them: kept
by the master, seen by every mount, checked for every user, surviving a takeover."""

import ctypes
import errno
import os
import subprocess
import sys

import pytest
from conftest import wait_until

NOBODY = 65534


@pytest.fixture
def f(shared_cluster, request):
    directory = shared_cluster.mnt / request.node.name
    directory.mkdir()
    os.chmod(directory, 0o777)
    path = directory / "file"
    path.write_bytes(b"content\n")
    return path


def error_of(call, *args):
    with pytest.raises(OSError) as failed:
        call(*args)
    return failed.value.errno


def run(*command):
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=60)


def as_nobody(*command):
    return run("runuser", "-u", "nobody", "--", *command)


def acl_of(path, *flags):
    """getfacl's entries of `path` without its header, e.g. ["user::rw-", "user:nobody:r--", ...]."""
    result = run("getfacl", "-c", *flags, path)
    assert result.returncode == 0, result.stderr
    return [line.split("\t")[0] for line in result.stdout.splitlines() if line]


def test_attributes_set_on_one_mount_are_seen_and_changed_on_another(shared_cluster, f, tmp_path):
    big = os.urandom(65536)
    os.setxattr(f, "user.color", b"blue")
    os.setxattr(f, "user.empty", b"")
    os.setxattr(f, "user.big", big)
    os.setxattr(f, "trusted.t", b"root's")
    os.setxattr(f, "security.s", b"label")
    names = {"user.color", "user.empty", "user.big", "trusted.t", "security.s"}
    assert set(os.listxattr(f)) == names
    with shared_cluster.second_mount(tmp_path / "second") as second:
        other = second / f.relative_to(shared_cluster.mnt)
        assert os.getxattr(other, "user.color") == b"blue"
        assert os.getxattr(other, "user.empty") == b""
        assert os.getxattr(other, "user.big") == big
        assert set(os.listxattr(other)) == names
        os.setxattr(other, "user.color", b"red", os.XATTR_REPLACE)
        os.removexattr(other, "user.empty")
    assert os.getxattr(f, "user.color") == b"red"
    assert error_of(os.getxattr, f, "user.empty") == errno.ENODATA
    assert error_of(os.removexattr, f, "user.empty") == errno.ENODATA
    assert error_of(os.setxattr, f, "user.color", b"x", os.XATTR_CREATE) == errno.EEXIST
    assert error_of(os.setxattr, f, "user.none", b"x", os.XATTR_REPLACE) == errno.ENODATA
    assert error_of(os.setxattr, f, "user.too-big", b"v" * 65537) == errno.E2BIG
    assert error_of(os.setxattr, f, "user." + "n" * 251, b"x") == errno.ERANGE

    # The kernel's two-step protocol: a buffer too small for the value is ERANGE.
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(2)
    assert libc.getxattr(bytes(f), b"user.color", None, 0) == 3
    assert libc.getxattr(bytes(f), b"user.color", buffer, 2) == -1 and ctypes.get_errno() == errno.ERANGE


def test_other_users_get_what_the_mode_bits_and_namespaces_allow(f):
    os.setxattr(f, "user.color", b"blue")
    os.setxattr(f, "trusted.t", b"root's")
    os.setxattr(f, "security.s", b"label")
    os.chmod(f, 0o644)
    script = f"""
import errno, os
path = {str(f)!r}
def error_of(call, *args):
    try:
        call(*args)
    except OSError as e:
        return e.errno
    return 0
assert os.getxattr(path, "user.color") == b"blue"
assert os.getxattr(path, "security.s") == b"label"
assert sorted(os.listxattr(path)) == ["security.s", "user.color"], os.listxattr(path)
assert error_of(os.getxattr, path, "trusted.t") == errno.ENODATA
assert error_of(os.setxattr, path, "user.color", b"mine") == errno.EACCES
assert error_of(os.removexattr, path, "user.color") == errno.EACCES
assert error_of(os.setxattr, path, "security.s", b"mine") == errno.EPERM
assert error_of(os.setxattr, path, "trusted.t", b"mine") == errno.EPERM
"""
    result = subprocess.run([sys.executable, "-c", script], user=NOBODY, group=NOBODY, extra_groups=[],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    os.chmod(f, 0o646)
    result = subprocess.run([sys.executable, "-c", f"import os; os.setxattr({str(f)!r}, 'user.color', b'green')"],
                            user=NOBODY, group=NOBODY, extra_groups=[], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert os.getxattr(f, "user.color") == b"green"


def test_the_master_refuses_a_uid_that_claims_what_it_may_not(shared_cluster, f, wire):
    from test_bad_input import reply_of
    os.setxattr(f, "trusted.t", b"root's")
    os.chmod(f, 0o644)

    def reply_to(request):
        return reply_of(wire, shared_cluster.call(shared_cluster.wait_active(), request.SerializeToString()))

    def set_xattr(request_id, name, value, uid):
        request = wire.Envelope(request_id=request_id)
        request.set_xattr.inode = f.stat().st_ino
        request.set_xattr.name = name
        request.set_xattr.value = value
        request.set_xattr.credentials.uid = request.set_xattr.credentials.gid = uid
        return reply_to(request).error

    assert set_xattr(1, b"user.color", b"mine", NOBODY) == errno.EACCES
    request = wire.Envelope(request_id=2)
    request.get_xattr.inode = f.stat().st_ino
    request.get_xattr.name = b"trusted.t"
    request.get_xattr.credentials.uid = NOBODY
    reply = reply_to(request)
    assert reply.error == errno.ENODATA and not reply.xattr_value
    # POSIX ACLs: the owner's alone to set, whatever the kernel would have checked, and
    # malformed bytes are refused.
    assert set_xattr(3, b"system.posix_acl_access", b"\x02\0\0\0garbage!", NOBODY) == errno.EPERM
    assert set_xattr(4, b"system.posix_acl_access", b"\x02\0\0\0garbage!", 0) == errno.EINVAL


def test_an_acl_lets_another_user_in_and_every_mount_follows_it(shared_cluster, f):
    os.chmod(f, 0o600)
    assert as_nobody("cat", f).returncode != 0
    assert run("setfacl", "-m", "u:nobody:r", f).returncode == 0
    assert oct(f.stat().st_mode & 0o777) == oct(0o640), "the group bits show the mask"
    result = as_nobody("cat", f)
    assert result.returncode == 0 and result.stdout == "content\n", result.stderr
    # Where nobody reaches it (tmp_path is root's alone).
    with shared_cluster.second_mount(shared_cluster.root / "acl-second") as second:
        other = second / f.relative_to(shared_cluster.mnt)
        assert acl_of(other) == ["user::rw-", "user:nobody:r--", "group::---", "mask::r--", "other::---"]
        assert as_nobody("cat", other).returncode == 0
        assert run("chmod", "g-r", f).returncode == 0
        assert acl_of(f) == ["user::rw-", "user:nobody:r--", "group::---", "mask::---", "other::---"]
        assert "Permission denied" in as_nobody("cat", f).stderr, "the mask takes the named user's r away"
        wait_until(lambda: "mask::---" in acl_of(other), timeout_s=10, what="the chmod on the second mount")
        assert as_nobody("cat", other).returncode != 0
    assert run("setfacl", "-m", "m::r", f).returncode == 0
    assert as_nobody("cat", f).returncode == 0
    assert run("setfacl", "-x", "u:nobody", f).returncode == 0
    assert "Permission denied" in as_nobody("cat", f).stderr
    assert run("setfacl", "-b", f).returncode == 0
    assert "system.posix_acl_access" not in os.listxattr(f), "an ACL the mode bits say is not kept"
    result = as_nobody("setfacl", "-m", "u:nobody:rw", f.parent)
    assert result.returncode != 0 and "Operation not permitted" in result.stderr, "only the owner sets ACLs"


def test_a_default_acl_is_inherited_and_replaces_the_umask(f):
    shared = f.parent / "shared"
    shared.mkdir()
    assert run("setfacl", "-d", "-m", "u:nobody:rwx", shared).returncode == 0
    script = f"umask 077; echo hi > {shared}/file; mkdir {shared}/sub; echo plain > {f.parent}/plain"
    assert run("sh", "-c", script).returncode == 0
    assert oct((shared / "file").stat().st_mode & 0o777) == oct(0o664), "no umask under a default ACL"
    assert "user:nobody:rwx" in acl_of(shared / "file") and "mask::rw-" in acl_of(shared / "file")
    assert oct((shared / "sub").stat().st_mode & 0o777) == oct(0o775)
    assert "user:nobody:rwx" in acl_of(shared / "sub", "-d"), "a subdirectory inherits the default ACL"
    assert oct((f.parent / "plain").stat().st_mode & 0o777) == oct(0o600), "the umask without one"
    result = as_nobody("sh", "-c", f"echo more >> {shared}/file")
    assert result.returncode == 0, result.stderr
    assert "Permission denied" in as_nobody("cat", f.parent / "plain").stderr


def test_attributes_survive_a_takeover(shared_cluster, f, tmp_path):
    os.setxattr(f, "user.kept", b"across the takeover")
    assert run("setfacl", "-m", "u:nobody:rw", f).returncode == 0
    old = shared_cluster.wait_active()
    shared_cluster.kill(old)
    try:
        shared_cluster.wait_active(not_name=old)
        assert os.getxattr(f, "user.kept") == b"across the takeover"
        os.setxattr(f, "user.after", b"on the new active")
        with shared_cluster.second_mount(tmp_path / "second") as second:
            assert "user:nobody:rw-" in acl_of(second / f.relative_to(shared_cluster.mnt))
    finally:
        shared_cluster.start(old)
    assert os.getxattr(f, "user.after") == b"on the new active"
