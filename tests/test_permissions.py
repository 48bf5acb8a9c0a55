"""POSIX ownership and permissions as a local file system has them, checked as other users
(the mount runs as root with allow_other and default_permissions)."""

import errno
import os
import stat
import subprocess

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
