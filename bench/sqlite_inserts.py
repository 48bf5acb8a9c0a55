#!/usr/bin/env python3
"""sqlite on a file system (issue 14's sqlite row): a new database with one table, 10,000 rows
inserted in 100 transactions (each commit is sqlite's journal dance: create, write, fsync,
unlink), then the rows read back and counted. Run it on hafs, MooseFS and a local directory in
one run and compare the times as ratios.

usage: bench/sqlite_inserts.py NAME=DIR [NAME=DIR ...] [--rows 10000] [--transactions 100]
                               [--journal delete|wal]
  e.g. bench/sqlite_inserts.py local=/tmp hafs=/tmp/b/mnt moosefs=/tmp/hafs-peer-moosefs/mnt
"""
import argparse
import os
import sqlite3
import time


def run(directory, rows, transactions, journal):
    """Seconds to insert and to read back, in a database made (and removed) under `directory`."""
    path = os.path.join(directory, f"bench-sqlite-{os.getpid()}.db")
    for leftover in (path, path + "-journal", path + "-wal", path + "-shm"):
        if os.path.exists(leftover):
            os.unlink(leftover)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute(f"PRAGMA journal_mode={journal}")
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, value REAL)")
        per = rows // transactions
        began = time.perf_counter()
        for t in range(transactions):
            db.execute("BEGIN")
            db.executemany("INSERT INTO items (name, value) VALUES (?, ?)",
                           ((f"item-{t}-{i}", t * per + i * 0.5) for i in range(per)))
            db.execute("COMMIT")
        insert_s = time.perf_counter() - began
        began = time.perf_counter()
        count = db.execute("SELECT COUNT(*), SUM(value) FROM items").fetchone()[0]
        read_s = time.perf_counter() - began
        assert count == per * transactions, count
    finally:
        db.close()
        for leftover in (path, path + "-journal", path + "-wal", path + "-shm"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return insert_s, read_s


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="+", help="NAME=DIR")
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--transactions", type=int, default=100)
    parser.add_argument("--journal", default="delete", choices=("delete", "wal"))
    args = parser.parse_args()
    results = {}
    print(f"{'run':12} {'insert s':>10} {'read s':>10}")
    for target in args.targets:
        name, _, directory = target.partition("=")
        results[name] = run(directory, args.rows, args.transactions, args.journal)
        print(f"{name:12} {results[name][0]:10.3f} {results[name][1]:10.3f}")
    names = list(results)
    for name in names[1:]:
        ratio = results[name][0] / results[names[0]][0]
        print(f"{name}/{names[0]} insert time: {ratio:.2f}")


if __name__ == "__main__":
    main()
