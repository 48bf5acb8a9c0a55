"""Fixtures for the integration tests: real daemons on loopback and a real FUSE mount,
started and stopped through tools/hafs-local, so the tests run the cluster exactly as a
user does. Every cluster is torn down (unmounted, every daemon stopped) even when a test fails."""

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("HAFS_BUILD_DIR", REPO / "build"))
HAFS_LOCAL = REPO / "tools" / "hafs-local"


def wait_until(condition, timeout_s=30.0, what="condition", interval_s=0.05):
    """Polls `condition` until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)


class Cluster:
    """One local cluster in its own directory, driven by tools/hafs-local."""

    def __init__(self, root: Path, chunkservers: int = 3, env: dict | None = None, masters: int | None = None,
                 mounts: int = 1, plain_data: bool = False):
        self.root = root
        self.mounts = mounts
        self.plain_data = plain_data  # hafs-local up --plain-data: chunkservers' plain data ports
        self.chunkservers = chunkservers
        self.masters = masters  # None: hafs-local's default (two when hafs-master has --peer)
        self.env = dict(os.environ, HAFS_LOCAL_DIR=str(root), HAFS_BUILD_DIR=str(BUILD))
        self.env.update(env or {})
        self.mnt = root / "mnt"
        # The chunk access token key its masters and chunkservers share (hafs-local passes
        # it): 32 raw random bytes of its own, so tests can make tokens, good and bad.
        self.token_key_file = root / "token.key"
        if not self.token_key_file.exists():
            with open(os.open(self.token_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as key:
                key.write(os.urandom(32))

    def local(self, *args, check=True, timeout=120):
        result = subprocess.run([str(HAFS_LOCAL), *args], env=self.env, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"hafs-local {' '.join(args)} failed: {result.stderr}\n{self.logs()}")
        return result

    def up(self):
        args = ["up", "--chunkservers", str(self.chunkservers)]
        if self.masters is not None:
            args += ["--masters", str(self.masters)]
        if self.mounts != 1:
            args += ["--mounts", str(self.mounts)]
        if self.plain_data:
            args.append("--plain-data")
        self.local(*args)
        return self

    def down(self):
        self.local("down", check=False)

    def kill(self, name):
        self.local("kill", name)

    def stop(self, name):
        self.local("stop", name)

    def start(self, name):
        self.local("start", name)

    def pause(self, name):
        self.local("pause", name)

    def resume(self, name):
        self.local("resume", name)

    def address(self, name) -> str:
        return (self.root / name / "address").read_text().strip()

    def pid(self, name) -> int:
        return int((self.root / name / "pid").read_text())

    def master_list(self) -> str:
        """Every master's address, "host:port,host:port", as clients are given them."""
        return self.local("masters").stdout.strip()

    def master_names(self) -> list[str]:
        return [name for name in ("master1", "master2") if (self.root / name / "address").exists()]

    def master_name(self, address) -> str | None:
        for name in self.master_names():
            if self.address(name) == address:
                return name
        return None

    @property
    def keys(self) -> Path:
        """Where hafs-local keeps the cluster's CURVE keys (absent for an --insecure one)."""
        return self.root / "keys"

    def key_flags(self, key) -> list[str]:
        """The flags that make a process use key `key` ("admin", "client", "cs1", ...)."""
        if (self.root / "insecure").exists():
            return ["--insecure"]
        return ["--key-file", str(self.keys / f"{key}.key"), "--authorized-keys", str(self.keys / "authorized_keys")]

    def curve(self, name, key="client"):
        """What call_raw needs to reach daemon `name` with key `key`; None when insecure."""
        if (self.root / "insecure").exists():
            return None
        server = "master" if name.startswith("master") else name
        return key_pair(self.keys / f"{server}.key")[0], key_pair(self.keys / f"{key}.key")

    def daemon_at(self, address) -> str:
        """The name of the daemon listening on `address` ("host:port")."""
        for home in self.root.iterdir():
            if (home / "address").is_file() and (home / "address").read_text().strip() == address:
                return home.name
        raise AssertionError(f"no daemon of this cluster listens on {address}")

    def call(self, name, envelope_bytes, data=None, timeout_ms=3000, key="client"):
        """Sends raw frames to daemon `name` as key `key` would; the reply frames or None."""
        return call_raw(self.address(name), envelope_bytes, timeout_ms, None if data is None else [data],
                        curve=self.curve(name, key))

    def ask(self, wire, name, envelope_bytes, key="client", timeout_s=15.0):
        """A client request straight to master `name`, sent again while it is answered EAGAIN
        (a directory another mount holds for write-back is being recalled), as hafs-mount does;
        the reply Envelope, or None when the master did not answer."""
        deadline = time.monotonic() + timeout_s
        while True:
            frames = self.call(name, envelope_bytes, key=key)
            if frames is None:
                return None
            envelope = wire.Envelope()
            envelope.ParseFromString(frames[0])
            if envelope.reply.error != errno.EAGAIN or time.monotonic() > deadline:
                return envelope
            time.sleep(0.05)

    def hafs(self, *args, check=True, timeout_ms=None):
        """Runs the admin CLI against this cluster's masters (it finds the active one)."""
        cmd = [str(BUILD / "hafs"), *self.key_flags("admin"), "--master", self.master_list()]
        if timeout_ms is not None:
            cmd += ["--timeout-ms", str(timeout_ms)]
        cmd += list(args)
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr}")
        return result

    def hafs_json(self, *args):
        return json.loads(self.hafs("--json", *args).stdout)

    def status(self, timeout_ms=500):
        """`hafs status --json`, or None while no master answers as active."""
        result = self.hafs("--json", "status", check=False, timeout_ms=timeout_ms)
        if result.returncode != 0:
            return None
        return json.loads(result.stdout)

    def active_master(self, timeout_ms=500) -> str | None:
        """The name ("master1", "master2") of the master that answers as active, or None."""
        status = self.status(timeout_ms)
        if status is None:
            return None
        for master in status["masters"]:
            if master["role"] == "active" and master.get("reachable", True):
                return self.master_name(master["address"])
        return None

    def wait_active(self, not_name=None, timeout_s=30.0) -> str:
        """Waits until some master (other than `not_name`) is active; returns its name."""
        def found():
            name = self.active_master()
            return name if name is not None and name != not_name else None
        return wait_until(found, timeout_s, what=f"an active master other than {not_name}", interval_s=0.1)

    def standby_in_sync(self, name) -> bool:
        status = self.status()
        if status is None:
            return False
        for master in status["masters"]:
            if self.master_name(master["address"]) == name:
                return master["role"] == "standby" and master.get("sync") == "in sync" and master.get("reachable", True)
        return False

    def wait_standby_in_sync(self, name, timeout_s=60.0):
        wait_until(lambda: self.standby_in_sync(name), timeout_s, what=f"{name} to be an in-sync standby", interval_s=0.1)

    def add_key(self, name, role="client"):
        """A new key pair `name` in this cluster's keys, authorized with `role` (every
        daemon rereads the list; the new key is accepted once they have)."""
        made = subprocess.run([str(BUILD / "hafs"), "keygen", str(self.keys / f"{name}.key"), "--role", role,
                               "--name", name], capture_output=True, text=True, timeout=30, check=True)
        with open(self.keys / "authorized_keys", "a") as authorized:
            authorized.write(made.stdout)
        for home in self.root.iterdir():
            if (home / "pid").is_file() and home.name != "mount":
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int((home / "pid").read_text()), signal.SIGHUP)

    def set_exports(self, text):
        """Replaces the masters' exports file (docs/exports.md) and waits until both reread it."""
        loads = {name: self.log(name).count("exports: ") for name in self.master_names()}
        (self.root / "exports.cfg").write_text(text)
        for name in loads:
            os.kill(self.pid(name), signal.SIGHUP)
        for name, before in loads.items():
            wait_until(lambda: self.log(name).count("exports: ") > before, timeout_s=15, what=f"{name} to reread its exports")

    def mount_command(self, where: Path, *flags, key="client"):
        return [str(BUILD / "hafs-mount"), "--master", self.master_list(), *self.key_flags(key), *flags, str(where)]

    @contextlib.contextmanager
    def second_mount(self, where: Path, *flags, key="client"):
        """Another hafs-mount of this cluster at `where` (another host's view) with key `key`,
        unmounted and stopped on exit; yields the mount point."""
        where.mkdir(parents=True, exist_ok=True)
        with open(where.parent / f"{where.name}.log", "wb") as log:
            process = subprocess.Popen(self.mount_command(where, *flags, key=key), stdout=log, stderr=log)
            try:
                wait_until(lambda: f" {where} fuse.hafs " in open("/proc/mounts").read(), what="a second mount")
                yield where
            finally:
                stop_mount(where, process)

    def log(self, name) -> str:
        path = self.root / name / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def chunk_files(self, name):
        """Chunk files a chunkserver stores (everything under data/ but its uuid file)."""
        data = self.root / name / "data"
        return [p for p in data.rglob("*") if p.is_file() and p.stat().st_size > 4096]

    def logs(self):
        parts = []
        # Never inside a mount: one whose masters are gone answers EIO there, a killed one ENOTCONN.
        for home in sorted(path for path in self.root.iterdir() if not path.name.startswith("mnt")):
            log = home / "log"
            if log.is_file():
                lines = log.read_text(errors="replace").splitlines()[-15:]
                parts.append(f"--- {home.name} ---\n" + "\n".join(lines))
        return "\n".join(parts)


@pytest.fixture(scope="session", autouse=True)
def built():
    """Builds the binaries once (tools/run-tests has usually done it already). Configures only
    a build directory that was never configured: configuring a fresh one a second time moves
    pkg-config's include flags (libzmq's krb5 directory), and every object was then built
    twice in each CI run."""
    if not (BUILD / "CMakeCache.txt").exists():
        subprocess.run(["cmake", "-S", str(REPO), "-B", str(BUILD)], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(BUILD), "-j", str(os.cpu_count() or 2), "--target", "hafs-master",
                    "hafs-chunkserver", "hafs-mount", "hafs"], check=True, capture_output=True)


def master_supports(option) -> bool:
    """True when `hafs-master --help` lists --OPTION (the failover options arrive in steps)."""
    result = subprocess.run([str(BUILD / "hafs-master"), "--help"], capture_output=True, text=True)
    return f"--{option} " in result.stdout or f"--{option}\n" in result.stdout


def make_cluster(request, chunkservers=3, env=None, masters=None, start=True, mounts=1, plain_data=False):
    root = Path(tempfile.mkdtemp(prefix="hafs-test-"))
    root.chmod(0o755)  # other users reach the mount through it (permission tests)
    cluster = Cluster(root, chunkservers=chunkservers, env=env, masters=masters, mounts=mounts, plain_data=plain_data)

    failed_before = request.session.testsfailed

    def teardown():
        try:
            if request.session.testsfailed > failed_before:
                print(f"daemon logs of the failed test's cluster ({root}):\n{cluster.logs()}")
        finally:
            cluster.down()  # whatever printing the logs met: no daemon or mount outlives its test
        if os.environ.get("HAFS_KEEP_LOGS") != "1":
            shutil.rmtree(root, ignore_errors=True)

    request.addfinalizer(teardown)
    return cluster.up() if start else cluster


@pytest.fixture(scope="session")
def two(request):
    """One cluster with two mounts, as two hosts have it, shared by the modules that test what
    one mount sees of the other's changes (test_two_mounts.py, test_locks.py); each test leaves
    it whole. Its masters end a session after 2 s, so a metadata lease lasts 1.33 s (two thirds
    of it), and its mounts' kernels may keep names for 60 s: only the master's word makes them
    drop one sooner."""
    return make_cluster(request, mounts=2, env={"HAFS_MASTER_ARGS": "--session-timeout-s 2"})


@pytest.fixture(scope="module")
def shared_cluster(request):
    """A cluster shared by the tests of one module that do not break it."""
    return make_cluster(request)


@pytest.fixture
def cluster(request):
    """A fresh cluster for one test that kills, pauses or corrupts things."""
    return make_cluster(request)


def key_pair(path: Path) -> tuple[bytes, bytes]:
    """(public, secret) Z85 keys of a key pair file made by `hafs keygen`."""
    fields = dict(line.split(" = ", 1) for line in path.read_text().splitlines() if " = " in line)
    return fields["public-key"].encode(), fields["secret-key"].encode()


def stop_mount(where, process, lazy=False):
    """Unmounts `where` (`lazy`: even while busy) and stops its hafs-mount `process`."""
    subprocess.run(["fusermount3", "-u", *(["-z"] if lazy else []), str(where)], capture_output=True)
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def call_raw(address, envelope_bytes, timeout_ms=2000, frames=None, curve=None):
    """Sends one request (an Envelope's bytes) on a fresh DEALER; the reply frames or None.
    curve: (the server's public key, (own public key, own secret key)) to connect with CURVE."""
    import zmq
    context = zmq.Context.instance()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    if curve is not None:
        server_key, (public_key, secret_key) = curve
        socket.curve_serverkey, socket.curve_publickey, socket.curve_secretkey = server_key, public_key, secret_key
    try:
        socket.connect(f"tcp://{address}")
        socket.send_multipart([envelope_bytes, *(frames or [])])
        if socket.poll(timeout_ms) == 0:
            return None
        return socket.recv_multipart()
    finally:
        socket.close()


@pytest.fixture(scope="session")
def wire():
    """The Python classes of common/proto/hafs.proto, for tests that speak the protocol."""
    out = Path(tempfile.mkdtemp(prefix="hafs-proto-"))
    subprocess.run(["protoc", f"-I{REPO}", f"--python_out={out}", str(REPO / "common/proto/hafs.proto")], check=True)
    sys.path.insert(0, str(out))
    from common.proto import hafs_pb2  # noqa: E402
    yield hafs_pb2
    shutil.rmtree(out, ignore_errors=True)
