#!/usr/bin/env bash
# Provisions client NAME of vagrant/topology: hafs-client and hafs-tools, the client and admin
# keys from the cluster's keys (not the chunk access token key: a mount gets its tokens from
# the master), /etc/hafs/mount.conf (every master), the unit, which mounts hafs at
# /mnt/hafs; returns once it is mounted.
# Usage: client.sh NAME   (common.sh lists the environment it reads)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

name=${1:?usage: client.sh NAME}
require_role "$name" client
address=$(address_of "$name")
mountpoint=/mnt/hafs

install_packages hafs-client hafs-tools
make_cluster_keys
install_authorized_keys
install_key client client root
install_key admin admin "$(admin_user)"
mkdir -p "$mountpoint"
write_conf mount <<CONF
master = $(master_list)
mountpoint = $mountpoint
mount-retry-s = $wait_s
metrics-listen = $address:$mount_metrics_port
CONF
start_unit hafs-mount
wait_unit hafs-mount "a mount at $mountpoint" grep -qs " $mountpoint fuse.hafs " /proc/self/mounts
log "$name: hafs is mounted at $mountpoint"
