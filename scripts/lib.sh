# shellcheck shell=bash
# Shared by scripts/test.sh and scripts/demo.sh: prerequisites of the namespace lab.
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

# Installs, with apt-get and only if missing, what the lab and the build need.
ph_install_prereqs() {
  local -a pkgs=()
  command -v ip >/dev/null 2>&1        || pkgs+=(iproute2)
  command -v nft >/dev/null 2>&1       || pkgs+=(nftables)
  command -v conntrack >/dev/null 2>&1 || pkgs+=(conntrack)
  command -v ping >/dev/null 2>&1      || pkgs+=(iputils-ping)
  command -v nstat >/dev/null 2>&1     || pkgs+=(iproute2) # FuzzIT reads UDP counters with it
  command -v javac >/dev/null 2>&1     || pkgs+=(default-jdk-headless)
  command -v mvn >/dev/null 2>&1       || pkgs+=(maven)
  command -v tcpdump >/dev/null 2>&1   || pkgs+=(tcpdump)
  command -v wireguard-go >/dev/null 2>&1 || pkgs+=(wireguard-go)
  command -v wg >/dev/null 2>&1        || pkgs+=(wireguard-tools)
  if ((${#pkgs[@]})); then
    command -v apt-get >/dev/null 2>&1 || ph_die "missing ${pkgs[*]} and no apt-get to install them"
    ph_log "installing: ${pkgs[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"
  fi
  if [[ ! -c /dev/net/tun ]]; then
    ph_log "/dev/net/tun missing: loading the tun module"
    modprobe tun 2>/dev/null || true
    if [[ ! -c /dev/net/tun ]]; then
      { mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 0666 /dev/net/tun; } || true
    fi
    [[ -c /dev/net/tun ]] || ph_die "/dev/net/tun is not available (no tun module, or a container without the device)"
  fi
}
