#!/usr/bin/env bash
# Provisions master NAME of vagrant/topology: hafs-master and hafs-tools, the cluster's keys
# (made by the first master: make_cluster_keys) with the masters' shared key pair, the
# chunk access token key and the admin key, /etc/hafs/master.conf (the other master as
# --peer; the first master listed bootstraps a new cluster), the unit.
# Usage: master.sh NAME   (common.sh lists the environment it reads)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

name=${1:?usage: master.sh NAME}
require_role "$name" master
address=$(address_of "$name")
masters=$(hosts_with_role master)
first=$(head -n 1 <<<"$masters")
peer=$(grep -vx "$name" <<<"$masters" | head -n 1) || true

install_packages hafs-master hafs-tools
make_cluster_keys
install_authorized_keys
install_key master master hafs
install_token_key
install_key admin admin "$(admin_user)"
mkdir -p /var/lib/hafs/master
write_conf master <<CONF
listen = $address:$master_port
advertise-address = $address:$master_port
${peer:+peer = $(address_of "$peer"):$master_port}
cluster-id = $cluster_id
bootstrap = $([[ $name == "$first" ]] && echo true || echo false)
data-dir = /var/lib/hafs/master
metrics-listen = $address:$master_metrics_port
CONF
start_serving_unit hafs-master "$address" "$master_port"
