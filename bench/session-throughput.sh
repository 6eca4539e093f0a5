#!/usr/bin/env bash
# Benchmark: the WireGuard session core alone (encrypt + decrypt in memory, one thread).
# Usage: bench/session-throughput.sh [SECONDS] [JAVA]   e.g. bench/session-throughput.sh 5 /usr/lib/jvm/temurin-25-jdk-amd64/bin/java
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[[ -d common-protocol/target/test-classes/io/pinhole/bench ]] || mvn -B -q -pl common-protocol test-compile
exec "${2:-java}" -cp common-protocol/target/classes:common-protocol/target/test-classes \
  io.pinhole.bench.SessionThroughputBench "${1:-5}"
