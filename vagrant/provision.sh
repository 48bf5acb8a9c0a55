#!/usr/bin/env bash
# Provisions one VM of the Vagrant cluster: installs, builds, starts its daemon under systemd.
# Arguments: ROLE (master|chunkserver|mount) OWN_IP MASTER_IP NAME
set -euo pipefail
role=$1 ip=$2 master=$3 name=$4
/hafs/tools/install-deps
cmake -S /hafs -B /opt/hafs-build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build /opt/hafs-build -j"$(nproc)" >/dev/null
install -m 755 /opt/hafs-build/hafs-master /opt/hafs-build/hafs-chunkserver /opt/hafs-build/hafs-mount \
  /opt/hafs-build/hafs /usr/local/bin/

case $role in
  master) exec_line="/usr/local/bin/hafs-master --listen $ip:9420 --data-dir /var/lib/hafs/master" ;;
  chunkserver) exec_line="/usr/local/bin/hafs-chunkserver --listen $ip:9422 --data-dir /var/lib/hafs/chunkserver --master $master:9420 --label host=$name" ;;
  mount) mkdir -p /mnt/hafs; exec_line="/usr/local/bin/hafs-mount --master $master:9420 /mnt/hafs" ;;
esac
mkdir -p /var/lib/hafs/master /var/lib/hafs/chunkserver
cat >/etc/systemd/system/hafs-$role.service <<UNIT
[Unit]
Description=hafs $role
After=network-online.target
[Service]
ExecStart=$exec_line
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now "hafs-$role"
