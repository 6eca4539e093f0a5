#!/usr/bin/env bash
# pinhole network-namespace lab: two peers behind two NATs and a public rendezvous host.
#
#   lab/lab.sh [-v] up PREFIX [--nat-a home|open] [--nat-b home|open]
#   lab/lab.sh [-v] down PREFIX
#   lab/lab.sh exec PREFIX NODE cmd...        NODE: rdv inet nata natb a b
#   lab/lab.sh status PREFIX                  (namespaces, addresses, NAT rules)
#   lab/lab.sh host PREFIX NAME 203.0.113.X   (one more public host, e.g. an attacker: see cmd_host)
#
# Topology (namespaces are ${PREFIX}NODE; nothing is connected to the root namespace):
#
#   a 10.0.1.2 --lan-- nata 198.51.100.2 --wan--+                  +-- rdv 203.0.113.10
#                                               +-- inet (router) -+
#   b 10.0.2.2 --lan-- natb    192.0.2.2 --wan--+
#
#   inet: 198.51.100.1/24 (if nata), 192.0.2.1/24 (if natb), 203.0.113.1/24 (if rdv),
#         ip_forward=1, only connected routes.
#
# NAT modes (nftables inside nata/natb):
#   home  masquerade on wan; forward: lan->wan + established/related; input: policy drop,
#         accepts established/related, lan and lo only (unsolicited inbound on the WAN is dropped).
#   open  the same without the input chain: the NAT itself answers unsolicited inbound,
#         so an early punch from the other peer leaves a conntrack entry that makes
#         masquerade remap the source port.
#
# Veths are created directly inside their namespaces (`ip -n NS link add ... peer ... netns NS2`),
# so no interface of the lab ever exists in the root namespace, and their names are short
# (eth0, wan, lan, nata, natb, rdv) whatever the prefix.
set -euo pipefail

NODES=(rdv inet nata natb a b)
VERBOSE=0

die() { echo "lab.sh: $*" >&2; exit 2; }
say() { if [[ $VERBOSE == 1 ]]; then echo "lab: $*" >&2; fi; }

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

check_prefix() {
  # Short and plain, so "${PREFIX}natb" stays a sane namespace name and the prefix
  # cannot match anything by accident (no globbing, no slashes).
  [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{1,11}$ ]] \
    || die "bad PREFIX '$1' (2-12 chars of [A-Za-z0-9_.-], e.g. ph3f9a-)"
}

check_node() {
  local n
  for n in "${NODES[@]}"; do [[ $1 == "$n" ]] && return 0; done
  die "bad NODE '$1' (one of: ${NODES[*]})"
}

ns_exists() { [[ -e /run/netns/$1 ]]; }

# ip in namespace NODE
nip() { local node=$1; shift; ip -n "$P$node" "$@"; }
nsx() { local node=$1; shift; ip netns exec "$P$node" "$@"; }

# veth NODE1 IF1 NODE2 IF2: a veth pair with one end in each namespace
veth() {
  say "veth $1:$2 <-> $3:$4"
  nip "$1" link add "$2" type veth peer name "$4" netns "$P$3"
  nip "$1" link set "$2" up
  nip "$3" link set "$4" up
}

addr() {
  say "addr $1:$2 $3"
  nip "$1" addr add "$3" dev "$2"
}

nat_rules() {
  local node=$1 mode=$2
  say "nft $node: $mode NAT (masquerade on wan)"
  {
    echo "table ip pinhole {"
    echo "  chain postrouting {"
    echo "    type nat hook postrouting priority srcnat; policy accept;"
    echo "    oifname \"wan\" masquerade"
    echo "  }"
    echo "  chain forward_filter {"
    echo "    type filter hook forward priority filter; policy drop;"
    echo "    ct state established,related accept"
    echo "    iifname \"lan\" oifname \"wan\" accept"
    echo "  }"
    if [[ $mode == home ]]; then
      echo "  chain input_filter {"
      echo "    type filter hook input priority filter; policy drop;"
      echo "    ct state established,related accept"
      echo "    iifname \"lan\" accept"
      echo "    iifname \"lo\" accept"
      echo "  }"
    fi
    echo "}"
  } | nsx "$node" nft -f -
}

# names of the existing namespaces that start with the prefix (the lab's nodes, and anything
# else someone made with this prefix)
lab_namespaces() {
  local ns
  for ns in /run/netns/*; do
    [[ -e $ns ]] || continue
    ns=${ns#/run/netns/}
    [[ ${ns:0:${#P}} == "$P" ]] && echo "$ns"
  done
  return 0
}

cmd_down() {
  local ns left=0 pids
  for ns in $(lab_namespaces); do
    pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ' || true)
    if [[ -n $pids ]]; then
      echo "lab.sh: warning: processes still running in $ns: $pids(not killed; stop them by PID)" >&2
    fi
    say "netns del $ns"
    ip netns del "$ns" || left=1
  done
  # Veths live only inside the namespaces and vanish with them. A lab made by an older
  # lab.sh might have left prefix-named links in the root namespace: remove those only.
  local link
  while read -r link; do
    [[ -n $link ]] || continue
    say "link del $link (root namespace)"
    ip link del "$link" 2>/dev/null || true
  done < <(ip -o link show | awk -F': ' -v p="$P" '{ sub(/@.*/, "", $2); if (index($2, p) == 1) print $2 }')
  return $left
}

on_up_exit() {
  local rc=$?
  if [[ $rc != 0 ]]; then
    echo "lab.sh: up $P failed, tearing it down" >&2
    cmd_down || true
  fi
}

cmd_up() {
  local nat_a=home nat_b=home
  while [[ $# -gt 0 ]]; do
    case $1 in
      --nat-a) [[ $# -ge 2 ]] || die "--nat-a needs a mode"; nat_a=$2; shift 2 ;;
      --nat-b) [[ $# -ge 2 ]] || die "--nat-b needs a mode"; nat_b=$2; shift 2 ;;
      -v) VERBOSE=1; shift ;;
      *) die "unknown option '$1'" ;;
    esac
  done
  local m
  for m in "$nat_a" "$nat_b"; do
    [[ $m == home || $m == open ]] || die "bad NAT mode '$m' (home or open)"
  done

  # idempotent: a lab with this prefix is rebuilt from scratch
  cmd_down

  # from here on, a failure leaves nothing half-built behind
  trap on_up_exit EXIT

  local n
  for n in "${NODES[@]}"; do
    say "netns add $P$n"
    ip netns add "$P$n"
    nip "$n" link set lo up
    # IPv4 only: no DAD, router solicitations or other IPv6 chatter in the lab
    nsx "$n" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done

  # links: inet is the internet, rdv/nata/natb hang off it, a/b sit behind their NATs
  veth inet rdv  rdv  eth0
  veth inet nata nata wan
  veth inet natb natb wan
  veth nata lan  a    eth0
  veth natb lan  b    eth0

  addr inet rdv  203.0.113.1/24
  addr inet nata 198.51.100.1/24
  addr inet natb 192.0.2.1/24
  addr rdv  eth0 203.0.113.10/24
  addr nata wan  198.51.100.2/24
  addr natb wan  192.0.2.2/24
  addr nata lan  10.0.1.1/24
  addr natb lan  10.0.2.1/24
  addr a    eth0 10.0.1.2/24
  addr b    eth0 10.0.2.2/24

  say "routes: default a->nata, b->natb, rdv/nata/natb->inet; inet has connected routes only"
  nip rdv  route add default via 203.0.113.1
  nip nata route add default via 198.51.100.1
  nip natb route add default via 192.0.2.1
  nip a    route add default via 10.0.1.1
  nip b    route add default via 10.0.2.1

  say "ip_forward=1 on inet, nata, natb"
  for n in inet nata natb; do
    nsx "$n" sysctl -q -w net.ipv4.ip_forward=1
  done

  nat_rules nata "$nat_a"
  nat_rules natb "$nat_b"

  trap - EXIT
  say "up: ${P}{${NODES[*]}} (nat-a=$nat_a, nat-b=$nat_b)"
}

# One more public host on the internet router, for tests that need a third party (an attacker, a
# fuzzer): namespace ${PREFIX}NAME with eth0 = 203.0.113.X/32, a veth to inet (interface NAME there)
# and /32 routes to it on inet and on rdv (which has 203.0.113.0/24 on its own link). Like every
# node it goes away with `down` (a namespace with the prefix). rp_filter stays off on inet (the
# kernel default in a new namespace, set explicitly): a test may send spoofed sources from it.
cmd_host() {
  [[ $# == 2 ]] || die "usage: lab.sh host PREFIX NAME 203.0.113.X"
  local name=$1 ip=$2 n
  [[ $name =~ ^[a-z][a-z0-9]{0,5}$ ]] || die "bad host NAME '$name' (1-6 chars of [a-z0-9], a letter first)"
  for n in "${NODES[@]}"; do [[ $name != "$n" ]] || die "host NAME '$name' is a lab node"; done
  if ! [[ $ip =~ ^203\.0\.113\.([1-9][0-9]{0,2})$ ]] || ((BASH_REMATCH[1] < 2 || BASH_REMATCH[1] > 254)) \
      || [[ $ip == 203.0.113.10 ]]; then
    die "bad host address '$ip' (203.0.113.2-254, not 203.0.113.10)"
  fi
  if ! ns_exists "${P}inet" || ! ns_exists "${P}rdv"; then
    die "no lab $P (lab.sh up $P first)"
  fi
  ! ns_exists "$P$name" || die "host $P$name exists already"
  say "host $P$name at $ip"
  ip netns add "$P$name"
  nip "$name" link set lo up
  nsx "$name" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  veth inet "$name" "$name" eth0
  addr "$name" eth0 "$ip/32"
  nip "$name" route add 203.0.113.1/32 dev eth0
  nip "$name" route add default via 203.0.113.1
  nip inet route add "$ip/32" dev "$name"
  nip rdv route add "$ip/32" via 203.0.113.1
  nsx inet sysctl -q -w net.ipv4.conf.all.rp_filter=0 "net.ipv4.conf.$name.rp_filter=0"
}

cmd_status() {
  local n
  for n in "${NODES[@]}"; do
    if ns_exists "$P$n"; then
      echo "== $P$n"
      nip "$n" -br addr show | grep -v '^lo ' || true
      nip "$n" route show | sed 's/^/   route /'
    else
      echo "== $P$n (absent)"
    fi
  done
  for n in nata natb; do
    if ns_exists "$P$n"; then
      echo "== $P$n nftables"
      nsx "$n" nft list ruleset
    fi
  done
}

main() {
  while [[ ${1:-} == -v ]]; do VERBOSE=1; shift; done
  [[ $# -ge 2 ]] || usage
  local cmd=$1
  P=$2
  shift 2
  check_prefix "$P"
  case $cmd in
    up) cmd_up "$@" ;;
    down)
      while [[ ${1:-} == -v ]]; do VERBOSE=1; shift; done
      [[ $# == 0 ]] || die "down takes no options"
      cmd_down ;;
    exec)
      [[ $# -ge 2 ]] || die "usage: lab.sh exec PREFIX NODE cmd..."
      local node=$1; shift
      check_node "$node"
      ns_exists "$P$node" || die "no namespace $P$node (lab.sh up $P first)"
      exec ip netns exec "$P$node" "$@" ;;
    status) cmd_status ;;
    host) cmd_host "$@" ;;
    *) usage ;;
  esac
}

main "$@"
