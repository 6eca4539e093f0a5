# Sourced by bin/pinhole and bin/pinhole-rendezvous: sets PINHOLE_JAVA_BIN to the java to run.
# PINHOLE_JAVA, if set, is used as it is. Otherwise the newest installed JDK or JRE of version 17
# or later: java on PATH, $JAVA_HOME, and /usr/lib/jvm/* (Debian, Temurin), read from each one's
# `release` file (no JVM is started to ask). None found: java on PATH, which then says why it
# cannot run the jar.
pinhole_java() {
  if [[ -n "${PINHOLE_JAVA:-}" ]]; then
    PINHOLE_JAVA_BIN=$PINHOLE_JAVA
    return
  fi
  local best="" best_version=0 candidate home version
  local candidates=()
  if command -v java >/dev/null 2>&1; then candidates+=("$(readlink -f "$(command -v java)")"); fi
  if [[ -n "${JAVA_HOME:-}" ]]; then candidates+=("$JAVA_HOME/bin/java"); fi
  for candidate in /usr/lib/jvm/*/bin/java; do candidates+=("$candidate"); done
  for candidate in "${candidates[@]}"; do
    [[ -x "$candidate" ]] || continue
    home=$(dirname "$(dirname "$(readlink -f "$candidate")")")
    version=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release" 2>/dev/null | head -1)
    [[ "$version" =~ ^[0-9]+$ ]] || continue
    if (( version >= 17 && version > best_version )); then
      best=$candidate best_version=$version
    fi
  done
  PINHOLE_JAVA_BIN=${best:-java}
}
