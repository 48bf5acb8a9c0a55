"""Extended attributes (user.*, trusted.*, security.*) as ext4 has them: kept by the master,
seen by every mount, checked for every user, surviving a takeover."""

import ctypes
import errno
import os
import subprocess
import sys

import pytest

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
    request = wire.Envelope(request_id=1)
    request.set_xattr.inode = f.stat().st_ino
    request.set_xattr.name = b"user.color"
    request.set_xattr.value = b"mine"
    request.set_xattr.credentials.uid = request.set_xattr.credentials.gid = NOBODY
    reply = reply_of(wire, shared_cluster.call(shared_cluster.wait_active(), request.SerializeToString()))
    assert reply.error == errno.EACCES
    request = wire.Envelope(request_id=2)
    request.get_xattr.inode = f.stat().st_ino
    request.get_xattr.name = b"trusted.t"
    request.get_xattr.credentials.uid = NOBODY
    reply = reply_of(wire, shared_cluster.call(shared_cluster.wait_active(), request.SerializeToString()))
    assert reply.error == errno.ENODATA and not reply.xattr_value


def test_attributes_survive_a_takeover(shared_cluster, f):
    os.setxattr(f, "user.kept", b"across the takeover")
    old = shared_cluster.wait_active()
    shared_cluster.kill(old)
    try:
        shared_cluster.wait_active(not_name=old)
        assert os.getxattr(f, "user.kept") == b"across the takeover"
        os.setxattr(f, "user.after", b"on the new active")
    finally:
        shared_cluster.start(old)
    assert os.getxattr(f, "user.after") == b"on the new active"
