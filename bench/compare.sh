#!/usr/bin/env bash
# pinhole side by side with nebula and wireguard-go: one namespace lab, the same run (issue 10).
#
#   bench/compare.sh [--runs N] [--time S] [--quick] [--only pinhole,nebula,wg] [--java 'PATH[ OPTS]'[,...]]
#                    [--outage S] [--jfr FILE] [--out FILE] [--no-write] [--no-build]
#
# As root; run by a person, never in CI. On a shared machine run it under the lab lock:
#   flock /tmp/pinhole-lab.lock bench/compare.sh
# Installs what is missing (iperf3, nebula, wireguard-go, wireguard-tools, ...: apt-get update once,
# then apt-get install), builds unless --no-build, and brings up lab/lab.sh with two home NATs:
#   a 10.0.1.2 -- nata 198.51.100.2 --+-- inet --+-- rdv 203.0.113.10 (pinhole-rendezvous, nebula lighthouse)
#   b 10.0.2.2 -- natb    192.0.2.2 --+
# Tunnels between a and b, all up at once, each at its own default MTU:
#   pinhole       bin/pinhole up through bin/pinhole-rendezvous, then direct (checked: both status files)
#                 10.10.I.1 <-> 10.10.I.2, UDP 51820+I; one per --java PATH (I = 0, 1, ...)
#   nebula        the Debian package; a lighthouse on rdv; certificates made by nebula-cert in the
#                 work directory; 10.20.0.1 <-> 10.20.0.2, UDP 4242, punchy
#   wireguard-go  no rendezvous: `lab.sh forward` on natb (UDP 51830 to b), a has b's public endpoint
#                 and a persistent keepalive of 25 s; 10.30.0.1 <-> 10.30.0.2
# Measured: start to first ping (each tool started alone); ping RTT idle right after start; then
# --runs rounds (default 3), the tool order rotated each round, of iperf3 TCP 1 and 4 streams a->b
# and b->a for --time seconds (default 10) each, with the CPU seconds (utime+stime from
# /proc/PID/stat) of both tunnel processes before and after each transfer, and ping RTT during the
# 1-stream a->b transfer; then ping RTT idle (warm), peak RSS (VmHWM), and the outage after
# `conntrack -F` on nata (ping b->a every 10 ms for --outage seconds, default 30; longest gap).
# Keys (pinhole's genkey/pubkey, nebula's certificates) are made before the start is timed.
# --quick: 1 run x 5 s, outage window 15 s. --java: the JDK(s) for pinhole (default: what
# bin/pinhole picks, PINHOLE_JAVA or the newest installed JDK 17+); with two, both run as separate
# columns. An entry may carry JVM options after its path ('PATH -XX:... -Xmx...'): they go after
# PINHOLE_JAVA_OPTS for that column only (both ends), so one run can compare JVM settings side by
# side; the same PATH may appear twice. The rendezvous server runs with the first PATH and
# PINHOLE_RDV_JAVA_OPTS (not PINHOLE_JAVA_OPTS).
# --jfr FILE: a JFR recording (settings=profile) of pinhole client a (the first --java), written when
# it stops. Prints one table (medians, min-max, ratios pinhole/nebula and pinhole/wireguard-go) and
# writes it into --out (default docs/performance.md, between its compare.sh markers) unless
# --no-write. Everything it starts is stopped by PID and the lab removed on exit, also on failure.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$PH_ROOT"
LAB=$PH_ROOT/lab/lab.sh
T0=$SECONDS
COMMAND="bench/compare.sh${*:+ $*}"

RUNS=3 DUR=10 OUTAGE=30 ONLY=pinhole,nebula,wg JAVAS='' JFR='' OUT=docs/performance.md WRITE=1 BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --time) DUR=$2; shift 2 ;;
    --outage) OUTAGE=$2; shift 2 ;;
    --quick) RUNS=1 DUR=5 OUTAGE=15; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --java) JAVAS=$2; shift 2 ;;
    --jfr) JFR=$(realpath -m "$2"); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --no-write) WRITE=0; shift ;;
    --no-build) BUILD=0; shift ;;
    *) ph_die "unknown option $1 (see the header of $0)" ;;
  esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ && $DUR =~ ^[1-9][0-9]*$ && $OUTAGE =~ ^[1-9][0-9]*$ ]] \
  || ph_die "--runs, --time and --outage take positive integers"
ph_require_root

WANT_PH=0 WANT_NEB=0 WANT_WG=0
IFS=, read -r -a only <<<"$ONLY"
for t in "${only[@]}"; do
  case $t in
    pinhole) WANT_PH=1 ;;
    nebula) WANT_NEB=1 ;;
    wg | wireguard-go) WANT_WG=1 ;;
    *) ph_die "--only: pinhole, nebula or wg, not '$t'" ;;
  esac
done

# prerequisites: the lab's, then the three tools' and iperf3
ph_install_missing ip:iproute2 nft:nftables conntrack:conntrack ping:iputils-ping python3:python3 \
  iperf3:iperf3 javac:default-jdk-headless mvn:maven nebula:nebula nebula-cert:nebula \
  wireguard-go:wireguard-go wg:wireguard-tools
[[ -c /dev/net/tun ]] || ph_die "/dev/net/tun missing (scripts/demo.sh shows how the lab loads it)"

if [[ -z $JAVAS ]]; then
  source bin/java-select.sh
  pinhole_java # what bin/pinhole picks: PINHOLE_JAVA, else the newest installed JDK 17+
  JAVAS=$(command -v "$PINHOLE_JAVA_BIN") || ph_die "no java found (give --java PATH)"
fi
IFS=, read -r -a JAVA_ENTRIES <<<"$JAVAS"
JAVA_LIST=() JAVA_OPTS_LIST=()
for e in "${JAVA_ENTRIES[@]}"; do
  read -r j o <<<"$e"
  [[ -x $j ]] || ph_die "--java $j: not an executable"
  JAVA_LIST+=("$j") JAVA_OPTS_LIST+=("${o:-}")
done
if [[ $BUILD == 1 ]]; then
  ph_log "building (mvn -B -q -DskipTests package)"
  mvn -B -q -Dstyle.color=never -DskipTests package
fi

# a prefix no other lab uses
while :; do
  HEX=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
  P="phc$HEX-"
  [[ -e /run/netns/${P}rdv || -e /run/netns/${P}a ]] || break
done
WORK=$(mktemp -d /tmp/pinhole-compare.XXXXXX)
PIDS=() NAMES=() LAB_UP=0
CLK_TCK=$(getconf CLK_TCK)
RDV=203.0.113.10:3478
IPERF_PORT=5201

log() { echo "[compare $(date +%T)] $*" >&2; }

# shellcheck disable=SC2317 # runs from the EXIT trap
on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  ph_stop_all
  [[ $LAB_UP == 0 ]] || "$LAB" down "$P" >/dev/null || log "lab.sh down $P failed"
  rm -rf "$WORK"/keys
  log "logs in $WORK"
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME NODE cmd...: cmd in lab node NODE, output to $WORK/NAME.log; its PID is then in LAST
start() { local name=$1; ph_lab_start "$WORK/$name.log" "$@"; }

nsx() { local node=$1; shift; ip netns exec "$P$node" "$@"; }
now() { date +%s.%N; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$WORK/results.tsv"; }
meta() { printf '%s=%s\n' "$1" "$2" >>"$WORK/meta.env"; }
cpu_ticks() { # PID: utime+stime of the whole process, in clock ticks
  local s
  s=$(<"/proc/$1/stat")
  s=${s##*) }
  # shellcheck disable=SC2206 # the fields of /proc/PID/stat after the command name
  local -a f=($s)
  echo $((f[11] + f[12]))
}
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; } # PID FIELD
mb() { python3 -c "print(round($1 / 1024, 1))"; }
rtt_avg() { sed -n 's#^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*#\1#p'; } # the avg of ping's summary line

# tool registry: ids in column order, and per id a label, a kind, tunnel addresses, PIDs, UDP port
TOOLS=()
declare -A LABEL KIND ADDR_A ADDR_B PID_A PID_B PORT DEV JAVA_OF OPTS_OF
mkdir -p "$WORK/keys"
chmod 700 "$WORK/keys"
: >"$WORK/results.tsv"
: >"$WORK/meta.env"
: >"$WORK/tools.tsv"
if ((WANT_PH)); then
  for i in "${!JAVA_LIST[@]}"; do
    id=ph$i
    TOOLS+=("$id")
    v=$("${JAVA_LIST[i]}" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')
    LABEL[$id]="pinhole (JDK ${v%%+*}${JAVA_OPTS_LIST[i]:+ ${JAVA_OPTS_LIST[i]}})" KIND[$id]=pinhole
    JAVA_OF[$id]=${JAVA_LIST[i]} OPTS_OF[$id]=${JAVA_OPTS_LIST[i]}
    ADDR_A[$id]=10.10.$i.1 ADDR_B[$id]=10.10.$i.2 PORT[$id]=$((51820 + i)) DEV[$id]=ph$i
    meta "java_$id" "${JAVA_LIST[i]}${JAVA_OPTS_LIST[i]:+ ${JAVA_OPTS_LIST[i]}}: $("${JAVA_LIST[i]}" -version 2>&1 | sed -n 2p)"
  done
fi
if ((WANT_NEB)); then
  TOOLS+=(neb)
  LABEL[neb]="nebula $(nebula -version 2>&1 | awk '{print $2}')" KIND[neb]=nebula
  ADDR_A[neb]=10.20.0.1 ADDR_B[neb]=10.20.0.2 PORT[neb]=4242 DEV[neb]=neb0
  meta nebula "$(dpkg-query -W -f='${Package} ${Version}' nebula 2>/dev/null || nebula -version)"
fi
if ((WANT_WG)); then
  TOOLS+=(wg)
  LABEL[wg]="wireguard-go $(wireguard-go --version 2>&1 | awk 'NR == 1 {print $2}')" KIND[wg]=wg
  ADDR_A[wg]=10.30.0.1 ADDR_B[wg]=10.30.0.2 PORT[wg]=51830 DEV[wg]=wgc${HEX}
  meta wg "$(dpkg-query -W -f='${Package} ${Version}' wireguard-go 2>/dev/null || true)"
fi
((${#TOOLS[@]})) || ph_die "--only selected no tool"
for id in "${TOOLS[@]}"; do printf '%s\t%s\t%s\n' "$id" "${LABEL[$id]}" "${KIND[$id]}" >>"$WORK/tools.tsv"; done
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta command "$COMMAND"
meta nproc "$(nproc)"
meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
meta kernel "$(uname -r)"
meta commit "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')"
meta iperf3 "$(iperf3 --version 2>&1 | head -n1)"
meta runs "$RUNS"
meta duration "$DUR"

log "lab $P (two home NATs), work directory $WORK"
LAB_UP=1
"$LAB" up "$P" --nat-a home --nat-b home
meta rtt_underlay "$(nsx a ping -n -q -c 10 -i 0.05 203.0.113.10 | rtt_avg)"

# --- the servers on rdv ------------------------------------------------------------------------
if ((WANT_PH)); then
  start rendezvous rdv env PINHOLE_JAVA_OPTS="${PINHOLE_RDV_JAVA_OPTS:-}" PINHOLE_JAVA="${JAVA_LIST[0]}" bin/pinhole-rendezvous --listen "0.0.0.0:${RDV#*:}" \
    --state-dir "$WORK/rdv-state"
  PID_RDV=$LAST
fi
if ((WANT_NEB)); then
  mkdir -p "$WORK/keys/nebula"
  ( cd "$WORK/keys/nebula"
    nebula-cert ca -name "pinhole-bench" -duration 24h
    nebula-cert sign -name lighthouse -ip 10.20.0.254/24
    nebula-cert sign -name a -ip 10.20.0.1/24
    nebula-cert sign -name b -ip 10.20.0.2/24 )
  # nebula_config NAME LIGHTHOUSE(true|false)
  nebula_config() {
    local k=$WORK/keys/nebula
    cat <<EOF
pki:
  ca: $k/ca.crt
  cert: $k/$1.crt
  key: $k/$1.key
static_host_map:
  "10.20.0.254": ["203.0.113.10:4242"]
lighthouse:
  am_lighthouse: $2
  interval: 60
  hosts: $(if [[ $2 == true ]]; then echo '[]'; else echo '["10.20.0.254"]'; fi)
  # advertise the LAN address only: by default nebula would also offer the other tunnels'
  # addresses (pinhole's 10.10.x.x), and the peer would then carry nebula inside pinhole
  local_allow_list:
    interfaces:
      eth0: true
listen:
  host: 0.0.0.0
  port: 4242
punchy:
  punch: true
tun:
  disabled: $2
  dev: neb0
logging:
  level: info
firewall:
  outbound:
    - port: any
      proto: any
      host: any
  inbound:
    - port: any
      proto: any
      host: any
EOF
  }
  for n in lighthouse a b; do nebula_config "$n" "$([[ $n == lighthouse ]] && echo true || echo false)" \
    >"$WORK/nebula-$n.yml"; done
  start nebula-lighthouse rdv nebula -config "$WORK/nebula-lighthouse.yml"
  PID_LH=$LAST
fi
start iperf3-server b iperf3 -s -p "$IPERF_PORT"
sleep 1.5 # the servers bind

# --- each tool started alone: start to first ping -----------------------------------------------
# pinhole_keys ID: the key pair of each end in $WORK/keys (before the start is timed: four JVM launches)
pinhole_keys() {
  local ka=$WORK/keys/$1-a.key kb=$WORK/keys/$1-b.key
  (umask 077; bin/pinhole genkey >"$ka"; bin/pinhole genkey >"$kb")
  bin/pinhole pubkey <"$ka" >"$ka.pub"
  bin/pinhole pubkey <"$kb" >"$kb.pub"
}

start_pinhole() { # ID
  local id=$1 i=${1#ph}
  local ka=$WORK/keys/$id-a.key kb=$WORK/keys/$id-b.key
  local pa pb opts="${PINHOLE_JAVA_OPTS:-}${OPTS_OF[$id]:+ ${OPTS_OF[$id]}}" # the caller's, then the column's
  pa=$(<"$ka.pub") pb=$(<"$kb.pub")
  local opts_a=$opts
  [[ -z $JFR || $i != 0 ]] || opts_a="$opts -XX:StartFlightRecording=filename=$JFR,settings=profile"
  start "$id-a" a env PINHOLE_JAVA="${JAVA_OF[$id]}" PINHOLE_JAVA_OPTS="$opts_a" bin/pinhole up \
    --rendezvous "$RDV" --private-key "$ka" --peer "$pb" --dev "${DEV[$id]}" --local "${ADDR_A[$id]}" \
    --remote "${ADDR_B[$id]}" --listen-port "${PORT[$id]}" --status-file "$WORK/$id-a.status"
  PID_A[$id]=$LAST
  start "$id-b" b env PINHOLE_JAVA="${JAVA_OF[$id]}" PINHOLE_JAVA_OPTS="$opts" bin/pinhole up \
    --rendezvous "$RDV" --private-key "$kb" --peer "$pa" --dev "${DEV[$id]}" --local "${ADDR_B[$id]}" \
    --remote "${ADDR_A[$id]}" --listen-port "${PORT[$id]}" --status-file "$WORK/$id-b.status"
  PID_B[$id]=$LAST
}

start_nebula() {
  start nebula-a a nebula -config "$WORK/nebula-a.yml"
  PID_A[neb]=$LAST
  start nebula-b b nebula -config "$WORK/nebula-b.yml"
  PID_B[neb]=$LAST
}

# the control socket path (/var/run/wireguard/NAME.sock) is shared by all namespaces: one name per side
start_wg() {
  local k=$WORK/keys dev_a=${DEV[wg]}a dev_b=${DEV[wg]}b
  (umask 077; wg genkey >"$k/wg-a.key"; wg genkey >"$k/wg-b.key")
  local pa pb
  pa=$(wg pubkey <"$k/wg-a.key") pb=$(wg pubkey <"$k/wg-b.key")
  "$LAB" forward "$P" b "${PORT[wg]}"
  start wg-a a env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error wireguard-go "$dev_a"
  PID_A[wg]=$LAST
  start wg-b b env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error wireguard-go "$dev_b"
  PID_B[wg]=$LAST
  local dev
  for dev in "$dev_a" "$dev_b"; do
    for _ in $(seq 200); do [[ -S /var/run/wireguard/$dev.sock ]] && break; sleep 0.02; done
  done
  nsx b wg set "$dev_b" private-key "$k/wg-b.key" listen-port "${PORT[wg]}" \
    peer "$pa" allowed-ips "${ADDR_A[wg]}/32"
  nsx a wg set "$dev_a" private-key "$k/wg-a.key" listen-port "${PORT[wg]}" \
    peer "$pb" allowed-ips "${ADDR_B[wg]}/32" endpoint "192.0.2.2:${PORT[wg]}" persistent-keepalive 25
  nsx a ip addr add "${ADDR_A[wg]}/32" peer "${ADDR_B[wg]}" dev "$dev_a"
  nsx b ip addr add "${ADDR_B[wg]}/32" peer "${ADDR_A[wg]}" dev "$dev_b"
  nsx a ip link set "$dev_a" up
  nsx b ip link set "$dev_b" up
}

# tun_mtu ID: the MTU of the device that a's route to the tool's peer address goes through
tun_mtu() {
  local dev
  dev=$(nsx a ip -o route get "${ADDR_B[$1]}" | sed -n 's/.* dev \([^ ]*\).*/\1/p')
  nsx a cat "/sys/class/net/$dev/mtu"
}

# wait_first_ping ID T0: seconds from T0 until a's first ping through the tunnel is answered (50 ms steps)
wait_first_ping() {
  local id=$1 t0=$2 end=$((SECONDS + 60))
  while ((SECONDS < end)); do
    kill -0 "${PID_A[$id]}" 2>/dev/null && kill -0 "${PID_B[$id]}" 2>/dev/null || return 1
    if nsx a ping -n -q -c 1 -i 0.05 -w 5 "${ADDR_B[$id]}" >/dev/null 2>&1; then
      python3 -c "print(round($(now) - $t0, 2))"
      return 0
    fi
    sleep 0.05
  done
  return 1
}

for id in "${TOOLS[@]}"; do
  [[ ${KIND[$id]} != pinhole ]] || pinhole_keys "$id"
done
for id in "${TOOLS[@]}"; do
  log "starting ${LABEL[$id]}"
  t0=$(now)
  case ${KIND[$id]} in pinhole) start_pinhole "$id" ;; nebula) start_nebula ;; wg) start_wg ;; esac
  if fp=$(wait_first_ping "$id" "$t0"); then
    record "$id" first_ping "$fp"
    log "${LABEL[$id]}: first ping after $fp s"
  else
    for n in "$id-a" "$id-b" nebula-a nebula-b wg-a wg-b; do
      [[ -f $WORK/$n.log ]] && { echo "--- $n.log"; tail -n 20 "$WORK/$n.log"; } >&2
    done
    ph_die "${LABEL[$id]}: no ping through the tunnel within 60 s"
  fi
done

# pinhole: wait until both ends say direct (it may start relayed)
for id in "${TOOLS[@]}"; do
  [[ ${KIND[$id]} == pinhole ]] || continue
  ok=0
  for _ in $(seq 300); do
    if grep -qx path=direct "$WORK/$id-a.status" 2>/dev/null && grep -qx path=direct "$WORK/$id-b.status" 2>/dev/null; then
      ok=1; break
    fi
    sleep 0.1
  done
  ((ok)) || ph_die "${LABEL[$id]}: not direct after 30 s ($(grep '^path=' "$WORK/$id-a.status" || true))"
done

# the path each tool uses, from the tool itself: a's underlay endpoint for b must be natb's public
# address (not b's LAN address, the relay, or another tunnel's address)
peer_endpoint() { # ID: a's current underlay endpoint for b, as the tool reports it
  case ${KIND[$1]} in
    pinhole) sed -n 's/^endpoint=//p' "$WORK/$1-a.status" ;;
    nebula) sed -n 's/.*msg="Handshake message received".*certName=b .*udpAddr="\([^"]*\)".*/\1/p' \
      "$WORK/nebula-a.log" | tail -n1 ;;
    wg) nsx a wg show "${DEV[wg]}a" endpoints | awk '{print $2}' ;;
  esac
}
paths=''
for id in "${TOOLS[@]}"; do
  ep=$(peer_endpoint "$id")
  if [[ $ep == 192.0.2.2:* ]]; then p="direct to $ep"; else p="NOT DIRECT: ${ep:-no endpoint}"; fi
  mtu=$(tun_mtu "$id")
  paths+="${paths:+, }${LABEL[$id]} $p (MTU $mtu)"
  record "$id" mtu "$mtu"
  [[ $p == direct* ]] || log "warning: ${LABEL[$id]}: $p"
done
meta paths "$paths"
log "paths: $paths"

# idle: RTT and RSS right after start
for id in "${TOOLS[@]}"; do
  record "$id" rtt_idle_start "$(nsx a ping -n -q -c 20 -i 0.05 "${ADDR_B[$id]}" | rtt_avg)"
  record "$id" rss_idle_a "$(mb "$(status_kb "${PID_A[$id]}" VmRSS)")"
  record "$id" rss_idle_b "$(mb "$(status_kb "${PID_B[$id]}" VmRSS)")"
  case ${KIND[$id]} in # the server on rdv (shared by all pinhole columns), idle with its clients registered
    pinhole) record "$id" rss_server "$(mb "$(status_kb "$PID_RDV" VmRSS)")" ;;
    nebula) record "$id" rss_server "$(mb "$(status_kb "$PID_LH" VmRSS)")" ;;
  esac
done

# --- the transfers ------------------------------------------------------------------------------
# transfer ID STREAMS DIR(ab|ba) ROUND
transfer() {
  local id=$1 streams=$2 dir=$3 round=$4 json=$WORK/iperf-$1-$2-$3-$4.json ping_pid='' c0 c1
  local -a rev=()
  [[ $dir == ab ]] || rev=(-R)
  if [[ $streams == 1 && $dir == ab ]]; then
    nsx a ping -n -q -i 0.2 -w "$DUR" "${ADDR_B[$id]}" >"$WORK/ping-load-$id-$round.txt" 2>&1 &
    ping_pid=$!
  fi
  c0=$(($(cpu_ticks "${PID_A[$id]}") + $(cpu_ticks "${PID_B[$id]}")))
  if ! nsx a timeout $((DUR + 30)) iperf3 -c "${ADDR_B[$id]}" -p "$IPERF_PORT" -t "$DUR" -P "$streams" "${rev[@]}" -J \
      >"$json" 2>&1; then
    log "${LABEL[$id]} $streams stream(s) $dir: iperf3 failed (see $json)"
    record "$id" "tcp${streams}_$dir" fail
    [[ -z $ping_pid ]] || wait "$ping_pid" || true
    return 0
  fi
  c1=$(($(cpu_ticks "${PID_A[$id]}") + $(cpu_ticks "${PID_B[$id]}")))
  [[ -z $ping_pid ]] || { wait "$ping_pid" || true; record "$id" rtt_load "$(rtt_avg <"$WORK/ping-load-$id-$round.txt")"; }
  local r
  r=$(python3 - "$json" "$((c1 - c0))" "$CLK_TCK" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))["end"]["sum_received"]
cpu = int(sys.argv[2]) / int(sys.argv[3])
print(f"{d['bits_per_second'] / 1e6:.1f} {cpu / (d['bytes'] / 1e9):.2f}")
EOF
  )
  record "$id" "tcp${streams}_$dir" "${r% *}"
  record "$id" cpu_gb "${r#* }"
  record "$id" "cpu_gb_$streams" "${r#* }"
  log "round $round ${LABEL[$id]} $streams stream(s) $dir: ${r% *} Mb/s, ${r#* } CPU-s/GB"
}

n=${#TOOLS[@]}
for ((round = 1; round <= RUNS; round++)); do
  for ((k = 0; k < n; k++)); do
    id=${TOOLS[(k + round - 1) % n]}
    for test in "1 ab" "1 ba" "4 ab" "4 ba"; do
      # shellcheck disable=SC2086 # two words: streams and direction
      transfer "$id" $test "$round"
    done
  done
done

# warm idle RTT and peak RSS
for id in "${TOOLS[@]}"; do
  record "$id" rtt_idle_warm "$(nsx a ping -n -q -c 20 -i 0.05 "${ADDR_B[$id]}" | rtt_avg)"
  record "$id" rss_peak_a "$(mb "$(status_kb "${PID_A[$id]}" VmHWM)")"
  record "$id" rss_peak_b "$(mb "$(status_kb "${PID_B[$id]}" VmHWM)")"
done

# --- outage after a conntrack flush on nata: ping b->a every 10 ms, longest gap --------------------
for id in "${TOOLS[@]}"; do
  nsx a ping -n -q -c 3 -i 0.1 -w 5 "${ADDR_B[$id]}" >/dev/null 2>&1 || true # a's mappings exist again
  sleep 1
  started=$(now)
  nsx b ping -n -D -i 0.01 -w "$OUTAGE" "${ADDR_A[$id]}" >"$WORK/outage-$id.txt" 2>&1 &
  ping_pid=$!
  sleep 1
  flushed=$(now)
  nsx nata conntrack -F >/dev/null 2>&1
  wait "$ping_pid" || true
  # the longest gap between replies from the flush on, counting the end of the window as a reply;
  # a trailing gap (no reply until the end) is a lower bound, written N+
  gap=$(python3 - "$WORK/outage-$id.txt" "$flushed" "$started" "$OUTAGE" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
times = [float(m.group(1)) for m in re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes from", text, re.M)]
flushed, end = float(sys.argv[2]), float(sys.argv[3]) + float(sys.argv[4])
before = [t for t in times if t <= flushed]
if not before:
    print("fail")
    sys.exit()
points = [before[-1]] + [t for t in times if t > flushed]
gaps = [b - a for a, b in zip(points, points[1:])]
tail = end - points[-1]
if tail > 1.0 and (not gaps or tail >= max(gaps)):
    print(f"{tail:.2f}+")
else:
    print(f"{max(gaps):.2f}")
EOF
  )
  record "$id" outage "$gap"
  log "${LABEL[$id]}: outage after conntrack flush: $gap s"
done

ph_stop_all
meta elapsed "$((SECONDS - T0))"
if [[ $WRITE == 1 ]]; then
  [[ -f $OUT ]] || ph_die "$OUT missing (it holds the markers the table goes between)"
  python3 bench/compare_report.py "$WORK" --update "$OUT"
  log "table written to $OUT"
else
  python3 bench/compare_report.py "$WORK"
fi
[[ -z $JFR ]] || log "JFR recording of pinhole client a: $JFR"
