#!/usr/bin/env bash
# Provisions chunkserver NAME of vagrant/topology: hafs-chunkserver (and hafs-tools, to make
# the keys of a chunkserver added to the topology later), its own key pair NAME.key and the
# chunk access token key from the cluster's keys, /etc/hafs/chunkserver.conf (every master;
# its rack as the failure-domain label), the unit.
# Usage: chunkserver.sh NAME   (common.sh lists the environment it reads)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

name=${1:?usage: chunkserver.sh NAME}
require_role "$name" chunkserver
address=$(address_of "$name")
rack=$(host_field "$name" 4)

install_packages hafs-chunkserver hafs-tools
make_cluster_keys
install_authorized_keys
install_key "$name" chunkserver hafs
install_token_key
mkdir -p /var/lib/hafs/chunkserver
write_conf chunkserver <<CONF
master = $(master_list)
listen = $address:$chunkserver_port
label = $([[ $rack == - ]] && echo "host=$name" || echo "rack=$rack")
data-dir = /var/lib/hafs/chunkserver
metrics-listen = $address:$chunkserver_metrics_port
CONF
start_serving_unit hafs-chunkserver "$address" "$chunkserver_port"
