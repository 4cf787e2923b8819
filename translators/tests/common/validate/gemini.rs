//! Gemini generateContent: `alt=sse` stream rules (Gemini CLI, google-genai) and the response shape.

use serde_json::Value;

use super::{framing_lines, json, s, snippet, sse_events, Check};

// -------------------------------------------------------------------------------- Gemini

/// Gemini `:streamGenerateContent?alt=sse`: `data: ` framing (with the space) and no event
/// names, every chunk a `GenerateContentResponse`, `finishReason` on the last chunk and on no
/// earlier one, function calls with object `args`; or an error object ending the stream.
pub fn gemini_stream(body: &[u8]) -> Check {
    framing_lines(body, false)?;
    let events = sse_events(body)?;
    ensure!(!events.is_empty(), "non-empty", "no events");
    for (i, ev) in events.iter().enumerate() {
        ensure!(ev.event.is_none(), "data-only", "event line {:?}", ev.event);
        let v = json(ev.data.as_bytes())?;
        let last = i + 1 == events.len();
        if v.get("error").is_some() {
            let e = &v["error"];
            ensure!(
                e["code"].is_u64() && e["message"].is_string() && e["status"].is_string(),
                "error object shape",
                "{}",
                snippet(&ev.data)
            );
            ensure!(last, "error ends stream", "events after the error");
            return Ok(());
        }
        let c = &v["candidates"][0];
        ensure!(c.is_object(), "candidates[0]", "{}", snippet(&ev.data));
        for p in c["content"]["parts"].as_array().into_iter().flatten() {
            if let Some(fc) = p.get("functionCall") {
                ensure!(
                    !s(fc, "name").is_empty(),
                    "functionCall name",
                    "{}",
                    snippet(&ev.data)
                );
                ensure!(
                    fc.get("args").is_none_or(Value::is_object),
                    "functionCall args object",
                    "{}",
                    snippet(&ev.data)
                );
            }
        }
        let has_finish = c["finishReason"].is_string();
        if last {
            ensure!(
                has_finish,
                "finishReason on the last chunk",
                "{}",
                snippet(&ev.data)
            );
            ensure!(
                v["usageMetadata"].is_object(),
                "usageMetadata on the last chunk",
                "{}",
                snippet(&ev.data)
            );
        } else {
            ensure!(
                !has_finish,
                "finishReason only on the last chunk",
                "chunk {i}: {}",
                snippet(&ev.data)
            );
        }
    }
    Ok(())
}

pub(super) fn gemini_response(v: &Value) -> Check {
    let c = &v["candidates"][0];
    ensure!(
        c.is_object(),
        "candidates[0]",
        "{}",
        snippet(&v.to_string())
    );
    ensure!(c["content"]["parts"].is_array(), "content.parts", "{c}");
    ensure!(c["finishReason"].is_string(), "finishReason", "{c}");
    ensure!(v["usageMetadata"].is_object(), "usageMetadata", "missing");
    Ok(())
}
