# shellcheck shell=bash disable=SC2034  # its variables are used by the role scripts
# Shared by the role scripts in this folder (sourced, not run). A role script provisions one
# host of the cluster described in vagrant/topology: it installs the hafs packages, puts the
# host's CURVE keys (and on a master or chunkserver the cluster's chunk access token key) in
# /etc/hafs/keys (from $keys, see make_cluster_keys), writes the role's /etc/hafs/ROLE.conf
# from the topology and starts the role's systemd unit.
# The same scripts provision the Vagrant VMs and the network-namespace hosts of
# tests/test_netns_cluster.py.
#
# Environment:
#   HAFS_TOPOLOGY   the topology file (default: vagrant/topology beside this folder)
#   HAFS_DEBS       the folder with the hafs-*.deb packages (default: vagrant/debs); built
#                   there with tools/build-packages when it has none
#   HAFS_KEYS       the folder with the cluster's keys (default: vagrant/keys); made there by
#                   the first host provisioned
#   HAFS_WAIT_S     how long to wait for a daemon to come up (default 60)
#
# Without systemd as init (the namespace hosts), start_unit runs the unit's own ExecStart
# line detached, with its pid in /run/hafs/ROLE.pid and its output in /var/log/hafs/ROLE.log.
set -euo pipefail

hafs_source=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
topology=${HAFS_TOPOLOGY:-$hafs_source/vagrant/topology}
debs=${HAFS_DEBS:-$hafs_source/vagrant/debs}
keys=${HAFS_KEYS:-$hafs_source/vagrant/keys}
wait_s=${HAFS_WAIT_S:-60}
cluster_id=hafs-vagrant

# Ports every host uses (docs/operations.md): services, then the metrics endpoints.
master_port=9420
chunkserver_port=9422
master_metrics_port=9428
chunkserver_metrics_port=9429
mount_metrics_port=9430

die() { echo "provision: $*" >&2; exit 1; }
log() { echo "provision: $*" >&2; }

# The topology's lines without comments: NAME ROLE ADDRESS RACK.
topology_lines() { grep -v '^[[:space:]]*\(#\|$\)' "$topology"; }

# Names of the hosts with ROLE, in topology order.
hosts_with_role() { topology_lines | awk -v role="$1" '$2 == role { print $1 }'; }

# FIELD (2 role, 3 address, 4 rack) of host NAME; fails for an unknown host.
host_field() {
  local value
  value=$(topology_lines | awk -v name="$1" -v field="$2" '$1 == name { print $field }')
  [[ -n $value ]] || die "no host '$1' in $topology"
  echo "$value"
}

address_of() { host_field "$1" 3; }

# Fails unless NAME is a host of ROLE in the topology.
require_role() {
  [[ $(host_field "$1" 2) == "$2" ]] || die "$1 is not a $2 in $topology"
}

# "host:port,host:port": every master, in topology order (what chunkservers and mounts get).
master_list() {
  local name list=""
  for name in $(hosts_with_role master); do list+=${list:+,}$(address_of "$name"):$master_port; done
  echo "$list"
}

# Builds the packages into $debs unless it has them (the first VM does it for the others when
# the synced folder is shared both ways; otherwise each VM builds its own).
ensure_debs() {
  compgen -G "$debs/hafs-tools_*.deb" >/dev/null && return 0
  log "no packages in $debs: building them (tools/build-packages installs what it needs)"
  HAFS_BUILD_DIR=${HAFS_BUILD_DIR:-/var/tmp/hafs-build} "$hafs_source/tools/build-packages" "$debs"
}

# Installs the named hafs packages from $debs, unless that version is installed already.
install_packages() {
  local package deb have wanted=()
  ensure_debs
  for package in "$@"; do
    deb=$(compgen -G "$debs/${package}_*.deb" | sort -V | tail -n 1) || true
    [[ -n $deb ]] || die "no $package package in $debs"
    have=$(dpkg-query -W -f '${Status} ${Version}' "$package" 2>/dev/null) || true
    [[ $have == "install ok installed $(dpkg-deb -f "$deb" Version)" ]] || wanted+=("$deb")
  done
  ((${#wanted[@]})) || return 0
  log "installing ${wanted[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${wanted[@]}" >/dev/null
}

# The cluster's CURVE keys (docs/operations.md, "Keys"), made once into $keys by the first
# host provisioned, for every host of the topology: the key pair both masters share
# (master.key), one per chunkserver (NAME.key), client.key for the mounts and admin.key for
# the hafs CLI; authorized_keys lists them all. So every daemon knows every other one from
# its first start, and no host has to reload another. With them the chunk access token key
# every master and chunkserver shares (token.key, make_token_key). Each host then copies its
# own key, the list and, on a master or chunkserver, the token key from $keys (install_key,
# install_authorized_keys, install_token_key), so every host must see what the first one
# wrote: the synced folder has to be shared both ways (NFS, VirtualBox), or $keys made
# beforehand. A host added to the topology later: its provisioning makes its key; `vagrant
# provision` of the others gives them the new list (they restart).
# Idempotent: existing keys are kept, a missing line is added.
make_cluster_keys() {
  local name
  if [[ ! -d $keys ]]; then
    (umask 077 && mkdir -p "$keys")
    echo '*' >"$keys/.gitignore"  # secret keys inside the source tree: never to be committed
  fi
  make_key master master
  make_key client client
  make_key admin admin
  for name in $(hosts_with_role chunkserver); do make_key "$name" chunkserver; done
  make_token_key
}

# make_key NAME ROLE: $keys/NAME.key unless it exists (hafs keygen), and its line
# "ROLE PUBLIC-KEY NAME" in $keys/authorized_keys unless its key is listed.
make_key() {
  local name=$1 role=$2 public
  if [[ ! -s $keys/$name.key ]]; then
    command -v hafs >/dev/null || die "no $keys/$name.key, and no hafs (hafs-tools) here to make it"
    hafs keygen "$keys/$name.key" >/dev/null || die "could not make $keys/$name.key"
    log "made the key $keys/$name.key ($role)"
  fi
  public=$(sed -n 's/^public-key = //p' "$keys/$name.key")
  [[ -n $public ]] || die "$keys/$name.key is not a key pair file (hafs keygen makes one)"
  grep -qsF " $public" "$keys/authorized_keys" || echo "$role $public $name" >>"$keys/authorized_keys"
}

# $keys/token.key unless it exists (hafs token-key: 32 random bytes as 64 hex digits, 0600):
# the secret with which the masters sign chunk access tokens and the chunkservers check them.
make_token_key() {
  local file=$keys/token.key
  if [[ ! -s $file ]]; then
    command -v hafs >/dev/null || die "no $file, and no hafs (hafs-tools) here to make it"
    rm -f "$file"  # an empty one left by an interrupted run: hafs token-key replaces no file
    hafs token-key "$file" || die "could not make $file"
    log "made the chunk access token key $file"
  fi
  grep -qxE '[0-9a-f]{64}' "$file" || die "$file is not a token key (hafs token-key makes one)"
}

# The chunk access token key as /etc/hafs/keys/token.key, where the master and the
# chunkserver look for it (their default token-key-file): the same file on every master and
# chunkserver, 0600, owned by hafs, which they run as. Clients do not get it.
install_token_key() {
  install -D -m 0600 -o hafs -g hafs "$keys/token.key" /etc/hafs/keys/token.key
}

# The public list, the same on every host, where every hafs process looks for it.
install_authorized_keys() {
  install -D -m 0644 "$keys/authorized_keys" /etc/hafs/keys/authorized_keys
}

# install_key NAME AS OWNER: $keys/NAME.key as /etc/hafs/keys/AS.key (AS: the default key
# file of a process, master, chunkserver, client or admin), 0600, owned by OWNER (hafs for
# the daemons the units run as hafs).
install_key() {
  local name=$1 as=$2 owner=$3
  install -D -m 0600 -o "$owner" -g "$(id -gn "$owner")" "$keys/$name.key" "/etc/hafs/keys/$as.key"
}

# Who may use the admin key: the login user of a Vagrant VM (`vagrant ssh HOST -c 'hafs
# status /mnt/hafs'` runs as vagrant), else root alone.
admin_user() {
  if getent passwd vagrant >/dev/null; then echo vagrant; else echo root; fi
}

# Writes /etc/hafs/ROLE.conf from standard input (`name = value` lines, docs/operations.md).
write_conf() {
  local role=$1
  mkdir -p /etc/hafs
  {
    echo "# Written by vagrant/provision/$role.sh from vagrant/topology; provisioning rewrites it."
    cat
  } >"/etc/hafs/$role.conf.new"
  mv "/etc/hafs/$role.conf.new" "/etc/hafs/$role.conf"
}

have_systemd() { [[ -d /run/systemd/system ]]; }

# Starts (or restarts) UNIT: through systemd when it is init, else as the unit's ExecStart
# line run detached (see the header), stopping the one this function started before.
start_unit() {
  local unit=$1
  if have_systemd; then
    systemctl daemon-reload
    systemctl enable "$unit"
    systemctl restart "$unit"
    return
  fi
  local short=${unit#hafs-} unit_file environment_file line
  for unit_file in "/etc/systemd/system/$unit.service" "/lib/systemd/system/$unit.service" ""; do
    [[ -f $unit_file ]] && break
  done
  [[ -n $unit_file ]] || die "no unit file for $unit"
  environment_file=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$unit_file" | tail -n 1)
  mkdir -p /run/hafs /var/log/hafs
  stop_started "$short"
  # The unit's commands as systemd would run them: its ExecStartPre lines in order (one whose
  # prefix has "-" may fail), then its last ExecStart, detached.
  while IFS= read -r line; do
    bash -c "$unit_command" "$unit" "$environment_file" "${line#*=}" >>"/var/log/hafs/$short.log" 2>&1 </dev/null \
      || [[ ${line#*=} == -* ]] || unit_failed "$unit" "$line failed"
  done < <(grep '^ExecStartPre=' "$unit_file")
  line=$(grep '^ExecStart=' "$unit_file" | tail -n 1) || die "$unit_file has no ExecStart"
  echo "=== $(date -u +%FT%TZ) start_unit $unit: ${line#*=}" >>"/var/log/hafs/$short.log"
  setsid bash -c "$unit_command" "$unit" "$environment_file" "${line#*=}" >>"/var/log/hafs/$short.log" 2>&1 </dev/null &
  echo $! >"/run/hafs/$short.pid"
}

# Runs a unit's Exec line ($2) with the unit's EnvironmentFile ($1, may be empty), its
# prefix characters stripped and its $VARIABLES expanded; exec'd, so the pid is the daemon's.
# shellcheck disable=SC2016  # expanded by that bash
unit_command='
  set -a
  if [[ -n $1 && -r $1 ]]; then source "$1"; fi
  set +a
  command=$2
  while [[ $command == [-@:+!]* ]]; do command=${command:1}; done
  eval "exec $command"'

# Stops the daemon start_unit started as SHORT (its pid file), if it still runs.
stop_started() {
  local pid
  pid=$(cat "/run/hafs/$1.pid" 2>/dev/null) || return 0
  rm -f "/run/hafs/$1.pid"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  local deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || { kill -KILL "$pid"; break; }
    sleep 0.1
  done
}

# Whether UNIT still runs (under systemd, or as the pid start_unit recorded).
unit_running() {
  if have_systemd; then systemctl is-active -q "$1"; return; fi
  local pid
  pid=$(cat "/run/hafs/${1#hafs-}.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null
}

# Shows the end of UNIT's log, and fails.
unit_failed() {
  local unit=$1; shift
  if have_systemd; then journalctl -u "$unit" -n 30 --no-pager >&2 || true
  else tail -n 30 "/var/log/hafs/${unit#hafs-}.log" >&2 || true; fi
  die "$unit: $*"
}

# Waits until CHECK (a command) succeeds while UNIT runs; fails when UNIT exits or after $wait_s.
wait_unit() {
  local unit=$1 what=$2; shift 2
  local deadline=$((SECONDS + wait_s))
  until "$@" 2>/dev/null; do
    unit_running "$unit" || unit_failed "$unit" "exited before $what"
    ((SECONDS < deadline)) || unit_failed "$unit" "no $what after ${wait_s}s"
    sleep 0.2
  done
}

# True when something accepts TCP connections on HOST:PORT.
listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Starts UNIT and waits until it serves HOST:PORT.
start_serving_unit() {
  local unit=$1 host=$2 port=$3
  start_unit "$unit"
  wait_unit "$unit" "listening on $host:$port" listening "$host" "$port"
  log "$unit serves $host:$port"
}
