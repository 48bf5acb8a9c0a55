"""Every file system operation the mount offers, checked through the kernel on a real mount."""

import ctypes
import errno
import os
import stat
import subprocess

import pytest
from conftest import wait_until

libc = ctypes.CDLL(None, use_errno=True)
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
AT_FDCWD = -100
FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2
FALLOC_FL_COLLAPSE_RANGE = 8
MiB = 1024**2
CHUNK = 64 * MiB


def renameat2(old, new, flags):
    if libc.renameat2(AT_FDCWD, os.fsencode(old), AT_FDCWD, os.fsencode(new), flags) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def fallocate(fd, mode, offset, length):
    """fallocate(2) itself: Python's os.posix_fallocate writes zeros where it is missing."""
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
    if libc.fallocate(fd, mode, offset, length) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


@pytest.fixture
def d(shared_cluster, request):
    """A fresh directory per test inside the shared mount."""
    path = shared_cluster.mnt / request.node.name
    path.mkdir()
    return path


def test_create_write_read_and_getattr(d):
    f = d / "file"
    f.write_bytes(b"hello hafs")
    assert f.read_bytes() == b"hello hafs"
    st = f.stat()
    assert stat.S_ISREG(st.st_mode) and st.st_size == 10 and st.st_nlink == 1


def test_mkdir_readdir_rmdir(d):
    for name in ["a", "b", "c"]:
        (d / name).mkdir()
    (d / "file").write_bytes(b"x")
    assert sorted(os.listdir(d)) == ["a", "b", "c", "file"]
    assert os.stat(d).st_nlink == 5  # 2 + three subdirectories
    with pytest.raises(OSError) as failure:
        os.rmdir(d / "nope")
    assert failure.value.errno == errno.ENOENT
    (d / "a" / "inner").mkdir()
    with pytest.raises(OSError) as failure:
        os.rmdir(d / "a")
    assert failure.value.errno == errno.ENOTEMPTY
    os.rmdir(d / "b")
    assert sorted(os.listdir(d)) == ["a", "c", "file"]


def test_large_directory_listing(d):
    names = {f"entry-{i:05d}" for i in range(3000)}
    for name in names:
        (d / name).touch()
    assert set(os.listdir(d)) == names


def test_unlink(d):
    f = d / "file"
    f.write_bytes(b"data")
    f.unlink()
    assert not f.exists()
    with pytest.raises(FileNotFoundError):
        f.unlink()


def test_chmod_chown_utimens(d):
    f = d / "file"
    f.write_bytes(b"x")
    os.chmod(f, 0o640)
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    os.chown(f, 1234, 5678)
    assert (f.stat().st_uid, f.stat().st_gid) == (1234, 5678)
    os.utime(f, ns=(1_000_000_123, 2_000_000_456))
    st = f.stat()
    assert (st.st_atime_ns, st.st_mtime_ns) == (1_000_000_123, 2_000_000_456)
    before = f.stat().st_mtime_ns
    os.utime(f)  # UTIME_NOW
    assert f.stat().st_mtime_ns > before


def test_truncate_shrink_and_grow(d):
    f = d / "file"
    f.write_bytes(b"abcdefghij")
    os.truncate(f, 5)
    assert f.read_bytes() == b"abcde"
    os.truncate(f, 10)
    assert f.read_bytes() == b"abcde" + b"\0" * 5
    with open(f, "r+b") as handle:
        handle.truncate(0)
    assert f.stat().st_size == 0


def test_mknod_fifo(d):
    fifo = d / "fifo"
    os.mkfifo(fifo, 0o600)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_symlink_and_readlink(d):
    (d / "target").write_bytes(b"pointed at")
    os.symlink("target", d / "link")
    assert os.readlink(d / "link") == "target"
    assert (d / "link").read_bytes() == b"pointed at"
    assert stat.S_ISLNK(os.lstat(d / "link").st_mode)


def test_hard_links(d):
    (d / "one").write_bytes(b"shared")
    os.link(d / "one", d / "two")
    assert (d / "one").stat().st_nlink == 2
    assert (d / "one").stat().st_ino == (d / "two").stat().st_ino
    (d / "one").unlink()
    assert (d / "two").read_bytes() == b"shared"
    assert (d / "two").stat().st_nlink == 1


def test_rename_within_across_and_over(d):
    (d / "a").write_bytes(b"A")
    (d / "sub").mkdir()
    os.rename(d / "a", d / "b")
    assert (d / "b").read_bytes() == b"A"
    os.rename(d / "b", d / "sub" / "c")
    assert (d / "sub" / "c").read_bytes() == b"A"
    (d / "other").write_bytes(b"O")
    os.rename(d / "other", d / "sub" / "c")  # over an existing file
    assert (d / "sub" / "c").read_bytes() == b"O"
    assert sorted(os.listdir(d)) == ["sub"]


def test_rename_directories_without_cycles(d):
    (d / "x" / "y").mkdir(parents=True)
    (d / "z").mkdir()
    os.rename(d / "x", d / "z" / "x")
    assert (d / "z" / "x" / "y").is_dir()
    with pytest.raises(OSError) as failure:
        os.rename(d / "z", d / "z" / "x" / "y" / "z")
    assert failure.value.errno == errno.EINVAL
    (d / "empty").mkdir()
    os.rename(d / "z", d / "empty")  # over an empty directory
    assert (d / "empty" / "x" / "y").is_dir()


def test_rename_noreplace_and_exchange(d):
    (d / "a").write_bytes(b"A")
    (d / "b").write_bytes(b"B")
    with pytest.raises(OSError) as failure:
        renameat2(d / "a", d / "b", RENAME_NOREPLACE)
    assert failure.value.errno == errno.EEXIST
    renameat2(d / "a", d / "b", RENAME_EXCHANGE)
    assert (d / "a").read_bytes() == b"B" and (d / "b").read_bytes() == b"A"


def test_append(d):
    f = d / "log"
    for i in range(5):
        with open(f, "ab") as handle:
            handle.write(f"line {i}\n".encode())
    assert f.read_bytes() == b"".join(f"line {i}\n".encode() for i in range(5))


def test_sparse_file_and_offset_beyond_4gib(d):
    f = d / "sparse"
    with open(f, "wb") as handle:
        handle.seek(5 * 1024**3 + 123)
        handle.write(b"far away")
    assert f.stat().st_size == 5 * 1024**3 + 123 + 8
    with open(f, "rb") as handle:
        handle.seek(5 * 1024**3 + 100)
        assert handle.read(31) == b"\0" * 23 + b"far away"
        handle.seek(1024**3)
        assert handle.read(4096) == b"\0" * 4096
    # st_blocks counts what is stored, not the holes (du shows a few bytes, not 5 GiB).
    assert 0 < f.stat().st_blocks * 512 < 1024**2
    grown = d / "grown"
    grown.write_bytes(b"")
    os.truncate(grown, 1024**3)
    assert grown.stat().st_blocks == 0
    dense = d / "dense"
    dense.write_bytes(os.urandom(300_000))
    assert dense.stat().st_blocks * 512 >= 300_000


def test_fallocate_reserves_space(d):
    f = d / "reserved"
    f.write_bytes(b"head")
    fd = os.open(f, os.O_RDWR)
    try:
        fallocate(fd, 0, 0, 3 * MiB)
        st = os.fstat(fd)
        assert st.st_size == 3 * MiB and st.st_blocks * 512 >= 3 * MiB
        # KEEP_SIZE: counted in st_blocks, the size stays.
        fallocate(fd, FALLOC_FL_KEEP_SIZE, 3 * MiB, 2 * MiB)
        st = os.fstat(fd)
        assert st.st_size == 3 * MiB and st.st_blocks * 512 >= 5 * MiB
        with pytest.raises(OSError) as refused:
            fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, CHUNK)
        assert refused.value.errno == errno.EOPNOTSUPP
    finally:
        os.close(fd)
    assert f.read_bytes() == b"head" + bytes(3 * MiB - 4)
    # A truncate frees what was reserved past the end.
    os.truncate(f, MiB)
    assert f.stat().st_blocks * 512 == MiB


def test_fallocate_punch_hole(shared_cluster, d):
    # Inside one chunk: zeros in the hole, the bytes around it and the size kept.
    f = d / "punched"
    data = bytearray(os.urandom(3 * MiB))
    f.write_bytes(data)
    fd = os.open(f, os.O_RDWR)
    try:
        fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, MiB + 100, MiB)
        with pytest.raises(OSError) as refused:  # as Linux: a hole never changes the size
            fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, MiB)
        assert refused.value.errno == errno.EOPNOTSUPP
    finally:
        os.close(fd)
    data[MiB + 100 : 2 * MiB + 100] = bytes(MiB)
    assert f.stat().st_size == 3 * MiB
    assert f.read_bytes() == data
    # A hole over a whole chunk: the chunk goes, from the master and from the chunkservers.
    big = d / "over_a_chunk"
    head, tail = os.urandom(MiB), os.urandom(MiB)
    with open(big, "wb") as handle:
        handle.write(head)
        handle.seek(CHUNK)
        handle.write(tail)
    first_chunk = shared_cluster.hafs_json("fileinfo", str(big))["chunks"][0]["id"]
    blocks_before = big.stat().st_blocks
    fd = os.open(big, os.O_RDWR)
    try:
        fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, CHUNK)
    finally:
        os.close(fd)
    assert big.stat().st_blocks * 512 == blocks_before * 512 - CHUNK
    with open(big, "rb") as handle:
        assert handle.read(MiB) == bytes(MiB)
        handle.seek(CHUNK)
        assert handle.read() == tail
    name = f"{first_chunk:016x}.chunk"

    def first_chunk_gone():
        return all(
            name not in {p.name for p in shared_cluster.chunk_files(f"cs{i}")}
            for i in range(1, shared_cluster.chunkservers + 1)
        )

    wait_until(first_chunk_gone, timeout_s=15, what="the punched chunk's files to be deleted")


def test_o_tmpfile_is_not_supported(d):
    # libfuse 3.14 has no tmpfile operation (docs/design.md, "fallocate"): applications
    # hear EOPNOTSUPP, on which they fall back to a named temporary file.
    with pytest.raises(OSError) as refused:
        os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
    assert refused.value.errno == errno.EOPNOTSUPP
    assert os.listdir(d) == []


def test_statfs(shared_cluster, d):
    st = os.statvfs(d)
    assert st.f_blocks > 0 and st.f_bfree > 0 and st.f_bsize > 0
    # Three chunkservers on one disk: the disk is counted once, not three times.
    disk = os.statvfs(shared_cluster.root)
    size = disk.f_blocks * disk.f_frsize
    assert abs(st.f_blocks * st.f_frsize - size) <= 0.01 * size
    # Free and available as the disk's (root's reserved blocks are free, not available), so
    # df's Use% is the disk's.
    assert abs(st.f_bfree * st.f_frsize - disk.f_bfree * disk.f_frsize) <= 0.01 * size
    assert abs(st.f_bavail * st.f_frsize - disk.f_bavail * disk.f_frsize) <= 0.01 * size


def test_fsync_and_mount_shows_in_proc_mounts(shared_cluster, d):
    with open(d / "f", "wb") as handle:
        handle.write(b"durable")
        handle.flush()
        os.fsync(handle.fileno())
    mounts = open("/proc/mounts").read()
    assert f" {shared_cluster.mnt} fuse.hafs " in mounts


def test_tar_round_trip(d):
    """A tree of many small files, directories and links extracted and compared."""
    source = "/usr/include/linux"
    subprocess.run(["tar", "-C", "/usr/include", "-cf", str(d / "t.tar"), "linux"], check=True)
    (d / "x").mkdir()
    subprocess.run(["tar", "-C", str(d / "x"), "-xf", str(d / "t.tar")], check=True)
    subprocess.run(["diff", "-r", source, str(d / "x" / "linux")], check=True)
