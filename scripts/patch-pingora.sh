#!/usr/bin/env bash
# Derive vendor/pingora-core and vendor/pingora-proxy from the 0.9.1 registry crates.
#
# pingora-core, two changes:
# - the retry buffer limit (BODY_BUF_LIMIT, a private const, 64 KiB upstream) is raised to
#   1 GiB (below);
# - the upstream client's read and write timeouts (`protocols/http/v1/client.rs`) use tokio's
#   timer instead of `pingora_timeout`'s. Pingora's "fast" timer keeps one entry per 10 ms of
#   deadline per worker thread until that deadline passes, even when the read finished long
#   before: with Switchyard's long upstream timeouts (`idle-seconds`, 600 s by default, for
#   every body read) that is up to 60,000 dead entries, about 7 MB, per worker thread, and an
#   RSS that climbs for the first ten minutes of every process (`benches/soak.py` under
#   heaptrack, docs/limits.md). A tokio timer is removed when the read ends.
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
pstamp="$root/vendor/pingora-proxy/.switchyard-patched"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version-1GiB-tokio-timeout" ] \
  && [ -f "$pstamp" ] && [ "$(cat "$pstamp")" = "$version-idle-3" ]; then
  exit 0
fi
meta=$(cargo metadata --format-version 1 --manifest-path "$root/scripts/pingora-src/Cargo.toml")
crate_src() { # name
  printf '%s' "$meta" | python3 -c '
import json, sys, os
m = json.load(sys.stdin)
for p in m["packages"]:
    if p["name"] == sys.argv[1] and p["version"] == "'"$version"'":
        print(os.path.dirname(p["manifest_path"]))
        break
' "$1"
}
src=$(crate_src pingora-core)
[ -n "$src" ] || { echo "patch-pingora: pingora-core $version not found" >&2; exit 1; }
check() { # file, expected sha256
  got=$(sha256sum "$src/$1" | cut -d' ' -f1)
  [ "$got" = "$2" ] || { echo "patch-pingora: $1 differs from the audited 0.9.1 source ($got)" >&2; exit 1; }
}
check src/protocols/http/v1/common.rs 64c3964233aa7e94b95ac1a396d298d5000a996b38335f29a862751917c922a8
check src/protocols/http/v2/server.rs 70b66627aef3ddc12f41871ca57b58a5ec3080419d7f76d8eda9ecbf6b507a2f
check src/protocols/http/v1/client.rs f4881e9d8c9702deef11ac5eec169c770e6259712512833deb7957fdef3c4f8d
check Cargo.toml 78325e54b4a6814c24d8c69afcf1b5336acc167c15940e9e1137f1290ed6d3db
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
python3 - "$dest.tmp" <<'PY'
import sys
root = sys.argv[1]
def replace(path, old, new):
    p = f"{root}/{path}"
    s = open(p).read()
    assert s.count(old) == 1, (path, old[:60], s.count(old))
    s = s.replace(old, new, 1)
    open(p, "w").write(s)

replace("src/protocols/http/v1/client.rs",
        "use pingora_timeout::timeout;\n",
        "use tokio::time::timeout; // switchyard: was pingora_timeout's (dead entries until the deadline)\n")
replace("Cargo.toml",
        '[dependencies.tokio]\nversion = "1"\nfeatures = [\n    "net",\n',
        '[dependencies.tokio]\nversion = "1"\nfeatures = [\n    "net",\n    "time",\n')
PY
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "$version-1GiB-tokio-timeout" > "$stamp"
echo "patch-pingora: vendor/pingora-core ready (retry buffer 1 GiB, client timeouts on tokio's timer)"

# pingora-proxy, two additions, each a `ProxyHttp` hook with a no-op default (docs/failover.md):
# - `downstream_idle_interval` / `downstream_idle` and a `select!` branch in the H1 proxy loop
#   that calls the second when the upstream has been silent for the first. Switchyard writes
#   `streaming.keepalive-seconds` SSE comments and `nonstream-keepalive-interval` blank lines.
# - `upstream_body_read_timeout`: once the upstream response header is in, body reads use this
#   timeout instead of the peer's `read_timeout` (time to first byte vs idle in a stream).
# - `hold_response_tasks`: sees each batch of filtered response tasks before it is written, and
#   may hold it back (stream bootstrap holds the response header until the first content event,
#   so a failure before it can still fail over with nothing sent).
# Nothing else changes.
src=$(crate_src pingora-proxy)
[ -n "$src" ] || { echo "patch-pingora: pingora-proxy $version not found" >&2; exit 1; }
check src/proxy_h1.rs 36e45a38e0c1f25859f722915c786b9e8b76b93b5b781394de0b6e1bd434426e
check src/proxy_trait.rs 50ed1a48aabeb7c58ed6ecf0e24135edce4589374b88160835ecd6374b8b6c81
pdest="$root/vendor/pingora-proxy"
rm -rf "$pdest.tmp"
cp -R "$src" "$pdest.tmp"
chmod -R u+w "$pdest.tmp"
python3 - "$pdest.tmp" <<'PY'
import sys
root = sys.argv[1]
def patch(path, anchor, insert):
    p = f"{root}/{path}"
    s = open(p).read()
    assert s.count(anchor) == 1, (path, anchor[:60], s.count(anchor))
    s = s.replace(anchor, insert + anchor, 1)
    open(p, "w").write(s)

patch("src/proxy_trait.rs",
      "    /// Similar to [Self::response_filter()] but for response body chunks\n",
      "    /// switchyard patch: how long the upstream may stay silent (no response event) before\n"
      "    /// [Self::downstream_idle()] is called. `None`: never.\n"
      "    fn downstream_idle_interval(&self, _ctx: &Self::CTX) -> Option<Duration> {\n"
      "        None\n"
      "    }\n\n"
      "    /// switchyard patch: the upstream has been silent for [Self::downstream_idle_interval()];\n"
      "    /// the implementation may write to the client (a response header, keep-alive bytes).\n"
      "    async fn downstream_idle(&self, _session: &mut Session, _ctx: &mut Self::CTX) -> Result<()>\n"
      "    where\n"
      "        Self::CTX: Send + Sync,\n"
      "    {\n"
      "        Ok(())\n"
      "    }\n\n")
patch("src/proxy_h1.rs",
      "            tokio::select! {\n                // only try to send to pipe if there is capacity to avoid deadlock\n",
      "            // switchyard patch: call `downstream_idle` when the upstream is silent.\n"
      "            let idle_interval = self.inner.downstream_idle_interval(ctx);\n")
patch("src/proxy_h1.rs",
      "                task = rx.recv(), if !response_state.upstream_done() && next_upstream_task.is_none() => {\n",
      "                // switchyard patch: the upstream has been silent for `idle_interval`.\n"
      "                _ = tokio::time::sleep(idle_interval.unwrap_or(Duration::from_secs(86400))),\n"
      "                    if idle_interval.is_some() && !response_state.upstream_done() => {\n"
      "                    self.inner.downstream_idle(session, ctx).await?;\n"
      "                },\n\n")
def replace(path, old, new):
    p = f"{root}/{path}"
    s = open(p).read()
    assert s.count(old) == 1, (path, old[:60], s.count(old))
    s = s.replace(old, new, 1)
    open(p, "w").write(s)

patch("src/proxy_trait.rs",
      "    /// Similar to [Self::response_filter()] but for response body chunks\n",
      "    /// switchyard patch: the upstream read timeout once the response header has arrived\n"
      "    /// (the peer's `read_timeout` covers the wait for the header). `None`: unchanged.\n"
      "    fn upstream_body_read_timeout(&self, _ctx: &Self::CTX) -> Option<Duration> {\n"
      "        None\n"
      "    }\n\n")
replace("src/proxy_h1.rs",
        "        client_session.read_timeout = peer.options.read_timeout;\n",
        "        client_session.read_timeout = peer.options.read_timeout;\n"
        "        // switchyard patch: a separate read timeout for the response body.\n"
        "        let body_read_timeout = self.inner.upstream_body_read_timeout(ctx);\n")
replace("src/proxy_h1.rs",
        "            self.proxy_handle_upstream(client_session, tx_upstream, rx_downstream, pipe_state),\n",
        "            self.proxy_handle_upstream(client_session, tx_upstream, rx_downstream, pipe_state, body_read_timeout), // switchyard patch\n")
replace("src/proxy_h1.rs",
        "        mut rx: mpsc::Receiver<HttpTask>,\n        pipe_state: Arc<AtomicU8>,\n    ) -> Result<bool>\n",
        "        mut rx: mpsc::Receiver<HttpTask>,\n        pipe_state: Arc<AtomicU8>,\n"
        "        body_read_timeout: Option<Duration>, // switchyard patch\n    ) -> Result<bool>\n")
replace("src/proxy_h1.rs",
        "                            let type_str = task.type_str();\n",
        "                            // switchyard patch: the header is in; body reads use their own timeout.\n"
        "                            if let (HttpTask::Header(..), Some(t)) = (&task, body_read_timeout) {\n"
        "                                client_session.read_timeout = Some(t);\n"
        "                            }\n"
        "                            let type_str = task.type_str();\n")
patch("src/proxy_trait.rs",
      "    /// Similar to [Self::response_filter()] but for response body chunks\n",
      "    /// switchyard patch: the filtered response tasks of one upstream batch, before they are\n"
      "    /// written downstream. The implementation may take them to write later (a held response\n"
      "    /// header) or put tasks it held in front of them. `ends`: this batch ends the upstream\n"
      "    /// response, so everything held must be released now.\n"
      "    fn hold_response_tasks(&self, _tasks: &mut Vec<HttpTask>, _ends: bool, _ctx: &mut Self::CTX) {}\n\n")
replace("src/proxy_h1.rs",
        "        let response_done = session.write_response_tasks(filtered_tasks).await?;\n",
        "        // switchyard patch: the implementation may hold these tasks back for a later batch.\n"
        "        let ends = filtered_tasks.iter().any(|t| t.is_end());\n"
        "        self.inner.hold_response_tasks(&mut filtered_tasks, ends, ctx);\n"
        "        if filtered_tasks.is_empty() {\n"
        "            return Ok(Some(ends));\n"
        "        }\n"
        "        let response_done = session.write_response_tasks(filtered_tasks).await?;\n")
PY
n=$(grep -c 'switchyard patch' "$pdest.tmp/src/proxy_h1.rs" "$pdest.tmp/src/proxy_trait.rs" | awk -F: '{s+=$2} END {print s}')
[ "$n" = 11 ] || { echo "patch-pingora: expected 11 patched places in pingora-proxy, got $n" >&2; exit 1; }
rm -rf "$pdest"
mv "$pdest.tmp" "$pdest"
echo "$version-idle-3" > "$pstamp"
echo "patch-pingora: vendor/pingora-proxy ready (idle hook, body read timeout, held response tasks)"
