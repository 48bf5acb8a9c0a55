"""The Debian packages (tools/build-packages, packaging/): what each holds, its control
fields and conffiles; installed into a fresh root (dpkg-deb -x, never into this machine),
the units pass `systemd-analyze verify`, and the packaged binaries start from the packaged
example configs: a master and a chunkserver that registers with it, and a mount, as a host
runs them, with only addresses, directories and key files moved to a temporary place by
flags (flags win over the config), their keys made by the packaged `hafs keygen` and their
chunk access token key by the packaged `hafs token-key`. A config that did not parse would
stop every host that installs it; a master or chunkserver without its key pair or token key
stops naming the file."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import BUILD, REPO, wait_until

ROLES = {  # package: (binary, unit, config) under /usr/bin, /lib/systemd/system, /etc/hafs
    "hafs-master": ("hafs-master", "hafs-master.service", "master.conf"),
    "hafs-chunkserver": ("hafs-chunkserver", "hafs-chunkserver.service", "chunkserver.conf"),
    "hafs-client": ("hafs-mount", "hafs-mount.service", "mount.conf"),
}
METRICS_PORTS = {"hafs-master": 9428, "hafs-chunkserver": 9429, "hafs-client": 9430}


def run(*args, timeout=60, **kwargs):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True, timeout=timeout, **kwargs)


@pytest.fixture(scope="module")
def workdir():
    path = Path(tempfile.mkdtemp(prefix="hafs-packages-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def packages(workdir):
    """package name -> path of its .deb, as tools/build-packages made them."""
    out = workdir / "debs"
    # Seconds on a built tree; a tree with changed sources is built first (pytest's timeout).
    result = run(REPO / "tools" / "build-packages", out, env=dict(os.environ, HAFS_BUILD_DIR=str(BUILD)), timeout=None)
    printed = [Path(line) for line in result.stdout.split()]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in printed)
    debs = {p.name.split("_")[0]: p for p in printed}
    assert sorted(debs) == ["hafs-chunkserver", "hafs-client", "hafs-master", "hafs-tools"]
    for deb in printed:
        assert re.fullmatch(r"hafs-[a-z]+_\d+\.\d+\.\d+_[a-z0-9]+\.deb", deb.name), deb.name
    return debs


@pytest.fixture(scope="module")
def root(workdir, packages):
    """A fresh root holding the four packages' files."""
    path = workdir / "root"
    for deb in packages.values():
        run("dpkg-deb", "-x", deb, path)
    return path


def contents(deb):
    """path -> (mode string, owner) of each entry of a package."""
    entries = {}
    for line in run("dpkg-deb", "-c", deb).stdout.splitlines():
        mode, owner, _size, _date, _time, name = line.split(None, 5)
        entries[name.removeprefix(".").rstrip("/") or "/"] = (mode, owner)
    return entries


def field(deb, name):
    return run("dpkg-deb", "-f", deb, name).stdout.strip()


def control_file(deb, name):
    return run("dpkg-deb", "-I", deb, name).stdout


@pytest.mark.parametrize("package", sorted(ROLES))
def test_daemon_package_holds_binary_unit_and_conffile(packages, package):
    binary, unit, config = ROLES[package]
    deb = packages[package]
    entries = contents(deb)
    assert entries[f"/usr/bin/{binary}"] == ("-rwxr-xr-x", "root/root")
    assert entries[f"/lib/systemd/system/{unit}"] == ("-rw-r--r--", "root/root")
    assert entries[f"/etc/hafs/{config}"] == ("-rw-r--r--", "root/root")
    assert control_file(deb, "conffiles").split() == [f"/etc/hafs/{config}"]
    for script in ("postinst", "prerm", "postrm"):
        run("sh", "-n", "-c", control_file(deb, script))  # parses as sh
        assert unit in control_file(deb, script)
    # The keys' directory, but no key: the operator makes a cluster's keys once and copies them.
    postinst = control_file(deb, "postinst")
    assert "install -d -m 0755 /etc/hafs/keys" in postinst
    assert "keygen" not in postinst and "token-key" not in postinst
    assert field(deb, "Package") == package
    assert field(deb, "Version") == project_version()
    assert field(deb, "Architecture") == run("dpkg", "--print-architecture").stdout.strip()
    assert field(deb, "Maintainer")
    assert field(deb, "Description").startswith("hafs ")
    depends = field(deb, "Depends")
    assert "libc6" in depends and "libzmq5" in depends  # computed by dpkg-shlibdeps
    if package == "hafs-client":
        assert re.search(r"\bfuse3\b", depends)
        assert "/usr/lib/hafs/hafs-mount-helper" in entries
    else:
        assert "adduser" in depends  # postinst makes the user hafs
        assert re.search(r"\bprocps\b", depends)  # the unit's ExecReload runs /bin/kill


def make_token_key(root, path):
    """A chunk access token key at PATH, made by the packaged `hafs token-key`."""
    run(root / "usr/bin/hafs", "token-key", path)
    return path


@pytest.fixture(scope="module")
def token_key(root, workdir):
    return make_token_key(root, workdir / "token.key")


def test_packaged_tool_makes_a_token_key_and_replaces_none(root, token_key):
    text = token_key.read_text()
    assert re.fullmatch(r"[0-9a-f]{64}\n", text), text
    assert token_key.stat().st_mode & 0o777 == 0o600
    again = subprocess.run([str(root / "usr/bin/hafs"), "token-key", str(token_key)],
                           capture_output=True, text=True, timeout=30)
    assert again.returncode != 0 and str(token_key) in again.stderr, again.stderr
    assert token_key.read_text() == text


def test_tools_package_holds_the_admin_tool_and_the_benchmark(packages):
    deb = packages["hafs-tools"]
    entries = contents(deb)
    assert entries["/usr/bin/hafs"] == ("-rwxr-xr-x", "root/root")
    assert entries["/usr/bin/hafs-bench"] == ("-rwxr-xr-x", "root/root")
    assert not [name for name in entries if name.startswith(("/etc", "/lib"))]
    assert field(deb, "Version") == project_version()


def test_binaries_are_stripped(root):
    for binary in ("hafs-master", "hafs-chunkserver", "hafs-mount", "hafs", "hafs-bench"):
        assert ".debug_info" not in run("readelf", "-S", "-W", root / "usr/bin" / binary).stdout, binary


def project_version():
    match = re.search(r"project\(hafs VERSION (\S+)", (REPO / "CMakeLists.txt").read_text())
    return match.group(1)


def test_units_pass_systemd_analyze_verify(root, workdir):
    # --root: ExecStart's binaries and the units' dependencies are looked up in the root,
    # not on this machine, and no systemd as PID 1 is needed. A Debian host that installs
    # the packages has systemd's own units (network-online.target, multi-user.target, ...)
    # and /bin/kill (procps, a Depends; ExecReload runs it): a copy of a root with this
    # machine's units and kill beside the packages' files.
    system_root = workdir / "system-root"
    shutil.copytree(root, system_root, symlinks=True)
    shutil.copytree("/lib/systemd/system", system_root / "lib/systemd/system", symlinks=True, dirs_exist_ok=True)
    (system_root / "bin").mkdir(exist_ok=True)
    shutil.copy("/bin/kill", system_root / "bin/kill")
    units = [system_root / "lib/systemd/system" / unit for _, unit, _ in ROLES.values()]
    result = subprocess.run(["systemd-analyze", "verify", f"--root={system_root}", *map(str, units)],
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice"))
    mentions = [line for line in (result.stdout + result.stderr).splitlines() if "hafs" in line]
    assert result.returncode == 0 and not mentions, result.stdout + result.stderr


@pytest.mark.parametrize("package", sorted(ROLES))
def test_unit_starts_the_binary_with_the_packaged_config_only(root, package):
    binary, unit, config = ROLES[package]
    text = (root / "lib/systemd/system" / unit).read_text()
    assert re.findall(r"^ExecStart=(.*)$", text, re.M) == [f"/usr/bin/{binary} --config /etc/hafs/{config}"]
    for setting in ("Restart=on-failure", "RestartPreventExitStatus=2", "After=network-online.target",
                    "Wants=network-online.target", "NoNewPrivileges=yes", "WantedBy=multi-user.target"):
        assert re.search(f"^{setting}$", text, re.M), setting
    assert re.search(r"^LimitNOFILE=\d+$", text, re.M)
    if package == "hafs-client":  # root, no namespace of its own: the mount must be the host's
        assert not re.search(r"^(User|PrivateTmp|ProtectSystem|ProtectHome|PrivateDevices)=", text, re.M)
        assert not re.search(r"^ExecReload=", text, re.M)  # SIGHUP would unmount
    else:
        assert re.search(r"^User=hafs$", text, re.M)
        assert re.search(r"^StateDirectory=hafs/" + config.removesuffix(".conf") + "$", text, re.M)
        # systemctl reload: the daemon rereads the authorized keys.
        assert re.findall(r"^ExecReload=(.*)$", text, re.M) == ["/bin/kill -HUP $MAINPID"]


@pytest.mark.parametrize("package", sorted(ROLES))
def test_config_shows_every_option_with_its_default(root, package):
    """Each option of --help is in the example config, live or as a comment."""
    binary, _, config = ROLES[package]
    text = (root / "etc/hafs" / config).read_text()
    named = set(re.findall(r"^#?([a-z][a-z0-9-]*) =", text, re.M))
    help_text = run(root / "usr/bin" / binary, "--help").stdout
    options = set(re.findall(r"^\s+(?:-\w \[ )?--([a-z][a-z0-9-]*)", help_text, re.M))
    options -= {"help", "config", "foreground"}  # command-line only
    assert options - named == set()
    assert named - options == set()
    defaults = dict(re.findall(r"--([a-z0-9-]+) arg \(=([^)]*)\)", help_text))
    for name, shown in re.findall(r"^#([a-z][a-z0-9-]*) = ?(.*)$", text, re.M):
        assert shown == defaults.get(name, shown), f"{config}: #{name} = {shown}, the default is {defaults[name]}"
    assert re.search(rf"^metrics-listen = 0\.0\.0\.0:{METRICS_PORTS[package]}$", text, re.M)


@pytest.mark.parametrize("package", sorted(ROLES))
def test_unedited_config_is_refused_with_what_to_set(root, workdir, package):
    """Until a host sets its live lines the daemon exits 2, naming the option, and the unit
    (RestartPreventExitStatus=2) does not restart it in a loop."""
    binary, _, config = ROLES[package]
    args = [root / "usr/bin" / binary, "--config", root / "etc/hafs" / config, "--metrics-listen", "127.0.0.1:0"]
    if package != "hafs-client":
        args += ["--data-dir", workdir]
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert ("--master" if package == "hafs-client" else "--listen") in result.stderr


def daemon_args(root, workdir, package, prefix):
    """The packaged binary with its packaged config and what a host sets moved to WORKDIR."""
    binary, _, config = ROLES[package]
    args = [root / "usr/bin" / binary, "--config", root / "etc/hafs" / config, "--metrics-listen", "127.0.0.1:0"]
    if package == "hafs-client":
        return args + ["--master", "127.0.0.1:9", "--mountpoint", workdir]
    args += ["--listen", "127.0.0.1:0", "--data-dir", Path(tempfile.mkdtemp(dir=workdir, prefix=prefix))]
    if package == "hafs-chunkserver":
        args += ["--master", "127.0.0.1:9"]
    return args


@pytest.mark.parametrize("package", sorted(ROLES))
def test_daemon_without_its_key_is_refused_naming_the_key_file(root, workdir, token_key, package):
    """A host whose config is set but that has no key pair yet: the daemon exits, naming the
    file it could not read (docs/operations.md, "Keys")."""
    binary, _, _ = ROLES[package]
    missing = workdir / f"no-{binary}.key"
    args = [*daemon_args(root, workdir, package, "no-key-"),
            "--key-file", missing, "--authorized-keys", workdir / "no-authorized-keys"]
    if package != "hafs-client":  # the mount has no token key: it gets its tokens from the master
        args += ["--token-key-file", token_key]
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2  # as a bad config: the unit's RestartPreventExitStatus, no restart loop
    assert str(missing) in result.stderr, result.stderr


@pytest.fixture(scope="module")
def daemon_keys(root, workdir):
    """role -> key flags: a key pair each for a master and a chunkserver, in one authorized keys."""
    keys = workdir / "daemon-keys"
    keys.mkdir()
    flags = {}
    for role in ("master", "chunkserver"):
        line = run(root / "usr/bin/hafs", "keygen", keys / f"{role}.key", "--role", role, "--name", role).stdout
        with open(keys / "authorized_keys", "a") as authorized:
            authorized.write(line)
        flags[role] = ["--key-file", keys / f"{role}.key", "--authorized-keys", keys / "authorized_keys"]
    return flags


@pytest.mark.parametrize("token_key_file", ["missing", "default", "empty"])
@pytest.mark.parametrize("package", ["hafs-master", "hafs-chunkserver"])
def test_daemon_without_the_token_key_is_refused_naming_it(root, workdir, daemon_keys, package, token_key_file):
    """A master or chunkserver with its key pair but no chunk access token key exits 2 (no
    restart loop), naming the file it could not read: one that is missing, or the packaged
    default /etc/hafs/keys/token.key; an empty token-key-file (tokens off) only goes with
    --insecure."""
    args = [*daemon_args(root, workdir, package, "no-token-key-"), *daemon_keys[package.removeprefix("hafs-")]]
    if token_key_file == "missing":
        named = workdir / f"no-{package}-token.key"
        args += ["--token-key-file", named]
    elif token_key_file == "default":  # as the packaged config has it
        named = "/etc/hafs/keys/token.key"
        if Path(named).exists():
            pytest.skip(f"this machine has {named}")
    else:
        named = "--token-key-file"
        args += ["--token-key-file", ""]
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert str(named) in result.stderr, result.stderr
    if token_key_file == "empty":
        assert "--insecure" in result.stderr, result.stderr


def test_tools_run_from_the_root(root):
    for binary in ("hafs", "hafs-bench"):
        assert "usage:" in run(root / "usr/bin" / binary, "--help").stdout


def http_get(address, path):
    """(status, body) of GET http://ADDRESS/PATH; None while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode().strip()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode().strip()
    except OSError:
        return None


class Daemon:
    """One packaged binary started from the fresh root; its output goes to a log file."""

    def __init__(self, workdir, name, args):
        self.name = name
        self.log = workdir / f"{name}.log"
        self.metrics_file = workdir / f"{name}.metrics"
        args = [*args, "--metrics-listen", "127.0.0.1:0", "--metrics-port-file", self.metrics_file]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen([str(a) for a in args], stdout=log, stderr=subprocess.STDOUT)

    def read(self, path):
        return path.read_text().strip() if path.exists() and path.read_text().endswith("\n") else None

    def health(self):
        assert self.process.poll() is None, f"{self.name} exited:\n{self.log.read_text()}"
        metrics = self.read(self.metrics_file)
        return metrics and http_get(metrics, "/health")

    def wait_healthy(self):
        wait_until(lambda: (self.health() or (0,))[0] == 200, timeout_s=30, what=f"{self.name} healthy")

    def stop(self):
        """SIGTERM, as systemctl stop sends it; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def daemons():
    started = []
    yield started
    for daemon in reversed(started):
        daemon.stop()


def test_packaged_daemons_start_from_the_packaged_configs(root, workdir, daemons):
    run_dir = Path(tempfile.mkdtemp(dir=workdir, prefix="run-"))
    usr_bin, etc = root / "usr/bin", root / "etc/hafs"

    # The cluster's keys, made as an operator makes them (docs/operations.md, "Keys"): one
    # authorized keys file, as every host has it; cs2's key comes later, as a new chunkserver's.
    # One chunk access token key, which the master and every chunkserver get (the mount not).
    keys = run_dir / "keys"
    keys.mkdir()
    authorized_keys = keys / "authorized_keys"
    token_flags = ["--token-key-file", make_token_key(root, keys / "token.key")]

    def make_key(name, role):
        """NAME's key pair, by the packaged hafs keygen; its line is added to the authorized keys.
        The daemons' flags: the key files, with the token key."""
        line = run(usr_bin / "hafs", "keygen", keys / f"{name}.key", "--role", role, "--name", name).stdout
        with open(authorized_keys, "a") as authorized:
            authorized.write(line)
        return ["--key-file", keys / f"{name}.key", "--authorized-keys", authorized_keys, *token_flags]

    def loaded_keys(daemon, count):
        return f"authorized keys: {count} keys from {authorized_keys}" in daemon.log.read_text()

    master_keys = make_key("master", "master")
    cs1_keys = make_key("cs1", "chunkserver")
    make_key("client", "client")

    master = Daemon(run_dir, "master", [
        usr_bin / "hafs-master", "--config", etc / "master.conf", *master_keys,
        "--listen", "127.0.0.1:0", "--data-dir", run_dir / "master", "--port-file", run_dir / "master.port"])
    daemons.append(master)
    master.wait_healthy()
    master_address = master.read(run_dir / "master.port")

    def start_chunkserver(name, key_flags):
        (run_dir / name).mkdir()  # the chunkserver refuses a missing data directory
        daemons.append(Daemon(run_dir, name, [
            usr_bin / "hafs-chunkserver", "--config", etc / "chunkserver.conf", *key_flags, "--master", master_address,
            "--listen", "127.0.0.1:0", "--data-dir", run_dir / name]))
        return daemons[-1]

    # Two: a write needs min-write-replicas (2) of them. The second joins as a chunkserver
    # added to a running cluster does: its key's line in the authorized keys, which the master
    # and the other chunkserver reread on SIGHUP (systemctl reload), then it starts.
    chunkservers = [start_chunkserver("cs1", cs1_keys)]
    chunkservers[0].wait_healthy()  # healthy = registered with the master
    cs2_keys = make_key("cs2", "chunkserver")
    for daemon in (master, chunkservers[0]):
        daemon.process.send_signal(signal.SIGHUP)
    wait_until(lambda: loaded_keys(master, 4) and loaded_keys(chunkservers[0], 4), timeout_s=30,
               what="the master and cs1 to reread the authorized keys")
    chunkservers.append(start_chunkserver("cs2", cs2_keys))
    chunkservers[1].wait_healthy()
    master.wait_healthy()  # still running after the SIGHUP

    # The mount as an operator configures it: the packaged file with its live lines edited
    # and its key lines uncommented.
    mountpoint = run_dir / "mnt"
    mount_conf = run_dir / "mount.conf"
    text = (etc / "mount.conf").read_text()
    text = re.sub(r"^master =.*$", f"master = {master_address}", text, flags=re.M)
    text = re.sub(r"^mountpoint =.*$", f"mountpoint = {mountpoint}", text, flags=re.M)
    text, edited = re.subn(r"^#key-file = .*$", f"key-file = {keys / 'client.key'}", text, flags=re.M)
    assert edited == 1
    text, edited = re.subn(r"^#authorized-keys = .*$", f"authorized-keys = {authorized_keys}", text, flags=re.M)
    assert edited == 1
    mount_conf.write_text(text)
    helper = root / "usr/lib/hafs/hafs-mount-helper"
    run(helper, "prepare", mount_conf)  # ExecStartPre: makes the mountpoint
    assert mountpoint.is_dir()
    mount = Daemon(run_dir, "mount", [usr_bin / "hafs-mount", "--config", mount_conf])
    daemons.append(mount)
    try:
        mount.wait_healthy()  # healthy = mounted
        (mountpoint / "hello").write_text("from the packages\n")
        assert (mountpoint / "hello").read_text() == "from the packages\n"
        assert mount.stop() == 0  # SIGTERM unmounts
        assert not os.path.ismount(mountpoint)

        # A killed mount leaves a dead FUSE mount behind; the unit's ExecStartPre clears it.
        mount = Daemon(run_dir, "mount2", [usr_bin / "hafs-mount", "--config", mount_conf])
        daemons.append(mount)
        mount.wait_healthy()
        mount.process.kill()
        mount.process.wait()
        assert is_hafs_mount(mountpoint)
        run(helper, "cleanup", mount_conf)  # ExecStopPost
        assert not is_hafs_mount(mountpoint)
    finally:
        if is_hafs_mount(mountpoint):
            subprocess.run(["fusermount3", "-uz", str(mountpoint)], capture_output=True)

    # The file written and read back went through the chunkservers on the master's tokens.
    for daemon in (master, *chunkservers):
        log = daemon.log.read_text()
        assert f"chunk access tokens on, key from {keys / 'token.key'}" in log, log
        assert "chunk access tokens are off" not in log, log
    for chunkserver in chunkservers:
        assert chunkserver.stop() == 0
    assert master.stop() == 0


def is_hafs_mount(path):
    with open("/proc/self/mounts") as mounts:
        return any(line.split()[1:3] == [str(path), "fuse.hafs"] for line in mounts)
