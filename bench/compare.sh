#!/usr/bin/env bash
# compare.sh - runs hafs-bench on the local disk, on a hafs mount and on MooseFS, and
# prints one row each plus the hafs/MooseFS ratios.
#
#   bench/compare.sh [HAFS_MOUNT] [-- HAFS_BENCH_OPTIONS...]
#
#   HAFS_MOUNT    a mounted hafs (default: $HAFS_LOCAL_DIR/mnt, HAFS_LOCAL_DIR defaulting
#                 to local/ in the repository); skipped with a note when not mounted
#   options after -- go to every hafs-bench run, e.g. -- --size-mib 64 --files 1000
#
# Installs what it needs when missing (tools/install-deps bench) and builds hafs-bench when
# it is missing.
# Environment: HAFS_BENCH (the binary, default $HAFS_BUILD_DIR/hafs-bench with
# HAFS_BUILD_DIR defaulting to build/), MFS_CLUSTER (MooseFS's cluster.sh, default
# ../shared/peers/moosefs/cluster.sh beside the repository), MFS_BASE (as cluster.sh),
# LOCAL_DIR (where the local-disk run happens, default a new directory under /tmp),
# SKIP_MOOSEFS=1 (no MooseFS run), HAFS_INSECURE_MOUNT (a second hafs mount, of a cluster run
# with --insecure: an "insecure" row and the CURVE/insecure ratios, the cost of encryption),
# HAFS_PLAIN_MOUNT (a hafs mount of a cluster run with --plain-data, docs/security.md: a
# "plain" row and the plain/insecure ratios, the cost of authenticated plain data frames).
# MooseFS is started with `cluster.sh up` when its mount is missing, and stopped again with
# `cluster.sh down` only in that case.
# The JSON of each run is kept in $OUT_DIR (default a new directory under /tmp).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

HAFS_MOUNT=""
if [ $# -gt 0 ] && [ "$1" != "--" ]; then HAFS_MOUNT=$1; shift; fi
[ "${1:-}" = "--" ] && shift
BENCH_ARGS=("$@")
HAFS_MOUNT=${HAFS_MOUNT:-${HAFS_LOCAL_DIR:-$REPO/local}/mnt}
BENCH=${HAFS_BENCH:-${HAFS_BUILD_DIR:-$REPO/build}/hafs-bench}
MFS_CLUSTER=${MFS_CLUSTER:-$REPO/../shared/peers/moosefs/cluster.sh}
MFS_MOUNT=${MFS_BASE:-/tmp/hafs-peer-moosefs}/mnt
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/hafs-compare.XXXXXX)}
mkdir -p "$OUT_DIR"

log() { echo "[compare.sh] $*" >&2; }
# What it needs (jq, and what hafs-bench builds with) is installed when missing; hafs-bench is
# built when it is not there and HAFS_BENCH does not name another binary.
"$REPO/tools/install-deps" bench || { log "could not install what it needs (tools/install-deps bench)"; exit 2; }
if [ -z "${HAFS_BENCH:-}" ] && [ ! -x "$BENCH" ]; then
    BUILD=${HAFS_BUILD_DIR:-$REPO/build}
    log "building hafs-bench in $BUILD"
    if [ ! -f "$BUILD/CMakeCache.txt" ]; then
        cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || { log "cmake failed in $BUILD"; exit 2; }
    fi
    cmake --build "$BUILD" -j"$(nproc)" --target hafs-bench >/dev/null || { log "build failed (run: cmake --build $BUILD --target hafs-bench)"; exit 2; }
fi
[ -x "$BENCH" ] || { log "no $BENCH (HAFS_BENCH names the binary)"; exit 2; }

# mounted_as DIR TYPE: DIR is a mount point whose fstype starts with TYPE (per
# /proc/self/mounts, where spaces are \040). mfsmount shows as plain "fuse".
mounted_as() {
    DIR="${1// /\\040}" TYPE=$2 awk '$2 == ENVIRON["DIR"] && index($3, ENVIRON["TYPE"]) == 1 { found = 1 }
                                      END { exit !found }' /proc/self/mounts
}

# run NAME DIR: one bench run, its JSON in $OUT_DIR/NAME.json.
run() {
    log "running hafs-bench on $1 ($2)"
    if ! "$BENCH" "${BENCH_ARGS[@]}" "$2" >"$OUT_DIR/$1.json"; then
        log "hafs-bench on $1 reported errors (see the *_error fields in $OUT_DIR/$1.json)"
    fi
}

# Local disk.
LOCAL=${LOCAL_DIR:-$(mktemp -d /tmp/hafs-compare-local.XXXXXX)}
run local "$LOCAL"
if [ -z "${LOCAL_DIR:-}" ]; then rmdir "$LOCAL"; fi

# hafs.
if mounted_as "$HAFS_MOUNT" fuse.hafs; then
    run hafs "$HAFS_MOUNT"
else
    log "no hafs mount at $HAFS_MOUNT (start one with tools/hafs-local up, or pass its path): hafs row skipped"
fi

# hafs without CURVE, to show what encryption costs.
if [ -n "${HAFS_INSECURE_MOUNT:-}" ]; then
    if mounted_as "$HAFS_INSECURE_MOUNT" fuse.hafs; then
        run insecure "$HAFS_INSECURE_MOUNT"
    else
        log "no hafs mount at $HAFS_INSECURE_MOUNT: insecure row skipped"
    fi
fi

# hafs with plain data frames: metadata under CURVE, chunk data unencrypted but authenticated.
if [ -n "${HAFS_PLAIN_MOUNT:-}" ]; then
    if mounted_as "$HAFS_PLAIN_MOUNT" fuse.hafs; then
        run plain "$HAFS_PLAIN_MOUNT"
    else
        log "no hafs mount at $HAFS_PLAIN_MOUNT: plain row skipped"
    fi
fi

# MooseFS.
if [ "${SKIP_MOOSEFS:-0}" != 1 ]; then
    started_moosefs=0
    if ! mounted_as "$MFS_MOUNT" fuse; then
        "$MFS_CLUSTER" up
        started_moosefs=1
    fi
    run moosefs "$MFS_MOUNT"
    if [ "$started_moosefs" = 1 ]; then "$MFS_CLUSTER" down; fi
fi

# The table: one row per run that produced JSON, then hafs / MooseFS.
jq -n -r '
  def cols: [
    ["write MiB/s", .write.mib_per_s], ["read MiB/s", .read.mib_per_s],
    ["rand4k IOPS", .random_read.iops], ["create/s", .metadata.create_per_s],
    ["stat/s", .metadata.stat_per_s], ["unlink/s", .metadata.unlink_per_s],
    ["tree extract s", .tree.extract_s], ["tree read s", .tree.read_s], ["tree remove s", .tree.remove_s]];
  def fmt: if . == null then "-" else (. * 100 | round / 100 | tostring) end;
  def ratio($a; $b): if $a == null or $b == null or $b == 0 then null else $a / $b end;
  def ratios($title; $a; $b):
    if $a and $b then [[$title] + [range(0; 9) as $i | ratio(($a | cols)[$i][1]; ($b | cols)[$i][1]) | fmt]]
    else [] end;
  [inputs] as $runs
  | ($runs | map({key: .name, value: .result}) | from_entries) as $by
  | (["run"] + ({} | cols | map(.[0]))) as $header
  | ($runs | map([.name] + (.result | cols | map(.[1] | fmt)))) as $rows
  | (ratios("hafs/MooseFS"; $by.hafs; $by.moosefs) + ratios("CURVE/insecure"; $by.hafs; $by.insecure)
     + ratios("plain/insecure"; $by.plain; $by.insecure) + ratios("plain/CURVE"; $by.plain; $by.hafs)) as $ratios
  | ([$header] + $rows + $ratios)[] | @tsv
' < <(for name in local hafs insecure plain moosefs; do
        [ -s "$OUT_DIR/$name.json" ] && jq -c --arg name "$name" '{name: $name, result: .}' "$OUT_DIR/$name.json"
      done; true) | column -t -s $'\t'
echo "(rates: higher is better; *_s columns: seconds, lower is better, so a ratio below 1 favours hafs there)"
echo "JSON of each run: $OUT_DIR"
