#!/usr/bin/env bash
# Runs all tests: unit tests and the end-to-end namespace-lab tests (mvn verify).
# On a fresh Debian machine, as root: installs what the tests need (only if missing), then builds
# and tests. Extra arguments go to Maven (e.g. -Dit.test=TunnelUpIT). Exits non-zero on failure.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ph_require_root
ph_install_prereqs
cd "$PH_ROOT"
ph_log "mvn -B verify $*"
mvn -B verify "$@"
