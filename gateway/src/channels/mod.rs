//! Provider channels: how an account is reached. Each arm of [`Channel`] has one module here
//! that owns everything about it: its account builder from an auth file, its path and query,
//! its credentials, its body and header rewrites, and its response handling (refresh after a
//! 401, host fallback, envelopes). The phases reach them only through the functions below,
//! each an exhaustive `match` on the channel, so a new provider is a compile error until every
//! part of it is written (docs/architecture.md has the checklist).
//!
//! | channel | module | wire protocol | credential |
//! |---|---|---|---|
//! | `ApiKey` | `api_key` | the config section's | `x-api-key` / `x-goog-api-key` / Bearer |
//! | `ClaudeOAuth` | `claude_oauth` | Anthropic, `?beta=true`, cloaked | Bearer + Claude Code headers |
//! | `Codex` | `codex` | Responses (streams only) | Bearer + `chatgpt-account-id` |
//! | `Qwen` | `qwen` | Chat Completions | Bearer + DashScope headers |
//! | `Kimi` | `kimi` | Chat Completions | Bearer + `X-Msh-*` |
//! | `Iflow` | `iflow` | Chat Completions | Bearer (the file's API key) |
//! | `Vertex` | `vertex` | Gemini at `/models/` | Bearer (JWT-bearer grant) |
//! | `CodeAssist` | `codeassist` | Gemini in the `v1internal` envelope | Bearer + client identity |
//!
//! Contract: account builders run off the hot path (`oauth::load`, with the runtime snapshot);
//! [`Channel::shape`] and [`Channel::set_credentials`] run in `upstream_request_filter` through
//! `outgoing.rs`; [`Channel::retry_after_401`], [`Channel::next_host`] and
//! [`Channel::response_envelope`] in `upstream_response_filter` / `fail_to_connect`.

mod api_key;
pub mod catalog;
mod claude_oauth;
pub mod codeassist;
mod codex;
mod iflow;
mod kimi;
pub mod oauth;
mod qwen;
mod vertex;

use crate::accounts::{Account, Channel, Flavor, OAuthLink, UpstreamTarget};
use crate::errors::GatewayError;
use crate::protocol::Endpoint;
use bytes::Bytes;
use codeassist::Rewrap;
use pingora_http::{RequestHeader, ResponseHeader};
use switchyard_auth::{AuthRecord, Provider, ProviderId};
use switchyard_conf::{ApiKeyAccount, ProviderKind, Secret};

/// The pool accounts of one auth file, each with its channel (several for a multi-project
/// Code Assist file; none when the file cannot be served). `link` is the file's link to the
/// refresh service; its catalog channel is filled in afterwards (`catalog::apply`).
pub fn accounts_of_file(
    file: &str,
    record: &AuthRecord,
    provider: &Provider,
    link: OAuthLink,
) -> Vec<(ApiKeyAccount, Channel)> {
    match provider.id {
        ProviderId::Claude => vec![(
            claude_oauth::account(file, record, provider),
            Channel::ClaudeOAuth(link),
        )],
        ProviderId::Codex => vec![(codex::account(file, record, provider), Channel::Codex(link))],
        ProviderId::Qwen => vec![(qwen::account(file, record, provider), Channel::Qwen(link))],
        ProviderId::Kimi => vec![(kimi::account(file, record, provider), Channel::Kimi(link))],
        ProviderId::Iflow => vec![(iflow::account(file, record, provider), Channel::Iflow(link))],
        ProviderId::Vertex => vec![(
            vertex::account(file, record, provider),
            Channel::Vertex(link),
        )],
        ProviderId::Gemini | ProviderId::Antigravity => {
            codeassist::accounts(file, record, provider)
                .into_iter()
                .map(|(account, site)| (account, Channel::CodeAssist(link.clone(), site)))
                .collect()
        }
    }
}

/// What a channel may change about an attempt's upstream request: the path after the base
/// path, the query, and the body.
pub struct Draft<'a> {
    pub suffix: String,
    pub query: String,
    /// The body as it stands; `None`: the client's bytes, unread and unchanged.
    pub body: Option<Bytes>,
    /// The client's bytes as they would go upstream (model spliced in), read on demand: only a
    /// channel that edits a same-protocol body pays for the copy.
    pub client_body: &'a dyn Fn() -> Bytes,
}

/// The facts of the attempt a channel shapes its request from.
pub struct Call<'a> {
    /// The client's request header as it arrived.
    pub client: &'a RequestHeader,
    /// The request counts tokens.
    pub count_tokens: bool,
    pub upstream_model: &'a str,
    /// The upstream request streams.
    pub stream: bool,
}

impl Channel {
    /// The `provider` label of metrics and usage: a fixed name per channel (and, for API keys,
    /// per config section).
    pub fn provider_label(&self, kind: ProviderKind) -> &'static str {
        match self {
            Self::ApiKey => match kind {
                ProviderKind::Gemini => "gemini",
                ProviderKind::Claude => "claude",
                ProviderKind::Codex => "codex",
                ProviderKind::OpenAiCompat => "openai-compatible",
            },
            Self::ClaudeOAuth(_) => "claude-oauth",
            Self::Codex(_) => "codex-oauth",
            Self::Qwen(_) => "qwen",
            Self::Kimi(_) => "kimi",
            Self::Iflow(_) => "iflow",
            Self::Vertex(_) => "vertex",
            Self::CodeAssist(_, site) => match site.flavor {
                Flavor::GeminiCli => "gemini-cli",
                Flavor::Antigravity => "antigravity",
            },
        }
    }

    /// OpenTelemetry GenAI's `gen_ai.provider.name` for the channel (its well-known values,
    /// else the provider label).
    pub fn gen_ai_provider(&self, kind: ProviderKind) -> &'static str {
        match self {
            Self::ApiKey => match kind {
                ProviderKind::Gemini => "gcp.gemini",
                ProviderKind::Claude => "anthropic",
                ProviderKind::Codex => "openai",
                ProviderKind::OpenAiCompat => "openai-compatible",
            },
            Self::ClaudeOAuth(_) => "anthropic",
            Self::Codex(_) => "openai",
            Self::Vertex(_) => "gcp.vertex_ai",
            Self::CodeAssist(..) => "gcp.gemini",
            Self::Qwen(_) | Self::Kimi(_) | Self::Iflow(_) => self.provider_label(kind),
        }
    }

    /// Whether the account's requests travel in an envelope, so every attempt goes through the
    /// IR (never passed through).
    pub fn enveloped(&self) -> bool {
        match self {
            Self::CodeAssist(..) => true,
            Self::ApiKey
            | Self::ClaudeOAuth(_)
            | Self::Codex(_)
            | Self::Qwen(_)
            | Self::Kimi(_)
            | Self::Iflow(_)
            | Self::Vertex(_) => false,
        }
    }

    /// Whether the upstream only streams: a non-stream request is sent as a stream and the
    /// answer aggregated (`ResponseMode::Aggregate`).
    pub fn streams_only(&self) -> bool {
        match self {
            Self::Codex(_) => codex::STREAMS_ONLY,
            Self::ApiKey
            | Self::ClaudeOAuth(_)
            | Self::Qwen(_)
            | Self::Kimi(_)
            | Self::Iflow(_)
            | Self::Vertex(_)
            | Self::CodeAssist(..) => false,
        }
    }

    /// Where the attempt on host `host` goes (the account's own target unless the channel has
    /// several hosts).
    pub fn target<'a>(&'a self, account: &'a Account, host: usize) -> &'a UpstreamTarget {
        match self {
            Self::CodeAssist(_, site) => site.hosts.get(host).unwrap_or(&account.target),
            Self::ApiKey
            | Self::ClaudeOAuth(_)
            | Self::Codex(_)
            | Self::Qwen(_)
            | Self::Kimi(_)
            | Self::Iflow(_)
            | Self::Vertex(_) => &account.target,
        }
    }

    /// Path, query and body rewrites of the channel. Runs before the headers are set, while
    /// `call.client` is still the client's own header.
    pub fn shape(
        &self,
        account: &Account,
        draft: &mut Draft<'_>,
        call: &Call<'_>,
    ) -> Result<(), GatewayError> {
        match self {
            Self::ApiKey | Self::Codex(_) | Self::Qwen(_) | Self::Kimi(_) | Self::Iflow(_) => {
                Ok(())
            }
            Self::ClaudeOAuth(_) => {
                claude_oauth::shape(account, draft, call);
                Ok(())
            }
            Self::Vertex(_) => {
                vertex::shape(draft);
                Ok(())
            }
            Self::CodeAssist(_, site) => codeassist::shape(site, draft, call),
        }
    }

    /// The credential and the channel's identity headers (the account's configured headers and
    /// `Host` are set after these by the caller).
    pub fn set_credentials(
        &self,
        req: &mut RequestHeader,
        account: &Account,
        upstream_model: &str,
    ) -> pingora_error::Result<()> {
        let token = self.oauth().and_then(OAuthLink::current);
        let key = token.as_ref().unwrap_or(&account.key).expose();
        match self {
            Self::ApiKey => api_key::set_credentials(req, account.kind, key),
            Self::ClaudeOAuth(_) => claude_oauth::set_credentials(req, key),
            Self::Codex(_) | Self::Qwen(_) | Self::Kimi(_) | Self::Iflow(_) => {
                api_key::bearer(req, key)
            }
            Self::Vertex(_) => vertex::set_credentials(req, key),
            Self::CodeAssist(_, site) => {
                codeassist::set_credentials(req, site, key, upstream_model)
            }
        }
    }

    /// After an upstream 401: the token that got it, when the channel refreshes and retries
    /// once (every OAuth channel; a configured key has nothing to refresh).
    pub fn retry_after_401(&self) -> Option<Secret> {
        self.oauth().and_then(OAuthLink::current)
    }

    /// After an attempt on `host` failed (`status`: its answer; `None`: no connection): the
    /// host the same account tries next, when the channel has another.
    pub fn next_host(&self, status: Option<u16>, host: usize) -> Option<usize> {
        match self {
            Self::CodeAssist(_, site) => codeassist::next_host(site, status, host),
            Self::ApiKey
            | Self::ClaudeOAuth(_)
            | Self::Codex(_)
            | Self::Qwen(_)
            | Self::Kimi(_)
            | Self::Iflow(_)
            | Self::Vertex(_) => None,
        }
    }

    /// How the attempt's response body is unwrapped before anything else reads it.
    pub fn response_envelope(&self, resp: &ResponseHeader) -> Rewrap {
        match self {
            Self::CodeAssist(..) => codeassist::response_envelope(resp),
            Self::ApiKey
            | Self::ClaudeOAuth(_)
            | Self::Codex(_)
            | Self::Qwen(_)
            | Self::Kimi(_)
            | Self::Iflow(_)
            | Self::Vertex(_) => Rewrap::Off,
        }
    }
}

/// Whether a request for `endpoint` reaches `account` as the client's bytes (only the model
/// name changes), rather than through the IR.
pub fn passes_through(endpoint: &Endpoint, account: &Account, stream: bool) -> bool {
    endpoint.passthrough_to(account.kind)
        && (stream || !account.channel.streams_only())
        && !account.channel.enveloped()
}

/// `process.platform` and `process.arch` as Node names them (the real clients' user agents).
fn node_platform() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        "x86" => "ia32",
        other => other,
    };
    (os, arch)
}
