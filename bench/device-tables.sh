#!/usr/bin/env bash
# Device tables micro-benchmark (issue 10, "a device with N peers at its core"): ns per lookup of
# the cryptokey routing table (route by destination, source check) and the receiver index table,
# with 1 and 1,000 configured peers, io.pinhole.bench.DeviceTablesBench (common-protocol test
# sources; the cases are described there), on the default JDK (what bin/java-select.sh picks, as
# bin/pinhole runs) and JDK 17.
#
#   bench/device-tables.sh [--rounds N] [--seconds S] [--java PATH[,PATH...]] [--out FILE] [--no-write]
#
# --rounds N: JVM launches per JDK (default 3), interleaved (the JDK order rotates each round);
# each launch warms every case up for 1 s, then measures every case 5 times for S seconds
# (default 0.3), the case order rotated. Prints medians (min-max) of ns per operation and writes
# them into --out (default docs/performance.md, between its device-tables.sh markers) unless
# --no-write. Not a lab run, but a benchmark: wrap it in `flock /tmp/pinhole-lab.lock`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
ROUNDS=3 SECONDS_PER=0.3 JAVAS='' OUT=docs/performance.md WRITE=1
COMMAND="bench/device-tables.sh${*:+ $*}"
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER=$2; shift 2 ;;
    --java) JAVAS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --no-write) WRITE=0; shift ;;
    *) echo "device-tables.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
if [[ -z $JAVAS ]]; then
  # shellcheck source=../bin/java-select.sh
  source bin/java-select.sh
  pinhole_java
  JAVAS=$PINHOLE_JAVA_BIN
  j17=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
  if [[ -x $j17 && $(readlink -f "$j17") != $(readlink -f "$PINHOLE_JAVA_BIN") ]]; then
    JAVAS+=",$j17"
  fi
fi
IFS=, read -r -a JAVA_LIST <<<"$JAVAS"

mvn -B -o -q -Dstyle.color=never -pl common-protocol test-compile
CP=common-protocol/target/classes:common-protocol/target/test-classes

LABELS=()
for j in "${JAVA_LIST[@]}"; do
  v=$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')
  LABELS+=("JDK ${v%%+*}")
done

RAW=$(mktemp /tmp/pinhole-device-tables.XXXXXX)
trap 'rm -f "$RAW" "$RAW.meta"' EXIT
n=${#JAVA_LIST[@]}
for ((r = 0; r < ROUNDS; r++)); do
  for ((k = 0; k < n; k++)); do
    i=$(((k + r) % n))
    echo "[device-tables] round $((r + 1))/$ROUNDS: ${LABELS[i]}" >&2
    "${JAVA_LIST[i]}" -cp "$CP" io.pinhole.bench.DeviceTablesBench 5 "$SECONDS_PER" 1 \
      | awk -F'\t' -v l="${LABELS[i]}" '$1 ~ /^RESULT / { print l "\t" $2 "\t" $3 "\t" $4 }' >>"$RAW"
  done
done

{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "command=$COMMAND"
  echo "nproc=$(nproc)"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
  echo "kernel=$(uname -r)"
  echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')"
  for ((i = 0; i < n; i++)); do
    echo "config=${LABELS[i]}: \`${JAVA_LIST[i]}\` ($("${JAVA_LIST[i]}" -version 2>&1 | sed -n 2p))"
  done
} >"$RAW.meta"
if [[ $WRITE == 1 ]]; then
  python3 bench/device_tables_report.py "$RAW" --update "$OUT"
else
  python3 bench/device_tables_report.py "$RAW"
fi
