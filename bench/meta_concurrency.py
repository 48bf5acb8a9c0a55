#!/usr/bin/env python3
"""Metadata operations per second with 1, 4 and 16 processes (issue 14's concurrency table):
each process creates empty files (open O_CREAT|O_EXCL, close) in a directory of its own for
--seconds, then stats them, then unlinks them; processes are spread round robin over the
directories given for one file system (two mounts of one cluster, as two hosts have them).
Run it on hafs and on MooseFS in one run and compare the rows as ratios.

usage: bench/meta_concurrency.py NAME=DIR[,DIR...] [NAME=DIR ...]  [--processes 1,4,16] [--seconds 5]
  e.g. bench/meta_concurrency.py hafs=/tmp/b/mnt,/tmp/b/mnt2 moosefs=/tmp/hafs-peer-moosefs/mnt
"""
import argparse
import multiprocessing
import os
import shutil
import time


def worker(directory, seconds, start, results):
    os.mkdir(directory)
    names = []
    start.wait()
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()
    while time.perf_counter() < deadline:
        name = os.path.join(directory, f"f{len(names)}")
        os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        names.append(name)
    created_s = time.perf_counter() - began
    began = time.perf_counter()
    for name in names:
        os.stat(name)
    stat_s = time.perf_counter() - began
    began = time.perf_counter()
    for name in names:
        os.unlink(name)
    unlink_s = time.perf_counter() - began
    os.rmdir(directory)
    results.put((len(names), created_s, stat_s, unlink_s))


def run(roots, processes, seconds):
    """Aggregate creates, stats and unlinks per second of `processes` workers over `roots`."""
    run_dir = [os.path.join(root, f"meta-bench-{os.getpid()}-{processes}") for root in roots]
    os.mkdir(run_dir[0])
    results = multiprocessing.Queue()
    start = multiprocessing.Event()
    workers = [multiprocessing.Process(target=worker, args=(os.path.join(run_dir[i % len(roots)], f"p{i}"), seconds,
                                                               start, results)) for i in range(processes)]
    # The other mounts see the run directory made on the first (they must, for the workers).
    for where in run_dir[1:]:
        deadline = time.monotonic() + 10
        while not os.path.isdir(where) and time.monotonic() < deadline:
            time.sleep(0.01)
    for process in workers:
        process.start()
    start.set()
    outcomes = [results.get(timeout=seconds * 20 + 60) for _ in workers]
    for process in workers:
        process.join()
    shutil.rmtree(run_dir[0])
    files = sum(o[0] for o in outcomes)
    # Rates of the whole group: all files over the slowest worker's time for the phase.
    return {phase: files / max(o[i] for o in outcomes) for i, phase in ((1, "create"), (2, "stat"), (3, "unlink"))}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="+", help="NAME=DIR[,DIR...]")
    parser.add_argument("--processes", default="1,4,16")
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    table = {}
    for target in args.targets:
        name, _, dirs = target.partition("=")
        for count in counts:
            table[(name, count)] = run(dirs.split(","), count, args.seconds)
            rates = table[(name, count)]
            print(f"{name:10s} {count:3d} processes: " + "  ".join(f"{p} {r:9,.0f}/s" for p, r in rates.items()),
                  flush=True)
    names = [t.partition("=")[0] for t in args.targets]
    for other in names[1:]:
        for count in counts:
            ratios = {p: table[(names[0], count)][p] / table[(other, count)][p] for p in ("create", "stat", "unlink")}
            print(f"{names[0]}/{other} {count:3d} processes: " + "  ".join(f"{p} {r:.2f}x" for p, r in ratios.items()))


if __name__ == "__main__":
    main()
