//! Every endpoint's stream and non-stream shape, checked against what the real providers send
//! (event order, ids, finish reasons, usage) and what the SDK stream parsers insist on.

#[expect(dead_code, reason = "this test uses part of the shared support")]
mod common;

use common::{names, Mock};
use serde_json::{json, Value};

const REPLY: &str = "Hello from the mock upstream.";
const PIECES: [&str; 5] = ["Hello", " from", " the", " mock", " upstream."];

fn bearer(k: &str) -> String {
    format!("Bearer {k}")
}

#[test]
fn chat_non_stream_and_stream() {
    let mock = Mock::start(&[]);
    let auth = bearer("k");
    let body = json!({"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]});
    let r = mock.post("/v1/chat/completions", &[("authorization", &auth)], &body);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("content-length").is_some());
    let v = r.json();
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "gpt-test");
    assert_eq!(v["choices"][0]["message"]["content"], REPLY);
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    let body_len = body.to_string().len() as u64;
    assert_eq!(v["usage"]["prompt_tokens"], body_len / 4);
    assert_eq!(v["usage"]["completion_tokens"], 5);
    assert_eq!(v["usage"]["total_tokens"], body_len / 4 + 5);

    // Stream without include_usage: no usage chunk, no usage keys.
    let r = mock.post(
        "/chat/completions",
        &[],
        &json!({"model": "m", "stream": true}),
    );
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert!(r.complete && r.header("content-length").is_none());
    let events = r.sse();
    assert!(events.iter().all(|(e, _)| e.is_none()), "chat is data-only");
    assert_eq!(events.last().unwrap().1, "[DONE]");
    let chunks = r.sse_json();
    assert_eq!(chunks.len(), 1 + 5 + 1);
    let id = chunks[0]["id"].as_str().unwrap();
    for c in &chunks {
        assert_eq!(c["id"], id);
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["model"], "m");
        assert!(c.get("usage").is_none());
    }
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: Vec<&str> = chunks[1..6]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(text, PIECES);
    assert_eq!(chunks[6]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[6]["choices"][0]["delta"], json!({}));

    // With include_usage: a final choices-less usage chunk before [DONE].
    let req = json!({"model": "m", "stream": true, "stream_options": {"include_usage": true}});
    let chunks = mock.post("/v1/chat/completions", &[], &req).sse_json();
    assert_eq!(chunks.len(), 8);
    assert!(chunks[..7].iter().all(|c| c["usage"].is_null()));
    assert_eq!(chunks[7]["choices"], json!([]));
    assert_eq!(chunks[7]["usage"]["completion_tokens"], 5);
}

#[test]
fn legacy_completions() {
    let mock = Mock::start(&[]);
    let v = mock
        .post(
            "/v1/completions",
            &[],
            &json!({"model": "gpt-3.5-turbo-instruct", "prompt": "x"}),
        )
        .json();
    assert_eq!(v["object"], "text_completion");
    assert_eq!(v["choices"][0]["text"], REPLY);
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    let req = json!({"model": "i", "prompt": "x", "stream": true, "stream_options": {"include_usage": true}});
    let r = mock.post("/v1/completions", &[], &req);
    assert_eq!(r.sse().last().unwrap().1, "[DONE]");
    let chunks = r.sse_json();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["text"].as_str())
        .collect();
    assert_eq!(text, REPLY);
    assert_eq!(chunks[5]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[6]["usage"]["completion_tokens"], 5);
}

#[test]
fn responses_non_stream_and_stream() {
    let mock = Mock::start(&[]);
    let v = mock
        .post(
            "/v1/responses",
            &[],
            &json!({"model": "gpt-5.1", "input": "hi"}),
        )
        .json();
    assert!(v["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(v["object"], "response");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["model"], "gpt-5.1");
    assert_eq!(v["output"][0]["type"], "message");
    assert_eq!(v["output"][0]["content"][0]["type"], "output_text");
    assert_eq!(v["output"][0]["content"][0]["text"], REPLY);
    assert_eq!(v["usage"]["output_tokens"], 5);

    let r = mock.post(
        "/v1/responses",
        &[],
        &json!({"model": "gpt-5.1", "input": "hi", "stream": true}),
    );
    let events = r.sse();
    let mut expected = vec![
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ];
    expected.extend(["response.output_text.delta"; 5]);
    expected.extend([
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]);
    assert_eq!(names(&events), expected);
    let data = r.sse_json();
    for (i, (d, name)) in data.iter().zip(&expected).enumerate() {
        assert_eq!(d["type"], *name, "event: line matches data.type");
        assert_eq!(d["sequence_number"], i as u64);
    }
    let resp_id = data[0]["response"]["id"].as_str().unwrap();
    assert_eq!(data[1]["response"]["id"], resp_id);
    assert_eq!(data[12]["response"]["id"], resp_id);
    let item_id = data[2]["item"]["id"].as_str().unwrap();
    for d in &data[3..11] {
        assert_eq!(d["item_id"], item_id);
    }
    assert_eq!(data[11]["item"]["id"], item_id);
    let deltas: Vec<&str> = data[4..9]
        .iter()
        .map(|d| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, PIECES);
    assert_eq!(data[9]["text"], REPLY);
    assert_eq!(data[11]["item"]["content"][0]["text"], REPLY);
    assert_eq!(data[12]["response"]["status"], "completed");
    assert_eq!(
        data[12]["response"]["output"][0]["content"][0]["text"],
        REPLY
    );
    assert_eq!(data[12]["response"]["usage"]["output_tokens"], 5);
}

#[test]
fn anthropic_messages_and_count_tokens() {
    let mock = Mock::start(&[]);
    let body = json!({"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});
    let r = mock.post("/v1/messages?beta=true", &[("x-api-key", "a")], &body);
    assert!(r.header("request-id").is_some());
    let v = r.json();
    assert!(v["id"].as_str().unwrap().starts_with("msg_01"));
    assert_eq!(v["type"], "message");
    assert_eq!(v["role"], "assistant");
    assert_eq!(v["model"], "claude-x");
    assert_eq!(v["content"], json!([{"type": "text", "text": REPLY}]));
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["usage"]["output_tokens"], 5);
    assert_eq!(
        v["usage"]["input_tokens"],
        body.to_string().len() as u64 / 4
    );

    let mut stream_body = body.clone();
    stream_body["stream"] = json!(true);
    let r = mock.post("/v1/messages", &[], &stream_body);
    let events = r.sse();
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(["content_block_delta"; 5]);
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names(&events), expected);
    let data = r.sse_json();
    for (d, name) in data.iter().zip(&expected) {
        assert_eq!(d["type"], *name);
    }
    assert_eq!(data[0]["message"]["model"], "claude-x");
    assert!(data[0]["message"]["id"]
        .as_str()
        .unwrap()
        .starts_with("msg_01"));
    assert_eq!(
        data[1]["content_block"],
        json!({"type": "text", "text": ""})
    );
    let text: Vec<&str> = data[3..8]
        .iter()
        .map(|d| d["delta"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, PIECES);
    assert!(data[3..8]
        .iter()
        .all(|d| d["delta"]["type"] == "text_delta" && d["index"] == 0));
    assert_eq!(data[9]["delta"]["stop_reason"], "end_turn");
    assert_eq!(data[9]["usage"]["output_tokens"], 5);

    let v = mock
        .post(
            "/v1/messages/count_tokens",
            &[],
            &json!({"model": "c", "messages": []}),
        )
        .json();
    let len = json!({"model": "c", "messages": []}).to_string().len() as u64;
    assert_eq!(v, json!({"input_tokens": len / 4}));
}

fn gemini_text(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["candidates"][0]["content"]["parts"][0]["text"].as_str())
        .collect()
}

fn check_gemini_chunks(chunks: &[Value], model: &str) {
    assert_eq!(chunks.len(), 5);
    assert_eq!(gemini_text(chunks), REPLY);
    let id = &chunks[0]["responseId"];
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(c["candidates"][0]["content"]["role"], "model");
        assert_eq!(c["modelVersion"], model);
        assert_eq!(&c["responseId"], id);
        let finish = &c["candidates"][0]["finishReason"];
        assert_eq!(finish.is_null(), i < 4, "only the last chunk finishes");
    }
    assert_eq!(chunks[4]["candidates"][0]["finishReason"], "STOP");
    assert_eq!(chunks[4]["usageMetadata"]["candidatesTokenCount"], 5);
}

#[test]
fn gemini_generate_stream_and_count() {
    let mock = Mock::start(&[]);
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
    for prefix in ["/v1beta", "/v1"] {
        let r = mock.post(
            &format!("{prefix}/models/gemini-2.5-flash:generateContent"),
            &[("x-goog-api-key", "g")],
            &body,
        );
        assert_eq!(r.status, 200);
        let v = r.json();
        assert_eq!(v["candidates"][0]["content"]["parts"][0]["text"], REPLY);
        assert_eq!(v["candidates"][0]["finishReason"], "STOP");
        assert_eq!(v["modelVersion"], "gemini-2.5-flash");
        assert_eq!(v["usageMetadata"]["candidatesTokenCount"], 5);
        assert_eq!(
            v["usageMetadata"]["promptTokenCount"],
            body.to_string().len() as u64 / 4
        );
    }

    // alt=sse: `data: {json}\r\n\r\n`, no event lines.
    let r = mock.post(
        "/v1beta/models/gemini-x:streamGenerateContent?alt=sse",
        &[],
        &body,
    );
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let text = r.text();
    assert!(text.starts_with("data: {") && text.ends_with("}\r\n\r\n"));
    assert_eq!(text.matches("\r\n\r\n").count(), 5);
    assert!(r.sse().iter().all(|(e, _)| e.is_none()));
    check_gemini_chunks(&r.sse_json(), "gemini-x");

    // No alt=sse: one JSON array, streamed element by element.
    let r = mock.post("/v1beta/models/gemini-x:streamGenerateContent", &[], &body);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert!(r.complete && r.header("content-length").is_none());
    assert_eq!(r.chunks.len(), 5, "one write per element");
    assert!(
        r.chunks[0].starts_with(b"[{")
            && r.chunks[1].starts_with(b",\r\n{")
            && r.chunks[4].ends_with(b"}\n]")
    );
    let arr: Vec<Value> = serde_json::from_slice(&r.body).unwrap();
    check_gemini_chunks(&arr, "gemini-x");

    let r = mock.post("/v1beta/models/gemini-x:countTokens", &[], &body);
    assert_eq!(r.json()["totalTokens"], body.to_string().len() as u64 / 4);
}

#[test]
fn model_lists_and_unknown_paths() {
    let mock = Mock::start(&[]);
    let v = mock
        .request("GET", "/v1/models", &[("authorization", "Bearer k")], b"")
        .json();
    assert_eq!(v["object"], "list");
    assert_eq!(v["data"][0]["object"], "model");
    let v = mock
        .request(
            "GET",
            "/v1/models",
            &[("anthropic-version", "2023-06-01")],
            b"",
        )
        .json();
    assert_eq!(v["data"][0]["type"], "model");
    assert_eq!(v["has_more"], false);
    let v = mock.request("GET", "/v1beta/models", &[], b"").json();
    assert!(v["models"][0]["name"]
        .as_str()
        .unwrap()
        .starts_with("models/"));

    let r = mock.request("HEAD", "/", &[], b"");
    assert_eq!(r.status, 404);
    let r = mock.post("/v2/nothing", &[], &json!({}));
    assert_eq!(r.status, 404);
    assert!(r.json()["error"]["message"].is_string());
    let r = mock.request("POST", "/v1/chat/completions", &[], b"{not json");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
}

#[test]
fn reply_override_and_words_per_event() {
    let mock = Mock::start(&[
        "--reply",
        "one two three four five",
        "--words-per-event",
        "2",
    ]);
    let chunks = mock
        .post(
            "/v1/chat/completions",
            &[],
            &json!({"model": "m", "stream": true}),
        )
        .sse_json();
    let deltas: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(deltas, ["", "one two", " three four", " five"]);

    // MOCK_REPLY[...] in the body wins, escapes decoded, in every protocol.
    let marker = "please MOCK_REPLY[Exact \"quoted\" answer.] thanks";
    let want = "Exact \"quoted\" answer.";
    let v = mock
        .post(
            "/v1/messages",
            &[],
            &json!({"model": "c", "messages": [{"role": "user", "content": marker}]}),
        )
        .json();
    assert_eq!(v["content"][0]["text"], want);
    let v = mock
        .post(
            "/v1/responses",
            &[],
            &json!({"model": "r", "input": marker}),
        )
        .json();
    assert_eq!(v["output"][0]["content"][0]["text"], want);
    let r = mock.post(
        "/v1beta/models/g:streamGenerateContent?alt=sse",
        &[],
        &json!({"contents": [{"parts": [{"text": marker}]}]}),
    );
    assert_eq!(gemini_text(&r.sse_json()), want);
}
