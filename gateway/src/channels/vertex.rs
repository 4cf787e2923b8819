//! Vertex accounts (auth files of `type: vertex`, from `switchyard login vertex --import`):
//! Gemini requests to
//! `https://{location}-aiplatform.googleapis.com/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:{method}`
//! with `Authorization: Bearer <token>`; the token comes from the refresh service's JWT-bearer
//! grant (`switchyard_auth::service_account`) and is cached there until it expires.
//!
//! The account's base URL carries everything up to `/publishers/google`
//! (`oauth-overrides.vertex.base-url` replaces only the origin), so [`shape`] turns Gemini's
//! `/v1beta/models/` into `/models/`. Pure; no I/O.

use super::oauth::file_account;
use super::Draft;
use pingora_error::Result;
use pingora_http::RequestHeader;
use switchyard_auth::{AuthRecord, Provider, ProviderId};
use switchyard_conf::{ApiKeyAccount, ProviderKind};

/// Default region, as CLIProxyAPI's import writes it.
const DEFAULT_LOCATION: &str = "us-central1";
const GEMINI_MODELS: &str = "/v1beta/models/";

/// The pool account for a Vertex file.
pub fn account(file: &str, record: &AuthRecord, provider: &Provider) -> ApiKeyAccount {
    let field = |k: &str| {
        record
            .raw()
            .get(k)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let location = field("location").unwrap_or_else(|| DEFAULT_LOCATION.into());
    let project = field("project_id").unwrap_or_default();
    let overridden = provider.base_url != Provider::builtin(ProviderId::Vertex).base_url;
    let origin = if overridden {
        provider.base_url.trim_end_matches('/').to_owned()
    } else {
        format!("https://{location}-aiplatform.googleapis.com")
    };
    let base = format!("{origin}/v1/projects/{project}/locations/{location}/publishers/google");
    file_account(file, record, ProviderKind::Gemini, &base)
}

/// Gemini's `/v1beta/models/...` as Vertex's `/models/...`.
pub fn shape(draft: &mut Draft<'_>) {
    if let Some(rest) = draft.suffix.strip_prefix(GEMINI_MODELS) {
        draft.suffix = format!("/models/{rest}");
    }
}

/// `Authorization: Bearer <token>` (instead of `x-goog-api-key`).
pub fn set_credentials(req: &mut RequestHeader, token: &str) -> Result<()> {
    req.remove_header("x-goog-api-key");
    req.insert_header("authorization", format!("Bearer {token}"))
}
