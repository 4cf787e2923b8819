#!/usr/bin/env bash
# Local stand-ins for the base images deploy/Containerfile names, for machines without a
# container registry (CI here reaches Debian's apt mirror but no registry).
#
# One Debian bookworm rootfs (debootstrap --variant=minbase, cached as
# .tools/images/bookworm-minbase.tar) is imported into podman's store and tagged with both
# names the Containerfile uses:
#
#   docker.io/library/debian:bookworm-slim   the runtime stage: the same Debian release
#   docker.io/library/rust:1.95-bookworm     the build stage. The stand-in has no Rust: the
#                                            test builds with SWITCHYARD_PREBUILT (the binary
#                                            built by cargo on the host), so the stage only
#                                            copies it. A real registry gives the real image.
#
# Idempotent: the rootfs is made once (a minute or two), an import takes a few seconds and is
# skipped when both tags already point at an image.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
images="$root/.tools/images"
tarball="$images/bookworm-minbase.tar"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
tags=(docker.io/library/debian:bookworm-slim docker.io/library/rust:1.95-bookworm)
log() { printf '[container-base-images] %s\n' "$*"; }

command -v podman >/dev/null || { echo "podman missing: run scripts/install-test-deps.sh" >&2; exit 1; }
have_all=1
for t in "${tags[@]}"; do
  podman image exists "$t" || have_all=0
done
if [ "$have_all" = 1 ]; then
  exit 0
fi
if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { echo "debootstrap missing: run scripts/install-test-deps.sh" >&2; exit 1; }
  mkdir -p "$images"
  work=$(mktemp -d "$images/rootfs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  log "debootstrap bookworm (minbase) from $mirror"
  debootstrap --variant=minbase bookworm "$work" "$mirror" >"$images/debootstrap.log" 2>&1 \
    || { tail -20 "$images/debootstrap.log" >&2; exit 1; }
  # What the official slim image leaves out too: apt lists and caches.
  rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/*
  tar -C "$work" --numeric-owner -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
fi
log "importing $tarball as ${tags[*]}"
id=$(podman import --quiet --change 'CMD ["/bin/bash"]' "$tarball")
for t in "${tags[@]}"; do
  podman tag "$id" "$t"
done
