#!/usr/bin/env bash
# Benchmark: 1,420-byte UDP datagrams over loopback: the JDK's DatagramChannel (one per system call)
# against pinhole's UdpBatchSocket (64 per sendmmsg/recvmmsg) and UDP GSO+GRO. Loopback only.
# Usage: bench/udp-batch.sh [SECONDS] [ROUNDS] [JAVA]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[[ -f tun-client/target/test-classes/io/pinhole/client/tun/UdpBatchBench.class ]] || mvn -B -q -pl common-protocol,tun-client -DskipTests package
jna=$(ls ~/.m2/repository/net/java/dev/jna/jna/*/jna-*.jar | grep -v -e sources -e jpms | tail -1)
exec "${3:-java}" --enable-native-access=ALL-UNNAMED -cp "tun-client/target/classes:tun-client/target/test-classes:common-protocol/target/classes:$jna" \
  io.pinhole.client.tun.UdpBatchBench "${1:-2}" "${2:-3}"
