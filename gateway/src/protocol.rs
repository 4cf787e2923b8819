//! Which client API a request speaks, decided from its method and path alone.
//!
//! Pure; runs in `request_filter`. The client protocol decides how errors are rendered and
//! which upstream kinds can serve the request without translation.

use switchyard_conf::ProviderKind;

/// The three protocol families a client can speak (the error shapes differ per family).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientProtocol {
    OpenAi,
    Anthropic,
    Gemini,
}

/// Gemini method after the `:` in `/v1beta/models/{model}:{method}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeminiMethod {
    GenerateContent,
    StreamGenerateContent,
    CountTokens,
}

impl GeminiMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GenerateContent => "generateContent",
            Self::StreamGenerateContent => "streamGenerateContent",
            Self::CountTokens => "countTokens",
        }
    }
}

/// A proxied client endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    OpenAiChat,
    OpenAiCompletions,
    OpenAiResponses,
    AnthropicMessages,
    AnthropicCountTokens,
    /// Gemini call; `model` comes from the path (percent-decoded).
    Gemini {
        model: String,
        method: GeminiMethod,
    },
}

impl Endpoint {
    pub fn protocol(&self) -> ClientProtocol {
        match self {
            Self::OpenAiChat | Self::OpenAiCompletions | Self::OpenAiResponses => {
                ClientProtocol::OpenAi
            }
            Self::AnthropicMessages | Self::AnthropicCountTokens => ClientProtocol::Anthropic,
            Self::Gemini { .. } => ClientProtocol::Gemini,
        }
    }

    /// Whether an account of `kind` serves this endpoint with the same protocol (passthrough).
    pub fn passthrough_to(&self, kind: ProviderKind) -> bool {
        match self {
            // Chat Completions is what OpenAI-compatible services speak; Codex accounts speak
            // Responses (Codex models exist only there). Across the two, requests are
            // translated. Legacy completions have no translator: either OpenAI kind takes them.
            Self::OpenAiChat => kind == ProviderKind::OpenAiCompat,
            Self::OpenAiResponses => kind == ProviderKind::Codex,
            Self::OpenAiCompletions => {
                matches!(kind, ProviderKind::Codex | ProviderKind::OpenAiCompat)
            }
            Self::AnthropicMessages | Self::AnthropicCountTokens => kind == ProviderKind::Claude,
            Self::Gemini { .. } => kind == ProviderKind::Gemini,
        }
    }

    /// The path appended to the account's base URL (Gemini's model is spliced in later).
    pub fn upstream_suffix(&self) -> &'static str {
        match self {
            Self::OpenAiChat => "/chat/completions",
            Self::OpenAiCompletions => "/completions",
            Self::OpenAiResponses => "/responses",
            Self::AnthropicMessages => "/v1/messages",
            Self::AnthropicCountTokens => "/v1/messages/count_tokens",
            Self::Gemini { .. } => "/v1beta/models/",
        }
    }

    /// Whether the model name is a field of the JSON body (false: it is in the path).
    pub fn model_in_body(&self) -> bool {
        !matches!(self, Self::Gemini { .. })
    }
}

/// What a request asks for, before any authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /healthz`.
    Health,
    /// `GET /` or `HEAD /`: a banner (Claude Code probes `HEAD /`).
    Root,
    /// `GET /v1/models`: OpenAI, Anthropic or Gemini list depending on the caller.
    ModelsV1,
    /// `GET /v1beta/models`.
    ModelsGemini,
    /// `GET /v1beta/models/{model}` or `/v1/models/{model}`.
    ModelInfo {
        model: String,
        gemini: bool,
    },
    Proxy(Endpoint),
    /// Known path, wrong method.
    MethodNotAllowed(ClientProtocol),
    NotFound(ClientProtocol),
}

/// Classify a request by method and path (without the query string).
pub fn route(method: &http::Method, path: &str) -> Route {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let get = method == http::Method::GET;
    let head = method == http::Method::HEAD;
    let post = method == http::Method::POST;
    let proxied = |e: Endpoint| {
        if post {
            Route::Proxy(e)
        } else {
            Route::MethodNotAllowed(guess_protocol(path))
        }
    };
    match path {
        "/healthz" if get || head => Route::Health,
        "/" if get || head => Route::Root,
        "/v1/models" | "/models" if get => Route::ModelsV1,
        "/v1beta/models" if get => Route::ModelsGemini,
        "/v1/chat/completions" | "/chat/completions" => proxied(Endpoint::OpenAiChat),
        "/v1/completions" | "/completions" => proxied(Endpoint::OpenAiCompletions),
        "/v1/responses" | "/responses" => proxied(Endpoint::OpenAiResponses),
        "/v1/messages" => proxied(Endpoint::AnthropicMessages),
        "/v1/messages/count_tokens" => proxied(Endpoint::AnthropicCountTokens),
        _ => gemini_route(method, path),
    }
}

fn gemini_route(method: &http::Method, path: &str) -> Route {
    let rest = path
        .strip_prefix("/v1beta/models/")
        .map(|r| (r, true))
        .or_else(|| path.strip_prefix("/v1/models/").map(|r| (r, false)));
    let Some((rest, beta)) = rest else {
        return Route::NotFound(guess_protocol(path));
    };
    match rest.rsplit_once(':') {
        Some((model, method_name)) if !model.is_empty() && !model.contains('/') => {
            let m = match method_name {
                "generateContent" => GeminiMethod::GenerateContent,
                "streamGenerateContent" => GeminiMethod::StreamGenerateContent,
                "countTokens" => GeminiMethod::CountTokens,
                _ => return Route::NotFound(ClientProtocol::Gemini),
            };
            if method != http::Method::POST {
                return Route::MethodNotAllowed(ClientProtocol::Gemini);
            }
            Route::Proxy(Endpoint::Gemini {
                model: percent_decode(model),
                method: m,
            })
        }
        None if !rest.is_empty() && !rest.contains('/') && method == http::Method::GET => {
            Route::ModelInfo {
                model: percent_decode(rest),
                gemini: beta,
            }
        }
        _ => Route::NotFound(ClientProtocol::Gemini),
    }
}

/// Which error shape an unknown path gets: Gemini under `/v1beta`, Anthropic under
/// `/v1/messages`, OpenAI otherwise.
pub fn guess_protocol(path: &str) -> ClientProtocol {
    if path.starts_with("/v1beta") || path.contains(":generateContent") {
        ClientProtocol::Gemini
    } else if path.starts_with("/v1/messages") {
        ClientProtocol::Anthropic
    } else {
        ClientProtocol::OpenAi
    }
}

/// Decode `%XX` escapes (model names rarely have them; invalid escapes are kept as is).
pub fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn routes_every_client_api() {
        assert_eq!(
            route(&Method::POST, "/v1/chat/completions"),
            Route::Proxy(Endpoint::OpenAiChat)
        );
        assert_eq!(
            route(&Method::POST, "/v1/messages"),
            Route::Proxy(Endpoint::AnthropicMessages)
        );
        assert_eq!(
            route(&Method::POST, "/v1/messages/count_tokens"),
            Route::Proxy(Endpoint::AnthropicCountTokens)
        );
        assert_eq!(
            route(
                &Method::POST,
                "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
            ),
            Route::Proxy(Endpoint::Gemini {
                model: "gemini-2.5-flash".into(),
                method: GeminiMethod::StreamGenerateContent
            })
        );
        assert_eq!(
            route(&Method::POST, "/v1/models/gemini-2.5-flash:countTokens"),
            Route::Proxy(Endpoint::Gemini {
                model: "gemini-2.5-flash".into(),
                method: GeminiMethod::CountTokens
            })
        );
        assert_eq!(route(&Method::GET, "/v1/models"), Route::ModelsV1);
        assert_eq!(route(&Method::GET, "/v1beta/models"), Route::ModelsGemini);
        assert_eq!(route(&Method::HEAD, "/"), Route::Root);
        assert_eq!(
            route(&Method::GET, "/v1beta/models/gemini-2.5-flash"),
            Route::ModelInfo {
                model: "gemini-2.5-flash".into(),
                gemini: true
            }
        );
    }

    #[test]
    fn unknown_paths_and_methods() {
        assert_eq!(
            route(&Method::POST, "/v2/whatever"),
            Route::NotFound(ClientProtocol::OpenAi)
        );
        assert_eq!(
            route(&Method::POST, "/v1beta/nope"),
            Route::NotFound(ClientProtocol::Gemini)
        );
        assert_eq!(
            route(&Method::GET, "/v1/messages"),
            Route::MethodNotAllowed(ClientProtocol::Anthropic)
        );
        assert_eq!(
            route(&Method::POST, "/v1beta/models/m:embedContent"),
            Route::NotFound(ClientProtocol::Gemini)
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("a%zz"), "a%zz");
        assert_eq!(percent_decode("tail%"), "tail%");
    }
}
