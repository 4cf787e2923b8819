#!/usr/bin/env bash
# Everything a build needs on a fresh machine of this kind (Debian 12, Rust via rustup):
# cmake (Pingora's zlib-ng needs it) and the patched pingora-core (scripts/patch-pingora.sh).
# Idempotent; a second run takes about a second.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v cc >/dev/null 2>&1 || need+=(gcc)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "bootstrap: cargo not found (install Rust with rustup)" >&2; exit 1; }
"$root/scripts/patch-pingora.sh"
