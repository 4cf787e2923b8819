//! Seed inputs for every target, built at run time from the recorded provider traffic in
//! `../shared/fixtures/upstream` (relative to the repository root), the translators' golden
//! files and the repository's own configs and auth files. Used by `tests/replay.rs` and by
//! `src/bin/fuzz_seeds.rs` (the corpora `scripts/fuzz` starts from, never committed).
//!
//! Reads files; a file that cannot be read or parsed is skipped (a missing fixtures tree gives
//! fewer seeds, not an error: the replay test checks the count).

use crate::with_splits;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use switchyard_translators::ir::Protocol;

/// Seeds per target name (every name of [`crate::TARGETS`] is a key).
pub type Seeds = BTreeMap<&'static str, Vec<Vec<u8>>>;

/// What the recorded traffic holds, per protocol.
#[derive(Default)]
struct Traffic {
    requests: Vec<(Protocol, Vec<u8>)>,
    responses: Vec<(Protocol, Vec<u8>)>,
    /// SSE bytes as the upstream frames them.
    streams: Vec<(Protocol, Vec<u8>)>,
}

fn protocol_of_dir(name: &str) -> Option<Protocol> {
    match name {
        "anthropic-messages" => Some(Protocol::Anthropic),
        "gemini" => Some(Protocol::Gemini),
        "openai-chat" => Some(Protocol::OpenAiChat),
        "openai-responses" => Some(Protocol::OpenAiResponses),
        _ => None,
    }
}

fn protocol_of_suffix(name: &str) -> Option<Protocol> {
    match name {
        "anthropic" => Some(Protocol::Anthropic),
        "gemini" => Some(Protocol::Gemini),
        "openai_chat" => Some(Protocol::OpenAiChat),
        "openai_responses" => Some(Protocol::OpenAiResponses),
        _ => None,
    }
}

fn sorted_entries(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// One SSE event as protocol `p`'s upstream frames it.
fn sse_event(p: Protocol, event: Option<&str>, data: &str, out: &mut Vec<u8>) {
    if let Some(e) = event {
        out.extend_from_slice(format!("event: {e}\n").as_bytes());
    }
    let end = if p == Protocol::Gemini {
        "\r\n\r\n"
    } else {
        "\n\n"
    };
    out.extend_from_slice(format!("data: {data}{end}").as_bytes());
}

/// A vercel/ai `*.chunks.txt` file (one JSON payload a line) framed as its provider sends it
/// (the fixtures README says how).
fn chunks_to_sse(p: Protocol, text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let event = match p {
            Protocol::Anthropic | Protocol::OpenAiResponses => serde_json::from_str::<Value>(line)
                .ok()
                .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned)),
            Protocol::OpenAiChat | Protocol::Gemini => None,
        };
        sse_event(p, event.as_deref(), line, &mut out);
    }
    if p == Protocol::OpenAiChat {
        out.extend_from_slice(b"data: [DONE]\n\n");
    }
    out
}

/// A golden `stream.<protocol>.json` (`[{"event"?, "data"}]`) as SSE.
fn golden_stream_to_sse(p: Protocol, v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    for item in v.as_array().into_iter().flatten() {
        let data = match item.get("data") {
            Some(Value::String(s)) => s.clone(),
            Some(d) => d.to_string(),
            None => continue,
        };
        sse_event(
            p,
            item.get("event").and_then(Value::as_str),
            &data,
            &mut out,
        );
    }
    out
}

fn json_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

fn read_cassette(p: Protocol, path: &Path, t: &mut Traffic) {
    let Ok(text) = fs::read_to_string(path) else {
        return;
    };
    let options = serde_saphyr::options! {
        budget: None,
        ignore_binary_tag_for_string: true,
    };
    let Ok(doc) = serde_saphyr::from_str_with_options::<Value>(&text, options) else {
        return;
    };
    for it in doc["interactions"].as_array().into_iter().flatten() {
        let req = &it["request"];
        match (&req["parsed_body"], &req["body"]) {
            (Value::Object(_), _) => t.requests.push((p, json_bytes(&req["parsed_body"]))),
            (_, Value::String(s)) if s.starts_with('{') => t.requests.push((p, s.clone().into())),
            _ => {}
        }
        let resp = &it["response"];
        if resp["parsed_body"].is_object() {
            t.responses.push((p, json_bytes(&resp["parsed_body"])));
        }
        if let Some(s) = resp["body"]["string"].as_str() {
            if s.starts_with("event:") || s.starts_with("data:") {
                t.streams.push((p, s.as_bytes().to_vec()));
            } else if s.starts_with('{') {
                t.responses.push((p, s.as_bytes().to_vec()));
            }
        }
    }
}

fn traffic(root: &Path) -> Traffic {
    let mut t = Traffic::default();
    let fixtures = root.join("../shared/fixtures/upstream");
    for dir in sorted_entries(&fixtures) {
        let Some(p) = dir
            .file_name()
            .and_then(|n| protocol_of_dir(&n.to_string_lossy()))
        else {
            continue;
        };
        for file in sorted_entries(&dir) {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let name = name.unwrap_or_default();
            if name.ends_with(".chunks.txt") {
                if let Ok(text) = fs::read_to_string(&file) {
                    t.streams.push((p, chunks_to_sse(p, &text)));
                }
            } else if name.ends_with(".json") {
                if let Ok(bytes) = fs::read(&file) {
                    t.responses.push((p, bytes));
                }
            } else if name.ends_with(".yaml") {
                read_cassette(p, &file, &mut t);
            }
        }
    }
    // The translators' golden files: each case in every protocol.
    let golden = root.join("translators/tests/golden");
    for dir in sorted_entries(&golden) {
        for case in sorted_entries(&dir) {
            for n in sorted_entries(&case) {
                for file in sorted_entries(&n) {
                    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
                    let name = name.unwrap_or_default();
                    let Some((kind, rest)) = name.split_once('.') else {
                        continue;
                    };
                    let Some(p) = rest.strip_suffix(".json").and_then(protocol_of_suffix) else {
                        continue;
                    };
                    let Ok(bytes) = fs::read(&file) else { continue };
                    match kind {
                        "request" => t.requests.push((p, bytes)),
                        "response" | "error" => t.responses.push((p, bytes)),
                        "stream" => {
                            if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                                t.streams.push((p, golden_stream_to_sse(p, &v)));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    t
}

/// The repository's config files: the example and quickstart configs and the conf crate's
/// test fixtures.
fn configs(root: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for f in ["deploy/config.example.yaml", "deploy/quickstart.yaml"] {
        out.extend(fs::read(root.join(f)));
    }
    for f in sorted_entries(&root.join("conf/tests/fixtures")) {
        out.extend(fs::read(f));
    }
    out
}

/// JSON objects with a `"type"` written as raw strings in the auth crate's tests, and one
/// file per provider type of its catalog.
fn auth_files(root: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut sources = sorted_entries(&root.join("auth/tests"));
    sources.push(root.join("auth/src/catalog_tests.rs"));
    for f in sources {
        let Ok(text) = fs::read_to_string(&f) else {
            continue;
        };
        for piece in text.split("r#\"").skip(1) {
            let Some((raw, _)) = piece.split_once("\"#") else {
                continue;
            };
            if raw.trim_start().starts_with('{') && raw.contains("\"type\"") {
                out.push(raw.as_bytes().to_vec());
            }
        }
    }
    for t in [
        "claude",
        "codex",
        "gemini",
        "qwen",
        "iflow",
        "antigravity",
        "vertex",
    ] {
        out.push(
            format!(
                r#"{{"type":"{t}","email":"a@b.c","access_token":"at","refresh_token":"rt","expired":"2026-12-07T10:00:00Z","last_refresh":"2026-12-07T09:00:00Z","token":{{"id_token":"x.eyJlbWFpbCI6ImFAYi5jIn0.y","account_id":"acc"}},"disabled":false,"priority":3,"prefix":"p","proxy_url":"http://127.0.0.1:1"}}"#
            )
            .into_bytes(),
        );
    }
    out
}

/// Split patterns the stream seeds use (none, one in the middle, several).
const SPLITS: [&[u8]; 3] = [&[], &[128], &[1, 40, 41, 200, 254]];

/// Seeds for every target.
pub fn seeds(root: &Path) -> Seeds {
    let t = traffic(root);
    let configs = configs(root);
    let auth = auth_files(root);
    let mut s = Seeds::new();
    for (name, _) in crate::TARGETS {
        s.insert(name, Vec::new());
    }
    let mut add = |name: &'static str, bytes: Vec<u8>| {
        if let Some(v) = s.get_mut(name) {
            v.push(bytes);
        }
    };
    let name_of = |p: Protocol, kind: &str| -> &'static str {
        match (p, kind) {
            (Protocol::OpenAiChat, "request") => "openai_chat_request",
            (Protocol::OpenAiResponses, "request") => "openai_responses_request",
            (Protocol::Anthropic, "request") => "anthropic_request",
            (Protocol::Gemini, "request") => "gemini_request",
            (Protocol::OpenAiChat, "response") => "openai_chat_response",
            (Protocol::OpenAiResponses, "response") => "openai_responses_response",
            (Protocol::Anthropic, "response") => "anthropic_response",
            (Protocol::Gemini, "response") => "gemini_response",
            (Protocol::OpenAiChat, _) => "openai_chat_stream",
            (Protocol::OpenAiResponses, _) => "openai_responses_stream",
            (Protocol::Anthropic, _) => "anthropic_stream",
            (Protocol::Gemini, _) => "gemini_stream",
        }
    };
    for (p, body) in &t.requests {
        add(name_of(*p, "request"), body.clone());
        add("body_validate", body.clone());
        for (path, value) in [
            ("model", "\"m\""),
            ("generationConfig.thinkingConfig.thinkingBudget", "0"),
            ("messages.0.content", "[]"),
            ("tools.-1", "{\"type\":\"x\"}"),
            ("reasoning.effort", "\"high\""),
        ] {
            add(
                "json_path",
                [body.as_slice(), path.as_bytes(), value.as_bytes()].join(&0),
            );
        }
        add("codeassist", body.clone());
    }
    for (p, body) in &t.responses {
        add(name_of(*p, "response"), body.clone());
        if *p == Protocol::Gemini {
            let mut wrapped = b"{\"response\":".to_vec();
            wrapped.extend_from_slice(body);
            wrapped.push(b'}');
            add("codeassist", wrapped);
        }
    }
    for (i, (p, sse)) in t.streams.iter().enumerate() {
        let splits = SPLITS[i % SPLITS.len()];
        add("sse", with_splits(splits, sse));
        for client in 0..5u8 {
            add(
                name_of(*p, "stream"),
                [&[client | 8][..], &with_splits(splits, sse)].concat(),
            );
        }
        match p {
            Protocol::OpenAiChat => add("usage_chunk", with_splits(splits, sse)),
            Protocol::Gemini => {
                add("codeassist", with_splits(splits, sse));
                // The same chunks as Gemini's JSON-array framing.
                let mut array = b"[".to_vec();
                for (j, line) in String::from_utf8_lossy(sse)
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .enumerate()
                {
                    if j > 0 {
                        array.extend_from_slice(b",\r\n");
                    }
                    array.extend_from_slice(line.as_bytes());
                }
                array.extend_from_slice(b"]");
                add(
                    "gemini_stream",
                    [&[32u8][..], &with_splits(splits, &array)].concat(),
                );
            }
            Protocol::OpenAiResponses | Protocol::Anthropic => {}
        }
    }
    let payload_rules = "payload:\n  default:\n    - models: [{name: \"gpt-*\", protocol: openai}]\n      params: {\"reasoning.effort\": \"high\"}\n  override:\n    - models: [{name: \"*\"}]\n      params: {\"generationConfig.maxOutputTokens\": 64}\n  filter:\n    - models: [{name: \"*\"}]\n      params: [\"metadata\", \"tools.0\"]\n";
    for (i, (_, body)) in t.requests.iter().enumerate().step_by(7) {
        let yaml = if i % 2 == 0 {
            payload_rules.as_bytes()
        } else {
            configs.first().map_or(&b""[..], Vec::as_slice)
        };
        add("payload", [yaml, body.as_slice(), b"gpt-5"].join(&0));
    }
    for c in &configs {
        add("config", c.clone());
        for (path, value) in [
            ("debug", "true"),
            ("api-keys", "[\"k1\",\"k2\"]"),
            ("routing.strategy", "\"fill-first\""),
            ("proxy-url", ""),
            ("remote-management.secret-key", "\"s\""),
        ] {
            add(
                "config_edit",
                [c.as_slice(), path.as_bytes(), value.as_bytes()].join(&0),
            );
        }
    }
    add("config", payload_rules.as_bytes().to_vec());
    for a in &auth {
        add("auth_file", a.clone());
        add(
            "management_bodies",
            [b"application/json\n", a.as_slice()].concat(),
        );
        let form = [
            &b"multipart/form-data; boundary=XyZ\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.json\"\r\nContent-Type: application/json\r\n\r\n"[..],
            a,
            b"\r\n--XyZ--\r\n",
        ]
        .concat();
        add("management_bodies", form);
    }
    for body in [
        &br#"["sk-1","sk-2"]"#[..],
        br#"{"items":[{"api-key":"k","base-url":"http://x"}]}"#,
        br#"{"old":"sk-one","new":"sk-3"}"#,
        br#"{"index":1,"value":"sk-4"}"#,
    ] {
        add("management_bodies", [b"application/json\n", body].concat());
    }
    s
}
