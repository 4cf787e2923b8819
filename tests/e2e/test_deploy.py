"""The files in ``deploy/``, checked by the tools an operator would use them with.

* ``deploy/systemd/switchyard.service``: ``systemd-analyze verify`` (with the unit's binary path
  pointed at the built binary: verify checks that ExecStart is executable) and the properties
  the unit must have (dedicated user, state directory, reload by SIGHUP, hardening).
* ``deploy/kubernetes/``: every manifest validated with ``kubernetes-validate --strict``
  against the Kubernetes schema it ships (1.37); the ServiceMonitor (a CRD, no schema there)
  and the cross references (labels, ports, probes, volumes) are checked here; the config
  template is rendered by the init container's own script and loaded by
  ``switchyard check-config``.
* ``deploy/Containerfile``: linted with hadolint, then built with podman from local stand-ins
  for its base images (``scripts/container-base-images.sh``: no registry here) with the
  host-built binary (``SWITCHYARD_PREBUILT``), run as a container, and its health check and
  non-root user checked. Podman runs here with ``--runtime runc`` (crun refuses this machine's
  hybrid cgroup v1/v2 layout) and ulimits no higher than the sandbox's own (the sandbox has no
  CAP_SYS_RESOURCE, and podman's default of 1048576 open files needs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import REPO, TOOLS, free_port, repo_path, wait_until

DEPLOY = REPO / "deploy"
K8S = DEPLOY / "kubernetes"
UNIT = DEPLOY / "systemd" / "switchyard.service"
CONTAINERFILE = DEPLOY / "Containerfile"
VENV_BIN = TOOLS / "venv" / "bin"
IMAGE = "localhost/switchyard-test:latest"


def run(argv: list[str], timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


def need(cmd: str) -> str:
    p = shutil.which(cmd) or (str(VENV_BIN / cmd) if (VENV_BIN / cmd).exists() else None)
    if p is None:
        pytest.fail(f"{cmd} is missing: run scripts/install-test-deps.sh", pytrace=False)
    return p


# --------------------------------------------------------------------------- systemd


def unit_settings() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        k, _, v = line.partition("=")
        out.setdefault(k, []).append(v)
    return out


def test_systemd_unit_verifies(tmp_path):
    exe = need("systemd-analyze")
    binary = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
    unit = tmp_path / "switchyard.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/switchyard", str(binary)))
    r = run([exe, "verify", "--man=no", str(unit)])
    # Only the unit's own findings count: this machine's other units may be untidy.
    ours = [l for l in (r.stdout + r.stderr).splitlines() if l.startswith("switchyard.service")]
    assert r.returncode == 0 and not ours, f"systemd-analyze verify:\n{r.stdout}{r.stderr}"


def test_systemd_unit_has_what_a_gateway_service_needs():
    s = unit_settings()
    one = {k: v[-1] for k, v in s.items()}
    assert one["DynamicUser"] == "yes" and one["User"] == "switchyard"
    assert one["StateDirectory"] == "switchyard" and one["StateDirectoryMode"] == "0700"
    assert one["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert one["KillSignal"] == "SIGTERM"
    assert int(one["LimitNOFILE"]) >= 65536
    for k in ("NoNewPrivileges", "PrivateTmp", "PrivateDevices", "ProtectHome",
              "ProtectKernelTunables", "ProtectControlGroups", "RestrictSUIDSGID"):
        assert one.get(k) == "yes", k
    assert one["ProtectSystem"] == "strict"
    assert one["CapabilityBoundingSet"] == ""
    # serve's config and the auth-dir the comment tells operators to set.
    assert "serve --config /etc/switchyard/config.yaml" in one["ExecStart"]
    assert "auth-dir: /var/lib/switchyard" in UNIT.read_text()


def test_systemd_exposure_is_low(tmp_path):
    exe = need("systemd-analyze")
    binary = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
    unit = tmp_path / "switchyard.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/switchyard", str(binary)))
    r = run([exe, "security", "--offline=yes", "--threshold=20", str(unit)])
    m = re.search(r"Overall exposure level for switchyard\.service: ([0-9.]+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 2.0, f"exposure {m.group(1)}:\n{r.stdout}"


# --------------------------------------------------------------------------- Kubernetes


def manifests() -> dict[str, dict]:
    docs = {}
    for p in sorted(K8S.glob("*.yaml")):
        for d in yaml.safe_load_all(p.read_text()):
            if d:
                docs[d["kind"]] = d
    return docs


def test_kubernetes_manifests_validate():
    exe = need("kubernetes-validate")
    files = sorted(str(p) for p in K8S.glob("*.yaml")
                   if yaml.safe_load(p.read_text())["kind"] not in ("Kustomization", "ServiceMonitor"))
    r = run([exe, "--strict", "--kubernetes-version", "1.37.0", *files])
    assert r.returncode == 0, r.stdout + r.stderr
    passed = re.findall(r"^INFO .* passed for resource", r.stdout, re.M)
    assert len(passed) == len(files), r.stdout + r.stderr


def test_kubernetes_manifests_fit_together():
    m = manifests()
    kust = m["Kustomization"]
    assert sorted(kust["resources"]) == sorted(
        p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    dep, svc, sm = m["Deployment"], m["Service"], m["ServiceMonitor"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert svc["spec"]["selector"].items() <= labels.items()
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    svc_ports = {p["name"] for p in svc["spec"]["ports"]}
    assert {e["port"] for e in sm["spec"]["endpoints"]} <= svc_ports
    assert m["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = m["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == dep["metadata"]["name"]
    # One replica in the base; the files point to the overlay for more.
    assert dep["spec"]["replicas"] == 1 and hpa["maxReplicas"] == 1
    assert "scale-out/" in (K8S / "kustomization.yaml").read_text()

    pod = dep["spec"]["template"]["spec"]
    [c] = pod["containers"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["lifecycle"]["preStop"]
    assert c["resources"]["requests"] and c["resources"]["limits"]
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    vols = {v["name"]: v for v in pod["volumes"]}
    auth = [vm for vm in c["volumeMounts"] if vm["mountPath"] == "/var/lib/switchyard"]
    assert auth and "persistentVolumeClaim" in vols[auth[0]["name"]]
    assert vols[auth[0]["name"]]["persistentVolumeClaim"]["claimName"] == \
        m["PersistentVolumeClaim"]["metadata"]["name"]
    # The drain fits: preStop sleep + shutdown-grace-seconds < terminationGracePeriodSeconds.
    cfg = yaml.safe_load(m["ConfigMap"]["data"]["config.yaml"])
    pre = c["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pre + cfg["shutdown-grace-seconds"] + 1 < pod["terminationGracePeriodSeconds"]
    assert cfg["host"] == "" and cfg["auth-dir"] == "/var/lib/switchyard"


def render_and_check(m: dict[str, dict], tmp_path: Path) -> str:
    """The init container's script, run here on the ConfigMap with the Secret's values; the
    result loaded by ``switchyard check-config``. Returns the rendered text."""
    binary = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
    [init] = m["Deployment"]["spec"]["template"]["spec"]["initContainers"]
    template = tmp_path / "template" / "config.yaml"
    template.parent.mkdir()
    template.write_text(m["ConfigMap"]["data"]["config.yaml"])
    out = tmp_path / "run" / "config.yaml"
    out.parent.mkdir()
    argv = [a.replace("/etc/switchyard/template", str(template.parent))
            .replace("/run/switchyard", str(out.parent)) for a in init["command"]]
    env = {"PATH": os.environ["PATH"], **m["Secret"]["stringData"]}
    r = run(argv, env=env)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    for v in m["Secret"]["stringData"].values():
        assert v in text
    assert "${" not in text
    # auth-dir is the pod's volume; here, a temporary one.
    out.write_text(text.replace("/var/lib/switchyard", str(tmp_path / "auth")))
    r = run([str(binary), "check-config", "--config", str(out)])
    assert r.returncode == 0, r.stdout + r.stderr
    # A key the Secret lacks stops the init container with its name.
    del env["CLIENT_KEY"]
    r = run(argv, env=env)
    assert r.returncode != 0 and "${CLIENT_KEY} is not set" in r.stderr
    return text


def test_kubernetes_config_renders_and_loads(tmp_path):
    render_and_check(manifests(), tmp_path)


# --------------------------------------------------------------------------- scale-out overlay
# kubectl/kustomize are not installed: the overlay is resolved here by hand, for exactly the
# kustomize features it uses (a base directory, resource files, a namespace, `$patch: delete`
# strategic-merge patches and JSON 6902 patches inline or from a file, by kind and name).

OVERLAY = K8S / "scale-out"
CLUSTER_SCOPED = {"Namespace"}


def _pointer(path: str) -> list:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    return [int(p) if p.isdigit() else p for p in parts]


def json_patch(doc: dict, ops: list[dict]) -> None:
    for op in ops:
        *parents, last = _pointer(op["path"])
        node = doc
        for p in parents:
            node = node[p]
        if op["op"] == "replace":
            node[last]  # noqa: B018 - must exist (KeyError/IndexError otherwise)
            node[last] = op["value"]
        elif op["op"] == "add":
            if isinstance(node, list):
                node.insert(len(node) if last == "-" else last, op["value"])
            else:
                node[last] = op["value"]
        elif op["op"] == "remove":
            del node[last]
        else:
            raise AssertionError(f"unsupported op {op['op']}")


def kustomize(root: Path) -> list[dict]:
    kust = yaml.safe_load((root / "kustomization.yaml").read_text())
    assert kust["kind"] == "Kustomization"
    assert set(kust) <= {"apiVersion", "kind", "namespace", "resources", "patches"}, set(kust)
    objs: list[dict] = []
    for res in kust.get("resources", []):
        path = (root / res).resolve()
        if path.is_dir():
            objs += kustomize(path)
        else:
            objs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for patch in kust.get("patches", []):
        text = patch.get("patch") or (root / patch["path"]).read_text()
        body = yaml.safe_load(text)
        if isinstance(body, dict):
            assert body.pop("$patch") == "delete", "only $patch: delete is resolved here"
            key = (body["kind"], body["metadata"]["name"])
            before = len(objs)
            objs = [o for o in objs if (o["kind"], o["metadata"]["name"]) != key]
            assert len(objs) == before - 1, f"the patch deletes nothing: {key}"
            continue
        t = patch["target"]
        [target] = [o for o in objs
                    if o["kind"] == t["kind"] and o["metadata"]["name"] == t["name"]]
        json_patch(target, body)
    if "namespace" in kust:
        for o in objs:
            if o["kind"] not in CLUSTER_SCOPED:
                o["metadata"]["namespace"] = kust["namespace"]
    return objs


def overlay() -> dict[tuple[str, str], dict]:
    objs = kustomize(OVERLAY)
    keyed = {(o["kind"], o["metadata"]["name"]): o for o in objs}
    assert len(keyed) == len(objs), "two objects of the same kind and name"
    return keyed


def test_kubernetes_scale_out_overlay_validates(tmp_path):
    exe = need("kubernetes-validate")
    objs = overlay()
    files = []
    for (kind, name), o in sorted(objs.items()):
        if kind == "ServiceMonitor":
            continue
        f = tmp_path / f"{kind}-{name}.yaml"
        f.write_text(yaml.safe_dump(o))
        files.append(str(f))
    r = run([exe, "--strict", "--kubernetes-version", "1.37.0", *files])
    assert r.returncode == 0, r.stdout + r.stderr
    passed = re.findall(r"^INFO .* passed for resource", r.stdout, re.M)
    assert len(passed) == len(files), r.stdout + r.stderr


def test_kubernetes_scale_out_overlay_runs_n_replicas_on_redis():
    objs = overlay()
    kinds = {k for k, _ in objs}
    assert ("PersistentVolumeClaim", "switchyard-auth") not in objs, "no shared auth volume"
    assert {"Namespace", "Secret", "ServiceMonitor", "PodDisruptionBudget"} <= kinds
    dep = objs[("Deployment", "switchyard")]
    assert dep["spec"]["replicas"] == 3
    assert dep["spec"]["strategy"]["type"] == "RollingUpdate"
    pod = dep["spec"]["template"]["spec"]
    [c] = pod["containers"]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    vols = {v["name"]: v for v in pod["volumes"]}
    [auth] = [vm for vm in c["volumeMounts"] if vm["mountPath"] == "/var/lib/switchyard"]
    assert set(vols[auth["name"]]) == {"name", "emptyDir"}
    for claim in (v["persistentVolumeClaim"]["claimName"] for v in vols.values()
                  if "persistentVolumeClaim" in v):
        assert ("PersistentVolumeClaim", claim) in objs
    hpa = objs[("HorizontalPodAutoscaler", "switchyard")]["spec"]
    assert hpa["minReplicas"] == dep["spec"]["replicas"] <= hpa["maxReplicas"]
    pdb = objs[("PodDisruptionBudget", "switchyard")]["spec"]
    assert 1 <= pdb["minAvailable"] < dep["spec"]["replicas"] and "maxUnavailable" not in pdb
    # The config: shared state with the auth store, on the Redis Service of the overlay.
    cfg = yaml.safe_load(objs[("ConfigMap", "switchyard-config")]["data"]["config.yaml"])
    shared = cfg["shared-state"]
    assert shared["auth-store"] is True
    m = re.fullmatch(r"redis://([a-z0-9-]+):(\d+)/\d+", shared["redis-url"])
    assert m, shared["redis-url"]
    svc = objs[("Service", m.group(1))]
    assert int(m.group(2)) in {p["port"] for p in svc["spec"]["ports"]}
    redis = objs[("Deployment", m.group(1))]
    assert svc["spec"]["selector"].items() <= \
        redis["spec"]["template"]["metadata"]["labels"].items()
    [rc] = redis["spec"]["template"]["spec"]["containers"]
    assert {p["name"] for p in rc["ports"]} >= {p["targetPort"] for p in svc["spec"]["ports"]}
    assert "--appendonly" in rc["args"], "the token files survive a Redis restart"
    # The Switchyard Service does not select the Redis pods, nor the reverse.
    sy = objs[("Service", "switchyard")]["spec"]["selector"]
    assert not sy.items() <= redis["spec"]["template"]["metadata"]["labels"].items()
    assert all(o["metadata"].get("namespace") == "switchyard"
               for (k, _), o in objs.items() if k != "Namespace")


def test_kubernetes_scale_out_config_renders_and_loads(tmp_path):
    objs = overlay()
    m = {k: o for (k, _), o in objs.items() if (k, _) != ("Deployment", "switchyard-redis")
         and (k, _) != ("Service", "switchyard-redis")}
    m["Deployment"] = objs[("Deployment", "switchyard")]
    text = render_and_check(m, tmp_path)
    assert "auth-store: true" in text


# --------------------------------------------------------------------------- container image


def test_containerfile_lints_clean():
    exe = need("hadolint")
    r = run([exe, "--failure-threshold", "warning", str(CONTAINERFILE)])
    assert r.returncode == 0, r.stdout + r.stderr


PODMAN_RUN = ["--runtime", "runc", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    podman = need("podman")
    r = run([str(REPO / "scripts" / "container-base-images.sh")], timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    binary = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
    # A small build context: the binary to package (the real build copies the repository).
    ctx = tmp_path_factory.mktemp("image-context")
    (ctx / "prebuilt").mkdir()
    shutil.copy2(binary, ctx / "prebuilt" / "switchyard")
    # --format docker: the OCI image format has no HEALTHCHECK (podman drops it with a warning).
    r = run([podman, "build", *PODMAN_RUN, "--format", "docker", "--pull=never",
             "-f", str(CONTAINERFILE),
             "--build-arg", "SWITCHYARD_PREBUILT=prebuilt/switchyard", "-t", IMAGE, str(ctx)],
            timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    yield podman
    run([podman, "rmi", "-f", IMAGE])


def inspect(podman: str, what: str, fmt: str) -> str:
    r = run([podman, "inspect", "--format", fmt, what])
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


# The first run on a machine debootstraps the base image (a few minutes; cached after).
@pytest.mark.timeout(900)
def test_image_runs_as_non_root_with_mounts_and_a_health_check(image, tmp_path, mock_upstream):
    podman = image
    assert inspect(podman, IMAGE, "{{.Config.User}}") == "10001:10001"
    assert "8317/tcp" in inspect(podman, IMAGE, "{{json .Config.ExposedPorts}}")
    assert "/var/lib/switchyard" in inspect(podman, IMAGE, "{{json .Config.Volumes}}")
    health = json.loads(inspect(podman, IMAGE, "{{json .HealthCheck}}"))
    assert "probe" in " ".join(health["Test"])

    port = free_port()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f'host: "127.0.0.1"\nport: {port}\nauth-dir: /var/lib/switchyard\n'
        "shutdown-grace-seconds: 1\napi-keys: [sk-client]\n"
        f'openai-compatibility:\n  - name: mock\n    base-url: "{mock_upstream.url}/v1"\n'
        '    api-key-entries: [{api-key: acct-oai-1}]\n    models: [{name: gpt-4o-mini}]\n')
    cfg.chmod(0o644)
    auth = tmp_path / "auth"
    auth.mkdir()
    os.chown(auth, 10001, 10001)
    name = f"switchyard-test-{port}"
    # Host network: the mock upstream listens on the host's loopback.
    r = run([podman, "run", "-d", *PODMAN_RUN, "--name", name, "--network", "host",
             "-v", f"{cfg}:/etc/switchyard/config.yaml:ro", "-v", f"{auth}:/var/lib/switchyard",
             "--health-cmd", f"/usr/local/bin/switchyard probe http://127.0.0.1:{port}/healthz",
             IMAGE])
    assert r.returncode == 0, r.stdout + r.stderr
    try:
        def ready():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
                return resp.status == 200
        wait_until(ready, 30, "the container's /readyz")
        r = run([podman, "healthcheck", "run", name])
        assert r.returncode == 0, r.stdout + r.stderr
        r = run([podman, "exec", name, "id", "-u"])
        assert r.stdout.strip() == "10001"
        r = run([podman, "exec", name, "switchyard", "--version"])
        assert re.match(r"switchyard \d+\.\d+\.\d+ \(commit \S+\)", r.stdout), r.stdout
        # The auth dir mount is the user's and writable (refresh rewrites token files).
        r = run([podman, "exec", name, "touch", "/var/lib/switchyard/.w"])
        assert r.returncode == 0, r.stderr
        t0 = time.monotonic()
        r = run([podman, "stop", "-t", "20", name], timeout=60)
        assert r.returncode == 0, r.stderr
        # SIGTERM drains (grace 1 s) and exits on its own, well before the 20 s kill.
        assert time.monotonic() - t0 < 15
        code = inspect(podman, name, "{{.State.ExitCode}}")
        assert code == "0", run([podman, "logs", name]).stderr
    finally:
        run([podman, "rm", "-f", name])
