"""Fixtures for the integration tests: real daemons on loopback and a real FUSE mount,
started and stopped through tools/hafs-local, so the tests run the cluster exactly as a
user does. Every cluster is torn down (unmounted, every daemon stopped) even when a test fails."""

import json
import os
import shutil
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

    def __init__(self, root: Path, chunkservers: int = 3, env: dict | None = None):
        self.root = root
        self.chunkservers = chunkservers
        self.env = dict(os.environ, HAFS_LOCAL_DIR=str(root), HAFS_BUILD_DIR=str(BUILD))
        self.env.update(env or {})
        self.mnt = root / "mnt"

    def local(self, *args, check=True, timeout=120):
        result = subprocess.run([str(HAFS_LOCAL), *args], env=self.env, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"hafs-local {' '.join(args)} failed: {result.stderr}\n{self.logs()}")
        return result

    def up(self):
        self.local("up", "--chunkservers", str(self.chunkservers))
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

    def hafs(self, *args, check=True):
        """Runs the admin CLI against this cluster's master."""
        cmd = [str(BUILD / "hafs"), "--master", self.address("master1"), *args]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr}")
        return result

    def hafs_json(self, *args):
        return json.loads(self.hafs("--json", *args).stdout)

    def chunk_files(self, name):
        """Chunk files a chunkserver stores (everything under data/ but its uuid file)."""
        data = self.root / name / "data"
        return [p for p in data.rglob("*") if p.is_file() and p.stat().st_size > 4096]

    def logs(self):
        parts = []
        for log in sorted(self.root.glob("*/log")):
            lines = log.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {log.parent.name} ---\n" + "\n".join(lines))
        return "\n".join(parts)


@pytest.fixture(scope="session", autouse=True)
def built():
    """Builds the binaries once (tools/run-tests has usually done it already)."""
    subprocess.run(["cmake", "-S", str(REPO), "-B", str(BUILD)], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(BUILD), "-j", str(os.cpu_count() or 2), "--target", "hafs-master",
                    "hafs-chunkserver", "hafs-mount", "hafs"], check=True, capture_output=True)


def make_cluster(request, chunkservers=3, env=None):
    root = Path(tempfile.mkdtemp(prefix="hafs-test-"))
    root.chmod(0o755)  # other users reach the mount through it (permission tests)
    cluster = Cluster(root, chunkservers=chunkservers, env=env)

    failed_before = request.session.testsfailed

    def teardown():
        if request.session.testsfailed > failed_before:
            print(f"daemon logs of the failed test's cluster ({root}):\n{cluster.logs()}")
        cluster.down()
        if os.environ.get("HAFS_KEEP_LOGS") != "1":
            shutil.rmtree(root, ignore_errors=True)

    request.addfinalizer(teardown)
    return cluster.up()


@pytest.fixture(scope="module")
def shared_cluster(request):
    """A cluster shared by the tests of one module that do not break it."""
    return make_cluster(request)


@pytest.fixture
def cluster(request):
    """A fresh cluster for one test that kills, pauses or corrupts things."""
    return make_cluster(request)


@pytest.fixture(scope="session")
def wire():
    """The Python classes of common/proto/hafs.proto, for tests that speak the protocol."""
    out = Path(tempfile.mkdtemp(prefix="hafs-proto-"))
    subprocess.run(["protoc", f"-I{REPO}", f"--python_out={out}", str(REPO / "common/proto/hafs.proto")], check=True)
    sys.path.insert(0, str(out))
    from common.proto import hafs_pb2  # noqa: E402
    yield hafs_pb2
    shutil.rmtree(out, ignore_errors=True)
