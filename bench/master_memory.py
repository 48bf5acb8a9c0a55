#!/usr/bin/env python3
"""Master memory per file: RSS growth of the active master (and of the standby, which holds
the same state) over N empty files created through a hafs mount.

    bench/master_memory.py [--files 100000] [--local-dir $HAFS_LOCAL_DIR]

Uses the cluster of tools/hafs-local in --local-dir (default $HAFS_LOCAL_DIR or local/).
Prints JSON: files, bytes of RSS per file for each master, seconds taken."""

import argparse
import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def rss_bytes(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--local-dir", default=os.environ.get("HAFS_LOCAL_DIR", str(REPO / "local")))
    args = parser.parse_args()
    local = Path(args.local_dir)
    masters = {name: int((local / name / "pid").read_text()) for name in ["master1", "master2"]
               if (local / name / "pid").exists()}
    target = local / "mnt" / f"memory-bench-{os.getpid()}"
    target.mkdir()
    before = {name: rss_bytes(pid) for name, pid in masters.items()}
    started = time.monotonic()
    for i in range(args.files):
        os.close(os.open(target / f"file-{i:07d}", os.O_CREAT | os.O_WRONLY, 0o644))
    seconds = time.monotonic() - started
    after = {name: rss_bytes(pid) for name, pid in masters.items()}
    result = {"files": args.files, "create_seconds": round(seconds, 1),
              "rss_bytes_per_file": {name: round((after[name] - before[name]) / args.files, 1) for name in masters}}
    for i in range(args.files):
        os.unlink(target / f"file-{i:07d}")
    target.rmdir()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
