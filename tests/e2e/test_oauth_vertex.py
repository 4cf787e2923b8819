"""Vertex: a service-account key imported with `switchyard login vertex --import` is served
as Gemini: the refresh service makes an RS256 JWT-bearer grant (RFC 7523) to the key's
`token_uri` (the mock verifies the signature with the public half of a key generated here),
caches the token, and requests go to the regional
`/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:{method}` path with Bearer."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import openai
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google import genai

from conftest import CLIENT_KEY, gateway_config, http_request, post_json
from test_login_oauth import Login, auth_files

EMAIL = "sa@proj-1.iam.gserviceaccount.com"
VERTEX_UP = "/v1/projects/proj-1/locations/us-central1/publishers/google/models/gemini-2.5-flash"


def b64url_int(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def import_key(request, tmp_path: Path, mock) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    pub = key.public_key().public_numbers()
    post_json(f"{mock.url}/_auth/google/keys",
              {"client_email": EMAIL, "n": b64url_int(pub.n), "e": b64url_int(pub.e)})
    sa = tmp_path / "sa.json"
    sa.write_text(json.dumps({
        "type": "service_account", "project_id": "proj-1", "private_key_id": "k1",
        "private_key": pem, "client_email": EMAIL,
        "token_uri": f"{mock.url}/_auth/google/token",
    }))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"auth-dir: {tmp_path / 'auths'}\noauth-overrides:\n  vertex:\n"
                   f"    base-url: {mock.url}\n")
    code, out, log = Login(request, tmp_path, cfg, "vertex", "--import", str(sa)).finish()
    assert code == 0, f"{out}\n{log}"
    [path] = auth_files(tmp_path)
    assert path.name == "vertex-proj-1.json"
    return cfg


def test_vertex_account_gets_a_jwt_bearer_token_and_uses_the_regional_path(
        request, tmp_path, mock_upstream, gateway):
    cfg = import_key(request, tmp_path, mock_upstream)
    gw = gateway(gateway_config() + cfg.read_text())
    client = genai.Client(api_key=CLIENT_KEY, http_options={
        "base_url": gw.url, "api_version": "v1beta", "timeout": 60_000})
    r = client.models.generate_content(model="gemini-2.5-flash", contents="MOCK_REPLY[from vertex]")
    assert r.text == "from vertex"
    chunks = list(client.models.generate_content_stream(
        model="gemini-2.5-flash", contents="MOCK_REPLY[streamed vertex]"))
    assert "".join(c.text or "" for c in chunks) == "streamed vertex"
    chat = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=60)
    out = chat.chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "MOCK_REPLY[via ir]"}])
    assert out.choices[0].message.content == "via ir"

    calls = mock_upstream.journal()
    grants = [e for e in calls if e["path"] == "/_auth/google/token"]
    served = [e for e in calls if not e["path"].startswith("/_auth/")]
    # One grant: the token is cached for the three requests.
    assert len(grants) == 1
    form = dict(urllib.parse.parse_qsl(grants[0]["body"]))
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    header, claims, _ = form["assertion"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(claims + "=="))
    assert claims["iss"] == EMAIL
    assert claims["aud"] == f"{mock_upstream.url}/_auth/google/token"
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    assert claims["exp"] - claims["iat"] == 3600
    token = f"ya29.{EMAIL}-1"
    assert [(e["path"], e["query"]) for e in served] == [
        (f"{VERTEX_UP}:generateContent", ""),
        (f"{VERTEX_UP}:streamGenerateContent", "alt=sse"),
        (f"{VERTEX_UP}:generateContent", ""),
    ]
    for e in served:
        assert e["headers"]["authorization"] == f"Bearer {token}"
        assert "x-goog-api-key" not in e["headers"]
    data = json.loads((tmp_path / "auths" / "vertex-proj-1.json").read_text())
    assert data["access_token"] == token and data["expired"]
    assert data["service_account"]["client_email"] == EMAIL
    assert token not in gw.log_text() and form["assertion"] not in gw.log_text()

    # The mock's check is real: the same assertion with a altered signature is refused.
    h, c, sig = form["assertion"].split(".")
    forged = f"{h}.{c}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    r = http_request("POST", f"{mock_upstream.url}/_auth/google/token", urllib.parse.urlencode(
        {"grant_type": form["grant_type"], "assertion": forged}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"})
    assert (r.status, json.loads(r.body)) == (400, {"error": "invalid_grant"})
