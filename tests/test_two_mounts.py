"""Two mounts of one cluster, as two hosts have it: `tools/hafs-local up --mounts 2` gives a
second mount (mount2) at $HAFS_LOCAL_DIR/mnt2, started, stopped and listed like any daemon."""

import contextlib
import errno
import json
import os
import random
import subprocess
import sys
import time

import pytest

from conftest import wait_until
from test_bad_input import reply_of
from test_metrics import daemons, scrape, value
from test_write_back import master_requests, new_chunks


def mounted(where) -> bool:
    return f" {where} fuse.hafs " in open("/proc/mounts").read()


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


def open_unlinked(cluster):
    """How many open-unlinked files the active master keeps (None while none answers)."""
    status = cluster.status()
    return None if status is None else status["files"]["open_unlinked"]


def chunk_ids(cluster, path):
    return [chunk["id"] for chunk in cluster.hafs_json("fileinfo", str(path))["chunks"]]


def stored(cluster, ids) -> bool:
    """Whether any chunkserver still stores a chunk of `ids`."""
    names = {f"{chunk_id:016x}.chunk" for chunk_id in ids}
    return any(f.name in names for cs in ("cs1", "cs2", "cs3") for f in cluster.chunk_files(cs))


def test_a_file_unlinked_or_replaced_while_open_keeps_its_bytes_on_every_mount_until_the_last_close(two):
    cluster = two
    mnt1, mnt2 = cluster.mnt, cluster.root / "mnt2"
    content = os.urandom(3 << 20)
    (mnt1 / "open-unlinked").write_bytes(content)
    ids = chunk_ids(cluster, mnt1 / "open-unlinked")
    on_two = open(mnt2 / "open-unlinked", "r+b")
    on_one = open(mnt1 / "open-unlinked", "rb")
    try:
        os.unlink(mnt1 / "open-unlinked")
        wait_until(lambda: not (mnt2 / "open-unlinked").exists(), timeout_s=5, what="the name gone on mount 2")
        assert on_two.read() == content, "the other mount reads every byte, not a short read"
        assert os.fstat(on_two.fileno()).st_nlink == 0 and os.fstat(on_two.fileno()).st_size == len(content)
        on_two.seek(len(content))
        on_two.write(b"appended after the unlink")
        on_two.flush()
        os.fsync(on_two.fileno())
        wait_until(lambda: os.fstat(on_one.fileno()).st_size == len(content) + 25, timeout_s=5,
                   what="mount 1 to see the size mount 2 wrote")
        assert on_one.read(1 << 20) == content[:1 << 20], "the mount that unlinked it reads it too"
        wait_until(lambda: open_unlinked(cluster) == 1, timeout_s=10, what="hafs status to count it")
        on_two.close()
        assert open_unlinked(cluster) == 1 and stored(cluster, ids), "mount 1 still has it open"
    finally:
        on_two.close()
        on_one.close()
    wait_until(lambda: open_unlinked(cluster) == 0, timeout_s=10, what="the file to go at its last close")
    wait_until(lambda: not stored(cluster, ids), timeout_s=30, what="its chunks to be deleted")

    # A rename over a file open on the other mount: that mount keeps the old bytes.
    (mnt1 / "replaced").write_bytes(b"old bytes\n")
    with open(mnt1 / "replaced", "rb") as old:
        (mnt2 / "new").write_bytes(b"new bytes\n")
        os.rename(mnt2 / "new", mnt2 / "replaced")
        assert old.read() == b"old bytes\n"
        wait_until(lambda: (mnt1 / "replaced").read_bytes() == b"new bytes\n", timeout_s=3,
                   what="mount 1 to see the new file under the name")
    wait_until(lambda: open_unlinked(cluster) == 0, timeout_s=10, what="the replaced file to go at its close")


def test_an_open_unlinked_file_outlives_a_takeover_and_goes_when_its_mount_dies(two):
    cluster = two
    mnt1, mnt2 = cluster.mnt, cluster.root / "mnt2"
    content = os.urandom(1 << 20)
    (mnt1 / "through-takeover").write_bytes(content)
    ids = chunk_ids(cluster, mnt1 / "through-takeover")
    held = open(mnt2 / "through-takeover", "rb")
    try:
        os.unlink(mnt1 / "through-takeover")
        old_active = cluster.wait_active()
        cluster.kill(old_active)
        cluster.wait_active(not_name=old_active)
        assert held.read() == content
        # Past the new active's grace (a third of the 2 s session timeout and 2 s) it is still
        # there: mount 2 re-asserted what it holds.
        grace_end = time.monotonic() + 3
        wait_until(lambda: time.monotonic() > grace_end and open_unlinked(cluster) == 1, timeout_s=15,
                   what="the grace to pass with the file kept")
        held.seek(0)
        assert held.read() == content
        # kill -9 of the mount that holds it: its session ends after the timeout, and the file with it.
        cluster.kill("mount2")
    finally:
        with contextlib.suppress(OSError):  # its mount is gone
            held.close()
    wait_until(lambda: open_unlinked(cluster) == 0, timeout_s=15, what="the dead mount's file to go")
    wait_until(lambda: not stored(cluster, ids), timeout_s=30, what="its chunks to be deleted")
    cluster.start("mount2")
    cluster.start(old_active)
    cluster.wait_standby_in_sync(old_active)


def test_a_rename_or_unlink_on_one_mount_is_seen_at_once_on_the_other(two):
    cluster = two
    mnt1, mnt2 = cluster.mnt, cluster.root / "mnt2"
    for name in ("w-unlinked", "w-renamed", "w-replaced", "w-newcomer"):
        (mnt1 / name).write_bytes(name.encode())
        assert (mnt2 / name).read_bytes() == name.encode()  # now in mount 2's kernel cache
    os.unlink(mnt1 / "w-unlinked")
    os.rename(mnt1 / "w-renamed", mnt1 / "w-moved")
    os.rename(mnt1 / "w-newcomer", mnt1 / "w-replaced")
    # Well within the 60 s the kernel would keep them.
    wait_until(lambda: not (mnt2 / "w-unlinked").exists(), timeout_s=3, what="mount 2 to drop the unlinked name")
    wait_until(lambda: not (mnt2 / "w-renamed").exists(), timeout_s=3, what="mount 2 to drop the old name")
    assert (mnt2 / "w-moved").read_bytes() == b"w-renamed"
    wait_until(lambda: (mnt2 / "w-replaced").read_bytes() == b"w-newcomer", timeout_s=3,
               what="mount 2 to see the file that replaced the name")


def fuse_operations(cluster, mount, *ops):
    """How many of `ops` the mount `mount` served: its kernel asked it, not its cache."""
    samples = scrape(daemons(cluster)[mount]["metrics"])
    return sum(value(samples, "hafs_mount_operations_total", op=op) for op in ops)


def test_a_mount_answers_from_its_cache_until_another_mount_changes_what_it_cached(two):
    cluster = two
    mnt1, mnt2 = cluster.mnt, cluster.root / "mnt2"
    (mnt1 / "cached").write_bytes(b"12345")
    os.mkdir(mnt1 / "cached-dir")
    assert os.stat(mnt2 / "cached").st_size == 5 and not (mnt2 / "cached-dir" / "later").exists()
    before = fuse_operations(cluster, "mount2", "getattr", "lookup")
    for _ in range(50):
        os.stat(mnt2 / "cached")
        assert not (mnt2 / "cached-dir" / "later").exists()
    # Within one lease (1.33 s here) at most a renewal or two, not a hundred round trips.
    assert fuse_operations(cluster, "mount2", "getattr", "lookup") - before <= 4

    # Each change is seen on mount 2 as soon as it returned on mount 1.
    os.chmod(mnt1 / "cached", 0o600)
    assert os.stat(mnt2 / "cached").st_mode & 0o777 == 0o600
    with open(mnt1 / "cached", "ab") as f:
        f.write(b"678")
    assert os.stat(mnt2 / "cached").st_size == 8
    (mnt1 / "cached-dir" / "later").write_bytes(b"")
    assert (mnt2 / "cached-dir" / "later").exists(), "the absent name was cached, and recalled"
    os.link(mnt1 / "cached", mnt1 / "cached-dir" / "hard")
    assert os.stat(mnt2 / "cached").st_nlink == 2
    os.utime(mnt1 / "cached", (1_000_000, 2_000_000))
    assert os.stat(mnt2 / "cached").st_mtime == 2_000_000
    os.setxattr(mnt1 / "cached", "user.k", b"v")
    assert os.getxattr(mnt2 / "cached", "user.k") == b"v"
    os.rename(mnt1 / "cached-dir" / "later", mnt1 / "cached-dir" / "moved")
    assert sorted(os.listdir(mnt2 / "cached-dir")) == ["hard", "moved"]
    assert not (mnt2 / "cached-dir" / "later").exists()


def test_a_hung_mount_delays_changes_to_what_it_caches_by_at_most_its_lease(two):
    cluster = two
    mnt1, mnt2 = cluster.mnt, cluster.root / "mnt2"
    (mnt1 / "hung").write_bytes(b"x")
    assert os.stat(mnt2 / "hung").st_mode & 0o777 == 0o644
    cluster.local("pause", "mount2")
    try:
        started = time.monotonic()
        os.chmod(mnt1 / "hung", 0o640)  # waits for mount 2's lease to end: its kernel may use it
        waited = time.monotonic() - started
        os.chmod(mnt1 / "hung", 0o600)  # mount 2 holds nothing more
    finally:
        cluster.local("resume", "mount2")
    assert waited < 1.4 + 3, f"a change waited {waited:.1f} s for a hung mount, past its 1.33 s lease"
    assert os.stat(mnt2 / "hung").st_mode & 0o777 == 0o600


CREATOR = """
import os, sys
where, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(count):
    os.close(os.open(os.path.join(where, f"{tag}-{i}"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    os.stat(os.path.join(where, f"{tag}-{i}"))
"""


def test_two_mounts_creating_in_one_directory_at_once_do_not_wait_for_each_other(two):
    """Each create recalls the other mount's lease on the directory, whose kernel holds the
    directory locked for its own create: neither waits for the other's lease to run out."""
    cluster = two
    mnt1, mnt2 = cluster.mnt, cluster.root / "mnt2"
    os.mkdir(mnt1 / "busy")
    assert os.listdir(mnt2 / "busy") == []
    active = daemons(cluster)[cluster.wait_active()]["metrics"]
    timed_out = value(scrape(active), "hafs_metadata_recalls_timed_out_total")
    creators = [subprocess.Popen([sys.executable, "-c", CREATOR, str(where / "busy"), tag, "150"])
                for where, tag in ((mnt1, "one"), (mnt2, "two"))]
    for creator in creators:
        assert creator.wait(timeout=120) == 0
    assert value(scrape(active), "hafs_metadata_recalls_timed_out_total") == timed_out
    want = sorted(f"{tag}-{i}" for tag in ("one", "two") for i in range(150))
    assert sorted(os.listdir(mnt1 / "busy")) == want and sorted(os.listdir(mnt2 / "busy")) == want


def test_what_a_mount_cached_from_the_old_active_is_dropped_before_the_new_one_changes_it(two):
    """A change the new active answers right after a takeover is seen on the other mount: the
    new active knows which sessions may hold the old active's leases, and waits until they
    dropped their caches."""
    cluster = two
    mnt1, mnt2 = cluster.mnt, cluster.root / "mnt2"
    (mnt1 / "through").write_bytes(b"x")
    assert os.stat(mnt2 / "through").st_mode & 0o777 == 0o644
    assert not (mnt2 / "through-new").exists()
    old_active = cluster.wait_active()
    cluster.kill(old_active)
    os.chmod(mnt1 / "through", 0o600)  # answered by the new active
    (mnt1 / "through-new").write_bytes(b"")
    assert os.stat(mnt2 / "through").st_mode & 0o777 == 0o600
    assert (mnt2 / "through-new").exists()
    cluster.start(old_active)
    cluster.wait_standby_in_sync(old_active)


class Tree:
    """One directory tree under several roots: applies an operation to one root and says what
    happened (None, or the errno of the failure)."""

    def __init__(self, rng):
        self.rng = rng

    def apply(self, root, op, args):
        try:
            getattr(self, op)(root, *args)
            return None
        except OSError as error:
            return errno.errorcode.get(error.errno, error.errno)

    @staticmethod
    def write(root, path, data, offset):
        fd = os.open(root / path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, data, offset)
        finally:
            os.close(fd)

    @staticmethod
    def append(root, path, data):
        with open(root / path, "ab") as f:
            f.write(data)

    @staticmethod
    def truncate(root, path, size):
        os.truncate(root / path, size)

    @staticmethod
    def mkdir(root, path):
        os.mkdir(root / path)

    @staticmethod
    def rmdir(root, path):
        os.rmdir(root / path)

    @staticmethod
    def unlink(root, path):
        os.unlink(root / path)

    @staticmethod
    def rename(root, path, new_path):
        os.rename(root / path, root / new_path)

    @staticmethod
    def link(root, path, new_path):
        os.link(root / path, root / new_path)

    @staticmethod
    def symlink(root, target, path):
        os.symlink(target, root / path)

    @staticmethod
    def chmod(root, path, mode):
        os.chmod(root / path, mode)


def stat_of(root, path):
    """What a stat shows of `path` that a local directory and hafs agree on (or its errno)."""
    try:
        st = os.lstat(root / path)
    except OSError as error:
        return errno.errorcode.get(error.errno, error.errno)
    kind = st.st_mode & 0o170000
    if kind == 0o120000:
        return (kind,)
    if kind == 0o040000:
        return (kind, st.st_mode & 0o7777)
    return (kind, st.st_mode & 0o7777, st.st_size, st.st_nlink)


def snapshot(root):
    """What a reader sees under `root`: each path's type and content (files read through a
    fresh open: close-to-open), symlinks' targets."""
    seen = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                seen[relative] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                seen[relative] = ("dir",)
            else:
                with open(path, "rb") as f:
                    seen[relative] = ("file", f.read())
    return seen


def random_operation(rng, names):
    """An operation on a few names, often ones that exist, sometimes ones that do not."""
    def name():
        parts = rng.choice([[], ["d1"], ["d2"], ["d1", "d3"]])
        return "/".join(parts + [rng.choice(names)])
    op = rng.choice(["write", "write", "append", "truncate", "mkdir", "rmdir", "unlink", "unlink", "rename",
                     "rename", "link", "symlink", "chmod"])
    if op == "write":
        return op, (name(), rng.randbytes(rng.choice([1, 100, 5000, 70000])), rng.choice([0, 0, 10, 4096, 100000]))
    if op == "append":
        return op, (name(), rng.randbytes(rng.choice([1, 300, 9000])))
    if op == "truncate":
        return op, (name(), rng.choice([0, 7, 5000, 200000]))
    if op in ("rename", "link"):
        return op, (name(), name())
    if op == "symlink":
        return op, (rng.choice(["a", "../b", "/nowhere"]), name())
    if op == "chmod":
        return op, (name(), rng.choice([0o600, 0o644, 0o755, 0o700]))
    return op, (name(),)


def test_random_operations_on_two_mounts_match_a_local_directory(two, tmp_path):
    """The same random namespace and data operations, each on a random mount, and on a local
    directory: every operation fails or succeeds alike, right after it both mounts stat a few
    names as the local directory does (their kernels cache attributes and names, absent ones
    too, under leases the change recalled), and both mounts show the local tree."""
    seed = int(os.environ.get("HAFS_MODEL_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    roots = [two.mnt / "model", two.root / "mnt2" / "model"]
    local = tmp_path / "model"
    for root in (roots[0], local):
        os.mkdir(root)
    tree = Tree(rng)
    names = ["a", "b", "c", "d1", "d2", "d3"]
    history = []
    for step in range(160):
        op, args = random_operation(rng, names)
        mount = rng.randrange(2)
        history.append((mount, op, args[:1] + args[2:] if op == "write" else args))
        expected = tree.apply(local, op, args)
        got = tree.apply(roots[mount], op, args)
        assert got == expected, f"seed {seed}, step {step}: {history[-8:]}"
        for path in {args[0] if op != "symlink" else args[1], random_operation(rng, names)[1][0]}:
            want = stat_of(local, path)
            for root in roots:
                assert stat_of(root, path) == want, f"seed {seed}, step {step}, stat {root}/{path}: {history[-8:]}"
        if step % 20 == 19:
            want = snapshot(local)
            for root in roots:
                assert snapshot(root) == want, f"seed {seed}, step {step}, {root}: {history[-8:]}"


APPENDER = """
import os, sys
path, tag, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
for i in range(count):
    record = f"{tag}-{i:05d}-".encode()
    os.write(fd, record + b"x" * (size - len(record) - 1) + b"\\n")
os.close(fd)
"""


def append_from_both_mounts(cluster, name, count, size):
    """Two processes, one per mount, appending `count` records of `size` bytes at once."""
    writers = [subprocess.Popen([sys.executable, "-c", APPENDER, str(where / name), tag, str(count), str(size)])
               for where, tag in ((cluster.mnt, "one"), (cluster.root / "mnt2", "two"))]
    try:
        assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    finally:
        for writer in writers:
            writer.kill()
    return (cluster.mnt / name).read_bytes()


def test_appends_from_two_mounts_land_at_the_clusters_end_whole(two):
    cluster = two
    mnt1, mnt2 = cluster.mnt, cluster.root / "mnt2"
    # One after the other: each mount's append lands after the other's.
    for i in range(3):
        for where in (mnt1, mnt2):
            with open(where / "log", "a") as log:
                log.write(f"{where.name} {i}\n")
    assert (mnt2 / "log").read_text() == "".join(f"mnt {i}\nmnt2 {i}\n" for i in range(3))

    # At once: no record lost, none torn, each mount's in its own order.
    data = append_from_both_mounts(cluster, "lines", 200, 64)
    records = data.split(b"\n")[:-1]
    assert len(data) == 400 * 64 and all(len(record) == 63 for record in records)
    for tag in (b"one", b"two"):
        assert [int(r.split(b"-")[1]) for r in records if r.startswith(tag + b"-")] == list(range(200))

    # Records just under 1 MiB (the kernel's largest request is 1 MiB of pages): whole too.
    size = (1 << 20) - 4096
    data = append_from_both_mounts(cluster, "big", 3, size)
    assert len(data) == 6 * size
    heads = sorted(data[at:at + 9] for at in range(0, len(data), size))
    assert heads == sorted(f"{tag}-{i:05d}".encode() for tag in ("one", "two") for i in range(3))
    assert all(data[at + 10:at + size - 1] == b"x" * (size - 11) for at in range(0, len(data), size))


def sessions(cluster) -> dict:
    """The active master's sessions, by mount point ({} while no master answers)."""
    result = cluster.hafs("--json", "sessions", check=False)
    if result.returncode != 0:
        return {}
    return {session["mount_point"]: session for session in json.loads(result.stdout)["sessions"]}


def test_changes_written_back_on_one_mount_are_seen_by_the_other_at_once(two):
    cluster = two
    mnt1, mnt2 = cluster.mnt, cluster.root / "mnt2"
    base = mnt1 / "wb-visible"
    base.mkdir()
    mknods_before = master_requests(cluster, "mknod")
    expected = set()
    for i in range(200):
        (base / f"f{i:03}").write_bytes(b"")
        expected.add(f"f{i:03}")
    (base / "sub").mkdir()
    (base / "sub" / "inner").write_bytes(b"")
    (base / "sub" / "gone").mkdir()
    os.rmdir(base / "sub" / "gone")
    for i in range(0, 200, 2):
        os.unlink(base / f"f{i:03}")
        expected.discard(f"f{i:03}")
    expected.add("sub")
    renames_before = master_requests(cluster, "rename")
    (base / "f005").write_bytes(b"five")
    os.rename(base / "f001", base / "r001")  # within the directory
    os.rename(base / "f003", base / "sub" / "moved")  # into another delegated directory
    os.rename(base / "f005", base / "f007")  # over a file made here too
    expected -= {"f001", "f003", "f005"}
    expected.add("r001")
    # Made locally: far fewer creates reached the master one by one than were made, and not
    # every rename (on a loaded machine a delegation can lapse between two watch answers, and
    # the mount then asks the master).
    assert master_requests(cluster, "mknod") - mknods_before < 20
    assert master_requests(cluster, "rename") - renames_before < 3
    # The other mount looks: the delegation is recalled, flushed, and everything is there.
    assert set(os.listdir(mnt2 / "wb-visible")) == expected
    assert sorted(os.listdir(mnt2 / "wb-visible" / "sub")) == ["inner", "moved"]
    assert (mnt2 / "wb-visible" / "f007").read_bytes() == b"five"
    assert os.stat(mnt2 / "wb-visible" / "f009").st_ino == os.stat(base / "f009").st_ino
    assert not (mnt2 / "wb-visible" / "f000").exists()
    # ... and the other way round, after it changed the directory.
    (mnt2 / "wb-visible" / "from2").write_bytes(b"x")
    assert (base / "from2").read_bytes() == b"x"
    os.unlink(base / "from2")
    assert not (mnt2 / "wb-visible" / "from2").exists()


def test_a_tree_extracted_under_write_back_reaches_the_other_mount_with_its_bytes_modes_and_times(two, tmp_path):
    """tar writes each file, sets its times, owner and mode through the open descriptor and
    closes it: all of that but the first write's lease stays on the mount until it ships."""
    cluster = two
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    files = {f"f{i:02}": os.urandom(100 + 997 * i) for i in range(30)}
    files.update({f"sub/g{i}": os.urandom(5000) for i in range(5)})
    for i, (name, data) in enumerate(sorted(files.items())):
        (source / name).write_bytes(data)
        os.chmod(source / name, (0o600, 0o640, 0o755)[i % 3])
        os.utime(source / name, ns=(1_500_000_000_000_000_000 + i, 1_600_000_000_123_456_789 + i * 1000))
    os.symlink("f01", source / "link")
    # The archive holds src/ itself: tar makes it here and sets its mode and times at the end.
    subprocess.run(["tar", "--format=posix", "-cf", str(tmp_path / "tree.tar"), "-C", str(tmp_path), "src"],
                   check=True)
    target = cluster.mnt / "wb-tree"
    target.mkdir()
    ops = ("set_attr", "write_done", "write_lease", "symlink", "change_batch")
    before = {op: master_requests(cluster, op) for op in ops}
    placed_before = new_chunks(cluster, "placed")
    subprocess.run(["tar", "xf", str(tmp_path / "tree.tar"), "-C", str(target)], check=True)
    sent = {op: master_requests(cluster, op) - count for op, count in before.items()}
    # Files' and directories' setattrs, WriteDones, the symlink and the leases went in batches;
    # only the symlink's own times and owner (tar's lutimes and lchown) still go alone.
    assert sent["write_done"] == 0 and sent["write_lease"] == 0 and sent["symlink"] == 0, sent
    assert sent["set_attr"] <= 2, sent
    # Most files' chunks were placed ahead (the first files of a directory wait for its
    # placements): no batch had to go for their first writes.
    placed = new_chunks(cluster, "placed") - placed_before
    assert placed >= len([data for data in files.values() if data]) // 2, (placed, sent)
    assert sent["change_batch"] < len(files), sent
    other = cluster.root / "mnt2" / "wb-tree" / "src"
    for name, data in files.items():
        here, there = os.stat(source / name), os.stat(other / name)
        assert (other / name).read_bytes() == data, name
        assert (there.st_mode, there.st_mtime_ns, there.st_size) == (here.st_mode, here.st_mtime_ns, here.st_size), name
    assert os.readlink(other / "link") == "f01"
    for directory in (".", "sub"):  # tar sets a directory's mode and times once it is full
        here, there = os.stat(source / directory), os.stat(other / directory)
        assert (there.st_mode, there.st_mtime_ns) == (here.st_mode, here.st_mtime_ns), directory
    assert os.stat(target / "src" / "f07").st_mtime_ns == os.stat(source / "f07").st_mtime_ns


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
