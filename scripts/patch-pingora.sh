#!/usr/bin/env bash
# Derive vendor/pingora-core from the pingora-core 0.9.1 registry crate with one change:
# the retry buffer limit (BODY_BUF_LIMIT, a private const, 64 KiB upstream) is raised to 1 GiB.
#
# Why: Pingora can only forward a body that was pre-read in request_filter, and only replay a
# body on failover, from that buffer. Switchyard pre-reads every proxied body (to route by
# `model` and reject bad JSON before any upstream is contacted) and enforces its own limit
# (`max-body-size`, default 32 MiB) before the buffer is involved, so the patched const is
# only an upper bound. The buffer grows with the body; it is not preallocated.
# See docs/request-bodies.md. Pingora's source is never committed: this script recreates it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/vendor/pingora-core"
stamp="$dest/.switchyard-patched"
version="0.9.1"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version-1GiB" ]; then
  exit 0
fi
meta=$(cargo metadata --format-version 1 --manifest-path "$root/scripts/pingora-src/Cargo.toml")
src=$(printf '%s' "$meta" | python3 -c '
import json, sys, os
m = json.load(sys.stdin)
for p in m["packages"]:
    if p["name"] == "pingora-core" and p["version"] == "'"$version"'":
        print(os.path.dirname(p["manifest_path"]))
        break
')
[ -n "$src" ] || { echo "patch-pingora: pingora-core $version not found" >&2; exit 1; }
check() { # file, expected sha256
  got=$(sha256sum "$src/$1" | cut -d' ' -f1)
  [ "$got" = "$2" ] || { echo "patch-pingora: $1 differs from the audited 0.9.1 source ($got)" >&2; exit 1; }
}
check src/protocols/http/v1/common.rs 64c3964233aa7e94b95ac1a396d298d5000a996b38335f29a862751917c922a8
check src/protocols/http/v2/server.rs 70b66627aef3ddc12f41871ca57b58a5ec3080419d7f76d8eda9ecbf6b507a2f
rm -rf "$dest.tmp"
mkdir -p "$(dirname "$dest")"
cp -R "$src" "$dest.tmp"
chmod -R u+w "$dest.tmp"
sed -i 's|^pub(crate) const BODY_BUF_LIMIT: usize = 1024 \* 64;|pub(crate) const BODY_BUF_LIMIT: usize = 1024 * 1024 * 1024; // switchyard: was 64 KiB|' \
  "$dest.tmp/src/protocols/http/v1/common.rs"
sed -i 's|^const BODY_BUF_LIMIT: usize = 1024 \* 64;|const BODY_BUF_LIMIT: usize = 1024 * 1024 * 1024; // switchyard: was 64 KiB|' \
  "$dest.tmp/src/protocols/http/v2/server.rs"
n=$(grep -c 'switchyard: was 64 KiB' "$dest.tmp/src/protocols/http/v1/common.rs" "$dest.tmp/src/protocols/http/v2/server.rs" | awk -F: '{s+=$2} END {print s}')
[ "$n" = 2 ] || { echo "patch-pingora: expected 2 patched lines, got $n" >&2; exit 1; }
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "$version-1GiB" > "$stamp"
echo "patch-pingora: vendor/pingora-core ready (retry buffer 1 GiB)"
