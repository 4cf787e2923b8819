#!/usr/bin/env bash
# Switchyard load benchmark: one command. Installs wrk if missing, builds the gateway (system
# allocator and mimalloc) and the mock in release mode, then runs benches/load/bench.py, which
# prints markdown tables and writes target/bench/load-<timestamp>.json (+ logs in
# target/bench/load-<timestamp>/). All traffic goes to 127.0.0.1.
#
#   benches/load/run.sh                 # full run (~4 min after the build)
#   benches/load/run.sh --duration 5    # extra flags go to bench.py (see bench.py --help)
#
# Respects CARGO_TARGET_DIR (default: target). The mimalloc binary goes to $CARGO_TARGET_DIR/mimalloc.
# SKIP_BUILD=1 uses existing binaries; NO_MIMALLOC=1 leaves the mimalloc binary out.
# Old and new side by side (STYLE 21): build the old commit in a `git worktree`, then
#   benches/load/run.sh --compare base=../old/target/release/switchyard
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tdir=${CARGO_TARGET_DIR:-target}
case $tdir in /*) ;; *) tdir="$root/$tdir" ;; esac

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: installing wrk" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk >/dev/null
fi
py=python3
"$py" -c 'import sys; assert sys.version_info >= (3, 8)' || { echo "bench: need Python >= 3.8" >&2; exit 1; }

build_start=$(date +%s)
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  ./scripts/bootstrap.sh
  echo "bench: building release binaries into $tdir (system allocator) and $tdir/mimalloc" >&2
  CARGO_TARGET_DIR="$tdir" cargo build --release --locked -p switchyard-gateway -p switchyard-mock
  if [ "${NO_MIMALLOC:-0}" != 1 ]; then
    cargo build --release --locked -p switchyard-gateway --features switchyard-gateway/mimalloc \
      --target-dir "$tdir/mimalloc"
  fi
  echo "bench: build took $(( $(date +%s) - build_start )) s" >&2
fi
mimalloc=()
[ "${NO_MIMALLOC:-0}" = 1 ] || mimalloc=(--gateway-mimalloc "$tdir/mimalloc/release/switchyard")
for b in "$tdir/release/switchyard" "$tdir/release/switchyard-mock" ${mimalloc[1]:+"${mimalloc[1]}"}; do
  [ -x "$b" ] || { echo "bench: missing $b" >&2; exit 1; }
done

# 1,000 client sockets, 2,000 in the gateway (client + upstream side), 1,000 in the mock.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 4096 ] || {
  echo "bench: open-file limit $(ulimit -n) is too low for 1,000 streams" >&2; exit 1; }

start=$(date +%s)
"$py" benches/load/bench.py \
  --gateway "$tdir/release/switchyard" \
  ${mimalloc[0]:+"${mimalloc[@]}"} \
  --mock "$tdir/release/switchyard-mock" \
  --out "$root/target/bench" "$@"
echo "bench: total $(( $(date +%s) - start )) s after the build" >&2
