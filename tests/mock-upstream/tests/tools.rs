//! `MOCK_TOOL[name|args]`: a tool call in each protocol's shape (stream and not) until the
//! request carries a tool result, then text about the result; `has_tool_result` in the journal.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

#[expect(dead_code, reason = "this test uses part of the shared support")]
mod common;

use common::{names, Mock};
use serde_json::{json, Value};

const PROMPT: &str =
    r#"Run it. MOCK_TOOL[Bash|{"command":"echo switchyard-$((6*7))","description":"print"}]"#;

fn args() -> Value {
    json!({"command": "echo switchyard-$((6*7))", "description": "print"})
}

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("arguments {s:?} are not JSON: {e}"))
}

fn last_has_tool_result(mock: &Mock) -> bool {
    let j = mock.journal(None);
    j.last().unwrap()["has_tool_result"].as_bool().unwrap()
}

#[test]
fn anthropic_tool_use_and_result() {
    let mock = Mock::start(&[]);
    let user = json!({"role": "user", "content": PROMPT});
    let req = |stream: bool| json!({"model": "claude-x", "max_tokens": 10, "stream": stream, "messages": [user]});

    // Non-stream.
    let v = mock.post("/v1/messages", &[], &req(false)).json();
    assert_eq!(v["stop_reason"], "tool_use");
    let block = &v["content"][0];
    assert_eq!(v["content"].as_array().unwrap().len(), 1);
    assert_eq!(block["type"], "tool_use");
    assert_eq!(block["name"], "Bash");
    assert_eq!(block["input"], args());
    assert!(block["id"].as_str().unwrap().starts_with("toolu_01"));
    assert!(!last_has_tool_result(&mock));

    // Stream: tool_use block, input_json_delta fragments, stop_reason tool_use.
    let r = mock.post("/v1/messages", &[], &req(true));
    let events = r.sse();
    let n = names(&events);
    assert_eq!(n[0], "message_start");
    assert_eq!(n[1], "content_block_start");
    assert_eq!(
        &n[n.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    let data: Vec<Value> = events.iter().map(|(_, d)| parse(d)).collect();
    let start = &data[1]["content_block"];
    assert_eq!(start["type"], "tool_use");
    assert_eq!(start["name"], "Bash");
    assert_eq!(start["input"], json!({}));
    let fragments: Vec<&str> = data
        .iter()
        .filter(|d| d["type"] == "content_block_delta")
        .map(|d| {
            assert_eq!(d["delta"]["type"], "input_json_delta");
            assert_eq!(d["index"], 0);
            d["delta"]["partial_json"].as_str().unwrap()
        })
        .collect();
    assert!(fragments.len() >= 3, "{fragments:?}");
    assert_eq!(parse(&fragments.concat()), args());
    let delta = data.iter().find(|d| d["type"] == "message_delta").unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");

    // With the tool result: text about it (stream and not).
    let assistant = json!({"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": args()}]});
    let result = json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "switchyard-42\n"}]}]});
    let req2 = |stream: bool| json!({"model": "claude-x", "max_tokens": 10, "stream": stream, "messages": [user, assistant, result]});
    let v = mock.post("/v1/messages", &[], &req2(false)).json();
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["content"][0]["text"], "tool result was: switchyard-42\n");
    assert!(last_has_tool_result(&mock));
    let r = mock.post("/v1/messages", &[], &req2(true));
    let text: String = r
        .sse()
        .iter()
        .map(|(_, d)| parse(d))
        .filter(|d| d["type"] == "content_block_delta")
        .map(|d| d["delta"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, "tool result was: switchyard-42\n");

    // MOCK_REPLY wins once the result is there; and never without the marker.
    let mut with_reply = req2(false);
    with_reply["messages"][0]["content"] = json!(format!("{PROMPT} MOCK_REPLY[done]"));
    let v = mock.post("/v1/messages", &[], &with_reply).json();
    assert_eq!(v["content"][0]["text"], "done");
    let mut plain = req2(false);
    plain["messages"][0]["content"] = json!("hi");
    let v = mock.post("/v1/messages", &[], &plain).json();
    assert_eq!(v["content"][0]["text"], "Hello from the mock upstream.");
    assert!(last_has_tool_result(&mock));
}

#[test]
fn chat_tool_calls_and_result() {
    let mock = Mock::start(&[]);
    let user = json!({"role": "user", "content": PROMPT});
    let req = |stream: bool| json!({"model": "gpt-x", "stream": stream, "stream_options": {"include_usage": true}, "messages": [user]});

    let v = mock.post("/v1/chat/completions", &[], &req(false)).json();
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert!(choice["message"]["content"].is_null());
    let call = &choice["message"]["tool_calls"][0];
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "Bash");
    assert_eq!(
        parse(call["function"]["arguments"].as_str().unwrap()),
        args()
    );
    assert!(!last_has_tool_result(&mock));

    let r = mock.post("/v1/chat/completions", &[], &req(true));
    assert_eq!(r.sse().last().unwrap().1, "[DONE]");
    let chunks = r.sse_json();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let first = &chunks[1]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(first["index"], 0);
    assert_eq!(first["function"]["name"], "Bash");
    assert_eq!(first["function"]["arguments"], "");
    let id = first["id"].as_str().unwrap();
    assert!(id.starts_with("call_"));
    let mut arguments = String::new();
    let mut fragments = 0;
    for c in &chunks[2..] {
        if let Some(calls) = c["choices"][0]["delta"]["tool_calls"].as_array() {
            assert_eq!(calls[0]["index"], 0);
            assert!(calls[0].get("id").is_none());
            arguments.push_str(calls[0]["function"]["arguments"].as_str().unwrap());
            fragments += 1;
        }
    }
    assert!((2..=3).contains(&fragments), "{fragments} argument chunks");
    assert_eq!(parse(&arguments), args());
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(chunks.last().unwrap()["choices"], json!([]));

    let assistant = json!({"role": "assistant", "content": null, "tool_calls": [{"id": id, "type": "function", "function": {"name": "Bash", "arguments": args().to_string()}}]});
    let tool = json!({"role": "tool", "tool_call_id": id, "content": "switchyard-42"});
    let req2 = |stream: bool| json!({"model": "gpt-x", "stream": stream, "messages": [user, assistant, tool]});
    let v = mock.post("/v1/chat/completions", &[], &req2(false)).json();
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "tool result was: switchyard-42"
    );
    assert!(last_has_tool_result(&mock));
    let text: String = mock
        .post("/v1/chat/completions", &[], &req2(true))
        .sse_json()
        .iter()
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "tool result was: switchyard-42");
}

#[test]
fn responses_function_call_and_output() {
    let mock = Mock::start(&[]);
    let user = json!({"role": "user", "content": [{"type": "input_text", "text": PROMPT}]});
    let req = |stream: bool| json!({"model": "gpt-x", "stream": stream, "input": [user]});

    let v = mock.post("/v1/responses", &[], &req(false)).json();
    assert_eq!(v["status"], "completed");
    let item = &v["output"][0];
    assert_eq!(v["output"].as_array().unwrap().len(), 1);
    assert_eq!(item["type"], "function_call");
    assert_eq!(item["status"], "completed");
    assert_eq!(item["name"], "Bash");
    assert!(item["id"].as_str().unwrap().starts_with("fc_"));
    assert!(item["call_id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(parse(item["arguments"].as_str().unwrap()), args());
    assert!(!last_has_tool_result(&mock));

    let r = mock.post("/v1/responses", &[], &req(true));
    let events = r.sse();
    let n = names(&events);
    let deltas = n
        .iter()
        .filter(|e| *e == "response.function_call_arguments.delta")
        .count();
    assert!((2..=3).contains(&deltas), "{n:?}");
    let mut expected = vec![
        "response.created",
        "response.in_progress",
        "response.output_item.added",
    ];
    expected.extend(std::iter::repeat_n(
        "response.function_call_arguments.delta",
        deltas,
    ));
    expected.extend([
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]);
    assert_eq!(n, expected);
    let data: Vec<Value> = events.iter().map(|(_, d)| parse(d)).collect();
    for (i, d) in data.iter().enumerate() {
        assert_eq!(d["sequence_number"], i);
    }
    let added = &data[2]["item"];
    assert_eq!(added["type"], "function_call");
    assert_eq!(added["arguments"], "");
    let item_id = added["id"].as_str().unwrap();
    let arguments: String = data[3..3 + deltas]
        .iter()
        .map(|d| {
            assert_eq!(d["item_id"], item_id);
            d["delta"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(parse(&arguments), args());
    assert_eq!(data[3 + deltas]["arguments"], arguments);
    let done = &data[4 + deltas]["item"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["call_id"], added["call_id"]);
    let completed = &data.last().unwrap()["response"];
    assert_eq!(completed["output"][0], *done);

    let call = json!({"type": "function_call", "call_id": added["call_id"], "name": "Bash", "arguments": arguments});
    let output = json!({"type": "function_call_output", "call_id": added["call_id"], "output": "switchyard-42"});
    let v = mock
        .post(
            "/v1/responses",
            &[],
            &json!({"model": "gpt-x", "input": [user, call, output]}),
        )
        .json();
    assert_eq!(v["output"][0]["type"], "message");
    assert_eq!(
        v["output"][0]["content"][0]["text"],
        "tool result was: switchyard-42"
    );
    assert!(last_has_tool_result(&mock));
}

#[test]
fn gemini_function_call_and_response() {
    let mock = Mock::start(&[]);
    let user = json!({"role": "user", "parts": [{"text": PROMPT}]});
    let req = json!({"contents": [user]});
    let path = "/v1beta/models/gemini-x";

    let v = mock
        .post(&format!("{path}:generateContent"), &[], &req)
        .json();
    let cand = &v["candidates"][0];
    assert_eq!(cand["finishReason"], "STOP");
    assert_eq!(cand["content"]["parts"][0]["functionCall"]["name"], "Bash");
    assert_eq!(cand["content"]["parts"][0]["functionCall"]["args"], args());
    assert!(!last_has_tool_result(&mock));

    let chunks = mock
        .post(&format!("{path}:streamGenerateContent?alt=sse"), &[], &req)
        .sse_json();
    assert_eq!(chunks.len(), 2);
    let call = &chunks[0]["candidates"][0];
    assert_eq!(call["content"]["parts"][0]["functionCall"]["args"], args());
    assert!(call.get("finishReason").is_none());
    assert_eq!(chunks[1]["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        chunks[1]["candidates"][0]["content"]["parts"][0]["text"],
        ""
    );

    // Non-SSE stream: a JSON array of the same chunks.
    let arr = mock
        .post(&format!("{path}:streamGenerateContent"), &[], &req)
        .json();
    assert_eq!(
        arr[0]["candidates"][0]["content"]["parts"][0]["functionCall"]["name"],
        "Bash"
    );

    let model =
        json!({"role": "model", "parts": [{"functionCall": {"name": "Bash", "args": args()}}]});
    let response = json!({"role": "user", "parts": [{"functionResponse": {"name": "Bash", "response": {"output": "switchyard-42"}}}]});
    let req2 = json!({"contents": [user, model, response]});
    let text: String = mock
        .post(&format!("{path}:streamGenerateContent?alt=sse"), &[], &req2)
        .sse_json()
        .iter()
        .map(|c| {
            c["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(text, "tool result was: switchyard-42");
    assert!(last_has_tool_result(&mock));
}
