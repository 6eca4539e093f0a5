#!/usr/bin/env bash
# Benchmark: the pure TUN-offload code (io.pinhole.offload): split one 64 KB TCPv4 super-packet into
# 48 segments, and coalesce them back, one thread, in memory.
# Usage: bench/offload-throughput.sh [SECONDS] [JAVA]   e.g. bench/offload-throughput.sh 3 /usr/lib/jvm/temurin-25-jdk-amd64/bin/java
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[[ -f common-protocol/target/test-classes/io/pinhole/bench/OffloadBench.class ]] || mvn -B -q -pl common-protocol test-compile
exec "${2:-java}" -cp common-protocol/target/classes:common-protocol/target/test-classes \
  io.pinhole.bench.OffloadBench "${1:-3}"
