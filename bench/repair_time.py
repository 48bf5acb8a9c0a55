#!/usr/bin/env python3
"""Measures self-healing on a local cluster of four chunkservers (tools/hafs-local): writes a
file (1 GiB by default), lets its write leases end, then kill -9's the chunkserver holding
the most of its replicas and times until every chunk has three valid replicas again, while
a reader streams the file through the mount. Prints JSON: repair seconds, and the reader's
MiB/s before and during the repair (issue 4's targets: under 5 s, reader at least half).

usage: bench/repair_time.py [--size-mib N] [--hang]   (HAFS_BUILD_DIR as for tools/hafs-local)
--hang: SIGSTOP the chunkserver instead (a hung one: found by its heartbeat timeout).
"""
import argparse
import datetime
import json
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import Cluster, wait_until  # noqa: E402
from test_data import MiB, write_random  # noqa: E402
from test_failures import drop_caches  # noqa: E402
from test_healing import fully_replicated, holders  # noqa: E402

LEASE_S = 10  # hafs-master --write-lease-ms default


class Reader(threading.Thread):
    """Reads the file over and over (caches dropped each pass), counting bytes per second."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.samples, self.stop = path, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            drop_caches()
            with open(self.path, "rb", buffering=0) as handle:
                while not self.stop.is_set():
                    started = time.monotonic()
                    data = handle.read(4 * MiB)
                    if not data:
                        break
                    self.samples.append((started, time.monotonic(), len(data)))

    def rate(self, since, until):
        taken = [s for s in self.samples if s[0] >= since and s[1] <= until]
        return sum(s[2] for s in taken) / MiB / max(until - since, 1e-9)


def copy_timings(log, killed_wall):
    """From the active master's log: seconds from the kill to the first copy, the number of
    copies, and their mean and longest duration."""
    started, took = {}, []
    for stamp, verb, chunk in re.findall(r"^(\S+Z) INFO .*?: (copying|copied) chunk (\d+) ", log, re.M):
        at = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        if at < killed_wall:
            continue
        if verb == "copying":
            started.setdefault(chunk, at)
        elif chunk in started:
            took.append(at - started[chunk])
    failures = sorted(set(re.findall(r"copy of chunk \d+ .*? failed: (.*)$", log, re.M)))
    return {"copy_failures": failures,
            "first_copy_after_s": round(min(started.values()) - killed_wall, 2) if started else None,
            "copies": len(took),
            "copy_s_mean": round(sum(took) / len(took), 2) if took else None,
            "copy_s_max": round(max(took), 2) if took else None}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--hang", action="store_true", help="SIGSTOP the chunkserver instead of kill -9")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hafs-repair-"))
    root.chmod(0o755)
    cluster = Cluster(root, chunkservers=4)
    try:
        cluster.up()
        path = cluster.mnt / "big"
        write_random(path, args.size_mib * MiB, seed=7)
        wait_until(lambda: fully_replicated(cluster, path), what="three replicas")
        time.sleep(LEASE_S + 1)  # not synchronisation: a benchmark of an idle file's repair
        victim = max(["cs1", "cs2", "cs3", "cs4"], key=lambda name: holders(cluster, path, name))
        reader = Reader(path)
        reader.start()
        time.sleep(3)
        killed, killed_wall = time.monotonic(), time.time()
        master = cluster.active_master()
        (cluster.pause if args.hang else cluster.kill)(victim)
        wait_until(lambda: fully_replicated(cluster, path, without=victim), timeout_s=300, what="repair",
                   interval_s=0.1)
        repaired = time.monotonic()
        reader.stop.set()
        reader.join()
        if args.hang:
            cluster.resume(victim)
        print(json.dumps({"size_mib": args.size_mib, "fault": "SIGSTOP" if args.hang else "kill -9", "repair_s": round(repaired - killed, 2),
                          "reader_mib_s_before": round(reader.rate(killed - 3, killed), 1),
                          "reader_mib_s_during": round(reader.rate(killed, repaired), 1),
                          **copy_timings(cluster.log(master), killed_wall)}))
    finally:
        cluster.down()


if __name__ == "__main__":
    main()
