//! Each validator rejects the mistakes the peers make (cliproxyapi.md §12, CLIENTS.md),
//! naming the rule: a validator that accepts everything would make the matrix worthless.
use super::anthropic::anthropic_stream;
use super::chat::chat_stream;
use super::gemini::gemini_stream;
use super::responses::responses_stream;
use super::Check;

fn sse(events: &[(Option<&str>, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (e, d) in events {
        switchyard_translators::sse::encode_event(*e, d, &mut out);
    }
    out
}

fn rule(r: Check) -> String {
    let e = r.expect_err("the validator accepted a broken stream");
    e.split(':').next().unwrap_or("").to_string()
}

const START: (Option<&str>, &str) = (
    Some("message_start"),
    r#"{"type":"message_start","message":{"id":"m","role":"assistant","model":"x","content":[],"usage":{"input_tokens":1,"output_tokens":0}}}"#,
);
const TEXT0: (Option<&str>, &str) = (
    Some("content_block_start"),
    r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
);
const DELTA0: (Option<&str>, &str) = (
    Some("content_block_delta"),
    r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#,
);
const STOP0: (Option<&str>, &str) = (
    Some("content_block_stop"),
    r#"{"type":"content_block_stop","index":0}"#,
);
const MDELTA: (Option<&str>, &str) = (
    Some("message_delta"),
    r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}"#,
);
const MSTOP: (Option<&str>, &str) = (Some("message_stop"), r#"{"type":"message_stop"}"#);

#[test]
fn anthropic_rules() {
    let good = [START, TEXT0, DELTA0, STOP0, MDELTA, MSTOP];
    anthropic_stream(&sse(&good)).unwrap();
    let no_event = [START, (None, DELTA0.1)];
    assert_eq!(rule(anthropic_stream(&sse(&no_event))), "event line");
    let delta_first = [START, DELTA0, STOP0, MDELTA, MSTOP];
    assert_eq!(
        rule(anthropic_stream(&sse(&delta_first))),
        "block open before delta"
    );
    let unclosed = [START, TEXT0, DELTA0, MDELTA, MSTOP];
    assert_eq!(
        rule(anthropic_stream(&sse(&unclosed))),
        "blocks closed before message_delta"
    );
    let no_stop = [START, TEXT0, DELTA0, STOP0, MDELTA];
    assert_eq!(rule(anthropic_stream(&sse(&no_stop))), "message_stop last");
    let late_start = [TEXT0, START];
    assert_eq!(
        rule(anthropic_stream(&sse(&late_start))),
        "message_start first"
    );
    let thinking_in_text = [
        START,
        TEXT0,
        (
            Some("content_block_delta"),
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"x"}}"#,
        ),
    ];
    assert_eq!(
        rule(anthropic_stream(&sse(&thinking_in_text))),
        "delta matches block"
    );
    let err = [
        START,
        (
            Some("error"),
            r#"{"type":"error","error":{"type":"overloaded_error","message":"o"}}"#,
        ),
    ];
    anthropic_stream(&sse(&err)).unwrap();
}

fn chat(id: &str, delta: &str, finish: &str) -> String {
    format!(
        r#"{{"id":"{id}","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#
    )
}

#[test]
fn chat_rules() {
    let a = chat("c1", r#"{"content":"hi"}"#, "null");
    let f = chat("c1", "{}", r#""stop""#);
    chat_stream(&sse(&[(None, &a), (None, &f), (None, "[DONE]")]), false).unwrap();
    let no_finish = sse(&[(None, &a), (None, "[DONE]")]);
    assert_eq!(rule(chat_stream(&no_finish, false)), "finish_reason chunk");
    let no_done = sse(&[(None, &a), (None, &f)]);
    assert_eq!(rule(chat_stream(&no_done, false)), "[DONE] last");
    let other_id = chat("c2", "{}", r#""stop""#);
    let ids = sse(&[(None, &a), (None, &other_id), (None, "[DONE]")]);
    assert_eq!(rule(chat_stream(&ids, false)), "consistent id");
    let nameless = chat(
        "c1",
        r#"{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}"#,
        "null",
    );
    let t = sse(&[(None, &nameless), (None, &f), (None, "[DONE]")]);
    assert_eq!(
        rule(chat_stream(&t, false)),
        "first tool call delta has id and name"
    );
    let plain = sse(&[(None, &a), (None, &f), (None, "[DONE]")]);
    assert_eq!(
        rule(chat_stream(&plain, true)),
        "usage chunk when include_usage"
    );
}

fn resp(ty: &str, seq: u32, rest: &str) -> (Option<String>, String) {
    (
        Some(ty.to_string()),
        format!(r#"{{"type":"{ty}","sequence_number":{seq}{rest}}}"#),
    )
}

fn resp_sse(events: &[(Option<String>, String)]) -> Vec<u8> {
    let v: Vec<(Option<&str>, &str)> = events
        .iter()
        .map(|(e, d)| (e.as_deref(), d.as_str()))
        .collect();
    sse(&v)
}

#[test]
fn responses_rules() {
    let created = resp(
        "response.created",
        0,
        r#","response":{"id":"r","model":"m","output":[]}"#,
    );
    let added = resp(
        "response.output_item.added",
        1,
        r#","output_index":0,"item":{"id":"i","type":"message","content":[]}"#,
    );
    let part = resp(
        "response.content_part.added",
        2,
        r#","item_id":"i","output_index":0,"content_index":0,"part":{"type":"output_text","text":""}"#,
    );
    let delta = resp(
        "response.output_text.delta",
        3,
        r#","item_id":"i","output_index":0,"content_index":0,"delta":"hi""#,
    );
    let part_done = resp(
        "response.content_part.done",
        4,
        r#","item_id":"i","output_index":0,"content_index":0"#,
    );
    let done = resp(
        "response.output_item.done",
        5,
        r#","output_index":0,"item":{"id":"i","type":"message","content":[{"type":"output_text","text":"hi"}]}"#,
    );
    let completed = resp(
        "response.completed",
        6,
        r#","response":{"id":"r","model":"m","status":"completed","output":[{"id":"i"}],"usage":{}}"#,
    );
    let good = [
        created.clone(),
        added.clone(),
        part.clone(),
        delta.clone(),
        part_done.clone(),
        done.clone(),
        completed.clone(),
    ];
    responses_stream(&resp_sse(&good)).unwrap();
    let no_part = [created.clone(), added.clone(), delta.clone()];
    assert_eq!(
        rule(responses_stream(&resp_sse(&no_part))),
        "content_part.added before output_text.delta"
    );
    let no_item = [created.clone(), part.clone()];
    assert_eq!(
        rule(responses_stream(&resp_sse(&no_item))),
        "output_item.added before content"
    );
    let no_completed = [
        created.clone(),
        added.clone(),
        part.clone(),
        delta.clone(),
        part_done.clone(),
        done.clone(),
    ];
    assert_eq!(
        rule(responses_stream(&resp_sse(&no_completed))),
        "response.completed"
    );
    let no_done = [
        created.clone(),
        added.clone(),
        part.clone(),
        delta.clone(),
        part_done.clone(),
        completed.clone(),
    ];
    assert_eq!(
        rule(responses_stream(&resp_sse(&no_done))),
        "output_item.done for every item"
    );
    let late_created = [added.clone(), created.clone()];
    assert_eq!(
        rule(responses_stream(&resp_sse(&late_created))),
        "response.created first"
    );
    let mut backwards = good.clone();
    backwards[2] = resp(
        "response.content_part.added",
        0,
        r#","item_id":"i","output_index":0,"content_index":0,"part":{"type":"output_text","text":""}"#,
    );
    assert_eq!(
        rule(responses_stream(&resp_sse(&backwards))),
        "increasing sequence_number"
    );
}

#[test]
fn gemini_rules() {
    let chunk = r#"{"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}"#;
    let last = r#"{"candidates":[{"content":{"parts":[{"text":""}]},"finishReason":"STOP"}],"usageMetadata":{}}"#;
    gemini_stream(&sse(&[(None, chunk), (None, last)])).unwrap();
    assert_eq!(
        rule(gemini_stream(&sse(&[(None, chunk)]))),
        "finishReason on the last chunk"
    );
    assert_eq!(
        rule(gemini_stream(&sse(&[(None, last), (None, last)]))),
        "finishReason only on the last chunk"
    );
    assert_eq!(
        rule(gemini_stream(format!("data:{last}\n\n").as_bytes())),
        "framing"
    );
    assert_eq!(rule(gemini_stream(&sse(&[(Some("x"), last)]))), "framing");
}
