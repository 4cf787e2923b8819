#!/usr/bin/env bash
# Install the real clients and upstreams that the end-to-end tests drive.
#
#   .tools/venv   Python venv: openai, anthropic, google-genai, pytest, pytest-timeout
#                 (exact pins, whole closure: tests/e2e/requirements.txt)
#   .tools/node   npm packages: @anthropic-ai/claude-code, @copilotkit/aimock
#                 (tests/e2e/node/package.json + package-lock.json, installed with `npm ci`)
#
# Idempotent: a stamp (.tools/.stamp) records a hash of every input; when it
# matches and the tools answer, the script exits within a second or two.
# FORCE=1 reinstalls anyway. Called by .ci/run; safe to run by hand.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$REPO/.tools"
VENV="$TOOLS/venv"
NODE_DIR="$TOOLS/node"
STAMP="$TOOLS/.stamp"
REQS="$REPO/tests/e2e/requirements.txt"
PKG_DIR="$REPO/tests/e2e/node"
MIN_NODE_MAJOR=20
MIN_NODE_MINOR=15 # @copilotkit/aimock 1.43.0 wants node >= 20.15

log() { printf '[install-test-deps] %s\n' "$*"; }
die() { printf '[install-test-deps] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- system ---
APT_UPDATED=0
apt_install() {
    # Installs the given Debian packages; `apt-get update` only once, and only
    # when something is actually missing.
    command -v apt-get >/dev/null || die "missing $*, and no apt-get to install it"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        $sudo apt-get update -qq
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

need_python() {
    command -v python3 >/dev/null || apt_install python3 python3-venv
    # The venv module and ensurepip (python3-venv on Debian's own python).
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        apt_install python3-venv
    fi
    python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
        || die "python3 >= 3.10 needed, found $(python3 -V 2>&1)"
}

need_node() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        apt_install nodejs npm
    fi
    local v major minor
    v="$(node -p 'process.versions.node')"
    major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
    if [ "$major" -lt "$MIN_NODE_MAJOR" ] || { [ "$major" -eq "$MIN_NODE_MAJOR" ] && [ "$minor" -lt "$MIN_NODE_MINOR" ]; }; then
        die "node >= $MIN_NODE_MAJOR.$MIN_NODE_MINOR needed, found $v"
    fi
}

need_python
need_node

# ----------------------------------------------------------------- stamp ---
# Everything that changes what gets installed goes into the stamp.
inputs_hash() {
    {
        cat "${BASH_SOURCE[0]}" "$REQS" "$PKG_DIR/package.json" "$PKG_DIR/package-lock.json"
        python3 -c 'import sys; print(sys.version)'
        node -p 'process.version'
        uname -m
    } | sha256sum | cut -d' ' -f1
}
WANT="$(inputs_hash)"

tools_answer() {
    [ -x "$VENV/bin/python" ] &&
        "$VENV/bin/python" -c '
from importlib.metadata import version
for n in ("openai", "anthropic", "google-genai", "pytest", "pytest-timeout"):
    version(n)' 2>/dev/null &&
        [ -x "$NODE_DIR/node_modules/.bin/claude" ] &&
        [ -f "$NODE_DIR/node_modules/@copilotkit/aimock/dist/cli.js" ]
}

print_versions() {
    log "python venv: $VENV ($("$VENV/bin/python" -V 2>&1))"
    "$VENV/bin/python" - <<'EOF'
from importlib.metadata import version
for name in ("openai", "anthropic", "google-genai", "pytest", "pytest-timeout"):
    print(f"[install-test-deps]   {name}=={version(name)}")
EOF
    log "node packages: $NODE_DIR (node $(node -v))"
    local p
    for p in @anthropic-ai/claude-code @copilotkit/aimock; do
        log "  $p@$(node -p "require('$NODE_DIR/node_modules/$p/package.json').version")"
    done
    log "  claude --version: $("$NODE_DIR/node_modules/.bin/claude" --version 2>&1 | head -1)"
}

if [ "${FORCE:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && tools_answer; then
    log "up to date (stamp $STAMP matches; FORCE=1 to reinstall)"
    print_versions
    exit 0
fi

mkdir -p "$TOOLS"
rm -f "$STAMP"

# ---------------------------------------------------------------- python ---
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    rm -rf "$VENV"
    log "creating venv $VENV"
    python3 -m venv "$VENV"
fi
log "pip install -r ${REQS#"$REPO/"}"
# --no-deps is safe: requirements.txt pins the whole closure; pip check below
# catches a closure that has gone incomplete.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$REQS"
"$VENV/bin/python" -m pip check >/dev/null || {
    "$VENV/bin/python" -m pip check >&2
    die "the pinned closure in ${REQS#"$REPO/"} is incomplete"
}

# ------------------------------------------------------------------- npm ---
# `npm ci` installs exactly the committed lockfile. It runs in .tools/node, a
# copy of tests/e2e/node, so node_modules never lands in the source tree.
mkdir -p "$NODE_DIR"
cp "$PKG_DIR/package.json" "$PKG_DIR/package-lock.json" "$NODE_DIR/"
log "npm ci in ${NODE_DIR#"$REPO/"}"
(cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
# claude-code's postinstall swaps its placeholder bin for the native binary of
# this platform; check it ran.
"$NODE_DIR/node_modules/.bin/claude" --version >/dev/null 2>&1 ||
    die "claude did not install (its postinstall must run: allowScripts in package.json)"

# Later: @openai/codex, @google/gemini-cli, @qwen-code/qwen-code go into
# tests/e2e/node/package.json (exact versions) and land here with the same
# `npm ci`; add their `--version` checks next to claude's.

tools_answer || die "tools installed but do not answer"
echo "$WANT" >"$STAMP"
log "installed"
print_versions
