#!/usr/bin/env bash
# pinhole demo: two peers behind two different NATs get a tunnel through a rendezvous server.
#
# As root: installs prerequisites if missing, builds, brings up the namespace lab (lab/lab.sh),
# starts the rendezvous server and two NATed peers with fresh keys, waits for the tunnel, pings
# across it both ways, shows what happened, and tears everything down. Exit 0 only if the pings
# worked. Options: --nat-a MODE --nat-b MODE (home|open, default home), --no-build.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAT_A=home NAT_B=home BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --nat-a) NAT_A=$2; shift 2 ;;
    --nat-b) NAT_B=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) ph_die "unknown option $1 (--nat-a MODE, --nat-b MODE, --no-build)" ;;
  esac
done

RDV=203.0.113.10:3478
TUN_A=10.10.0.1 TUN_B=10.10.0.2
WAIT_S=30

ph_require_root
ph_install_prereqs
cd "$PH_ROOT"

hr() { printf '\n=== %s\n' "$*"; }

if [[ $BUILD == 1 ]]; then
  hr "Building (mvn -B -q -Dstyle.color=never -DskipTests package)"
  mvn -B -q -Dstyle.color=never -DskipTests package
fi
[[ -x bin/pinhole && -x bin/pinhole-rendezvous ]] || ph_die "bin/pinhole or bin/pinhole-rendezvous missing"

# a prefix no other lab uses (lab.sh up would rebuild an existing lab with the same prefix)
while :; do
  P="phd$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')-"
  [[ -e /run/netns/${P}rdv || -e /run/netns/${P}a ]] || break
done
WORK=$(mktemp -d /tmp/pinhole-demo.XXXXXX)
PIDS=()
NAMES=()
LAB_UP=0

# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((${#PIDS[@]})); then
    hr "Stopping the programs (SIGTERM by PID)"
    ph_stop_all
  fi
  if [[ $LAB_UP == 1 ]]; then
    lab/lab.sh down "$P" || true
    echo "lab $P removed"
  fi
  rm -f "$WORK"/*.key "$WORK"/rdv-state/server.key
  echo "logs kept in $WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME NODE cmd...: runs cmd in the lab node, output to $WORK/NAME.log
start() {
  local name=$1 node=$2
  ph_lab_start "$WORK/$name.log" "$@"
  shift 2
  echo "started $name in ${P}$node (pid $LAST): $*"
}

alive_or_die() {
  local i
  for i in "${!PIDS[@]}"; do
    kill -0 "${PIDS[i]}" 2>/dev/null || { show_logs; ph_die "${NAMES[i]} exited early"; }
  done
}

show_logs() {
  local n
  for n in rendezvous client-a client-b; do
    [[ -f $WORK/$n.log ]] || continue
    echo "--- $n.log (last 15 lines)"
    tail -n 15 "$WORK/$n.log" | sed 's/^/  | /'
  done
}

hr "Lab $P: a (10.0.1.2) behind NAT A ($NAT_A, WAN 198.51.100.2), b (10.0.2.2) behind NAT B ($NAT_B, WAN 192.0.2.2), rendezvous 203.0.113.10"
LAB_UP=1
lab/lab.sh -v up "$P" --nat-a "$NAT_A" --nat-b "$NAT_B"

hr "Fresh keys"
(umask 077; bin/pinhole genkey >"$WORK/a.key")  # pinhole up refuses a key file others can read
(umask 077; bin/pinhole genkey >"$WORK/b.key")
PUB_A=$(bin/pinhole pubkey <"$WORK/a.key")
PUB_B=$(bin/pinhole pubkey <"$WORK/b.key")
echo "peer A public key: $PUB_A"
echo "peer B public key: $PUB_B"

hr "Starting the rendezvous server and both peers"
start rendezvous rdv bin/pinhole-rendezvous --listen "0.0.0.0:${RDV#*:}" --state-dir "$WORK/rdv-state"
sleep 1
start client-a a bin/pinhole up --rendezvous "$RDV" --private-key "$WORK/a.key" --peer "$PUB_B" \
  --dev tun0 --local "$TUN_A" --remote "$TUN_B" --status-file "$WORK/a.status"
start client-b b bin/pinhole up --rendezvous "$RDV" --private-key "$WORK/b.key" --peer "$PUB_A" \
  --dev tun0 --local "$TUN_B" --remote "$TUN_A" --status-file "$WORK/b.status"

hr "Waiting up to ${WAIT_S} s for the tunnel"
t0=$SECONDS up_a=0 up_b=0
while ((SECONDS - t0 < WAIT_S)); do
  alive_or_die
  ((up_a)) || { lab/lab.sh exec "$P" a ping -n -c1 -W1 "$TUN_B" >/dev/null 2>&1 && up_a=1; } || true
  ((up_b)) || { lab/lab.sh exec "$P" b ping -n -c1 -W1 "$TUN_A" >/dev/null 2>&1 && up_b=1; } || true
  ((up_a && up_b)) && break
  sleep 0.5
done
if ((up_a && up_b)); then
  echo "tunnel up after $((SECONDS - t0)) s"
else
  echo "no tunnel after ${WAIT_S} s (A->B: $up_a, B->A: $up_b)"
fi

hr "Public endpoints the NATs gave (from their conntrack tables)"
for nat in nata natb; do
  # reply direction dst/dport = the address and port the NAT maps the peer's socket to
  lab/lab.sh exec "$P" "$nat" conntrack -L -p udp 2>/dev/null | awk -v nat="$nat" '{
      n = 0
      for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "src" || kv[1] == "dst" || kv[1] == "sport" || kv[1] == "dport") { n++; v[n] = kv[2] } }
      if (n < 8) next
      what = (v[2] == "203.0.113.10") ? "to the rendezvous server" : "to the other peer"
      if (v[2] ~ /^10\./) what = "to the other peer'"'"'s LAN address: a candidate the internet cannot route"
      printf "  %s: %s:%s -> %s:%s goes out as %s:%s (%s)\n", nat, v[1], v[3], v[2], v[4], v[6], v[8], what
    }'
done

ok=1
hr "ping across the tunnel: A ($TUN_A) -> B ($TUN_B)"
lab/lab.sh exec "$P" a ping -n -c 3 -i 0.3 -W 2 "$TUN_B" || ok=0
hr "ping across the tunnel: B ($TUN_B) -> A ($TUN_A)"
lab/lab.sh exec "$P" b ping -n -c 3 -i 0.3 -W 2 "$TUN_A" || ok=0

hr "pinhole status (the path each peer uses, and its RTT)"
sleep 1 # the status files are rewritten once a second
for n in a b; do
  bin/pinhole status --status-file "$WORK/$n.status" || ok=0
done

hr "Log excerpts"
for n in client-a client-b; do
  echo "--- $n: 'tunnel up' lines"
  grep -i 'tunnel up' "$WORK/$n.log" | sed 's/^/  | /' || echo "  (none)"
done
show_logs

if [[ $ok == 1 ]]; then
  hr "RESULT: the two NATed peers reached each other through the tunnel, both ways"
  exit 0
fi
hr "RESULT: FAILED: pings across the tunnel did not all come back"
exit 1
