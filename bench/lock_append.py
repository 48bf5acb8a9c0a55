#!/usr/bin/env python3
"""The cost of a lock/unlock pair and of an append, on each directory given, in one run (issue
13's benchmark): fcntl write lock + unlock pairs, flock LOCK_EX + LOCK_UN pairs, and 100-byte
O_APPEND writes, one process, one file per kind. Compare a hafs mount with MooseFS
(../shared/peers/moosefs/cluster.sh up) and a local directory as ratios of the same run.

usage: bench/lock_append.py DIR [DIR ...]   [--pairs N] [--appends N]
"""
import argparse
import fcntl
import os
import time


def per_second(count, action):
    start = time.perf_counter()
    for _ in range(count):
        action()
    return count / (time.perf_counter() - start)


def measure(directory, pairs, appends):
    results = {}
    fd = os.open(os.path.join(directory, "lock-bench"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        def fcntl_pair():
            fcntl.lockf(fd, fcntl.LOCK_EX)
            fcntl.lockf(fd, fcntl.LOCK_UN)

        def flock_pair():
            fcntl.flock(fd, fcntl.LOCK_EX)
            fcntl.flock(fd, fcntl.LOCK_UN)

        results["fcntl lock+unlock /s"] = per_second(pairs, fcntl_pair)
        results["flock lock+unlock /s"] = per_second(pairs, flock_pair)
    finally:
        os.close(fd)
    fd = os.open(os.path.join(directory, "append-bench"), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o644)
    record = b"x" * 99 + b"\n"
    try:
        results["100-byte appends /s"] = per_second(appends, lambda: os.write(fd, record))
    finally:
        os.close(fd)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+")
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--appends", type=int, default=1000)
    args = parser.parse_args()
    for directory in args.directories:
        results = measure(directory, args.pairs, args.appends)
        print(directory + ": " + ", ".join(f"{name} {value:,.0f}" for name, value in results.items()))


if __name__ == "__main__":
    main()
