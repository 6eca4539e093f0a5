# shellcheck shell=bash
# Shared by scripts/test.sh, scripts/demo.sh, lab/matrix.sh and bench/compare.sh: prerequisites of the
# namespace lab, and starting and stopping programs in it.
# Source it; it defines functions and PH_ROOT (the repository root) and changes nothing else.

# shellcheck disable=SC2034 # used by the scripts that source this file
PH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# ip, nft and conntrack live in sbin, which a non-login root shell may not have on PATH
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
export PATH

ph_log() { echo "[pinhole] $*" >&2; }
ph_die() { echo "[pinhole] error: $*" >&2; exit 1; }

ph_require_root() {
  [[ $(id -u) == 0 ]] || ph_die "run as root: the lab creates network namespaces, nftables NATs and TUN devices"
}

# ph_install_missing CMD:PACKAGE...: installs with apt-get (one `apt-get update` first) the
# packages whose command is not on PATH; nothing when all are there.
ph_install_missing() {
  local -a pkgs=()
  local pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || pkgs+=("${pair#*:}")
  done
  if ((${#pkgs[@]})); then
    command -v apt-get >/dev/null 2>&1 || ph_die "missing ${pkgs[*]} and no apt-get to install them"
    ph_log "installing: ${pkgs[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"
  fi
}

# Installs, with apt-get and only if missing, what the lab and the build need.
ph_install_prereqs() {
  # nstat: FuzzIT reads UDP counters with it
  ph_install_missing ip:iproute2 nft:nftables conntrack:conntrack ping:iputils-ping nstat:iproute2 \
    javac:default-jdk-headless mvn:maven tcpdump:tcpdump wireguard-go:wireguard-go wg:wireguard-tools
  if [[ ! -c /dev/net/tun ]]; then
    ph_log "/dev/net/tun missing: loading the tun module"
    modprobe tun 2>/dev/null || true
    if [[ ! -c /dev/net/tun ]]; then
      { mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 0666 /dev/net/tun; } || true
    fi
    [[ -c /dev/net/tun ]] || ph_die "/dev/net/tun is not available (no tun module, or a container without the device)"
  fi
}

# ph_lab_start LOG NAME NODE cmd...: runs cmd in the background in node NODE of the lab with prefix
# $P (lab/lab.sh exec), output to LOG, and records its PID in PIDS and LAST and NAME in NAMES.
# `lab.sh exec` and `ip netns exec` both exec (as do env and bin/pinhole), so the PID is the
# program's own.
ph_lab_start() {
  local log=$1 name=$2 node=$3
  shift 3
  "$PH_ROOT/lab/lab.sh" exec "$P" "$node" "$@" >"$log" 2>&1 &
  LAST=$!
  PIDS+=("$LAST")
  NAMES+=("$name")
}

# ph_stop_all: stops what ph_lab_start started (the PIDs in PIDS, names in NAMES): SIGTERM by PID,
# newest first, SIGKILL after 10 s; then empties both arrays.
ph_stop_all() {
  local i pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        ph_log "${NAMES[i]} (pid $pid) ignored SIGTERM: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
    wait "$pid" 2>/dev/null || true
  done
  PIDS=() NAMES=()
}
