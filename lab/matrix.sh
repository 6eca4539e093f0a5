#!/usr/bin/env bash
# pinhole NAT matrix: the real programs through every pair of lab NAT behaviours.
#
#   lab/matrix.sh [--timeout S] [--budget S] [--cells a,b,...] [--no-build] [--no-sim] [--out FILE]
#
# As root. Builds (mvn -B -q -DskipTests package) unless --no-build, then for each cell, one at a
# time: lab/lab.sh up with a fresh prefix, bin/pinhole-rendezvous in rdv, `bin/pinhole up` in a
# and b (fresh keys per run, both on UDP port 51820, tunnel 10.10.0.1 <-> 10.10.0.2), and a ping
# from a to 10.10.0.2 (every 200 ms) until the first reply or the timeout (default 45 s) from
# the moment both clients were started; then a ping back from b, up to 30 s for the path to
# settle (both status files direct; up to 30 s), the final path read from the clients' status files, 5
# pings more, everything this script started stopped by PID (SIGTERM, then SIGKILL after 10 s)
# and the lab torn down, also when a cell fails. The verdict is ok when the tunnel works and the
# path is direct wherever the NATs allow one (relayed where they cannot); the script exits 1 if
# any cell is not ok.
# Cells run sequentially; once --budget seconds (default 1800) have passed, the cells left are
# listed as not run. Unless --no-sim, the simulated matrix (NatMatrixSimTest) runs too and its
# table goes into the same file. Writes the markdown table to FILE (default docs/nat-matrix.md)
# with the date, the command and notes about the machine; logs stay in a directory it names.
#
# Cells (names for --cells):
#   M1-M2   for M1 <= M2 in: home open symmetric cgnat blocked   (e.g. home-symmetric)
#   same-hairpin-off, same-hairpin-on, same-isolated-hairpin-off, same-isolated-hairpin-on
#   netem-a     home-home with 'loss 20% delay 100ms' on side a's WAN link
#   netem-both  home-home with 'loss 20% delay 100ms' on both WAN links
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB=$ROOT/lab/lab.sh
MODES=(home open symmetric cgnat blocked)
NETEM='loss 20% delay 100ms'
RDV=203.0.113.10:7777
TUN_A=10.10.0.1 TUN_B=10.10.0.2
TIMEOUT=45 SETTLE=30 BUDGET=1800 BUILD=1 SIM=1 CELLS='' OUT=$ROOT/docs/nat-matrix.md
COMMAND="lab/matrix.sh${*:+ $*}"

die() { echo "matrix: $*" >&2; exit 2; }
log() { echo "[matrix $(date +%T)] $*" >&2; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --timeout) TIMEOUT=$2; shift 2 ;;
    --budget) BUDGET=$2; shift 2 ;;
    --cells) CELLS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-sim) SIM=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
[[ $TIMEOUT =~ ^[0-9]+$ && $BUDGET =~ ^[0-9]+$ ]] || die "--timeout and --budget take seconds"
[[ $(id -u) == 0 ]] || die "run as root: the lab creates namespaces, NATs and TUN devices"

all_cells() {
  local i j
  for ((i = 0; i < ${#MODES[@]}; i++)); do
    for ((j = i; j < ${#MODES[@]}; j++)); do echo "${MODES[i]}-${MODES[j]}"; done
  done
  echo same-hairpin-off same-hairpin-on same-isolated-hairpin-off same-isolated-hairpin-on netem-a netem-both \
    | tr ' ' '\n'
}

# lab.sh options and a description of one cell
cell_args() {
  case $1 in
    same-hairpin-off) echo "--same-nat --hairpin off" ;;
    same-hairpin-on) echo "--same-nat --hairpin on" ;;
    same-isolated-hairpin-off) echo "--same-nat --isolate --hairpin off" ;;
    same-isolated-hairpin-on) echo "--same-nat --isolate --hairpin on" ;;
    netem-a | netem-both) echo "--nat-a home --nat-b home" ;;
    *-*)
      local a=${1%%-*} b=${1#*-} m ok=0
      for m in "${MODES[@]}"; do [[ $m == "$a" ]] && ok=$((ok + 1)); [[ $m == "$b" ]] && ok=$((ok + 1)); done
      [[ $ok == 2 ]] || return 1
      echo "--nat-a $a --nat-b $b" ;;
    *) return 1 ;;
  esac
}

if [[ -n $CELLS ]]; then
  IFS=, read -r -a RUN <<<"$CELLS"
else
  mapfile -t RUN < <(all_cells)
fi
for c in "${RUN[@]}"; do cell_args "$c" >/dev/null || die "unknown cell '$c'"; done

cd "$ROOT"
WORK=$(mktemp -d /tmp/pinhole-matrix.XXXXXX)
PIDS=() NAMES=() P='' LAB_UP=0

teardown() {
  ph_stop_all
  if [[ $LAB_UP == 1 ]]; then
    "$LAB" down "$P" >/dev/null || log "lab.sh down $P failed"
    LAB_UP=0
  fi
}

# shellcheck disable=SC2317 # runs from the traps
on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  teardown
  rm -f "$WORK"/*.key "$WORK"/*/rdv-state/server.key
  log "logs in $WORK"
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME NODE cmd...: cmd in the lab node, output to $CELLDIR/NAME.log (scripts/lib.sh)
start() { local name=$1; ph_lab_start "$CELLDIR/$name.log" "$@"; }

alive() { local i; for i in "${!PIDS[@]}"; do kill -0 "${PIDS[i]}" 2>/dev/null || return 1; done; }

# wait_log FILE TEXT SECONDS
wait_log() {
  local end=$((SECONDS + $3))
  while ((SECONDS < end)); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    alive || return 1
    sleep 0.1
  done
  return 1
}

now_ms() { date +%s%3N; }

# ms from T0_MS to the first log line of FILE matching REGEX (its slf4j timestamp), or "-"
log_time() {
  local line ts
  line=$(grep -m1 -E -- "$2" "$1" 2>/dev/null || true)
  [[ -n $line ]] || { echo -; return; }
  ts=$(date -d "${line%% *}" +%s%3N 2>/dev/null) || { echo -; return; }
  echo $((ts - T0_MS))
}

secs() {
  if [[ $1 == - ]]; then echo -; else awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; fi
}

# KEY's value in the status file FILE (written by `pinhole up --status-file`), or "-"
status_of() {
  local v
  v=$(sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n1)
  echo "${v:--}"
}

# the kind of path PATH (direct|relayed|none) to ADDR is, in cell CELL
path_kind() {
  local path=$1 addr=${2%:*}
  case $path in
    relayed) echo "relayed" ;;
    direct)
      case $addr in
        10.*) echo "direct (LAN)" ;;
        198.51.100.2 | 192.0.2.2) if [[ $3 == same-* ]]; then echo "direct (hairpin)"; else echo "direct"; fi ;;
        *) echo "direct ($addr)" ;;
      esac ;;
    *) echo - ;;
  esac
}

# what the cell must end on: "relay" where no direct path can exist, else "direct"
expected_path() {
  case $1 in
    *blocked*) echo relay ;;               # UDP only to the rendezvous host
    symmetric-symmetric) echo relay ;;     # both sides map per destination at random
    same-isolated-hairpin-off) echo relay ;; # no LAN path, no hairpin
    *) echo direct ;;
  esac
}

if [[ $BUILD == 1 ]]; then
  log "building: mvn -B -q -DskipTests package"
  mvn -B -q -DskipTests package
fi
[[ -f tun-client/target/pinhole.jar && -f rendezvous-server/target/pinhole-rendezvous.jar ]] \
  || die "build first (mvn -B -DskipTests package)"

(umask 077; bin/pinhole genkey >"$WORK/a.key")  # pinhole up refuses a key file others can read
(umask 077; bin/pinhole genkey >"$WORK/b.key")
PUB_A=$(bin/pinhole pubkey <"$WORK/a.key")
PUB_B=$(bin/pinhole pubkey <"$WORK/b.key")
log "peer a $PUB_A, peer b $PUB_B; ${#RUN[@]} cells, timeout ${TIMEOUT} s each, budget ${BUDGET} s; logs in $WORK"

ROWS=()
START=$SECONDS
for cell in "${RUN[@]}"; do
  read -r -a args <<<"$(cell_args "$cell")"
  case $cell in
    netem-a) args+=(--netem "$NETEM") ;;
    netem-both) args+=(--netem "$NETEM" --netem-b "$NETEM") ;;
  esac
  if ((SECONDS - START >= BUDGET)); then
    ROWS+=("| $cell | \`${args[*]}\` | not run | | | | | | | | time budget spent |")
    continue
  fi
  CELLDIR=$WORK/$cell
  mkdir -p "$CELLDIR"
  while :; do
    P="nm$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')-"
    [[ -e /run/netns/${P}rdv || -e /run/netns/${P}a || -e /run/pinhole-lab/$P ]] || break
  done
  log "cell $cell: lab.sh up $P ${args[*]}"
  connected=no back=- t_ping=- t_tun_a=- t_tun_b=- path_a=- path_b=- spath_a=- spath_b=- rtt_a=- final=- t_direct=- note=''
  LAB_UP=1
  if ! "$LAB" -v up "$P" "${args[@]}" >"$CELLDIR/lab.log" 2>&1; then
    note="lab.sh up failed"
  else
    start rendezvous rdv bin/pinhole-rendezvous --listen "0.0.0.0:${RDV#*:}" --state-dir "$CELLDIR/rdv-state"
    if ! wait_log "$CELLDIR/rendezvous.log" "rendezvous listening" 20; then
      note="rendezvous did not start"
    else
      T0_MS=$(now_ms)
      start client-a a bin/pinhole up --rendezvous "$RDV" --private-key "$WORK/a.key" --peer "$PUB_B" \
        --dev tun0 --local "$TUN_A" --remote "$TUN_B" --listen-port 51820 --status-file "$CELLDIR/a.status"
      start client-b b bin/pinhole up --rendezvous "$RDV" --private-key "$WORK/b.key" --peer "$PUB_A" \
        --dev tun0 --local "$TUN_B" --remote "$TUN_A" --listen-port 51820 --status-file "$CELLDIR/b.status"
      if ! wait_log "$CELLDIR/client-a.log" "tun0 up" 20 || ! wait_log "$CELLDIR/client-b.log" "tun0 up" 20; then
        note="a client did not start"
      else
        left=$(((T0_MS + TIMEOUT * 1000 - $(now_ms)) / 1000))
        if ((left > 0)) && "$LAB" exec "$P" a ping -n -c 1 -i 0.2 -w "$left" "$TUN_B" >"$CELLDIR/ping-a.log" 2>&1; then
          t_ping=$(($(now_ms) - T0_MS))
          connected=yes
          if "$LAB" exec "$P" b ping -n -c 1 -i 0.2 -w 5 "$TUN_A" >"$CELLDIR/ping-b.log" 2>&1; then
            back=yes
          else
            back=no
          fi
          # let the path settle: a direct path may come after the first ping (relay first, LAN after hairpin)
          end=$((SECONDS + SETTLE))
          while ((SECONDS < end)); do
            [[ $(status_of "$CELLDIR/a.status" path) == direct && $(status_of "$CELLDIR/b.status" path) == direct ]] && break
            sleep 0.5
          done
          sleep 1.5 # one more status write: a LAN path may replace a hairpin one within the settle second
          spath_a=$(status_of "$CELLDIR/a.status" path) spath_b=$(status_of "$CELLDIR/b.status" path)
          path_a=$(status_of "$CELLDIR/a.status" endpoint) path_b=$(status_of "$CELLDIR/b.status" endpoint)
          rtt_a=$(status_of "$CELLDIR/a.status" rtt_ms)
          "$LAB" exec "$P" a ping -n -c 5 -i 0.2 -W 2 "$TUN_B" >"$CELLDIR/ping-a-final.log" 2>&1 && final=yes || final=no
        fi
        alive || note="a program exited early"
      fi
    fi
  fi
  if [[ -f $CELLDIR/client-a.log ]]; then
    t_tun_a=$(log_time "$CELLDIR/client-a.log" "tunnel up")
    t_tun_b=$(log_time "$CELLDIR/client-b.log" "tunnel up")
    t_direct=$(log_time "$CELLDIR/client-a.log" "direct path to peer|path to peer .* open at")
  fi
  "$LAB" status "$P" >"$CELLDIR/lab-status.txt" 2>&1 || true
  for n in cga cgb nata natb; do
    if [[ -e /run/netns/$P$n ]]; then
      { echo "== $n"; "$LAB" exec "$P" "$n" conntrack -L -p udp 2>/dev/null || true; } >>"$CELLDIR/conntrack.txt"
    fi
  done
  teardown
  kind=$(path_kind "$spath_a" "$path_a" "$cell")
  expect=$(expected_path "$cell")
  verdict=FAIL
  if [[ $connected == yes && $back == yes && $final == yes && $spath_a == "$spath_b" ]]; then
    if [[ $expect == direct && $spath_a == direct ]] || [[ $expect == relay && $spath_a == relayed ]]; then verdict=ok; fi
  fi
  [[ $kind == relayed ]] && t_direct=-
  log "cell $cell: $verdict connected=$connected back=$back first ping $(secs "$t_ping") s, a->$path_a ($kind) b->$path_b ($spath_b) $note"
  ROWS+=("| $cell | \`${args[*]}\` | **$verdict** | $connected / $back / $final | $expect | $kind | $path_a / $path_b | $(secs "$t_ping") | $(secs "$t_direct") | $rtt_a | $note |")
done
TOTAL=$((SECONDS - START))

SIM_TABLE=''
if [[ $SIM == 1 ]]; then
  log "simulated matrix: mvn -B -q -o -pl common-protocol test -Dtest=NatMatrixSimTest"
  rm -f common-protocol/target/nat-matrix-sim.md
  if mvn -B -q -o -pl common-protocol test -Dtest=NatMatrixSimTest -Dsurefire.failIfNoSpecifiedTests=false \
      >"$WORK/sim.log" 2>&1 && [[ -s common-protocol/target/nat-matrix-sim.md ]]; then
    SIM_TABLE=$(<common-protocol/target/nat-matrix-sim.md)
  else
    SIM_TABLE="(the simulated matrix failed: see $WORK/sim.log)"
  fi
fi

KERNEL=$(uname -r)
CPUS=$(nproc)
MEM=$(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)
JAVA=$(java -version 2>&1 | head -n1)
NFT=$(nft --version 2>/dev/null || echo '?')
NETEM_BY="lab.sh's choice (no netem cell ran)"
if grep -q -h 'netem by: user' "$WORK"/netem-*/lab.log 2>/dev/null; then
  NETEM_BY="lab/linkemu.py in a link namespace (this kernel has no sch_netem)"
elif grep -q -h 'netem by: tc' "$WORK"/netem-*/lab.log 2>/dev/null; then
  NETEM_BY="tc netem on both ends of the link"
fi
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
DIRTY=''
if git status --porcelain 2>/dev/null | grep -qv '^??'; then DIRTY=' (with uncommitted changes)'; fi

mkdir -p "$(dirname "$OUT")"
{
  echo "# NAT matrix"
  echo
  echo "pinhole against each pair of NAT behaviours (issue 4). Produced by"
  echo "\`$COMMAND\` on $(date -u +'%Y-%m-%d %H:%M UTC'), at commit $COMMIT$DIRTY; do not edit by hand, run it again."
  echo
  echo "## Lab (real programs, real nftables NATs in network namespaces)"
  echo
  echo "Each cell: a fresh lab (\`lab/lab.sh up PREFIX ARGS\`), \`bin/pinhole-rendezvous\` on 203.0.113.10:7777,"
  echo "\`bin/pinhole up\` on a (10.0.1.2) and b (10.0.2.2, or 10.0.1.3 behind the same NAT), both on UDP port"
  echo "51820, each with \`--status-file\`, started together at t=0. **verdict**: ok when the tunnel works both"
  echo "ways and both clients end on the expected path: **direct** wherever the two NATs allow a direct path at"
  echo "all, **relay** where they cannot (UDP blocked except to the rendezvous host; both NATs symmetric; two"
  echo "isolated LAN ports behind a NAT without hairpinning). **works**: a ping from a to b's tunnel address"
  echo "(10.10.0.2, one every 200 ms) answered within ${TIMEOUT} s / then b to a within 5 s / 5 of 5 pings"
  echo "a to b after the path settled (up to ${SETTLE} s for both to go direct). **path**: from a's status file"
  echo "(direct: to the other NAT's public address; LAN: to a private candidate; hairpin: to the shared NAT's"
  echo "public address; relayed: through the rendezvous server); **endpoints**: a's and b's status files;"
  echo "**first ping**: seconds from t=0 to the first reply; **direct after**: seconds from t=0 to a's log line"
  echo "opening the direct path; **RTT**: a's last probe round trip on its path, in ms."
  echo "A cell M1-M2 puts a behind M1 and b behind M2; mixed cells run one way round only, and once:"
  echo "a race (which peer acts on its PEER_INFO first) can decide a cell, so one run is one sample."
  echo
  echo "| cell | lab.sh up | verdict | works (a->b / b->a / after settling) | expected | path | endpoints a / b | first ping (s) | direct after (s) | RTT (ms) | note |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Run time: ${TOTAL} s for ${#RUN[@]} cells (timeout ${TIMEOUT} s per cell, cells one after another)."
  echo
  echo "What the modes are: [lab/README.md](../lab/README.md). Netem cells: \`$NETEM\` on the WAN link, both"
  echo "directions, done by $NETEM_BY."
  echo
  echo "Machine: Linux $KERNEL, $CPUS CPUs, $MEM RAM; $JAVA; $NFT. Both peers, both NATs, the server"
  echo "and the router share these CPUs."
  if [[ $SIM == 1 ]]; then
    echo
    echo "## Simulated network (NatMatrixSimTest, virtual time)"
    echo
    echo "The same client and server cores over the simulated NATs (\`common-protocol/src/test/java/io/pinhole/sim\`),"
    echo "run by \`mvn -pl common-protocol test -Dtest=NatMatrixSimTest\` as part of this script."
    echo
    echo "$SIM_TABLE"
  fi
} >"$OUT"
log "wrote $OUT (${TOTAL} s)"
FAILED=$(printf '%s\n' "${ROWS[@]}" | grep -c -v '\*\*ok\*\*' || true)
if ((FAILED > 0)); then
  log "$FAILED cell(s) not ok"
  exit 1
fi
