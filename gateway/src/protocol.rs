//! Which client API a request speaks, decided from its method and path alone.
//!
//! Pure; runs in `request_filter`. The client protocol decides how errors are rendered and
//! which upstream kinds can serve the request without translation.

use switchyard_conf::ProviderKind;
use switchyard_translators::ir::Protocol;

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
    /// The client's protocol family, for errors (legacy completions answer as Chat).
    pub fn protocol(&self) -> Protocol {
        match self {
            Self::OpenAiChat | Self::OpenAiCompletions => Protocol::OpenAiChat,
            Self::OpenAiResponses => Protocol::OpenAiResponses,
            Self::AnthropicMessages | Self::AnthropicCountTokens => Protocol::Anthropic,
            Self::Gemini { .. } => Protocol::Gemini,
        }
    }

    /// The wire protocol of the endpoint's bodies, for endpoints the IR can translate.
    pub fn wire(&self) -> Option<Protocol> {
        match self {
            // Legacy completions have no IR codec: same protocol only.
            Self::OpenAiCompletions => None,
            Self::OpenAiChat
            | Self::OpenAiResponses
            | Self::AnthropicMessages
            | Self::AnthropicCountTokens
            | Self::Gemini { .. } => Some(self.protocol()),
        }
    }

    /// The `client_protocol` label of metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::OpenAiCompletions => "openai_completions",
            Self::OpenAiChat
            | Self::OpenAiResponses
            | Self::AnthropicMessages
            | Self::AnthropicCountTokens
            | Self::Gemini { .. } => protocol_label(self.protocol()),
        }
    }

    /// Whether the endpoint counts tokens rather than generating.
    pub fn is_count_tokens(&self) -> bool {
        matches!(
            self,
            Self::AnthropicCountTokens
                | Self::Gemini {
                    method: GeminiMethod::CountTokens,
                    ..
                }
        )
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

/// A wire protocol as metrics label it.
pub fn protocol_label(p: Protocol) -> &'static str {
    match p {
        Protocol::OpenAiChat => "openai_chat",
        Protocol::OpenAiResponses => "openai_responses",
        Protocol::Anthropic => "anthropic",
        Protocol::Gemini => "gemini",
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
    MethodNotAllowed(Protocol),
    NotFound(Protocol),
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
            let model = percent_decode(model);
            if !is_path_safe_model(&model) {
                // `..%2F..%2Fx` must not become another endpoint of the provider.
                return Route::NotFound(Protocol::Gemini);
            }
            let m = match method_name {
                "generateContent" => GeminiMethod::GenerateContent,
                "streamGenerateContent" => GeminiMethod::StreamGenerateContent,
                "countTokens" => GeminiMethod::CountTokens,
                _ => return Route::NotFound(Protocol::Gemini),
            };
            if method != http::Method::POST {
                return Route::MethodNotAllowed(Protocol::Gemini);
            }
            Route::Proxy(Endpoint::Gemini { model, method: m })
        }
        None if !rest.is_empty() && !rest.contains('/') && method == http::Method::GET => {
            let model = percent_decode(rest);
            if !is_path_safe_model(&model) {
                return Route::NotFound(Protocol::Gemini);
            }
            Route::ModelInfo {
                model,
                gemini: beta,
            }
        }
        _ => Route::NotFound(Protocol::Gemini),
    }
}

/// Which error shape an unknown path gets: Gemini under `/v1beta`, Anthropic under
/// `/v1/messages`, OpenAI otherwise.
pub fn guess_protocol(path: &str) -> Protocol {
    if path.starts_with("/v1beta") || path.contains(":generateContent") {
        Protocol::Gemini
    } else if path.starts_with("/v1/messages") {
        Protocol::Anthropic
    } else {
        Protocol::OpenAiChat
    }
}

/// Decode `%XX` escapes (model names rarely have them; invalid escapes are kept as is).
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Whether a model name (decoded) can be one segment of an upstream path: no separator, no
/// dot segment, no control character. An encoded `/` is not enough protection: servers and
/// proxies in front of a provider may decode `%2F`, and `../` would then reach another of
/// its endpoints with the pool's credentials.
pub fn is_path_safe_model(model: &str) -> bool {
    !model.is_empty()
        && model != "."
        && model != ".."
        && !model
            .bytes()
            .any(|b| b == b'/' || b == b'\\' || b < 0x20 || b == 0x7f)
}

/// Percent-encode a model name for use as one path segment.
pub fn encode_path_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, PATH_SEGMENT).to_string()
}

/// Every byte but RFC 3986's unreserved ones.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

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
            Route::NotFound(Protocol::OpenAiChat)
        );
        assert_eq!(
            route(&Method::POST, "/v1beta/nope"),
            Route::NotFound(Protocol::Gemini)
        );
        assert_eq!(
            route(&Method::GET, "/v1/messages"),
            Route::MethodNotAllowed(Protocol::Anthropic)
        );
        assert_eq!(
            route(&Method::POST, "/v1beta/models/m:embedContent"),
            Route::NotFound(Protocol::Gemini)
        );
    }

    #[test]
    fn a_model_in_the_path_cannot_leave_its_segment() {
        for path in [
            "/v1beta/models/..%2F..%2Fx:generateContent",
            "/v1beta/models/a%2Fb:streamGenerateContent",
            "/v1/models/..%5Cx:countTokens",
            "/v1beta/models/..:generateContent",
            "/v1beta/models/m%0d%0aX-Evil:%201:generateContent",
        ] {
            assert_eq!(
                route(&Method::POST, path),
                Route::NotFound(Protocol::Gemini),
                "{path}"
            );
        }
        assert_eq!(
            route(&Method::GET, "/v1beta/models/..%2Fcachedcontents"),
            Route::NotFound(Protocol::Gemini)
        );
        // Dots inside a name and escapes that decode to ordinary characters stay valid.
        assert_eq!(
            route(
                &Method::POST,
                "/v1beta/models/gemini-2.5-pro%40001:generateContent"
            ),
            Route::Proxy(Endpoint::Gemini {
                model: "gemini-2.5-pro@001".into(),
                method: GeminiMethod::GenerateContent,
            })
        );
        assert!(is_path_safe_model("a..b") && !is_path_safe_model("."));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("a%zz"), "a%zz");
        assert_eq!(percent_decode("tail%"), "tail%");
        assert_eq!(percent_decode("%+A%41"), "%+AA");
    }
}
