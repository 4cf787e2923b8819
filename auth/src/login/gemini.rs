//! `switchyard login gemini`, after the Google OAuth code exchange: which Google Cloud
//! project(s) the account uses with Code Assist, and their onboarding (CLIProxyAPI v6
//! `internal/cmd/login.go`).
//!
//! 1. Projects: `--project-id ID` is that one; `--project-id ALL` is every project Cloud
//!    Resource Manager lists (`GET {resource-manager}/v1/projects`); none given: the first
//!    project listed, or none when the list is empty (Code Assist then assigns a managed
//!    project to a free-tier user).
//! 2. For each project, `POST {base}/v1internal:loadCodeAssist`: a `currentTier` means the
//!    user is onboarded (the answer's `cloudaicompanionProject` wins); otherwise
//!    `POST {base}/v1internal:onboardUser` with the default tier of `allowedTiers`, polled (a
//!    long-running operation) until `done`, whose `cloudaicompanionProject.id` is the project.
//! 3. `login antigravity` does step 2 only, without a project and with Antigravity's
//!    `ideType` ([`antigravity_project`]), as CLIProxyAPI's Antigravity login does.
//!
//! `{base}` is the provider's `base-url` (`oauth-overrides.gemini.base-url`, default
//! `https://cloudcode-pa.googleapis.com`). The Resource Manager is
//! `https://cloudresourcemanager.googleapis.com`, or the same `base-url` when that is
//! overridden (so one loopback server stands in for both in tests).
//!
//! Contract: user-facing progress lines go to `out`; the token is only sent as a Bearer.

use crate::egress::Route;
use crate::error::AuthError;
use crate::provider::{Provider, ProviderId};
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;

const RESOURCE_MANAGER: &str = "https://cloudresourcemanager.googleapis.com";
/// How long between polls of the onboarding operation, and how many polls at most.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
const MAX_POLLS: usize = 60;

/// What the auth file records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onboarded {
    /// Comma-separated project ids (one pool account each).
    pub project_id: String,
    /// The project was picked automatically (no `--project-id`).
    pub auto: bool,
    /// `--project-id ALL`: the file name says `all` instead of one project.
    pub all: bool,
}

/// Discovers and onboards the account's project(s).
pub async fn onboard(
    p: &Provider,
    route: &Route,
    access_token: &str,
    project_flag: Option<&str>,
    out: &mut (dyn Write + Send),
) -> Result<Onboarded, AuthError> {
    let http = crate::egress::client(route, &[])?;
    let api = Api {
        http: &http,
        token: access_token,
        ide: "IDE_UNSPECIFIED",
        base: p.base_url.trim_end_matches('/').to_owned(),
        resource_manager: if p.base_url == Provider::builtin(ProviderId::Gemini).base_url {
            RESOURCE_MANAGER.to_owned()
        } else {
            p.base_url.trim_end_matches('/').to_owned()
        },
    };
    let flag = project_flag.map(str::trim).filter(|s| !s.is_empty());
    let all = flag.is_some_and(|f| f.eq_ignore_ascii_case("ALL"));
    let wanted: Vec<Option<String>> = match flag {
        Some(_) if all => {
            let listed = api.projects().await?;
            if listed.is_empty() {
                return Err(AuthError::Protocol(
                    "--project-id ALL: the account has no Google Cloud project".into(),
                ));
            }
            listed.into_iter().map(Some).collect()
        }
        Some(id) => vec![Some(id.to_owned())],
        None => vec![api.projects().await.ok().and_then(|l| l.into_iter().next())],
    };
    let mut done = Vec::new();
    for project in wanted {
        let id = api.setup(project.as_deref()).await?;
        let _ = writeln!(out, "Code Assist project: {id}");
        done.push(id);
    }
    Ok(Onboarded {
        project_id: done.join(","),
        auto: flag.is_none(),
        all,
    })
}

/// `switchyard login antigravity`, after the code exchange: the Code Assist project the
/// account's requests name (`loadCodeAssist` with Antigravity's metadata, onboarding when it
/// has no tier yet), asked of the first of the provider's hosts. A failure is reported on `out`
/// and is not fatal: the file is saved without `project_id`, and requests then name none.
pub async fn antigravity_project(
    p: &Provider,
    route: &Route,
    access_token: &str,
    out: &mut (dyn Write + Send),
) -> Option<String> {
    let http = match crate::egress::client(route, &[]) {
        Ok(http) => http,
        Err(e) => {
            let _ = writeln!(out, "No Code Assist project looked up ({e})");
            return None;
        }
    };
    let first = p
        .base_url
        .split(',')
        .map(str::trim)
        .find(|h| !h.is_empty())?;
    let api = Api {
        http: &http,
        token: access_token,
        ide: "ANTIGRAVITY",
        base: first.trim_end_matches('/').to_owned(),
        resource_manager: String::new(),
    };
    match api.setup(None).await {
        Ok(id) => {
            let _ = writeln!(out, "Code Assist project: {id}");
            Some(id)
        }
        Err(e) => {
            let _ = writeln!(
                out,
                "No Code Assist project found ({e}); saving the account without one"
            );
            None
        }
    }
}

struct Api<'a> {
    http: &'a reqwest::Client,
    token: &'a str,
    /// `ideType` of the client metadata: `IDE_UNSPECIFIED` (Gemini CLI) or `ANTIGRAVITY`.
    ide: &'static str,
    base: String,
    resource_manager: String,
}

fn metadata(ide: &str, project: Option<&str>) -> Value {
    let mut m = json!({
        "ideType": ide,
        "platform": "PLATFORM_UNSPECIFIED",
        "pluginType": "GEMINI",
    });
    if let Some(p) = project {
        m["duetProject"] = Value::from(p);
    }
    m
}

impl Api<'_> {
    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> Result<Value, AuthError> {
        let resp = req
            .bearer_auth(self.token)
            .header("user-agent", "google-api-nodejs-client/9.15.1")
            .header(
                "client-metadata",
                format!(
                    "ideType={},platform=PLATFORM_UNSPECIFIED,pluginType=GEMINI",
                    self.ide
                ),
            )
            .send()
            .await
            .map_err(|e| AuthError::Transport(format!("{what}: {e}")))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| AuthError::Transport(format!("{what}: {e}")))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            return Err(AuthError::Protocol(format!(
                "{what} answered {status}: {}",
                text.chars().take(300).collect::<String>()
            )));
        }
        serde_json::from_slice(&body).map_err(|e| AuthError::Protocol(format!("{what}: {e}")))
    }

    async fn call(&self, method: &str, body: &Value) -> Result<Value, AuthError> {
        let url = format!("{}/v1internal:{method}", self.base);
        self.send(self.http.post(url).json(body), method).await
    }

    /// The account's active projects, as Cloud Resource Manager lists them.
    async fn projects(&self) -> Result<Vec<String>, AuthError> {
        let url = format!("{}/v1/projects", self.resource_manager);
        let v = self.send(self.http.get(url), "listing projects").await?;
        Ok(v.get("projects")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .filter(|p| {
                        p.get("lifecycleState")
                            .and_then(Value::as_str)
                            .is_none_or(|s| s == "ACTIVE")
                    })
                    .filter_map(|p| p.get("projectId").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// loadCodeAssist, then onboardUser when the user has no tier yet; the project to use.
    async fn setup(&self, project: Option<&str>) -> Result<String, AuthError> {
        let mut load = json!({ "metadata": metadata(self.ide, project) });
        if let Some(p) = project {
            load["cloudaicompanionProject"] = Value::from(p);
        }
        let loaded = self.call("loadCodeAssist", &load).await?;
        let assigned = companion_project(&loaded);
        if loaded.get("currentTier").is_some() {
            return assigned
                .or(project.map(str::to_owned))
                .ok_or_else(|| AuthError::Protocol("loadCodeAssist named no project".into()));
        }
        let tier = loaded
            .get("allowedTiers")
            .and_then(Value::as_array)
            .and_then(|ts| {
                ts.iter()
                    .find(|t| t.get("isDefault").and_then(Value::as_bool) == Some(true))
            })
            .and_then(|t| t.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("legacy-tier")
            .to_owned();
        let mut body = json!({ "tierId": tier, "metadata": metadata(self.ide, project) });
        if let Some(p) = project {
            body["cloudaicompanionProject"] = Value::from(p);
        }
        for _ in 0..MAX_POLLS {
            let op = self.call("onboardUser", &body).await?;
            if op.get("done").and_then(Value::as_bool) == Some(true) {
                let response = op.get("response").cloned().unwrap_or_default();
                return companion_project(&response)
                    .or(project.map(str::to_owned))
                    .ok_or_else(|| AuthError::Protocol("onboardUser named no project".into()));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        Err(AuthError::Protocol(
            "onboardUser did not finish in time".into(),
        ))
    }
}

/// `cloudaicompanionProject` as a string or as `{"id": ...}`.
fn companion_project(v: &Value) -> Option<String> {
    match v.get("cloudaicompanionProject")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companion_project_shapes() {
        assert_eq!(
            companion_project(&json!({"cloudaicompanionProject": "p"})).as_deref(),
            Some("p")
        );
        assert_eq!(
            companion_project(&json!({"cloudaicompanionProject": {"id": "q", "name": "Q"}}))
                .as_deref(),
            Some("q")
        );
        assert_eq!(
            companion_project(&json!({"cloudaicompanionProject": ""})),
            None
        );
        assert_eq!(companion_project(&json!({})), None);
    }
}
