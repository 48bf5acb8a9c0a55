"""The monitoring files in deploy/ against a real Prometheus server from Debian's packages
(issue 5): promtool accepts the config and the alert rules, Prometheus scrapes every daemon
of a local cluster through the same file_sd layout the config uses, every target is up and
named series have sane values, and the Grafana dashboard asks only for series the daemons
serve."""

import json
import re
import shutil
import socket
import subprocess
import urllib.parse
import urllib.request

from conftest import REPO, make_cluster, wait_until
from test_data import MiB, write_random

DEPLOY = REPO / "deploy"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_promtool_accepts_and_unit_tests_the_alert_rules():
    result = subprocess.run(["promtool", "check", "rules", str(DEPLOY / "hafs-alerts.yml")], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 rules found" in result.stdout
    # Each alert fires on the series it watches, after its `for`, and not on a healthy cluster.
    result = subprocess.run(["promtool", "test", "rules", str(DEPLOY / "hafs-alerts.test.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", (DEPLOY / "hafs-alerts.test.yml").read_text()))
    assert tested == set(re.findall(r"alert: (\w+)", (DEPLOY / "hafs-alerts.yml").read_text()))


def test_prometheus_scrapes_every_daemon_with_the_deploy_config(request, tmp_path):
    cluster = make_cluster(request)
    write_random(cluster.mnt / "watched", 3 * MiB, seed=5)
    (cluster.mnt / "watched").read_bytes()
    daemons = json.loads(cluster.local("status", "--json").stdout)["daemons"]
    targets = [urllib.parse.urlparse(d["metrics"]).netloc for d in daemons if d["running"]]
    assert len(targets) == 6, daemons  # two masters, three chunkservers, the mount

    # The shipped config, pointed at this cluster's target file and scraping every second.
    targets_dir = tmp_path / "hafs-targets"
    targets_dir.mkdir()
    (targets_dir / "local.json").write_text(json.dumps([{"targets": targets, "labels": {"cluster": "test"}}]))
    config = (DEPLOY / "prometheus.yml").read_text()
    config = config.replace("/etc/prometheus/hafs-targets", str(targets_dir)).replace("interval: 15s", "interval: 1s")
    config = config.replace("scrape_timeout: 5s", "scrape_timeout: 1s")
    (tmp_path / "prometheus.yml").write_text(config)
    shutil.copy(DEPLOY / "hafs-alerts.yml", tmp_path / "hafs-alerts.yml")
    checked = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True,
                             text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    port = free_port()
    log = open(tmp_path / "prometheus.log", "w")
    server = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                               f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                              stdout=log, stderr=subprocess.STDOUT)

    def stop():
        server.kill()
        server.wait(30)
        log.close()
    request.addfinalizer(stop)

    def api(path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/{path}", timeout=2) as answer:
                return json.load(answer)["data"]
        except OSError:
            return None

    def query(expr):
        data = api("query?query=" + urllib.parse.quote(expr))
        return [float(sample["value"][1]) for sample in data["result"]] if data else []

    def all_up():
        data = api("targets")
        return data and len(data["activeTargets"]) == 6 and all(t["health"] == "up" for t in data["activeTargets"])
    wait_until(all_up, timeout_s=60, what="Prometheus to scrape all six daemons successfully")
    wait_until(lambda: query('max(hafs_chunkservers{state="up"})') == [3.0], timeout_s=30,
               what="three chunkservers up, as the master reports them")
    assert query('sum(hafs_master_role{role="active"})') == [1.0]
    assert query('sum(hafs_master_role{role="standby"})') == [1.0]
    assert query('max(hafs_chunks{state="healthy"})')[0] >= 1
    assert query('max(hafs_chunks{state="missing"})') == [0.0]
    assert query("sum(hafs_mount_written_bytes_total)")[0] >= 3 * MiB
    assert query("sum(hafs_chunkserver_written_bytes_total)")[0] >= 3 * 3 * MiB

    rules = api("rules")
    assert sorted(rule["name"] for group in rules["groups"] for rule in group["rules"]) == sorted(
        re.findall(r"alert: (\w+)", (DEPLOY / "hafs-alerts.yml").read_text()))
    firing = [alert["labels"]["alertname"] for alert in api("alerts")["alerts"] if alert["state"] == "firing"]
    assert not {"HafsChunksMissing", "HafsChunkserverDown", "HafsDaemonDown"} & set(firing), firing

    # Every series the dashboard draws exists in what the daemons serve.
    served = set(api("label/__name__/values"))
    dashboard = json.loads((DEPLOY / "grafana-hafs.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    wanted = {name for expr in exprs for name in re.findall(r"\bhafs_[a-z_]+", expr)}
    assert wanted and wanted <= served, sorted(wanted - served)
