#!/usr/bin/env bash
# Provisions the Prometheus host NAME of vagrant/topology: Debian's prometheus package, the
# config and alert rules from deploy/, and a file_sd target file listing every hafs daemon's
# metrics endpoint from the topology; (re)starts the prometheus unit.
# Usage: prometheus.sh NAME   (common.sh lists the environment it reads; HAFS_SCRAPE_INTERVAL
# overrides deploy/prometheus.yml's scrape interval and timeout, e.g. 1s in the tests)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

name=${1:?usage: prometheus.sh NAME}
require_role "$name" prometheus
address=$(address_of "$name")

# One file_sd group per role: "address:metrics-port" of each of its hosts.
target_group() {
  local role=$1 port=$2 host targets=""
  for host in $(hosts_with_role "$role"); do targets+=${targets:+, }\"$(address_of "$host"):$port\"; done
  [[ -n $targets ]] && printf '  {"targets": [%s], "labels": {"role": "%s"}}' "$targets" "$role"
}

if ! command -v prometheus >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
fi
mkdir -p /etc/prometheus/hafs-targets
if [[ -n ${HAFS_SCRAPE_INTERVAL:-} ]]; then  # the scrape timeout may not be longer
  sed -e "s/interval: 15s/interval: $HAFS_SCRAPE_INTERVAL/" \
    -e "s/scrape_timeout: 5s/scrape_timeout: $HAFS_SCRAPE_INTERVAL/" \
    "$hafs_source/deploy/prometheus.yml" >/etc/prometheus/prometheus.yml
else
  cp "$hafs_source/deploy/prometheus.yml" /etc/prometheus/prometheus.yml
fi
cp "$hafs_source/deploy/hafs-alerts.yml" /etc/prometheus/hafs-alerts.yml
groups=()
for role_port in "master $master_metrics_port" "chunkserver $chunkserver_metrics_port" "client $mount_metrics_port"; do
  # shellcheck disable=SC2086  # two words: the role and its port
  group=$(target_group $role_port) && groups+=("$group")
done
{
  echo "["
  for ((i = 0; i < ${#groups[@]}; i++)); do
    ((i == 0)) || echo ","
    printf '%s' "${groups[i]}"
  done
  printf '\n]\n'
} >/etc/prometheus/hafs-targets/hafs.json
start_serving_unit prometheus "$address" 9090
