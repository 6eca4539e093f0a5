#!/usr/bin/env bash
# AEAD micro-benchmark (issue 10, "Speed"): ChaCha20-Poly1305 seal+open of one 1,420-byte packet,
# io.pinhole.bench.AeadBench (common-protocol test sources; the cases are described there), on
# each JDK, and once more on each JDK that has the ChaCha20/Poly1305 intrinsics with them switched
# off (the JDK's own Java code: what a pure-Java implementation would run like).
#
#   bench/aead.sh [--rounds N] [--seconds S] [--java PATH[,PATH...]] [--out FILE] [--no-write]
#
# --rounds N: JVM launches per configuration (default 3), interleaved (the configuration order
# rotates each round); each launch warms every case up for 2 s, then measures every case 5 times
# for S seconds (default 0.5), the case order rotated. Prints medians (min-max) of ns per packet
# and Gb/s, and writes them into --out (default docs/performance.md, between its aead.sh markers)
# unless --no-write. Default JDKs: /usr/lib/jvm/java-17-openjdk-amd64 and
# /usr/lib/jvm/temurin-25-jdk-amd64 where present, else java on PATH. Not a lab run: no root needed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
ROUNDS=3 SECONDS_PER=0.5 JAVAS='' OUT=docs/performance.md WRITE=1
COMMAND="bench/aead.sh${*:+ $*}"
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER=$2; shift 2 ;;
    --java) JAVAS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --no-write) WRITE=0; shift ;;
    *) echo "aead.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
if [[ -z $JAVAS ]]; then
  for j in /usr/lib/jvm/java-17-openjdk-amd64/bin/java /usr/lib/jvm/temurin-25-jdk-amd64/bin/java; do
    [[ -x $j ]] && JAVAS+="${JAVAS:+,}$j"
  done
  [[ -n $JAVAS ]] || JAVAS=$(command -v java)
fi
IFS=, read -r -a JAVA_LIST <<<"$JAVAS"

mvn -B -q -Dstyle.color=never -pl common-protocol test-compile
CP=common-protocol/target/classes:common-protocol/target/test-classes
NO_INTRINSICS=(-XX:+UnlockDiagnosticVMOptions -XX:-UseChaCha20Intrinsics -XX:-UsePoly1305Intrinsics)

# configurations: LABEL|JAVA|JVM OPTIONS
CONFIGS=()
for j in "${JAVA_LIST[@]}"; do
  v=$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')
  intr=$("$j" -XX:+UnlockDiagnosticVMOptions -XX:+PrintFlagsFinal -version 2>/dev/null \
    | awk '$2 == "UseChaCha20Intrinsics" || $2 == "UsePoly1305Intrinsics" { printf "%s=%s ", $2, $4 }')
  CONFIGS+=("JDK ${v%%+*}${intr:+ (${intr% })}|$j|")
  if [[ $intr == *UseChaCha20Intrinsics=true* ]]; then
    CONFIGS+=("JDK ${v%%+*}, intrinsics off|$j|${NO_INTRINSICS[*]}")
  fi
done

RAW=$(mktemp /tmp/pinhole-aead.XXXXXX)
trap 'rm -f "$RAW"' EXIT
n=${#CONFIGS[@]}
for ((r = 0; r < ROUNDS; r++)); do
  for ((k = 0; k < n; k++)); do
    IFS='|' read -r label java opts <<<"${CONFIGS[(k + r) % n]}"
    echo "[aead] round $((r + 1))/$ROUNDS: $label" >&2
    # shellcheck disable=SC2086 # opts is a list of JVM options
    "$java" $opts -cp "$CP" io.pinhole.bench.AeadBench 5 "$SECONDS_PER" 2 \
      | awk -v l="$label" '$1 == "RESULT" { print l "\t" $2 "\t" $3 "\t" $4 "\t" $5 }' >>"$RAW"
  done
done

{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "command=$COMMAND"
  echo "nproc=$(nproc)"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
  echo "kernel=$(uname -r)"
  echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')"
  for c in "${CONFIGS[@]}"; do
    IFS='|' read -r label java opts <<<"$c"
    echo "config=$label: \`$java${opts:+ $opts}\` ($("$java" -version 2>&1 | sed -n 2p))"
  done
} >"$RAW.meta"
trap 'rm -f "$RAW" "$RAW.meta"' EXIT
if [[ $WRITE == 1 ]]; then
  python3 bench/aead_report.py "$RAW" --update "$OUT"
else
  python3 bench/aead_report.py "$RAW"
fi
