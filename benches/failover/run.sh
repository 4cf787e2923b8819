#!/usr/bin/env bash
# Failover cost benchmark: builds the release gateway and mock, then runs bench.py (see its
# docstring). Extra flags go to bench.py. Respects CARGO_TARGET_DIR; SKIP_BUILD=1 skips the build.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tdir=${CARGO_TARGET_DIR:-target}
case $tdir in /*) ;; *) tdir="$root/$tdir" ;; esac
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  ./scripts/bootstrap.sh
  CARGO_TARGET_DIR="$tdir" cargo build --release --locked -p switchyard-gateway -p switchyard-mock
fi
exec python3 benches/failover/bench.py --gateway "$tdir/release/switchyard" \
  --mock "$tdir/release/switchyard-mock" "$@"
