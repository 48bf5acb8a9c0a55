"""Every daemon serves Prometheus metrics and a health answer over HTTP (docs/design.md,
"Metrics and health"): `hafs-local status --json` finds them, every endpoint answers valid
text exposition 0.0.4, the series move when the mount writes and reads, and a slow, broken
or refused scrape never hangs a daemon."""

import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import BUILD, make_cluster, wait_until
from test_data import MiB, sha256_of, write_random
from test_failures import drop_caches

DAEMONS = {"master1", "master2", "cs1", "cs2", "cs3", "mount"}
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{{(?:{LABEL}(?:,{LABEL})*)?\}})? (\S+)$")


def parse_exposition(text):
    """{(name, ((label, value), ...)): value}, asserting that the text is valid exposition 0.0.4."""
    types, samples = {}, {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            assert name not in types, f"two TYPE lines for {name}"
            types[name] = kind
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        family = name if name in types else re.sub(r"_(bucket|sum|count)$", "", name)
        assert family in types, f"{name} has no TYPE line before it"
        assert family == name or types[family] == "histogram", line
        assert name.startswith("hafs_"), line
        if types[family] == "counter":
            assert name.endswith("_total"), line
        key = (name, tuple(sorted(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or ""))))
        assert key not in samples, f"duplicate series {line}"
        samples[key] = float(value)
    for (name, labels), value in samples.items():
        if name.endswith("_bucket") and dict(labels).get("le") == "+Inf":
            count = dict(labels)
            del count["le"]
            assert samples[(name[: -len("_bucket")] + "_count", tuple(sorted(count.items())))] == value
    return samples


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return parse_exposition(answer.read().decode())


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples, name):
    return sum(v for (n, _), v in samples.items() if n == name)


def health(url):
    """(status, body) of the daemon's /health."""
    try:
        with urllib.request.urlopen(url.replace("/metrics", "/health"), timeout=5) as answer:
            return answer.status, answer.read().decode().strip()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode().strip()


def daemons(cluster):
    return {d["name"]: d for d in json.loads(cluster.local("status", "--json").stdout)["daemons"]}


@pytest.fixture(scope="module")
def metrics_cluster(request):
    return make_cluster(request)


def test_status_json_lists_every_daemon_with_pid_and_metrics_url(metrics_cluster):
    cluster = metrics_cluster
    listed = daemons(cluster)
    assert set(listed) == DAEMONS
    for name, daemon in listed.items():
        assert daemon["running"] is True
        assert daemon["pid"] == cluster.pid(name)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/metrics", daemon["metrics"]), daemon
    assert len({d["metrics"] for d in listed.values()}) == len(listed)
    assert "master1: running (pid" in cluster.local("status").stdout  # the text output stays


def test_every_daemon_serves_valid_metrics_and_health(metrics_cluster):
    cluster = metrics_cluster
    listed = daemons(cluster)
    expected = {
        "master": ["hafs_master_role", "hafs_master_epoch", "hafs_master_log_position", "hafs_chunks",
                   "hafs_chunkservers", "hafs_repair_copies_in_flight", "hafs_master_requests_total"],
        "cs": ["hafs_chunkserver_space_bytes", "hafs_chunkserver_chunks", "hafs_chunkserver_requests_total"],
        "mount": ["hafs_mount_operations_total", "hafs_mount_operation_duration_seconds_count"],
    }
    for name, daemon in listed.items():
        kind = "master" if name.startswith("master") else "cs" if name.startswith("cs") else "mount"
        names = {n for n, _ in scrape(daemon["metrics"])}
        for wanted in expected[kind]:
            assert wanted in names, f"{name} has no {wanted}"
    active = cluster.wait_active()
    assert health(listed[active]["metrics"]) == (200, "active")
    standby = ({"master1", "master2"} - {active}).pop()
    wait_until(lambda: health(listed[standby]["metrics"]) == (200, "standby in sync"), what="standby health")
    for name in ("cs1", "cs2", "cs3", "mount"):
        assert health(listed[name]["metrics"]) == (200, "ok")


def test_series_move_when_the_mount_writes_and_reads(metrics_cluster):
    cluster = metrics_cluster
    listed = daemons(cluster)
    chunkservers = [listed[f"cs{i}"]["metrics"] for i in (1, 2, 3)]
    mount = listed["mount"]["metrics"]
    written_before = sum(total(scrape(url), "hafs_chunkserver_written_bytes_total") for url in chunkservers)
    mount_before = scrape(mount)

    size = 3 * MiB + 12345
    path = cluster.mnt / "metered"
    digest = write_random(path, size, seed=8)
    drop_caches()  # the read below goes to the chunkservers, not the page cache
    assert sha256_of(path) == digest

    mount_after = scrape(mount)

    def grew(name, **labels):
        return value(mount_after, name, **labels) - value(mount_before, name, **labels)
    assert grew("hafs_mount_written_bytes_total") >= size
    assert grew("hafs_mount_read_bytes_total") >= size
    assert grew("hafs_mount_operations_total", op="write") > 0
    assert value(mount_after, "hafs_mount_operation_duration_seconds_count", op="write") == \
        value(mount_after, "hafs_mount_operations_total", op="write")
    written_after = sum(total(scrape(url), "hafs_chunkserver_written_bytes_total") for url in chunkservers)
    assert written_after - written_before >= 3 * size  # three replicas

    def master_view():
        views = [scrape(listed[name]["metrics"]) for name in ("master1", "master2")]
        roles = sorted("active" if value(v, "hafs_master_role", role="active") == 1 else "standby" for v in views)
        active = next((v for v in views if value(v, "hafs_master_role", role="active") == 1), None)
        return roles == ["active", "standby"] and active is not None and \
            value(active, "hafs_chunkservers", state="up") == 3 and \
            value(active, "hafs_chunkservers", state="down") == 0 and \
            value(active, "hafs_chunks", state="healthy") > 0 and \
            value(active, "hafs_chunks", state="missing") == 0 and \
            value(active, "hafs_master_epoch") >= 1 and value(active, "hafs_master_log_position") > 0 and \
            value(active, "hafs_master_requests_total", op="heartbeat") > 0
    wait_until(master_view, what="masters' metrics: one active, one standby, 3 chunkservers up, healthy chunks")


def test_slow_broken_and_refused_scrapes(metrics_cluster):
    cluster = metrics_cluster
    listed = daemons(cluster)
    url = listed["master1"]["metrics"]
    host, port = url[len("http://"):].split("/")[0].split(":")
    port = int(port)

    # A scraper that sends half a request and waits: others still get answers, it gets closed.
    slow = socket.create_connection((host, port), timeout=10)
    slow.sendall(b"GET /met")
    started = time.monotonic()
    scrape(url)
    assert slow.recv(100) == b""  # closed without an answer once its time ran out
    assert time.monotonic() - started < 8
    slow.close()

    def raw(request):
        with socket.create_connection((host, port), timeout=10) as connection:
            connection.sendall(request)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
            return answer

    assert raw(b"GET /nope HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 404 ")
    assert raw(b"DELETE /metrics HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 405 ")
    assert raw(b"\x00\xff garbage\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw(b"GET /" + b"a" * 100000).startswith(b"HTTP/1.1 400 ")
    scrape(url)  # still serving

    # A stopped daemon's endpoint refuses the connection; the master counts it down.
    cs3 = listed["cs3"]["metrics"]
    cluster.stop("cs3")
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(cs3, timeout=5)
    assert isinstance(refused.value.reason, ConnectionRefusedError)
    assert daemons(cluster)["cs3"] == {"name": "cs3", "running": False, "pid": None, "metrics": None}

    def down_counted():
        for name in ("master1", "master2"):
            samples = scrape(listed[name]["metrics"])
            if value(samples, "hafs_master_role", role="active") == 1:
                return value(samples, "hafs_chunkservers", state="down") == 1
        return False
    wait_until(down_counted, what="the active master to count cs3 down")


def test_mount_health_reports_masters_that_stopped_answering(request):
    cluster = make_cluster(request)
    mount = daemons(cluster)["mount"]["metrics"]
    assert health(mount) == (200, "ok")
    for name in ("master1", "master2"):
        cluster.stop(name)
    # A metadata call now retries (--master-retry-s) while no master answers.
    waiting = subprocess.Popen(["stat", str(cluster.mnt / "made-while-masters-were-away")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    request.addfinalizer(lambda: waiting.kill() if waiting.poll() is None else None)
    wait_until(lambda: health(mount)[0] == 503 and "no master has answered" in health(mount)[1],
               what="the mount's health to report the silent masters")
    for name in ("master1", "master2"):
        cluster.start(name)
    wait_until(lambda: health(mount) == (200, "ok"), timeout_s=60, what="the mount healthy again")
    assert waiting.wait(timeout=60) == 1  # the call got its answer: no such file


def test_every_daemon_documents_its_metrics_flags():
    for binary in ["hafs-master", "hafs-chunkserver", "hafs-mount"]:
        help_text = subprocess.run([str(BUILD / binary), "--help"], capture_output=True, text=True, timeout=30).stdout
        assert "--metrics-listen" in help_text and "127.0.0.1:0" in help_text, binary
        assert "--metrics-port-file" in help_text, binary


def test_repair_shows_in_metrics(request):
    cluster = make_cluster(request, chunkservers=4)
    path = cluster.mnt / "repaired"
    write_random(path, 8 * MiB, seed=12)
    listed = daemons(cluster)

    def replicas_on(name):
        address = cluster.address(name)
        return sum(r["address"] == address and r["state"] == "valid"
                   for chunk in cluster.hafs_json("fileinfo", str(path))["chunks"] for r in chunk["replicas"])
    wait_until(lambda: sum(replicas_on(f"cs{i}") for i in range(1, 5)) == 3, what="three replicas")
    victim = next(f"cs{i}" for i in range(1, 5) if replicas_on(f"cs{i}"))
    cluster.kill(victim)

    def active_samples():
        for name in ("master1", "master2"):
            samples = scrape(listed[name]["metrics"])
            if value(samples, "hafs_master_role", role="active") == 1:
                return samples
        return {}

    def repaired():
        samples = active_samples()
        return value(samples, "hafs_chunkservers", state="down") == 1 and \
            value(samples, "hafs_repair_copies_total", result="ok") >= 1 and \
            value(samples, "hafs_chunks", state="under_replicated") == 0 and \
            value(samples, "hafs_chunks", state="healthy") >= 1 and \
            value(samples, "hafs_repair_copies_in_flight") == 0 and value(samples, "hafs_repair_bytes_to_copy") == 0
    wait_until(repaired, timeout_s=90, what="the repair to show in the active master's metrics")
    survivors = [listed[f"cs{i}"]["metrics"] for i in range(1, 5) if f"cs{i}" != victim]
    copied = [scrape(url) for url in survivors]
    assert sum(value(s, "hafs_chunkserver_copies_total", result="ok") for s in copied) >= 1
    assert sum(value(s, "hafs_chunkserver_copied_bytes_total") for s in copied) >= 8 * MiB
