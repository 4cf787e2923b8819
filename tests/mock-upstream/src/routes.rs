//! Which provider endpoint a request is for, and which account it belongs to.
//!
//! | method, path | route |
//! |---|---|
//! | `POST /v1/chat/completions`, `POST /chat/completions` | OpenAI Chat |
//! | `POST /v1/completions` | OpenAI legacy completions |
//! | `POST /v1/responses` | OpenAI Responses |
//! | `GET /v1/models` | OpenAI list; Anthropic's with an `anthropic-version` header; Gemini's with `x-goog-api-key` or `?key=` |
//! | `POST /v1/messages`, `POST /v1/messages/count_tokens` (any query) | Anthropic |
//! | `POST /{v1beta,v1}/models/{model}:{generateContent,streamGenerateContent,countTokens}`, `GET /v1beta/models` | Gemini |
//! | `POST /v1/projects/{p}/locations/{l}/publishers/google/models/{model}:{method}` | Gemini (Vertex) |
//!
//! The account is the credential: `Authorization: Bearer K` (or a bare `Authorization: K`),
//! then `x-api-key`, then `x-goog-api-key`, then `?key=K`; none means account "".

use http::{HeaderMap, Method};

/// The wire protocol a route speaks (decides error shapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OpenAI Chat, completions, Responses, models.
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
    /// Gemini generateContent.
    Gemini,
}

/// A recognised endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `POST /v1/chat/completions`.
    Chat,
    /// `POST /v1/completions`.
    Completions,
    /// `POST /v1/responses`.
    Responses,
    /// `GET /v1/models` in a protocol's shape.
    Models(Protocol),
    /// `POST /v1/messages`.
    Messages,
    /// `POST /v1/messages/count_tokens`.
    CountTokens,
    /// `POST .../models/{model}:generateContent`.
    GeminiGenerate(String),
    /// `POST .../models/{model}:streamGenerateContent`.
    GeminiStream(String),
    /// `POST .../models/{model}:countTokens`.
    GeminiCountTokens(String),
    /// Anything else (answered 404, never consumes a schedule step).
    NotFound,
}

impl Route {
    /// Classifies a request.
    pub fn classify(method: &Method, path: &str, headers: &HeaderMap, query: &str) -> Route {
        let post = method == Method::POST;
        let get = method == Method::GET;
        match path {
            "/v1/chat/completions" | "/chat/completions" if post => return Route::Chat,
            "/v1/completions" if post => return Route::Completions,
            "/v1/responses" if post => return Route::Responses,
            "/v1/messages" if post => return Route::Messages,
            "/v1/messages/count_tokens" if post => return Route::CountTokens,
            "/v1beta/models" if get => return Route::Models(Protocol::Gemini),
            "/v1/models" if get => {
                let protocol = if headers.contains_key("anthropic-version") {
                    Protocol::Anthropic
                } else if headers.contains_key("x-goog-api-key")
                    || query_param(query, "key").is_some()
                {
                    Protocol::Gemini
                } else {
                    Protocol::OpenAi
                };
                return Route::Models(protocol);
            }
            _ => {}
        }
        // Vertex: `/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:{method}`.
        let vertex = path
            .strip_prefix("/v1/projects/")
            .and_then(|r| r.split_once("/publishers/google/models/"))
            .map(|(_, rest)| rest);
        let rest = path
            .strip_prefix("/v1beta/models/")
            .or_else(|| path.strip_prefix("/v1/models/"))
            .or(vertex);
        if let (true, Some((model, method))) = (post, rest.and_then(|r| r.rsplit_once(':'))) {
            if !model.is_empty() && !model.contains('/') {
                let model = model.to_owned();
                match method {
                    "generateContent" => return Route::GeminiGenerate(model),
                    "streamGenerateContent" => return Route::GeminiStream(model),
                    "countTokens" => return Route::GeminiCountTokens(model),
                    _ => {}
                }
            }
        }
        Route::NotFound
    }

    /// The protocol whose error shapes this route uses (OpenAI's for unknown paths).
    pub fn protocol(&self) -> Protocol {
        match self {
            Route::Chat | Route::Completions | Route::Responses | Route::NotFound => {
                Protocol::OpenAi
            }
            Route::Models(p) => *p,
            Route::Messages | Route::CountTokens => Protocol::Anthropic,
            Route::GeminiGenerate(_) | Route::GeminiStream(_) | Route::GeminiCountTokens(_) => {
                Protocol::Gemini
            }
        }
    }

    /// The model named by the path (Gemini).
    pub fn path_model(&self) -> Option<&str> {
        match self {
            Route::GeminiGenerate(m) | Route::GeminiStream(m) | Route::GeminiCountTokens(m) => {
                Some(m)
            }
            _ => None,
        }
    }

    /// Whether the route needs a JSON request body.
    pub fn needs_json_body(&self) -> bool {
        !matches!(self, Route::Models(_) | Route::NotFound)
    }
}

/// The account a request belongs to.
pub fn account(headers: &HeaderMap, query: &str) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
    };
    if let Some(auth) = header("authorization") {
        let key = match auth.split_once(' ') {
            Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => key.trim().to_owned(),
            _ => auth,
        };
        return key;
    }
    header("x-api-key")
        .or_else(|| header("x-goog-api-key"))
        .or_else(|| query_param(query, "key"))
        .unwrap_or_default()
}

/// The first value of a query parameter, percent-decoded (`+` is a space).
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.extend(u8::try_from(h * 16 + l).ok());
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn classifies_paths() {
        let h = HeaderMap::new();
        let c = |m: Method, p: &str| Route::classify(&m, p, &h, "");
        assert_eq!(c(Method::POST, "/v1/chat/completions"), Route::Chat);
        assert_eq!(c(Method::POST, "/chat/completions"), Route::Chat);
        assert_eq!(
            c(Method::GET, "/v1/models"),
            Route::Models(Protocol::OpenAi)
        );
        assert_eq!(
            c(
                Method::POST,
                "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
            ),
            Route::GeminiStream("gemini-2.5-flash".into())
        );
        assert_eq!(
            c(Method::POST, "/v1/models/g:countTokens"),
            Route::GeminiCountTokens("g".into())
        );
        assert_eq!(c(Method::POST, "/v1/models/g:nope"), Route::NotFound);
        assert_eq!(
            c(
                Method::POST,
                "/v1/projects/p/locations/l/publishers/google/models/g:generateContent"
            ),
            Route::GeminiGenerate("g".into())
        );
        assert_eq!(c(Method::HEAD, "/"), Route::NotFound);
        let mut a = HeaderMap::new();
        a.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        assert_eq!(
            Route::classify(&Method::GET, "/v1/models", &a, ""),
            Route::Models(Protocol::Anthropic)
        );
    }

    #[test]
    fn accounts() {
        let mut h = HeaderMap::new();
        assert_eq!(account(&h, "alt=sse&key=q%2Bk+1"), "q+k 1");
        assert_eq!(account(&h, ""), "");
        h.insert("x-goog-api-key", HeaderValue::from_static("g"));
        assert_eq!(account(&h, "key=q"), "g");
        h.insert("x-api-key", HeaderValue::from_static("x"));
        assert_eq!(account(&h, ""), "x");
        h.insert("authorization", HeaderValue::from_static("bare"));
        assert_eq!(account(&h, ""), "bare");
        h.insert("authorization", HeaderValue::from_static("Bearer  sk-1 "));
        assert_eq!(account(&h, ""), "sk-1");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
