"""Master failover (issue 3, docs/design.md "Master failover"): a hot standby takes over by
itself when the active dies or hangs; mounted clients carry on; no acknowledged change is
lost or applied twice; never two masters acknowledging; a stale standby is never promoted.

Every test runs a two-master cluster from tools/hafs-local (master1 bootstraps as active,
master2 is its standby). They skip when hafs-master has no --peer option yet."""

import errno
import hashlib
import os
import random
import statistics
import threading
import time

import pytest

from conftest import BUILD, make_cluster, master_supports, wait_until

pytestmark = pytest.mark.skipif(not (BUILD / "hafs-master").exists() or not master_supports("peer"),
                                reason="hafs-master has no --peer yet (master failover not built)")

OTHER = {"master1": "master2", "master2": "master1"}


@pytest.fixture
def pair(request):
    """A fresh two-master cluster whose standby is in sync."""
    cluster = make_cluster(request, masters=2)
    assert cluster.wait_active() == "master1"
    cluster.wait_standby_in_sync("master2")
    return cluster


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class Writers:
    """Threads that create files, write random content and fsync, recording each file only
    once its fsync returned; any exception is an error the test reports."""

    def __init__(self, directory, threads=4, min_size=1, max_size=300_000):
        self.directory = directory
        self.done = {}  # path -> sha256 of the content, for every file whose fsync returned
        self.errors = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sizes = (min_size, max_size)
        self.threads = [threading.Thread(target=self.run, args=(t,), daemon=True) for t in range(threads)]

    def run(self, index):
        rng = random.Random(index)
        k = 0
        while not self.stop.is_set():
            path = self.directory / f"w{index}-{k}"
            k += 1
            data = rng.randbytes(rng.randint(*self.sizes))
            try:
                with open(path, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            except Exception as error:  # noqa: BLE001 - every error is a test failure
                with self.lock:
                    self.errors.append(f"{path}: {error!r}")
                return
            with self.lock:
                self.done[path] = sha256(data)

    def count(self):
        with self.lock:
            return len(self.done)

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def finish(self, timeout_s=120):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout_s)
            assert not thread.is_alive(), "a writer hung"


def check_files(files):
    for path, digest in files.items():
        assert path.exists(), f"{path} lost"
        assert sha256(path.read_bytes()) == digest, f"{path} has the wrong content"


def test_kill_active_while_writers_fsync(pair):
    directory = pair.mnt / "w"
    directory.mkdir()
    writers = Writers(directory).start()
    try:
        wait_until(lambda: writers.count() >= 20 or writers.errors, what="writers to get going")
        pair.kill("master1")
        assert pair.wait_active(not_name="master1") == "master2"
        before = writers.count()
        wait_until(lambda: writers.count() >= before + 20 or writers.errors, timeout_s=60,
                   what="writers to carry on after the takeover")
    finally:
        writers.finish()
    assert not writers.errors, writers.errors
    check_files(writers.done)


class Storm:
    """Random create/rename/unlink/mkdir in one directory tree; `model` holds the tree as
    the operations that returned made it (path -> "file" or "dir")."""

    def __init__(self, root, seed):
        self.root = root
        self.rng = random.Random(seed)
        self.model = {}
        self.counter = 0
        self.errors = []
        self.done = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def fresh(self):
        self.counter += 1
        dirs = [""] + [p for p, kind in self.model.items() if kind == "dir"]
        parent = self.rng.choice(dirs)
        return f"{parent}/n{self.counter}" if parent else f"n{self.counter}"

    def step(self):
        files = [p for p, kind in self.model.items() if kind == "file"]
        choice = self.rng.random()
        if choice < 0.35 or not files:
            path = self.fresh()
            with open(self.root / path, "xb") as handle:  # O_EXCL: a duplicate create would say EEXIST
                handle.write(path.encode())
            self.model[path] = "file"
        elif choice < 0.55:
            path = self.fresh()
            os.mkdir(self.root / path)
            self.model[path] = "dir"
        elif choice < 0.8:
            old = self.rng.choice(files)
            new = self.fresh()
            os.rename(self.root / old, self.root / new)
            del self.model[old]
            self.model[new] = "file"
        else:
            victim = self.rng.choice(files)
            os.unlink(self.root / victim)  # applied twice would be ENOENT
            del self.model[victim]

    def run(self):
        while not self.stop.is_set():
            try:
                self.step()
                self.done += 1
            except Exception as error:  # noqa: BLE001
                self.errors.append(repr(error))
                return

    def on_disk(self):
        found = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel = os.path.relpath(dirpath, self.root)
            prefix = "" if rel == "." else rel + "/"
            for name in dirnames:
                found[prefix + name] = "dir"
            for name in filenames:
                found[prefix + name] = "file"
        return found


def test_namespace_storm_during_takeover(pair):
    storms = []
    for seed in range(3):
        root = pair.mnt / f"storm{seed}"
        root.mkdir()
        storms.append(Storm(root, seed))
    for storm in storms:
        storm.thread.start()
    try:
        wait_until(lambda: all(s.done >= 50 or s.errors for s in storms), what="the storm to get going")
        pair.kill("master1")
        pair.wait_active(not_name="master1")
        counts = [s.done for s in storms]
        wait_until(lambda: all(s.done >= c + 50 or s.errors for s, c in zip(storms, counts)), timeout_s=60,
                   what="the storm to carry on after the takeover")
    finally:
        for storm in storms:
            storm.stop.set()
            storm.thread.join(60)
    for storm in storms:
        assert not storm.errors, storm.errors
        assert storm.on_disk() == storm.model


def lease_ms():
    return 1500  # the default leadership lease (docs/design.md)


def test_paused_active_steps_down_and_is_fenced(pair, wire):
    status = pair.status()
    old_epoch = next(m["epoch"] for m in status["masters"] if pair.master_name(m["address"]) == "master1")
    (pair.mnt / "before").mkdir()
    pair.pause("master1")
    try:
        # The fault: master1 stays stopped for longer than its lease, while master2 takes over.
        assert pair.wait_active(not_name="master1") == "master2"
        time.sleep(lease_ms() / 1000 * 1.5)
        (pair.mnt / "during").mkdir()  # the mount carries on with master2
    finally:
        pair.resume("master1")

    def stepped_down():
        status = pair.status()
        if status is None:
            return False
        roles = {pair.master_name(m["address"]): m["role"] for m in status["masters"]}
        return roles.get("master2") == "active" and roles.get("master1") != "active"
    wait_until(stepped_down, timeout_s=30, what="master1 to step down")

    # master1 acknowledges nothing: a mkdir sent straight to it is refused or unanswered.
    request = wire.Envelope(request_id=7, epoch=old_epoch, client_id=4242, sequence=1)
    request.mkdir.parent = 1
    request.mkdir.name = b"from-the-old-active"
    request.mkdir.mode = 0o755
    frames = pair.call("master1", request.SerializeToString())
    if frames is not None:
        reply = wire.Envelope.FromString(frames[0]).reply
        assert reply.error in (errno.ENOTCONN, errno.ESTALE), reply
    assert not (pair.mnt / "from-the-old-active").exists()

    # Chunkservers refuse its old epoch.
    lease = wire.Envelope(request_id=8, epoch=old_epoch)
    lease.leadership_lease.master_address = pair.address("master1")
    lease.leadership_lease.epoch = old_epoch
    lease.leadership_lease.duration_ms = lease_ms()
    for name in ("cs1", "cs2", "cs3"):
        frames = pair.call(name, lease.SerializeToString(), key="master")
        assert frames is not None, f"{name} did not answer"
        reply = wire.Envelope.FromString(frames[0]).reply
        assert not reply.lease_granted, f"{name} granted a lease to epoch {old_epoch}"
        assert reply.error == errno.ESTALE, f"{name}: {reply}"
    assert (pair.mnt / "before").is_dir() and (pair.mnt / "during").is_dir()


def test_stale_standby_is_never_promoted(pair):
    (pair.mnt / "kept-1").mkdir()
    pair.stop("master2")
    # The active carries on alone (degraded) once it marked master2 out of sync.
    for i in range(20):
        (pair.mnt / f"while-alone-{i}").write_bytes(b"x" * i)
    wait_until(lambda: (pair.status() or {}).get("degraded") is True, timeout_s=30, what="status to say degraded")
    pair.kill("master1")
    pair.start("master2")

    # Operations on the mount that need a master block (no active master): run one in a thread.
    # (A create or a chmod of what the mount made could be written back under a delegation the
    # mount still holds: a hard link cannot.)
    blocked = {}

    def link_blocked():
        try:
            os.link(pair.mnt / "while-alone-7", pair.mnt / "linked-while-blocked")
            blocked["ok"] = True
        except Exception as error:  # noqa: BLE001
            blocked["error"] = repr(error)
    thread = threading.Thread(target=link_blocked, daemon=True)
    thread.start()

    # master2 must not become active, and says why in its log.
    wait_until(lambda: "out of sync" in pair.log("master2").lower(), timeout_s=30,
               what="master2 to log that it is out of sync")
    deadline = time.monotonic() + 5  # longer than lease + takeover time
    while time.monotonic() < deadline:
        assert pair.active_master() != "master2", "a stale standby became active"
        time.sleep(0.2)
    assert thread.is_alive() and not blocked, blocked

    pair.start("master1")
    assert pair.wait_active() == "master1"
    thread.join(60)
    assert blocked.get("ok"), blocked
    pair.wait_standby_in_sync("master2")
    assert (pair.mnt / "kept-1").is_dir()
    for i in range(20):
        assert (pair.mnt / f"while-alone-{i}").read_bytes() == b"x" * i
    assert (pair.mnt / "linked-while-blocked").read_bytes() == b"x" * 7


class MkdirProbe:
    """Times, from a kill, the first successful metadata operation on the mount."""

    def __init__(self, directory):
        self.directory = directory
        self.counter = 0

    def time_from(self, killed_at):
        self.counter += 1
        os.mkdir(self.directory / f"probe-{self.counter}")  # blocks (retries) through the takeover
        return time.monotonic() - killed_at


def takeovers(cluster, count, writers=None, out=None):
    """kill -9 the active, time the first mkdir, restart it, wait until it is an in-sync standby."""
    probe_dir = cluster.mnt / "probe"
    probe_dir.mkdir(exist_ok=True)
    probe = MkdirProbe(probe_dir)
    times = []
    for round_ in range(count):
        active = cluster.wait_active()
        killed_at = time.monotonic()
        cluster.kill(active)
        took = probe.time_from(killed_at)
        times.append(took)
        new_active = cluster.wait_active(not_name=active)
        print(f"takeover {round_ + 1}: {active} -> {new_active}, first mkdir after {took:.3f}s", flush=True)
        if out is not None:
            out.write(f"{round_ + 1} {active} {new_active} {took:.3f}\n")
            out.flush()
        cluster.start(active)
        cluster.wait_standby_in_sync(active, timeout_s=120)
        if writers is not None:
            assert not writers.errors, writers.errors
    return times, probe.counter


def test_five_takeovers_under_load(pair):
    directory = pair.mnt / "load"
    directory.mkdir()
    writers = Writers(directory, threads=3, max_size=100_000).start()
    try:
        with open(pair.root / "takeover-times.txt", "w") as out:
            # Five, alternating twice between the masters and back (bench/failover_time.py runs ten).
            times, probes = takeovers(pair, 5, writers=writers, out=out)
    finally:
        writers.finish()
    print("takeover times (s):", " ".join(f"{t:.3f}" for t in times), f"median {statistics.median(times):.3f}")
    assert not writers.errors, writers.errors
    check_files(writers.done)
    # Nothing lost, nothing applied twice: exactly the files and probe directories made.
    assert sorted(os.listdir(directory)) == sorted(p.name for p in writers.done)
    assert len(os.listdir(pair.mnt / "probe")) == probes


# ------------------------------------------------------------------------- bad input

def test_bootstrap_master_with_a_dead_peer_serves(request):
    """master1 with --bootstrap whose --peer has nobody behind it becomes active alone."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    cluster = make_cluster(request, masters=1, env={"HAFS_MASTER1_PEER": dead})
    assert cluster.wait_active() == "master1"
    (cluster.mnt / "works").write_bytes(b"yes")
    assert (cluster.mnt / "works").read_bytes() == b"yes"


def test_peer_from_another_cluster_is_refused(request):
    cluster = make_cluster(request, masters=2, env={"HAFS_MASTER2_CLUSTER_ID": "other-cluster"})
    assert cluster.wait_active() == "master1"
    wait_until(lambda: "cluster id" in (cluster.log("master1") + cluster.log("master2")).lower(), timeout_s=30,
               what="a log line about the cluster id mismatch")
    assert not cluster.standby_in_sync("master2")
    (cluster.mnt / "still-works").mkdir()
    assert cluster.active_master() == "master1"
    # Each master says hello every few hundred ms: each side logs the mismatch once, as the
    # one refusing the hello and as the one refused.
    for name in ("master1", "master2"):
        log = cluster.log(name)
        assert log.count("said hello; this is cluster") == 1 and log.count("refusing to work with it") == 1, log
    assert cluster.log("master2").count("AppendLog from a master of cluster") == 1
