"""The README's commands on a machine that has none of hafs's packages.

Two ways, one cheap and one real:
- every entry point a newcomer reaches from the README runs with a PATH on which no package
  is installed (dpkg-query knows nothing) and apt-get, cmake and jq only record that they were
  called: each must call apt-get install, with the packages its step needs, before it runs
  cmake or any other tool a package brings. Fast, in every run; it cannot see a package missing
  from install-deps' lists, nor a tool used without being listed.
- with HAFS_FRESH_ROOT_TEST=1 (about five minutes: debootstrap, apt, a whole build), the
  README's first command runs in a fresh Debian 12 root made by debootstrap from Debian's
  packages, from a copy of this tree, and the mount it reports must store and return a file.
  That sees what the first cannot; it shares this machine's kernel, so it cannot see a missing
  FUSE module or /dev/fuse (the root gets this machine's /dev)."""

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import REPO, wait_until

STUBS = {
    # No package is installed: install-deps must install every one it needs.
    "dpkg-query": "exit 1",
    # Records the call; `install` succeeds without installing anything.
    "apt-get": 'echo "apt-get $*" >>"$HAFS_STUB_LOG"',
    # The first tool a step needs after its packages: recorded, and failing, which ends the step.
    "cmake": 'echo "cmake $*" >>"$HAFS_STUB_LOG"; exit 1',
    "jq": 'echo "jq $*" >>"$HAFS_STUB_LOG"; exit 1',
}

# Every set-up command the README names: (what the README says, the command, packages its
# install must include).
ENTRY_POINTS = {
    "hafs-local up": ("tools/hafs-local up", ["tools/hafs-local", "up"],
                      {"libfuse3-dev", "fuse3", "protobuf-compiler", "python3"}),
    "run-tests": ("tools/run-tests", ["tools/run-tests"], {"libfuse3-dev", "spin", "prometheus", "debootstrap", "jq"}),
    "build-packages": ("tools/build-packages", ["tools/build-packages", "{tmp}/debs"], {"libfuse3-dev", "dpkg-dev"}),
    "compare.sh": ("bench/compare.sh", ["bench/compare.sh"], {"libfuse3-dev", "jq"}),
    # What a Vagrant VM runs first when vagrant/debs has no packages.
    "vagrant provision": ("vagrant/provision/ROLE.sh", ["bash", "-c", "source vagrant/provision/common.sh && ensure_debs"],
                          {"libfuse3-dev", "dpkg-dev"}),
}


def stub_path(tmp: Path) -> str:
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    for name, body in STUBS.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return f"{bin_dir}:{os.environ['PATH']}"


def test_the_readme_names_every_entry_point_checked_here():
    readme = (REPO / "README.md").read_text()
    for mention, _, _ in ENTRY_POINTS.values():
        assert mention in readme, mention


@pytest.mark.skipif(os.geteuid() != 0, reason="install-deps installs only as root")
@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_entry_point_installs_what_it_needs_before_using_it(name):
    _, command, wanted = ENTRY_POINTS[name]
    tmp = Path(tempfile.mkdtemp(prefix="hafs-fresh-"))
    try:
        log = tmp / "calls"
        env = dict(os.environ, PATH=stub_path(tmp), HAFS_STUB_LOG=str(log), HAFS_LOCAL_DIR=str(tmp / "local"),
                   HAFS_BUILD_DIR=str(tmp / "build"), HAFS_DEBS=str(tmp / "debs"), SKIP_MOOSEFS="1")
        env.pop("HAFS_NO_BUILD", None)
        env.pop("HAFS_BENCH", None)
        result = subprocess.run([part.format(tmp=tmp) for part in command], cwd=REPO, env=env, capture_output=True,
                                text=True, timeout=120)
        calls = log.read_text().splitlines() if log.exists() else []
        installs = [i for i, call in enumerate(calls) if call.startswith("apt-get install")]
        assert installs, f"{name} never installed anything: {calls}\n{result.stdout}{result.stderr}"
        installed = set(calls[installs[0]].split())
        assert wanted <= installed, f"{name} did not install {sorted(wanted - installed)}: {calls[installs[0]]}"
        tools = [i for i, call in enumerate(calls) if not call.startswith("apt-get")]
        assert tools and installs[0] < tools[0], f"{name} used a tool before installing: {calls}"
        assert "installing" in result.stdout + result.stderr, "the install is not announced"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def debian_mirror() -> str:
    """The Debian archive this machine's apt uses (a fresh root gets only Debian's own packages)."""
    for source in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        text = source.read_text() if source.is_file() else ""
        for word in text.split():
            if word.startswith("http") and word.rstrip("/").endswith("/debian"):
                return word
    return "http://deb.debian.org/debian"


class FreshRoot:
    """A Debian 12 minbase root with this tree under /src, its /proc and /dev mounted."""

    def __init__(self, path: Path):
        self.path = path
        self.mounts = []

    def make(self):
        subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(self.path), debian_mirror()], check=True,
                       capture_output=True, timeout=600)
        shutil.copy("/etc/resolv.conf", self.path / "etc" / "resolv.conf")
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                               check=True, capture_output=True).stdout.decode().split("\0")
        for name in filter(None, files):
            source, target = REPO / name, self.path / "src" / name
            if source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        self.mount(["-t", "proc", "proc"], "proc")
        self.mount(["--bind", "/dev"], "dev")

    def mount(self, how, where):
        subprocess.run(["mount", *how, str(self.path / where)], check=True)
        self.mounts.append(self.path / where)

    def run(self, command, timeout):
        return subprocess.run(["chroot", str(self.path), "/bin/bash", "-c", f"cd /src && {command}"],
                              capture_output=True, text=True, timeout=timeout,
                              env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "HAFS_WAIT_S": "120"})

    def cleanup(self):
        """Stops every daemon the root started (by the pids it recorded), then unmounts."""
        local = self.path / "src" / "local"
        if (local / "mnt").exists():
            subprocess.run(["chroot", str(self.path), "/src/tools/hafs-local", "down"], capture_output=True,
                           timeout=120)
        for pid_file in local.glob("*/pid"):
            try:
                os.kill(int(pid_file.read_text()), 9)
            except (ValueError, ProcessLookupError, PermissionError):
                pass
        subprocess.run(["umount", "-l", str(local / "mnt")], capture_output=True)
        for where in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(where)], capture_output=True)
        shutil.rmtree(self.path, ignore_errors=True)


@pytest.mark.skipif(os.environ.get("HAFS_FRESH_ROOT_TEST") != "1",
                    reason="about five minutes: set HAFS_FRESH_ROOT_TEST=1 to run the README's first command "
                           "in a fresh Debian root")
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("debootstrap") is None,
                    reason="needs root and debootstrap (tools/install-deps installs it)")
@pytest.mark.timeout(1800)
def test_readme_first_command_brings_a_cluster_up_in_a_fresh_root():
    root = FreshRoot(Path(tempfile.mkdtemp(prefix="hafs-fresh-root-")))
    try:
        root.make()
        assert root.run("command -v cmake protoc || true", timeout=30).stdout == "", "the fresh root has build tools"
        up = root.run("tools/hafs-local up", timeout=1500)
        assert up.returncode == 0, f"tools/hafs-local up failed:\n{up.stdout}\n{up.stderr}"
        assert "install-deps: installing" in up.stdout + up.stderr
        check = root.run("head -c 3145728 /dev/urandom >/tmp/probe && cp /tmp/probe local/mnt/probe && "
                         "cmp /tmp/probe local/mnt/probe && echo same", timeout=120)
        assert check.stdout.strip() == "same", check.stderr
        wait_until(lambda: root.run("tools/hafs-local status", timeout=60).returncode == 0, what="status")
    finally:
        root.cleanup()
