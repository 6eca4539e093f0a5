#!/usr/bin/env bash
# Benchmark: one TCP stream through the tunnel in the namespace lab, pinhole vs wireguard-go.
# Both run between peer a (behind NAT A) and a peer on the public rendezvous host, over the same
# veths and NAT, with static endpoints; the stream is python3 sending MB megabytes from a to rdv.
# Usage (root): bench/lab-throughput.sh [MB]      Needs: wireguard-go, wg, python3, a built tree.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MB=${1:-200}
P="phb$(printf '%04x' $((RANDOM % 65536)))-"
WORK=$(mktemp -d /tmp/pinhole-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  lab/lab.sh down "$P" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
[[ -f tun-client/target/pinhole.jar ]] || mvn -B -q -DskipTests package
lab/lab.sh up "$P" >/dev/null

sink() { # receive on rdv 10.10.0.2:5001, print bytes
  ip netns exec "${P}rdv" timeout 300 python3 -c "
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('10.10.0.2',5001)); s.listen(1)
c,_=s.accept(); n=0
while True:
  d=c.recv(262144)
  if not d: break
  n+=len(d)
print(n)" > "$WORK/sink.out" &
  SINK=$!
  sleep 0.5
}
source_run() { # send MB from a, print MB/s
  ip netns exec "${P}a" python3 -c "
import socket,time
chunk=bytes(1<<20); s=socket.create_connection(('10.10.0.2',5001)); t=time.time()
for i in range($MB): s.sendall(chunk)
s.shutdown(socket.SHUT_WR); s.recv(1); dt=time.time()-t
print('%.1f MB/s (%d MB in %.1f s)' % ($MB*1.048576/dt, $MB, dt))"
  wait "$SINK"
}

# 1. wireguard-go on both ends (a behind NAT A, rdv public)
umask 077
wg genkey > "$WORK/wa.key"; wg genkey > "$WORK/wr.key"
WA=$(wg pubkey < "$WORK/wa.key"); WR=$(wg pubkey < "$WORK/wr.key")
for n in a rdv; do
  ip netns exec "${P}$n" env WG_PROCESS_FOREGROUND=1 wireguard-go "wgb$n" > "$WORK/wg-$n.log" 2>&1 & PIDS+=($!)
done
sleep 1
ip netns exec "${P}rdv" wg set wgbrdv private-key "$WORK/wr.key" listen-port 51820 peer "$WA" allowed-ips 10.10.0.1/32
ip netns exec "${P}a" wg set wgba private-key "$WORK/wa.key" peer "$WR" allowed-ips 10.10.0.2/32 endpoint 203.0.113.10:51820
ip -n "${P}rdv" addr add 10.10.0.2/32 peer 10.10.0.1 dev wgbrdv; ip -n "${P}rdv" link set wgbrdv mtu 1420 up
ip -n "${P}a" addr add 10.10.0.1/32 peer 10.10.0.2 dev wgba; ip -n "${P}a" link set wgba mtu 1420 up
ip netns exec "${P}a" ping -c 2 -W 2 10.10.0.2 >/dev/null
sink; echo "wireguard-go $(wireguard-go --version 2>&1 | head -1 | awk '{print $2}'): $(source_run)"
for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done; PIDS=()   # port 51820 and the devices are free again

# 2. pinhole on both ends: the public side listens, a contacts it (static mode)
bin/pinhole genkey > "$WORK/pa.key"; bin/pinhole genkey > "$WORK/pr.key"
PA=$(bin/pinhole pubkey < "$WORK/pa.key"); PR=$(bin/pinhole pubkey < "$WORK/pr.key")
ip netns exec "${P}rdv" bin/pinhole up --listen-port 51820 --private-key "$WORK/pr.key" --peer "$PA" \
  --dev phbr --local 10.10.0.2 --remote 10.10.0.1 > "$WORK/p-rdv.log" 2>&1 & PIDS+=($!)
ip netns exec "${P}a" bin/pinhole up --peer-endpoint 203.0.113.10:51820 --private-key "$WORK/pa.key" --peer "$PR" \
  --dev phba --local 10.10.0.1 --remote 10.10.0.2 > "$WORK/p-a.log" 2>&1 & PIDS+=($!)
up=0
for _ in $(seq 1 30); do ip netns exec "${P}a" ping -c 1 -W 1 10.10.0.2 >/dev/null 2>&1 && { up=1; break; }; sleep 0.5; done
if ((!up)); then
  echo "pinhole tunnel did not come up; logs:"
  for f in "$WORK"/p-*.log; do echo "== $f"; tail -n 5 "$f"; done
  exit 1
fi
sink; echo "pinhole ($("${PINHOLE_JAVA:-java}" -version 2>&1 | head -1)): $(source_run)"
