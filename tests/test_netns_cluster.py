"""The Vagrant cluster on one machine (issue 5, design brief "How it runs"): every host of
vagrant/topology becomes a network namespace with the topology's address on a bridge of its
own, and is provisioned by the scripts the VMs run (vagrant/provision/ROLE.sh NAME), from the
hafs packages (tools/build-packages) installed on this machine. Faults are then made the way a
network makes them: the active master's host is cut off (its veth set down) while the client
writes, later a chunkserver's host; the mount carries on, the standby takes over, every chunk
gets back to three replicas. The Prometheus host scrapes every daemon with deploy/'s config.
Every connection uses CURVE with the keys the provisioning makes, as on the VMs: the first
master makes every host's key into a folder all hosts see (the VMs' synced folder, here a
directory of this run), and each host copies its own to /etc/hafs/keys; so do chunk access
tokens: the first master makes the token key there too, and every master and chunkserver
host copies it.

Hosts share this machine's files, so each gets its own /etc/hafs and /etc/prometheus
(`ip netns exec` binds /etc/netns/NS/X over /etc/X) and its own /var/lib/hafs, /run/hafs,
/var/log/hafs, /mnt and /var/lib/prometheus, bound in its mount namespace before its script
runs (the daemon keeps that namespace alive). The client's mount is reached as
/proc/PID/root/mnt/hafs, PID its hafs-mount. Names carry this run's pid; the bridge has no
address on this machine. Everything made here, namespaces, links, directories, daemons, and
the packages unless they were installed before, is removed at the end, pass or fail."""

import json
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import BUILD, REPO, wait_until
from test_data import MiB, sha256_of, write_random
from test_failover import MkdirProbe, Writers, check_files
from test_failures import drop_caches

TOPOLOGY = REPO / "vagrant" / "topology"
PROVISION = REPO / "vagrant" / "provision"
PREFIX_LENGTH = 24  # the topology's hosts share one /24 (the Vagrant private network)
MASTER_PORT = 9420
PACKAGES = ("hafs-master", "hafs-chunkserver", "hafs-client", "hafs-tools")
# Per host: this machine's directory that the host gets a private copy of, by its short name.
HOST_DIRS = {"lib": "/var/lib/hafs", "run": "/run/hafs", "log": "/var/log/hafs", "mnt": "/mnt",
             "prometheus": "/var/lib/prometheus"}
ETC_DIRS = ("hafs", "prometheus")  # /etc/netns/NS/X becomes the host's /etc/X

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("prometheus"),
                                reason="needs root (namespaces, packages) and Debian's prometheus")


@dataclass(frozen=True)
class Host:
    name: str
    role: str
    address: str
    rack: str


def read_topology():
    lines = (line.split("#", 1)[0].split() for line in TOPOLOGY.read_text().splitlines())
    return [Host(*fields) for fields in lines if fields]


def run(*command, check=True, timeout=120, env=None):
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"{shlex.join(map(str, command))} failed ({result.returncode}):\n"
                             f"{result.stdout}{result.stderr}")
    return result


def installed(package):
    result = run("dpkg-query", "-W", "-f", "${Status}", package, check=False)
    return result.stdout == "install ok installed"


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """The hafs packages of this build, installed on this machine; removed at the end when the
    test installed them (with the user and directories their postinst made)."""
    debs = tmp_path_factory.mktemp("debs")
    run(REPO / "tools" / "build-packages", debs, env=dict(os.environ, HAFS_BUILD_DIR=str(BUILD)), timeout=1800)
    before = [package for package in PACKAGES if installed(package)]
    had_user, had_lib = user_exists("hafs"), Path("/var/lib/hafs").exists()
    had_etc_keys = Path("/etc/hafs/keys").exists()
    lock_wait = ["-o", "DPkg::Lock::Timeout=120"]  # another apt or dpkg may be at work
    try:
        # With no package sources: their dependencies come from tools/install-deps, and a test
        # reaches no mirror.
        no_sources = ["-o", "Dir::Etc::SourceList=/dev/null", "-o", "Dir::Etc::SourceParts=/dev/null"]
        run("apt-get", "install", "-y", "-q", *no_sources, *lock_wait, *sorted(debs.glob("*.deb")), timeout=300)
        yield debs
    finally:
        removed = [package for package in PACKAGES if package not in before]
        if removed:
            run("apt-get", "purge", "-y", "-q", *lock_wait, *removed, check=False, timeout=300)
        if not had_lib:
            for path in ("/var/lib/hafs/master", "/var/lib/hafs/chunkserver", "/var/lib/hafs"):
                if Path(path).is_dir() and not any(Path(path).iterdir()):
                    Path(path).rmdir()
        if not had_etc_keys:  # made by postinst, kept by a purge (it would hold the host's keys)
            for path in ("/etc/hafs/keys", "/etc/hafs"):
                if Path(path).is_dir() and not any(Path(path).iterdir()):
                    Path(path).rmdir()
        if not had_user and user_exists("hafs"):
            run("userdel", "hafs", check=False)


class NetnsCluster:
    """The topology's hosts as network namespaces on a bridge, and what runs in them."""

    def __init__(self, hosts, debs):
        self.hosts = {host.name: host for host in hosts}
        self.debs = debs
        self.tag = str(os.getpid())
        self.bridge = f"hb{self.tag}"
        self.root = Path(tempfile.mkdtemp(prefix=f"hafs-netns-{self.tag}-"))
        self.made_dirs = []  # this machine's directories made to bind over, removed at the end
        self.namespaces = []
        # Every master's address, the one last seen active first (a cut-off one answers nothing).
        self.masters = [f"{host.address}:{MASTER_PORT}" for host in hosts if host.role == "master"]

    def namespace(self, name):
        return f"hafs{self.tag}-{name}"

    def veth(self, name):
        """The host's link on the bridge (at most 15 characters: "hv" + pid + "-" + index)."""
        return f"hv{self.tag}-{list(self.hosts).index(name)}"

    def home(self, name):
        return self.root / name

    def setup(self):
        # No address on this machine's side, not even an IPv6 link-local one (addrgenmode none).
        run("ip", "link", "add", self.bridge, "type", "bridge")
        run("ip", "link", "set", self.bridge, "addrgenmode", "none")
        run("ip", "link", "set", self.bridge, "up")
        for target in [*HOST_DIRS.values(), *(f"/etc/{name}" for name in ETC_DIRS), "/etc/netns"]:
            if not Path(target).exists():
                Path(target).mkdir(parents=True)
                self.made_dirs.append(Path(target))
        for host in self.hosts.values():
            namespace, outside = self.namespace(host.name), self.veth(host.name)
            inside = "hp" + outside[2:]  # renamed eth0 in the namespace
            run("ip", "netns", "add", namespace)
            self.namespaces.append(namespace)
            run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
            run("ip", "link", "set", outside, "addrgenmode", "none")
            run("ip", "link", "set", outside, "master", self.bridge, "up")
            run("ip", "link", "set", inside, "netns", namespace)
            run("ip", "-n", namespace, "link", "set", inside, "name", "eth0")
            run("ip", "-n", namespace, "addr", "add", f"{host.address}/{PREFIX_LENGTH}", "dev", "eth0")
            run("ip", "-n", namespace, "link", "set", "eth0", "up")
            run("ip", "-n", namespace, "link", "set", "lo", "up")
            for name in ETC_DIRS:
                (Path("/etc/netns") / namespace / name).mkdir(parents=True)
            for short in HOST_DIRS:
                (self.home(host.name) / short).mkdir(parents=True)

    def provision(self, name):
        """Runs vagrant/provision/ROLE.sh NAME in the host's namespaces, its directories bound."""
        host = self.hosts[name]
        binds = " && ".join(f"mount --bind {shlex.quote(str(self.home(name) / short))} {target}"
                            for short, target in HOST_DIRS.items())
        env = dict(os.environ, HAFS_DEBS=str(self.debs), HAFS_KEYS=str(self.root / "keys"), HAFS_WAIT_S="60",
                   HAFS_SCRAPE_INTERVAL="1s")
        started = time.monotonic()
        run("ip", "netns", "exec", self.namespace(name), "sh", "-c", f'{binds} && exec "$@"', "sh",
            PROVISION / f"{host.role}.sh", name, env=env, timeout=180)
        print(f"provisioned {name} ({host.role}) in {time.monotonic() - started:.1f} s", flush=True)

    def pid(self, name, daemon):
        return int((self.home(name) / "run" / f"{daemon}.pid").read_text())

    def mount_pid(self):
        return self.pid("client", "mount")

    def mnt(self):
        """The client's /mnt/hafs, reached from this machine through its hafs-mount's root."""
        return Path(f"/proc/{self.mount_pid()}/root/mnt/hafs")

    def hafs(self, *args, timeout_ms=1000, flags=()):
        """`hafs --json ARGS` on the client host (its network, its mount and its /etc/hafs, so its
        admin key), or None on an error."""
        result = run("nsenter", "-t", self.mount_pid(), "-m", "-n", "hafs", "--master", ",".join(self.masters),
                     "--timeout-ms", timeout_ms, "--json", *flags, *args, check=False, timeout=60)
        return json.loads(result.stdout) if result.returncode == 0 else None

    def active_master(self):
        status = self.hafs("status")
        for master in (status or {}).get("masters", []):
            if master["role"] == "active" and master.get("reachable", True):
                self.masters.sort(key=lambda address: address != master["address"])
                return next(h.name for h in self.hosts.values() if f"{h.address}:{MASTER_PORT}" == master["address"])
        return None

    def cut(self, name):
        """Takes the host off the network: its link on the bridge goes down."""
        run("ip", "link", "set", self.veth(name), "down")

    def logs(self):
        parts = []
        for log in sorted(self.root.glob("*/log/*.log")):
            lines = log.read_text(errors="replace").splitlines()[-20:]
            parts.append(f"--- {log.parent.parent.name}: {log.name} ---\n" + "\n".join(lines))
        return "\n".join(parts)

    def daemon_pids(self):
        """Every daemon the provisioning started and that still runs: {pid: pid file}."""
        pids = {}
        for pid_file in self.root.glob("*/run/*.pid"):
            pid = int(pid_file.read_text())
            status = Path(f"/proc/{pid}/status")
            if status.exists() and "\nState:\tZ" not in status.read_text():
                pids[pid] = pid_file
        return pids

    def stop(self, pids):
        """SIGTERM to the pids, then SIGKILL to any still running after 15 s; waits for all."""
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        try:
            wait_until(lambda: not set(pids) & set(self.daemon_pids()), timeout_s=15, what=f"{pids} to exit")
        except AssertionError:
            for pid in set(pids) & set(self.daemon_pids()):
                os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not set(pids) & set(self.daemon_pids()), timeout_s=15, what=f"{pids} to die")

    def teardown(self):
        """Stops the daemons (the mount first: it unmounts), then removes all that setup made."""
        mounts = [pid for pid, pid_file in self.daemon_pids().items() if pid_file.name == "mount.pid"]
        self.stop(mounts)
        self.stop(list(self.daemon_pids()))
        for namespace in self.namespaces:
            run("ip", "netns", "del", namespace, check=False)
            shutil.rmtree(Path("/etc/netns") / namespace, ignore_errors=True)
        for name in self.hosts:  # gone with their namespaces; a link made before its move is not
            if Path(f"/sys/class/net/{self.veth(name)}").exists():
                run("ip", "link", "del", self.veth(name), check=False)
        run("ip", "link", "del", self.bridge, check=False)
        for path in reversed(self.made_dirs):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def netns_cluster(request, packages):
    """The whole topology, provisioned in order: masters, chunkservers, client, Prometheus."""
    cluster = NetnsCluster(read_topology(), packages)
    failed_before = request.session.testsfailed
    try:
        started = time.monotonic()
        cluster.setup()
        for name in cluster.hosts:
            cluster.provision(name)
        print(f"cluster up in {time.monotonic() - started:.1f} s", flush=True)
    except BaseException:
        print(f"daemon logs:\n{cluster.logs()}")
        cluster.teardown()
        raise
    yield cluster
    if request.session.testsfailed > failed_before:
        print(f"daemon logs:\n{cluster.logs()}")
    cluster.teardown()


def chunk_replicas(cluster, paths):
    """For each chunk of the files: {address: state} of its replicas; None on an error."""
    chunks = []
    for path in paths:
        info = cluster.hafs("fileinfo", f"/mnt/hafs/{path.relative_to(cluster.mnt())}")
        if info is None:
            return None
        chunks += [{replica["address"]: replica["state"] for replica in chunk["replicas"]} for chunk in info["chunks"]]
    return chunks


def three_valid_replicas(cluster, paths, not_on=None):
    """Every chunk of the files has three valid replicas, none of them on host `not_on`."""
    gone = f"{cluster.hosts[not_on].address}:" if not_on else None
    chunks = chunk_replicas(cluster, paths)
    return bool(chunks) and all(
        sum(state == "valid" for state in chunk.values()) == 3
        and not any(gone and address.startswith(gone) and state == "valid" for address, state in chunk.items())
        for chunk in chunks)


def fetch_json(cluster, name, url):
    """GETs URL from inside host NAME's network; the decoded JSON, or None."""
    get = "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())"
    result = run("ip", "netns", "exec", cluster.namespace(name), "python3", "-c", get, url, check=False)
    return json.loads(result.stdout) if result.returncode == 0 else None


def test_prometheus_scrapes_every_hafs_daemon(netns_cluster):
    cluster = netns_cluster
    daemons = {host.address for host in cluster.hosts.values() if host.role in ("master", "chunkserver", "client")}
    url = f"http://{cluster.hosts['prometheus'].address}:9090/api/v1/targets"

    def all_up():
        answer = fetch_json(cluster, "prometheus", url)
        found = answer["data"]["activeTargets"] if answer else []
        return ({target["labels"]["instance"].rsplit(":", 1)[0] for target in found} == daemons and
                len(found) == len(daemons) and all(target["health"] == "up" for target in found))
    started = time.monotonic()
    wait_until(all_up, timeout_s=60, what=f"Prometheus to scrape all {len(daemons)} hafs daemons", interval_s=0.5)
    print(f"Prometheus saw all {len(daemons)} daemons up after {time.monotonic() - started:.1f} s")


def test_every_host_is_keyed(netns_cluster):
    """The provisioning keyed the cluster: the admin key of the client host gets an answer, a
    plaintext client none; no daemon runs --insecure."""
    cluster = netns_cluster
    status = wait_until(lambda: cluster.hafs("status"), timeout_s=30, what="hafs status with the admin key")
    assert status["chunkservers"]["total"] == sum(host.role == "chunkserver" for host in cluster.hosts.values())
    assert cluster.hafs("status", flags=["--insecure"]) is None
    plaintext = [log for log in cluster.root.glob("*/log/*.log")
                 if "--insecure: connections are plaintext" in log.read_text(errors="replace")]
    assert not plaintext
    keys = cluster.root / "keys" / "authorized_keys"
    roles = sorted(line.split()[0] for line in keys.read_text().splitlines())
    assert roles == sorted(["master", "client", "admin", *(["chunkserver"] * status["chunkservers"]["total"])])


def test_masters_and_chunkservers_share_the_token_key(netns_cluster):
    """The provisioning's chunk access token key is /etc/hafs/keys/token.key on every master
    and chunkserver host (owned by hafs, 0600) and on no other host; each daemon took it, and
    none runs with tokens off."""
    cluster = netns_cluster
    made = (cluster.root / "keys" / "token.key").read_text()
    hafs_uid = pwd.getpwnam("hafs").pw_uid
    for host in cluster.hosts.values():
        installed_key = Path("/etc/netns") / cluster.namespace(host.name) / "hafs" / "keys" / "token.key"
        if host.role not in ("master", "chunkserver"):
            assert not installed_key.exists(), f"{host.name} ({host.role}) has {installed_key}"
            continue
        info = installed_key.stat()
        assert (info.st_uid, info.st_mode & 0o777) == (hafs_uid, 0o600), f"{host.name}: {installed_key}"
        assert installed_key.read_text() == made, f"{host.name} has another token key"
        log = (cluster.home(host.name) / "log" / f"{host.role}.log").read_text(errors="replace")
        assert "chunk access tokens on, key from /etc/hafs/keys/token.key" in log, f"{host.name}:\n{log}"
    tokens_off = [log for log in cluster.root.glob("*/log/*.log")
                  if "chunk access tokens are off" in log.read_text(errors="replace")]
    assert not tokens_off


def test_cut_off_active_master_then_a_chunkserver(netns_cluster):
    cluster = netns_cluster
    mnt = cluster.mnt()
    checked = {mnt / f"checked-{i}": write_random(mnt / f"checked-{i}", (2 + i) * MiB, seed=70 + i) for i in range(4)}
    wait_until(lambda: three_valid_replicas(cluster, checked), timeout_s=30, what="three replicas of every chunk")

    # The active master's host goes off the network while the client writes.
    active = wait_until(cluster.active_master, timeout_s=30, what="an active master")
    (mnt / "w").mkdir()
    (mnt / "probe").mkdir()
    writers = Writers(mnt / "w", threads=2, max_size=200_000).start()
    try:
        wait_until(lambda: writers.count() >= 10 or writers.errors, timeout_s=30, what="writers to get going")
        cut_at = time.monotonic()
        cluster.cut(active)
        first_mkdir_s = MkdirProbe(mnt / "probe").time_from(cut_at)
        standby = wait_until(lambda: (name := cluster.active_master()) not in (None, active) and name,
                             timeout_s=15, what=f"a master other than {active} to be active", interval_s=0.1)
        takeover_s = time.monotonic() - cut_at
        before = writers.count()
        wait_until(lambda: writers.count() >= before + 10 or writers.errors, timeout_s=30,
                   what="writers to carry on after the takeover")
    finally:
        writers.finish()
    print(f"{active} cut off: first mkdir on the client after {first_mkdir_s:.2f} s, "
          f"{standby} active (hafs status) after {takeover_s:.2f} s; {writers.count()} files written")
    assert not writers.errors, writers.errors
    check_files(writers.done)
    drop_caches()
    for path, digest in checked.items():
        assert sha256_of(path) == digest, f"{path} reads back wrong after the takeover"

    # A chunkserver's host goes off the network: its chunks are copied back to three replicas.
    everything = [*checked, *writers.done]
    replicas = chunk_replicas(cluster, checked)
    victim = max((h.name for h in cluster.hosts.values() if h.role == "chunkserver"),
                 key=lambda name: sum(any(a.startswith(f"{cluster.hosts[name].address}:") for a in chunk)
                                      for chunk in replicas))
    cut_at = time.monotonic()
    cluster.cut(victim)

    def healed():
        status = cluster.hafs("status")
        return (status is not None and status["chunkservers"]["down"] == 1 and status["chunks"]["missing"] == 0
                and status["chunks"]["under_replicated"] == 0 and three_valid_replicas(cluster, checked, not_on=victim))
    wait_until(healed, timeout_s=60, what=f"every chunk back to three valid replicas without {victim}", interval_s=0.5)
    heal_s = time.monotonic() - cut_at
    print(f"{victim} cut off: every chunk back to three valid replicas after {heal_s:.1f} s")
    assert three_valid_replicas(cluster, everything, not_on=victim), chunk_replicas(cluster, everything)
    drop_caches()
    for path, digest in checked.items():
        assert sha256_of(path) == digest, f"{path} reads back wrong after the repair"
    check_files(writers.done)
