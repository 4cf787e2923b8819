//! `POST /api-call`: CLIProxyAPI's generic outbound call with an account's credentials
//! (`api_tools.go`), used by panels to read quotas. Body `{"auth_index"?, "method", "url",
//! "header"?: {name: value}, "data"?: string, "proxy_url"?}`; `$TOKEN$` in a header value is
//! replaced by the account's credential (its API key, or its OAuth access token, refreshed if
//! due). Proxy: the call's `proxy_url`, else the account's (which already falls back to the
//! global `proxy-url`), else the global one, else direct; environment proxies are ignored.
//! Answer `{"status_code", "header": {name: [values]}, "body": string}`; a call that gets no
//! answer is a 502 naming why.
//!
//! `auth_index` is the account's position in `/auth-files` and `/accounts` (a number or a
//! string of digits) or its id (`claude-api-key[0]`, `auth-dir/<file>`).

use super::{Call, Reply};
use crate::accounts::Account;
use crate::live_config::LiveConfig;
use crate::upstream_proxy::AccountProxy;
use serde_json::{json, Map, Value};
use std::time::Duration;

const TOKEN: &str = "$TOKEN$";
const TIMEOUT: Duration = Duration::from_secs(60);
/// Largest answer body passed back.
const MAX_ANSWER: usize = 16 << 20;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiCallBody {
    auth_index: Option<Value>,
    method: String,
    url: String,
    #[serde(default)]
    header: Map<String, Value>,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    proxy_url: Option<String>,
}

fn find<'a>(accounts: &'a [Account], index: &Value) -> Result<&'a Account, Reply> {
    let found = match index {
        Value::Number(n) => n
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| accounts.get(i)),
        Value::String(s) => match s.trim().parse::<usize>() {
            Ok(i) => accounts.get(i),
            Err(_) => accounts.iter().find(|a| a.id == s.trim()),
        },
        _ => return Err(Reply::bad("auth_index: expected a number or a string")),
    };
    found.ok_or_else(|| Reply::not_found(format!("auth_index {index}: no such account")))
}

async fn credential(account: &Account) -> Result<String, Reply> {
    match account.channel.oauth() {
        Some(link) => link
            .refresher
            .token(&link.file)
            .await
            .map(|t| t.expose().to_owned())
            .map_err(|e| Reply::error(502, format!("no access token for {}: {e}", account.id))),
        None => Ok(account.key.expose().to_owned()),
    }
}

fn client(proxy: &AccountProxy) -> Result<reqwest::Client, Reply> {
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT);
    if let AccountProxy::Via(p) = proxy {
        let url = &p.url;
        if !matches!(url.scheme.as_str(), "http" | "https") {
            return Err(Reply::bad(format!(
                "proxy {}: api-call goes through http(s) proxies only",
                url.display()
            )));
        }
        let mut proxy = reqwest::Proxy::all(url.display())
            .map_err(|e| Reply::bad(format!("proxy {}: {e}", url.display())))?;
        if let Some(c) = &url.credentials {
            proxy = proxy.basic_auth(&c.username, c.password.expose());
        }
        b = b.proxy(proxy);
    }
    b.build()
        .map_err(|e| Reply::error(500, format!("cannot build the HTTP client: {e}")))
}

pub(super) async fn call(call: &Call, live: &LiveConfig) -> Reply {
    match run(call, live).await {
        Ok(r) | Err(r) => r,
    }
}

async fn run(call: &Call, live: &LiveConfig) -> Result<Reply, Reply> {
    let body: ApiCallBody = call.json()?;
    let method = http::Method::from_bytes(body.method.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| Reply::bad(format!("method {:?}: not an HTTP method", body.method)))?;
    let url = reqwest::Url::parse(body.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| Reply::bad(format!("url {:?}: expected an http(s) URL", body.url)))?;
    let rt = live.reloader().runtime();
    let account = match &body.auth_index {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(i) => Some(find(&rt.accounts, i)?),
    };
    let mut headers = Vec::with_capacity(body.header.len());
    let mut token = None;
    for (name, value) in &body.header {
        let Value::String(value) = value else {
            return Err(Reply::bad(format!("header.{name}: expected a string")));
        };
        let value = if value.contains(TOKEN) {
            let Some(account) = account else {
                return Err(Reply::bad(format!(
                    "header.{name}: {TOKEN} needs an auth_index"
                )));
            };
            if token.is_none() {
                token = Some(credential(account).await?);
            }
            value.replace(TOKEN, token.as_deref().unwrap_or_default())
        } else {
            value.clone()
        };
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Reply::bad(format!("header {name:?}: not a header name")))?;
        let value = http::HeaderValue::from_str(&value)
            .map_err(|_| Reply::bad(format!("header.{name}: not a header value")))?;
        headers.push((name, value));
    }
    let proxy = match body
        .proxy_url
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) => {
            AccountProxy::parse(Some(p)).map_err(|e| Reply::bad(format!("proxy_url: {e}")))?
        }
        None => AccountProxy::Inherit,
    };
    let proxy = match (proxy, account) {
        (AccountProxy::Inherit, Some(a)) => a.proxy.clone(),
        (AccountProxy::Inherit, None) => {
            AccountProxy::parse(live.current().proxy_url.as_deref()).unwrap_or(AccountProxy::Direct)
        }
        (p, _) => p,
    };
    let mut req = client(&proxy)?.request(method, url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    if let Some(data) = body.data {
        req = req.body(data);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| Reply::error(502, format!("request failed: {}", without_url(&e))))?;
    let status = resp.status().as_u16();
    let mut header: Map<String, Value> = Map::new();
    for (k, v) in resp.headers() {
        let entry = header
            .entry(canonical(k.as_str()))
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(Value::String(
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            ));
        }
    }
    let mut bytes = Vec::new();
    let mut resp = resp;
    while let Some(chunk) = resp.chunk().await.map_err(|e| {
        Reply::error(
            502,
            format!("reading the answer failed: {}", without_url(&e)),
        )
    })? {
        if bytes.len() + chunk.len() > MAX_ANSWER {
            return Err(Reply::error(
                502,
                format!("answer larger than {MAX_ANSWER} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Reply::ok(json!({
        "status_code": status,
        "header": header,
        "body": String::from_utf8_lossy(&bytes),
    })))
}

/// reqwest's error text without the URL (which may carry a key in its query).
fn without_url(e: &reqwest::Error) -> String {
    let mut shown = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        shown = s.to_string();
        source = s.source();
    }
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        format!("could not connect ({shown})")
    } else {
        shown
    }
}

/// `content-type` → `Content-Type` (Go's canonical header keys, as CLIProxyAPI answers).
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}
