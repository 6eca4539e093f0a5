#!/usr/bin/env bash
# pinhole network-namespace lab: two peers behind NATs and a public rendezvous host.
#
#   lab/lab.sh [-v] up PREFIX [--nat-a MODE] [--nat-b MODE] [--netem SPEC] [--netem-b SPEC]
#   lab/lab.sh [-v] up PREFIX --same-nat [--nat-a MODE] [--hairpin on|off] [--isolate] [--netem SPEC]
#   lab/lab.sh [-v] down PREFIX
#   lab/lab.sh exec PREFIX NODE cmd...        NODE: rdv inet wla wlb cga cgb nata natb a b (if present)
#   lab/lab.sh status PREFIX                  (namespaces, addresses, NAT rules, qdiscs)
#   lab/lab.sh host PREFIX NAME 203.0.113.X   (one more public host, e.g. an attacker: see cmd_host)
#   lab/lab.sh forward PREFIX a|b PORT        (a UDP port forward on a home NAT: see cmd_forward)
#   MODE: home open symmetric cgnat blocked   SPEC: tc netem words, e.g. 'loss 20% delay 100ms'
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
#   cgnat on side a (b alike, with 100.64.2.0/24, cgb and 192.0.2.2): two NAT layers
#     a 10.0.1.2 --lan-- nata 100.64.1.2 --wan/lan-- cga 198.51.100.2 --wan-- inet
#   --same-nat: one NAT (nata) and one LAN (a bridge named lan in nata); no natb
#     a 10.0.1.2 --lana--+
#                        +-- nata (lan 10.0.1.1) 198.51.100.2 --wan-- inet
#     b 10.0.1.3 --lanb--+
#
# NAT modes (nftables inside the NAT namespaces):
#   home       masquerade on wan (endpoint-independent mapping, the port kept when free);
#              forward: lan->wan + established/related; input: policy drop, accepts
#              established/related, lan and lo only (unsolicited inbound on the WAN is dropped).
#   open       the same without the input chain: the NAT itself answers unsolicited inbound,
#              so an early punch from the other peer leaves a conntrack entry that makes
#              masquerade remap the source port.
#   symmetric  home, but `masquerade fully-random`: every new flow (every destination) gets a
#              new random public port (address-and-port-dependent mapping).
#   cgnat      double NAT: a home NAT whose WAN is in 100.64.0.0/10, behind a carrier NAT
#              namespace (cga/cgb, also home rules) that holds the public address.
#   blocked    home, plus the forward chain drops every UDP packet from the LAN that is not
#              going to the rendezvous host 203.0.113.10.
# --same-nat   a and b on one LAN behind nata (mode from --nat-a: home, open or symmetric).
#   --hairpin on   the NAT translates LAN traffic to its own public address back into the LAN:
#              a dynamic nftables map (public port -> inside address.port, filled by every
#              outbound UDP packet on the WAN) drives a DNAT in prerouting, and the hairpinned
#              flow is SNATed to the public address (so the receiver sees the sender's public
#              mapping, as RFC 4787 REQ-9 asks). off (default): such packets reach the NAT itself
#              and are dropped (home) or answered by it (open).
#   --isolate  client isolation on the LAN bridge (as on many Wi-Fi access points): a and b
#              cannot reach each other's LAN address, only the router; hairpin is then the only
#              way through the NAT.
# --netem SPEC / --netem-b SPEC: loss and delay on side a's / side b's WAN link (between inet and
#   the outermost NAT), in both directions: a tc netem qdisc on both ends of the link, or, when
#   the kernel has no sch_netem (or LAB_NETEM=user), lab/linkemu.py in a link namespace wla/wlb
#   spliced into the link (user-space frame forwarding with the same loss and delay; it
#   emulates only 'loss N%' and 'delay Nms [Jms]'). lab.sh starts it and `down` stops it by
#   the PID it records under /run/pinhole-lab/PREFIX/. LAB_NETEM=tc insists on tc netem.
#
# Veths are created directly inside their namespaces (`ip -n NS link add ... peer ... netns NS2`),
# so no interface of the lab ever exists in the root namespace, and their names are short
# (eth0, wan, lan, lana, lanb, nata, natb, rdv) whatever the prefix.
set -euo pipefail

NODES=(rdv inet wla wlb cga cgb nata natb a b)
MODES=(home open symmetric cgnat blocked)
RDV_IP=203.0.113.10
VERBOSE=0
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE_ROOT=/run/pinhole-lab

die() { echo "lab.sh: $*" >&2; exit 2; }
say() { if [[ $VERBOSE == 1 ]]; then echo "lab: $*" >&2; fi; }

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

check_prefix() {
  # Short and plain, so "${PREFIX}natb" stays a sane namespace name and the prefix
  # cannot match anything by accident (no globbing, no slashes).
  [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{1,11}$ ]] \
    || die "bad PREFIX '$1' (2-12 chars of [A-Za-z0-9_.-], e.g. ph3f9a-)"
}

check_node() { # NODE [PREFIX]: a lab node, or a host added to lab PREFIX with `lab.sh host`
  local n
  for n in "${NODES[@]}"; do [[ $1 == "$n" ]] && return 0; done
  if [[ -n ${2:-} && $1 =~ ^[a-z0-9]{1,8}$ ]] && ip netns list | awk '{print $1}' | grep -qx -- "$2$1"; then
    return 0
  fi
  die "bad NODE '$1' (one of: ${NODES[*]}, or a host added with 'lab.sh host')"
}

check_mode() {
  local m
  for m in "${MODES[@]}"; do [[ $1 == "$m" ]] && return 0; done
  die "bad NAT mode '$1' (one of: ${MODES[*]})"
}

check_netem() {
  # passed to tc as separate words (never evaluated); keep it to what netem specs look like
  [[ $1 =~ ^[A-Za-z0-9.%\ ]+$ ]] || die "bad netem spec '$1' (e.g. 'loss 20% delay 100ms')"
}

ns_exists() { [[ -e /run/netns/$1 ]]; }

# ip in namespace NODE
nip() { local node=$1; shift; ip -n "$P$node" "$@"; }
nsx() { local node=$1; shift; ip netns exec "$P$node" "$@"; }

new_ns() {
  say "netns add $P$1"
  ip netns add "$P$1"
  nip "$1" link set lo up
  # IPv4 only: no DAD, router solicitations or other IPv6 chatter in the lab
  nsx "$1" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

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

router() {
  say "ip_forward=1, no ICMP redirects on $1"
  nsx "$1" sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
    net.ipv4.conf.default.send_redirects=0
}

# nat_rules NODE MODE PUBLIC_IP HAIRPIN: the nftables ruleset of one NAT (MODE cgnat is not
# a ruleset: both of its layers get home)
nat_rules() {
  local node=$1 mode=$2 public=$3 hairpin=$4
  say "nft $node: $mode NAT (masquerade on wan, hairpin $hairpin)"
  {
    echo "table ip pinhole {"
    if [[ $hairpin == on ]]; then
      echo "  map hairpin {"
      echo "    type inet_service : ipv4_addr . inet_service"
      echo "    flags dynamic,timeout; timeout 180s;"
      echo "  }"
      echo "  chain prerouting {"
      echo "    type nat hook prerouting priority dstnat; policy accept;"
      echo "    iifname \"lan\" ip daddr $public meta l4proto udp dnat ip to udp dport map @hairpin"
      echo "  }"
    fi
    echo "  chain postrouting {"
    echo "    type nat hook postrouting priority srcnat; policy accept;"
    if [[ $mode == symmetric ]]; then
      echo "    oifname \"wan\" masquerade fully-random"
    else
      echo "    oifname \"wan\" masquerade"
    fi
    if [[ $hairpin == on ]]; then
      echo "    oifname \"lan\" ct status dnat snat ip to $public"
    fi
    echo "  }"
    if [[ $hairpin == on ]]; then
      echo "  chain learn {"
      echo "    type filter hook postrouting priority srcnat + 10; policy accept;"
      echo "    oifname \"wan\" meta l4proto udp update @hairpin { udp sport : ct original ip saddr . ct original proto-src }"
      echo "  }"
    fi
    echo "  chain forward_filter {"
    echo "    type filter hook forward priority filter; policy drop;"
    if [[ $mode == blocked ]]; then
      echo "    iifname \"lan\" meta l4proto udp ip daddr != $RDV_IP counter drop"
    fi
    echo "    ct state established,related accept"
    echo "    iifname \"lan\" oifname \"wan\" accept"
    if [[ $hairpin == on ]]; then
      echo "    iifname \"lan\" oifname \"lan\" ct status dnat accept"
    fi
    echo "  }"
    if [[ $mode != open ]]; then
      echo "  chain input_filter {"
      echo "    type filter hook input priority filter; policy drop;"
      echo "    ct state established,related accept"
      echo "    iifname \"lan\" accept"
      echo "    iifname \"lo\" accept"
      echo "    counter"
      echo "  }"
    fi
    echo "}"
  } | nsx "$node" nft -f -
}

# tc_netem NODE IF SPEC
tc_netem() {
  local node=$1 dev=$2 spec=$3
  say "tc $node:$dev netem $spec"
  # shellcheck disable=SC2086 # the spec is a list of words for tc
  nsx "$node" tc qdisc add dev "$dev" root netem $spec
}

# how --netem is done: tc (sch_netem) or user (lab/linkemu.py); LAB_NETEM=tc|user forces it
netem_kind() {
  case ${LAB_NETEM:-auto} in
    tc | user) echo "$LAB_NETEM" ;;
    auto)
      if nsx inet tc qdisc add dev lo root netem delay 0ms 2>/dev/null; then
        nsx inet tc qdisc del dev lo root
        echo tc
      else
        echo user
      fi ;;
    *) die "LAB_NETEM must be tc, user or auto" ;;
  esac
}

# wan_link X INET_IF OUTER SPEC KIND: the link between inet (interface INET_IF) and the
# outermost NAT of side X (interface wan), direct or through the link namespace wlX
wan_link() {
  local x=$1 inet_if=$2 outer=$3 spec=$4 kind=$5
  if [[ -n $spec && $kind == user ]]; then
    new_ns "wl$x"
    veth inet "$inet_if" "wl$x" inet
    veth "wl$x" nat "$outer" wan
    nip "wl$x" link set inet promisc on
    nip "wl$x" link set nat promisc on
  else
    veth inet "$inet_if" "$outer" wan
  fi
}

# impair X INET_IF OUTER SPEC KIND: applies SPEC to side X's WAN link
impair() {
  local x=$1 inet_if=$2 outer=$3 spec=$4 kind=$5
  [[ -n $spec ]] || return 0
  if [[ $kind == tc ]]; then
    tc_netem "$outer" wan "$spec"
    tc_netem inet "$inet_if" "$spec"
    return 0
  fi
  local dir=$STATE_ROOT/$P log pidfile
  mkdir -p "$dir"
  log=$dir/linkemu-$x.log
  pidfile=$dir/linkemu-$x.pid
  say "linkemu in wl$x: $spec (log $log)"
  # shellcheck disable=SC2086 # the spec is a list of words
  setsid ip netns exec "$P""wl$x" python3 "$HERE/linkemu.py" inet nat "$pidfile" $spec \
    </dev/null >"$log" 2>&1 &
  for _ in $(seq 50); do
    [[ -s $pidfile ]] && return 0
    sleep 0.1
  done
  cat "$log" >&2
  die "linkemu in wl$x did not start"
}

# stops the link emulators this lab started (by the PIDs they recorded), and forgets them
stop_emulators() {
  local dir=$STATE_ROOT/$P f pid ns
  [[ -d $dir ]] || return 0
  for f in "$dir"/*.pid; do
    [[ -s $f ]] || continue
    pid=$(<"$f")
    [[ $pid =~ ^[0-9]+$ ]] || continue
    ns=$(ip netns identify "$pid" 2>/dev/null || true)
    # only if that PID is still the emulator in one of this lab's namespaces
    if [[ -n $ns && ${ns:0:${#P}} == "$P" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q linkemu.py; then
      say "stop linkemu pid $pid in $ns"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$dir"
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
  stop_emulators
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

# side X MODE PUBLIC GATEWAY CGNET HAIRPIN SPEC KIND: NAT X (a or b) and what is between it
# and inet, in MODE; PUBLIC/GATEWAY: the side's public address and inet's address on that link;
# CGNET: the carrier's 100.64.N.0/24 (cgnat only); HAIRPIN on|off; SPEC/KIND: --netem of this
# side and how it is done. Returns the node holding the public address in OUTER.
side() {
  local x=$1 mode=$2 public=$3 gateway=$4 cgnet=$5 hairpin=$6 spec=$7 kind=$8
  local nat=nat$x
  new_ns "$nat"
  router "$nat"
  if [[ $mode == cgnat ]]; then
    local cg=cg$x
    new_ns "$cg"
    router "$cg"
    wan_link "$x" "$nat" "$cg" "$spec" "$kind"
    veth "$cg" lan "$nat" wan
    addr inet "$nat" "$gateway/24"
    addr "$cg" wan "$public/24"
    addr "$cg" lan "$cgnet.1/24"
    addr "$nat" wan "$cgnet.2/24"
    nip "$cg" route add default via "$gateway"
    nip "$nat" route add default via "$cgnet.1"
    nat_rules "$cg" home "$public" off
    nat_rules "$nat" home "$cgnet.2" off
    OUTER=$cg
  else
    wan_link "$x" "$nat" "$nat" "$spec" "$kind"
    addr inet "$nat" "$gateway/24"
    addr "$nat" wan "$public/24"
    nip "$nat" route add default via "$gateway"
    nat_rules "$nat" "$mode" "$public" "$hairpin"
    OUTER=$nat
  fi
}

cmd_up() {
  local nat_a=home nat_b=home nat_b_set=0 same=0 hairpin=off hairpin_set=0 isolate=0 netem_a='' netem_b=''
  while [[ $# -gt 0 ]]; do
    case $1 in
      --nat-a) [[ $# -ge 2 ]] || die "--nat-a needs a mode"; nat_a=$2; shift 2 ;;
      --nat-b) [[ $# -ge 2 ]] || die "--nat-b needs a mode"; nat_b=$2; nat_b_set=1; shift 2 ;;
      --same-nat) same=1; shift ;;
      --hairpin)
        [[ $# -ge 2 && ($2 == on || $2 == off) ]] || die "--hairpin needs on or off"
        hairpin=$2; hairpin_set=1; shift 2 ;;
      --isolate) isolate=1; shift ;;
      --netem) [[ $# -ge 2 ]] || die "--netem needs a spec"; netem_a=$2; shift 2 ;;
      --netem-b) [[ $# -ge 2 ]] || die "--netem-b needs a spec"; netem_b=$2; shift 2 ;;
      -v) VERBOSE=1; shift ;;
      *) die "unknown option '$1'" ;;
    esac
  done
  check_mode "$nat_a"
  check_mode "$nat_b"
  [[ -z $netem_a ]] || check_netem "$netem_a"
  [[ -z $netem_b ]] || check_netem "$netem_b"
  if [[ $same == 1 ]]; then
    [[ $nat_b_set == 0 ]] || die "--same-nat: there is no NAT b (give the shared NAT's mode with --nat-a)"
    [[ -z $netem_b ]] || die "--same-nat: there is no side b link (use --netem)"
    [[ $nat_a == home || $nat_a == open || $nat_a == symmetric ]] \
      || die "--same-nat: the shared NAT is home, open or symmetric, not $nat_a"
  else
    [[ $hairpin_set == 0 && $isolate == 0 ]] || die "--hairpin and --isolate need --same-nat"
  fi

  # idempotent: a lab with this prefix is rebuilt from scratch
  cmd_down

  # from here on, a failure leaves nothing half-built behind
  trap on_up_exit EXIT

  local n
  for n in rdv inet a b; do new_ns "$n"; done
  router inet

  # rdv on inet
  veth inet rdv rdv eth0
  addr inet rdv 203.0.113.1/24
  addr rdv eth0 "$RDV_IP/24"
  nip rdv route add default via 203.0.113.1

  local outer_a outer_b='' kind=none
  if [[ -n $netem_a || -n $netem_b ]]; then
    kind=$(netem_kind)
    say "netem by: $kind"
  fi
  side a "$nat_a" 198.51.100.2 198.51.100.1 100.64.1 "$hairpin" "$netem_a" "$kind"
  outer_a=$OUTER
  if [[ $same == 1 ]]; then
    say "one LAN behind nata: bridge lan with ports lana (a) and lanb (b)"
    nip nata link add lan type bridge
    nip nata link set lan up
    # If br_netfilter is loaded on this machine (Docker loads it), bridged frames would also
    # cross nata's IP forward chain (policy drop): a plain LAN switches without a firewall.
    if nsx nata test -e /proc/sys/net/bridge/bridge-nf-call-iptables; then
      nsx nata sysctl -q -w net.bridge.bridge-nf-call-iptables=0
    fi
    veth nata lana a eth0
    veth nata lanb b eth0
    nip nata link set lana master lan
    nip nata link set lanb master lan
    if [[ $isolate == 1 ]]; then
      say "client isolation on lana and lanb"
      nip nata link set lana type bridge_slave isolated on
      nip nata link set lanb type bridge_slave isolated on
    fi
    addr nata lan 10.0.1.1/24
    addr a eth0 10.0.1.2/24
    addr b eth0 10.0.1.3/24
    nip a route add default via 10.0.1.1
    nip b route add default via 10.0.1.1
  else
    side b "$nat_b" 192.0.2.2 192.0.2.1 100.64.2 off "$netem_b" "$kind"
    outer_b=$OUTER
    veth nata lan a eth0
    veth natb lan b eth0
    addr nata lan 10.0.1.1/24
    addr natb lan 10.0.2.1/24
    addr a eth0 10.0.1.2/24
    addr b eth0 10.0.2.2/24
    nip a route add default via 10.0.1.1
    nip b route add default via 10.0.2.1
  fi

  impair a nata "$outer_a" "$netem_a" "$kind"
  impair b natb "$outer_b" "$netem_b" "$kind"

  trap - EXIT
  if [[ $same == 1 ]]; then
    say "up: $P (same NAT: nata=$nat_a, hairpin=$hairpin, isolate=$isolate${netem_a:+, netem: $netem_a})"
  else
    say "up: $P (nat-a=$nat_a, nat-b=$nat_b${netem_a:+, netem-a: $netem_a}${netem_b:+, netem-b: $netem_b})"
  fi
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

# A static UDP port forward on NAT X (a or b) of a two-NAT lab: datagrams to the NAT's public
# address and PORT go to the peer behind it (10.0.1.2 or 10.0.2.2), same port, as a user would set
# up on a home router for a tunnel without rendezvous (wireguard-go in bench/compare.sh). Adds a
# prerouting DNAT chain to the NAT's table and lets DNATed flows through its forward chain.
cmd_forward() {
  [[ $# == 2 ]] || die "usage: lab.sh forward PREFIX a|b PORT"
  local x=$1 port=$2 inside
  case $x in a) inside=10.0.1.2 ;; b) inside=10.0.2.2 ;; *) die "forward: side a or b, not '$x'" ;; esac
  if ! [[ $port =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65535)); then die "bad PORT '$port'"; fi
  ns_exists "${P}nat$x" || die "no NAT nat$x in lab $P"
  ! ns_exists "${P}cg$x" || die "forward: side $x is cgnat (the carrier would need the forward too)"
  nsx "nat$x" nft list chain ip pinhole forward_filter >/dev/null 2>&1 || die "forward: nat$x has no pinhole table"
  say "forward nat$x udp $port -> $inside:$port"
  if ! nsx "nat$x" nft list chain ip pinhole forward_dnat >/dev/null 2>&1; then
    nsx "nat$x" nft add chain ip pinhole forward_dnat '{ type nat hook prerouting priority dstnat; policy accept; }'
    nsx "nat$x" nft insert rule ip pinhole forward_filter iifname '"wan"' oifname '"lan"' ct status dnat accept
  fi
  nsx "nat$x" nft add rule ip pinhole forward_dnat iifname '"wan"' udp dport "$port" dnat to "$inside:$port"
}

cmd_status() {
  local n
  for n in "${NODES[@]}"; do
    if ns_exists "$P$n"; then
      echo "== $P$n"
      nip "$n" -br addr show | grep -v '^lo ' || true
      nip "$n" route show | sed 's/^/   route /'
      nip "$n" -br link show type bridge_slave 2>/dev/null | sed 's/^/   bridge port /' || true
      nsx "$n" tc qdisc show | grep netem | sed 's/^/   /' || true
    fi
  done
  local f
  for f in "$STATE_ROOT/$P"/linkemu-*.pid; do
    if [[ -s $f ]]; then
      echo "== linkemu pid $(<"$f"): $(head -n1 "${f%.pid}.log" 2>/dev/null)"
    fi
  done
  for n in cga cgb nata natb; do
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
      check_node "$node" "$P"
      ns_exists "$P$node" || die "no namespace $P$node (lab.sh up $P first)"
      exec ip netns exec "$P$node" "$@" ;;
    status) cmd_status ;;
    host) cmd_host "$@" ;;
    forward) cmd_forward "$@" ;;
    *) usage ;;
  esac
}

main "$@"
