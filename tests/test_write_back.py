"""Write-back namespace changes (docs/design.md, "Write-back namespace changes"): a mount
holding a directory's delegation creates and removes there locally and ships the changes
later, in order. Another mount sees them as soon as it looks (the delegation is recalled and
flushed first); a takeover loses none of them; a mount killed with kill -9 loses at most what it
had not shipped, and what the masters hold is a prefix of what it did."""

import contextlib
import os
import signal
import subprocess
import time

import pytest

from conftest import make_cluster, stop_mount, wait_until
from test_metrics import daemons, scrape, value


def master_requests(cluster, op):
    """How many `op` requests the masters received."""
    return sum(value(scrape(daemon["metrics"]), "hafs_master_requests_total", op=op)
               for name, daemon in daemons(cluster).items() if name.startswith("master") and daemon.get("metrics"))


def new_chunks(cluster, result, mount="mount"):
    """New chunks of files `mount` made under delegations, by `result`: "placed" (written to a
    chunk placed ahead) or "asked" (a lease asked of the master)."""
    address = (cluster.root / mount / "metrics").read_text().strip()
    return value(scrape(f"http://{address}/metrics"), "hafs_mount_new_chunks_total", result=result)


def make_locally(cluster, directory):
    """Creates files in `directory` until one is made without the master (a new mount's name
    watch, which a delegation needs, may not be in place yet); the names made, in order."""
    names = []

    def one_local():
        before = master_requests(cluster, "mknod")
        names.append(f"probe{len(names)}")
        (directory / names[-1]).write_bytes(b"")
        return master_requests(cluster, "mknod") == before

    wait_until(one_local, timeout_s=30, what="a create under a delegation")
    return names


@pytest.fixture(scope="module")
def failing(request):
    """A cluster whose mount sessions end 3 s after their mount stops renewing (a metadata lease
    and a delegation last 2 s)."""
    return make_cluster(request, env={"HAFS_MASTER_ARGS": "--session-timeout-s 3"})


def test_a_sync_metadata_mount_sends_every_create_to_the_master(failing, tmp_path):
    cluster = failing
    with cluster.second_mount(tmp_path / "sync", "--sync-metadata") as sync_mount:
        mknods_before = master_requests(cluster, "mknod")
        (sync_mount / "wb-sync").mkdir()
        for i in range(10):
            (sync_mount / "wb-sync" / f"s{i}").write_bytes(b"")
        assert master_requests(cluster, "mknod") - mknods_before >= 10
        assert len(os.listdir(cluster.mnt / "wb-sync")) == 10


def test_a_takeover_during_write_back_loses_and_doubles_nothing(failing, tmp_path):
    """Files with bytes too: their chunks were placed ahead by the old active and are attached
    by batches the new one applies (docs/design.md, "Placements granted ahead")."""
    cluster = failing
    base = cluster.mnt / "wb-takeover"
    base.mkdir()
    expected = {}
    old_active = cluster.wait_active()
    for i in range(600):
        if i == 200:
            cluster.kill(old_active)
        content = f"file {i} ".encode() * (i % 7)
        (base / f"n{i:03}").write_bytes(content)
        expected[f"n{i:03}"] = content
        if i % 3 == 0:
            os.unlink(base / f"n{i:03}")
            del expected[f"n{i:03}"]
        if i % 50 == 49 and f"n{i:03}" in expected:
            os.rename(base / f"n{i:03}", base / f"r{i:03}")
            expected[f"r{i:03}"] = expected.pop(f"n{i:03}")
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(fd)
    os.close(fd)
    assert new_chunks(cluster, "placed") > 0, "no chunk was placed ahead"
    with cluster.second_mount(tmp_path / "other") as other:
        names = os.listdir(other / "wb-takeover")
        assert len(names) == len(set(names))
        assert set(names) == set(expected)
        for name, content in expected.items():
            assert (other / "wb-takeover" / name).read_bytes() == content, name
    cluster.start(old_active)


@contextlib.contextmanager
def holding_mount(cluster, where):
    """Another mount of `cluster` at `where` that ships its changes only when it must (a 60 s
    --metadata-flush-ms); yields its process, which the test may stop or kill; unmounted and
    gone on exit."""
    where.mkdir()
    with open(where.parent / f"{where.name}.log", "wb") as log:
        process = subprocess.Popen(cluster.mount_command(where, "--metadata-flush-ms", "60000"), stdout=log, stderr=log)
    try:
        wait_until(lambda: f" {where} fuse.hafs " in open("/proc/mounts").read(), what=f"the mount at {where}")
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
        stop_mount(where, process, lazy=True)


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def test_a_mount_killed_during_write_back_leaves_a_prefix_with_everything_before_fsync(failing, tmp_path):
    cluster = failing
    batches_before = master_requests(cluster, "change_batch")
    # What follows the fsync stays on the mount until it dies.
    with holding_mount(cluster, tmp_path / "doomed") as process:
        where = tmp_path / "doomed"
        (where / "wb-prefix").mkdir()
        for name in make_locally(cluster, where / "wb-prefix"):
            os.unlink(where / "wb-prefix" / name)
        for i in range(300):
            (where / "wb-prefix" / f"p{i:03}").write_bytes(b"")
            if i == 149:
                fsync_path(where / "wb-prefix")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    # Its delegation ends a lease time after the recall; then the masters' view is a prefix.
    names = sorted(os.listdir(cluster.mnt / "wb-prefix"))
    assert names == [f"p{i:03}" for i in range(len(names))], "not a prefix of what the mount did"
    assert len(names) >= 150, "a change before the fsync was lost"
    # (How much of the tail went depends on timing: a delegation that lapses on a loaded machine
    # makes the next create synchronous, which ships everything before it.)
    assert batches_before < master_requests(cluster, "change_batch"), "nothing was written back"


def test_a_stopped_holder_delays_another_mount_by_its_lease_and_hears_of_its_refused_changes(failing, tmp_path):
    cluster = failing
    with holding_mount(cluster, tmp_path / "holder") as process:
        where = tmp_path / "holder"
        (where / "wb-stopped").mkdir()
        fsync_path(where / "wb-stopped")  # the directory itself is on the masters
        probes = make_locally(cluster, where / "wb-stopped")
        shipped = sorted(probes[:-1])
        mknods_before = master_requests(cluster, "mknod")
        fd = os.open(where / "wb-stopped" / "unshipped", os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            assert master_requests(cluster, "mknod") == mknods_before, "the create went to the master"
            process.send_signal(signal.SIGSTOP)
            started = time.monotonic()
            # The holder cannot answer the recall: the master lets this mount in after the lease
            # (2 s), without what the holder made.
            assert sorted(os.listdir(cluster.mnt / "wb-stopped")) == shipped
            waited = time.monotonic() - started
            (cluster.mnt / "wb-stopped" / "winner").write_bytes(b"w")
            process.send_signal(signal.SIGCONT)
            # The holder's create comes too late: refused, and fsync says so (never silently lost).
            with pytest.raises(OSError):
                os.fsync(fd)
        finally:
            with contextlib.suppress(OSError):  # the refusal is reported once, by the fsync
                os.close(fd)
        assert sorted(os.listdir(cluster.mnt / "wb-stopped")) == sorted(shipped + ["winner"])
        assert 1.5 < waited < 30, waited
    assert "the master refused a write-back change" in (tmp_path / "holder.log").read_text(errors="replace")
