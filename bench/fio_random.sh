#!/usr/bin/env bash
# fio_random.sh - cold 4 KiB random reads with fio on each directory given, in one run, so
# that file systems are compared as ratios of the same run (issue 14's measurement).
#
#   bench/fio_random.sh [--size-mib N] [--seconds S] [--modes buffered,direct] DIR [DIR ...]
#
# For each DIR: write a file of --size-mib (default 512) with fio, then for each mode
# (buffered: --direct=0, direct: --direct=1) sync, drop every page cache of this machine
# (echo 3 > /proc/sys/vm/drop_caches: the chunkservers' caches too when they run here; needs
# root) and run `fio --rw=randread --bs=4k --ioengine=psync` for --seconds (default 20).
# Prints one row per DIR and mode: IOPS, p50 and p99 completion latency in microseconds.
# The file is removed afterwards. Installs fio and jq when missing (tools/install-deps bench).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

SIZE_MIB=512
SECONDS_PER_RUN=20
MODES=buffered,direct
DIRS=()
while [ $# -gt 0 ]; do
    case $1 in
        --size-mib) SIZE_MIB=$2; shift 2 ;;
        --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
        --modes) MODES=$2; shift 2 ;;
        -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
        *) DIRS+=("$1"); shift ;;
    esac
done
[ ${#DIRS[@]} -gt 0 ] || { echo "usage: $0 [--size-mib N] [--seconds S] [--modes buffered,direct] DIR [DIR ...]" >&2; exit 2; }
"$REPO/tools/install-deps" bench || { echo "fio_random.sh: could not install fio (tools/install-deps bench)" >&2; exit 2; }

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

printf '%-40s %-9s %9s %9s %9s\n' dir mode IOPS p50_us p99_us
for dir in "${DIRS[@]}"; do
    file="$dir/fio-random.$$"
    fio --name=fill --filename="$file" --rw=write --bs=1M --size="${SIZE_MIB}M" --end_fsync=1 \
        --output-format=json >/dev/null
    for mode in ${MODES//,/ }; do
        case $mode in
            buffered) direct=0 ;;
            direct) direct=1 ;;
            *) echo "fio_random.sh: unknown mode $mode (buffered, direct)" >&2; exit 2 ;;
        esac
        drop_caches
        fio --name=r --filename="$file" --rw=randread --bs=4k --ioengine=psync --direct=$direct \
            --runtime="$SECONDS_PER_RUN" --time_based --size="${SIZE_MIB}M" --output-format=json |
            jq -r --arg dir "$dir" --arg mode "$mode" '.jobs[0].read |
                [$dir, $mode, (.iops | round),
                 (.clat_ns.percentile["50.000000"] / 1000 | round),
                 (.clat_ns.percentile["99.000000"] / 1000 | round)] | @tsv' |
            awk -F'\t' '{ printf "%-40s %-9s %9s %9s %9s\n", $1, $2, $3, $4, $5 }'
    done
    rm -f "$file"
done
