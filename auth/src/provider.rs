//! The provider registry: one row per OAuth provider with its real endpoints, public client
//! id, scopes, local callback port and path, refresh lead time, upstream base URL and the
//! `type` its auth files carry (cliproxyapi.md §3.1, §3.3, §3.5, §2.1), and the
//! `oauth-overrides.<provider>` layer on top.
//!
//! Pure; no I/O. [`Provider::resolve`] is the only way to get a usable row: it applies the
//! overrides from config, so a test pointing `token-url` at loopback changes login and refresh
//! alike.

use std::time::Duration;
use switchyard_conf::{Config, OAuthOverride, Secret};

/// The OAuth providers `switchyard login` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderId {
    Claude,
    Codex,
    Gemini,
    Qwen,
    Kimi,
    Iflow,
    Antigravity,
    Vertex,
}

/// How a login obtains its first tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Authorization code with PKCE (S256) and a loopback callback server.
    AuthCode,
    /// RFC 8628 device authorization grant.
    Device,
    /// RFC 8628 device grant with a PKCE challenge on the device request (Qwen).
    DevicePkce,
    /// No OAuth: a service-account key file is imported (Vertex).
    Import,
}

/// A resolved provider: built-in defaults with the config's overrides applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub id: ProviderId,
    /// The default flow (`codex --device` switches Codex to [`Flow::Device`]).
    pub flow: Flow,
    pub auth_url: String,
    pub token_url: String,
    pub device_url: String,
    pub client_id: String,
    /// Installed-app clients that have one (Google's, iFlow's) get it from
    /// `oauth-overrides.<p>.client-secret`; CLIProxyAPI embeds them, we do not ship them.
    pub client_secret: Option<Secret>,
    pub scopes: Vec<String>,
    /// Default local callback port and path (`http://localhost:{port}{path}`).
    pub callback_port: u16,
    pub callback_path: &'static str,
    /// Extra authorization-request parameters the real provider expects.
    pub auth_params: Vec<(&'static str, &'static str)>,
    /// Refresh this long before expiry; `None`: at expiry.
    pub refresh_lead: Option<Duration>,
    /// The upstream API the account's requests go to.
    pub base_url: String,
    /// The `type` field of the auth file.
    pub file_type: &'static str,
}

impl ProviderId {
    pub const ALL: [ProviderId; 8] = [
        ProviderId::Claude,
        ProviderId::Codex,
        ProviderId::Gemini,
        ProviderId::Qwen,
        ProviderId::Kimi,
        ProviderId::Iflow,
        ProviderId::Antigravity,
        ProviderId::Vertex,
    ];

    /// The name used on the command line and in `oauth-overrides`.
    pub fn name(self) -> &'static str {
        match self {
            ProviderId::Claude => "claude",
            ProviderId::Codex => "codex",
            ProviderId::Gemini => "gemini",
            ProviderId::Qwen => "qwen",
            ProviderId::Kimi => "kimi",
            ProviderId::Iflow => "iflow",
            ProviderId::Antigravity => "antigravity",
            ProviderId::Vertex => "vertex",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The provider an auth file's `type` belongs to (`gemini-cli` is CLIProxyAPI's
    /// normalised spelling of `gemini`).
    pub fn from_file_type(t: &str) -> Option<Self> {
        match t {
            "gemini" | "gemini-cli" => Some(ProviderId::Gemini),
            other => Self::from_name(other),
        }
    }
}

const GOOGLE_AUTH: &str = "https://accounts.google.com/o/oauth2/v2/auth";
const GOOGLE_TOKEN: &str = "https://oauth2.googleapis.com/token";
const GOOGLE_SCOPES: [&str; 3] = [
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
];

impl Provider {
    /// The built-in defaults (real endpoints and public client ids).
    pub fn builtin(id: ProviderId) -> Self {
        let mut p = Provider {
            id,
            flow: Flow::AuthCode,
            auth_url: String::new(),
            token_url: String::new(),
            device_url: String::new(),
            client_id: String::new(),
            client_secret: None,
            scopes: Vec::new(),
            callback_port: 0,
            callback_path: "/callback",
            auth_params: Vec::new(),
            refresh_lead: None,
            base_url: String::new(),
            file_type: id.name(),
        };
        let hours = |h: u64| Some(Duration::from_secs(h * 3600));
        let minutes = |m: u64| Some(Duration::from_secs(m * 60));
        match id {
            ProviderId::Claude => {
                p.auth_url = "https://claude.ai/oauth/authorize".into();
                p.token_url = "https://api.anthropic.com/v1/oauth/token".into();
                p.client_id = "9d1c250a-e61b-44d9-88ed-5944d1962f5e".into();
                p.scopes = scopes(&["org:create_api_key", "user:profile", "user:inference"]);
                p.callback_port = 54545;
                p.auth_params = vec![("code", "true")];
                p.refresh_lead = hours(4);
                p.base_url = "https://api.anthropic.com".into();
            }
            ProviderId::Codex => {
                p.auth_url = "https://auth.openai.com/oauth/authorize".into();
                p.token_url = "https://auth.openai.com/oauth/token".into();
                // OpenAI's own device login (`login/openai_device.rs`); an override that does
                // not end in `/deviceauth/usercode` is an RFC 8628 endpoint.
                p.device_url = "https://auth.openai.com/api/accounts/deviceauth/usercode".into();
                p.client_id = "app_EMoamEEZ73f0CkXaXp7hrann".into();
                p.scopes = scopes(&["openid", "email", "profile", "offline_access"]);
                p.callback_port = 1455;
                p.callback_path = "/auth/callback";
                p.auth_params = vec![
                    ("id_token_add_organizations", "true"),
                    ("codex_cli_simplified_flow", "true"),
                ];
                p.refresh_lead = hours(5 * 24);
                p.base_url = "https://chatgpt.com/backend-api/codex".into();
            }
            ProviderId::Gemini | ProviderId::Antigravity => {
                p.auth_url = GOOGLE_AUTH.into();
                p.token_url = GOOGLE_TOKEN.into();
                p.scopes = scopes(&GOOGLE_SCOPES);
                p.auth_params = vec![("access_type", "offline"), ("prompt", "consent")];
                p.base_url = "https://cloudcode-pa.googleapis.com".into();
                if id == ProviderId::Gemini {
                    p.client_id =
                        "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com"
                            .into();
                    p.callback_port = 8085;
                    p.callback_path = "/oauth2callback";
                    // CLIProxyAPI has none (Go's oauth2 token source refreshes on use, 10 s
                    // early); refreshing ahead keeps requests off the refresh path.
                    p.refresh_lead = minutes(5);
                } else {
                    p.client_id =
                        "1071006060591-tmhssin2h21lcre235vtolojh4g403ep.apps.googleusercontent.com"
                            .into();
                    p.scopes.extend(scopes(&[
                        "https://www.googleapis.com/auth/cclog",
                        "https://www.googleapis.com/auth/experimentsandconfigs",
                    ]));
                    p.callback_port = 51121;
                    p.callback_path = "/oauth-callback";
                    p.refresh_lead = minutes(5);
                }
            }
            ProviderId::Qwen => {
                p.flow = Flow::DevicePkce;
                p.device_url = "https://chat.qwen.ai/api/v1/oauth2/device/code".into();
                p.token_url = "https://chat.qwen.ai/api/v1/oauth2/token".into();
                p.client_id = "f0304373b74a44d2b584a3fb70ca9e56".into();
                p.scopes = scopes(&["openid", "profile", "email", "model.completion"]);
                p.refresh_lead = minutes(20);
                p.base_url = "https://portal.qwen.ai/v1".into();
            }
            ProviderId::Kimi => {
                p.flow = Flow::Device;
                p.device_url = "https://auth.kimi.com/api/oauth/device_authorization".into();
                p.token_url = "https://auth.kimi.com/api/oauth/token".into();
                p.client_id = "17e5f671-d194-4dfb-9706-5516cb48c098".into();
                p.refresh_lead = minutes(5);
                p.base_url = "https://api.kimi.com/coding/v1".into();
            }
            ProviderId::Iflow => {
                p.auth_url = "https://iflow.cn/oauth".into();
                p.token_url = "https://iflow.cn/oauth/token".into();
                p.client_id = "10009311001".into();
                p.callback_port = 11451;
                p.callback_path = "/oauth2callback";
                p.refresh_lead = hours(24);
                p.base_url = "https://apis.iflow.cn/v1".into();
            }
            ProviderId::Vertex => {
                p.flow = Flow::Import;
                p.token_url = GOOGLE_TOKEN.into();
                p.scopes = scopes(&GOOGLE_SCOPES[..1]);
                p.refresh_lead = minutes(5);
                p.base_url = "https://us-central1-aiplatform.googleapis.com".into();
            }
        }
        p
    }

    /// Defaults with `oauth-overrides.<name>` from `config` applied.
    pub fn resolve(id: ProviderId, config: &Config) -> Self {
        let mut p = Self::builtin(id);
        if let Some(o) = config.oauth_overrides.get(id.name()) {
            p.apply(o);
        }
        p
    }

    fn apply(&mut self, o: &OAuthOverride) {
        let pairs = [
            (&mut self.auth_url, &o.auth_url),
            (&mut self.token_url, &o.token_url),
            (&mut self.device_url, &o.device_url),
            (&mut self.client_id, &o.client_id),
            (&mut self.base_url, &o.base_url),
        ];
        for (slot, value) in pairs {
            if let Some(v) = value {
                slot.clone_from(v);
            }
        }
        if o.client_secret.is_some() {
            self.client_secret.clone_from(&o.client_secret);
        }
    }

    /// `http://localhost:{port}{path}`, the redirect URI registered for the real client.
    pub fn redirect_uri(&self, port: u16) -> String {
        format!("http://localhost:{port}{}", self.callback_path)
    }
}

fn scopes(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rows_match_the_inventory() {
        let codex = Provider::builtin(ProviderId::Codex);
        assert_eq!(
            codex.redirect_uri(codex.callback_port),
            "http://localhost:1455/auth/callback"
        );
        assert_eq!(codex.refresh_lead, Some(Duration::from_secs(5 * 86_400)));
        let ports: Vec<(ProviderId, u16)> = ProviderId::ALL
            .into_iter()
            .map(|id| (id, Provider::builtin(id).callback_port))
            .filter(|(_, p)| *p != 0)
            .collect();
        assert_eq!(
            ports,
            [
                (ProviderId::Claude, 54545),
                (ProviderId::Codex, 1455),
                (ProviderId::Gemini, 8085),
                (ProviderId::Iflow, 11451),
                (ProviderId::Antigravity, 51121),
            ]
        );
        let lead = |id| Provider::builtin(id).refresh_lead.map(|d| d.as_secs());
        assert_eq!(lead(ProviderId::Claude), Some(4 * 3600));
        assert_eq!(lead(ProviderId::Qwen), Some(20 * 60));
        assert_eq!(lead(ProviderId::Iflow), Some(24 * 3600));
        assert_eq!(lead(ProviderId::Kimi), Some(300));
        assert_eq!(lead(ProviderId::Antigravity), Some(300));
        assert_eq!(lead(ProviderId::Gemini), Some(300));
        assert_eq!(lead(ProviderId::Vertex), Some(300));
        assert_eq!(Provider::builtin(ProviderId::Qwen).flow, Flow::DevicePkce);
        for id in ProviderId::ALL {
            assert_eq!(ProviderId::from_name(id.name()), Some(id));
            assert!(switchyard_conf::OAUTH_PROVIDERS.contains(&id.name()));
        }
        assert_eq!(
            ProviderId::from_file_type("gemini-cli"),
            Some(ProviderId::Gemini)
        );
    }

    #[test]
    fn overrides_replace_only_what_they_set() {
        let cfg = switchyard_conf::load_str(
            "oauth-overrides:\n  codex:\n    token-url: http://127.0.0.1:9/token\n    client-id: t\n    base-url: http://127.0.0.1:10/x\n",
        )
        .map(|l| l.config)
        .unwrap_or_default();
        let p = Provider::resolve(ProviderId::Codex, &cfg);
        assert_eq!(p.token_url, "http://127.0.0.1:9/token");
        assert_eq!(p.client_id, "t");
        assert_eq!(p.base_url, "http://127.0.0.1:10/x");
        assert_eq!(p.auth_url, "https://auth.openai.com/oauth/authorize");
        assert_eq!(
            Provider::resolve(ProviderId::Qwen, &cfg),
            Provider::builtin(ProviderId::Qwen)
        );
    }
}
