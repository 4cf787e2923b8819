//! Streams and whole responses, one into the other: [`Aggregator`] collects IR stream events
//! into one [`Response`] (a non-stream client served by an upstream that only streams), and
//! [`response_events`] replays a whole [`Response`] as IR stream events (a stream client
//! served by an upstream that answered with one JSON body).
//!
//! Pure. Blocks keep their order; text and thinking deltas are concatenated; tool call
//! arguments are the concatenated fragments; a signature delta attaches to its thinking block
//! (or tool call, as Gemini's thought signatures do).

use crate::ir::{
    BlockStart, Delta, Part, ReasoningItem, Response, StopReason, StreamError, StreamEvent,
    ToolCall, Usage,
};

/// Collects one stream's IR events into a response.
#[derive(Debug, Default)]
pub struct Aggregator {
    id: String,
    model: String,
    /// Blocks by stream index, in the order they started.
    blocks: Vec<(usize, Part)>,
    usage: Usage,
    stop: Option<StopReason>,
    error: Option<StreamError>,
}

impl Aggregator {
    pub fn push(&mut self, ev: &StreamEvent) {
        match ev {
            StreamEvent::Start { id, model } => {
                self.id.clone_from(id);
                self.model.clone_from(model);
            }
            StreamEvent::BlockStart { index, block } => {
                let part = match block {
                    BlockStart::Text => Part::Text {
                        text: String::new(),
                        cache_control: None,
                    },
                    BlockStart::Thinking => Part::Thinking {
                        text: String::new(),
                        signature: None,
                    },
                    BlockStart::RedactedThinking { data } => {
                        Part::RedactedThinking { data: data.clone() }
                    }
                    BlockStart::Reasoning { id } => Part::Reasoning(ReasoningItem {
                        id: id.clone(),
                        ..Default::default()
                    }),
                    BlockStart::ToolCall { id, name } => Part::ToolCall(ToolCall {
                        id: id.clone(),
                        name: name.clone(),
                        arguments: String::new(),
                        signature: None,
                    }),
                    BlockStart::Unknown { protocol, value } => Part::Unknown {
                        protocol: *protocol,
                        value: value.clone(),
                    },
                };
                self.blocks.push((*index, part));
            }
            StreamEvent::Delta { index, delta } => {
                if let Some(part) = self
                    .blocks
                    .iter_mut()
                    .rev()
                    .find(|(i, _)| i == index)
                    .map(|(_, p)| p)
                {
                    apply_delta(part, delta);
                }
            }
            StreamEvent::BlockStop { .. } | StreamEvent::End => {}
            StreamEvent::Usage(u) => self.usage = *u,
            StreamEvent::Finish { stop } => self.stop = Some(stop.clone()),
            StreamEvent::Error(e) => {
                if self.error.is_none() {
                    self.error = Some(e.clone());
                }
            }
        }
    }

    /// The response, or the stream's error. A stream that never said why it stopped is
    /// reported as ended normally only if it produced content.
    pub fn finish(self) -> Result<Response, StreamError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let parts: Vec<Part> = self.blocks.into_iter().map(|(_, p)| p).collect();
        let stop = match self.stop {
            Some(s) => s,
            None if parts.iter().any(|p| matches!(p, Part::ToolCall(_))) => StopReason::ToolUse,
            None => StopReason::EndTurn,
        };
        Ok(Response {
            id: self.id,
            model: self.model,
            parts,
            stop,
            usage: self.usage,
        })
    }
}

fn apply_delta(part: &mut Part, delta: &Delta) {
    match (part, delta) {
        (Part::Text { text, .. }, Delta::Text(t)) => text.push_str(t),
        (Part::Thinking { text, .. }, Delta::Thinking(t) | Delta::Text(t)) => text.push_str(t),
        (Part::Thinking { signature, .. }, Delta::Signature(s)) => {
            signature.get_or_insert_with(String::new).push_str(s)
        }
        (Part::Reasoning(r), Delta::Thinking(t)) => match r.summary.last_mut() {
            Some(last) => last.push_str(t),
            None => r.summary.push(t.clone()),
        },
        (Part::Reasoning(r), Delta::EncryptedReasoning(e)) => r
            .encrypted_content
            .get_or_insert_with(String::new)
            .push_str(e),
        (Part::ToolCall(c), Delta::ToolArguments(a)) => c.arguments.push_str(a),
        (Part::ToolCall(c), Delta::Signature(s)) => {
            c.signature.get_or_insert_with(String::new).push_str(s)
        }
        _ => {}
    }
}

/// A whole response as the stream events a client encoder needs, one delta per block.
pub fn response_events(resp: &Response) -> Vec<StreamEvent> {
    let mut out = vec![StreamEvent::Start {
        id: resp.id.clone(),
        model: resp.model.clone(),
    }];
    for (index, part) in resp.parts.iter().enumerate() {
        let (block, deltas): (BlockStart, Vec<Delta>) = match part {
            Part::Text { text, .. } => (BlockStart::Text, vec![Delta::Text(text.clone())]),
            Part::Thinking { text, signature } => {
                let mut d = vec![Delta::Thinking(text.clone())];
                d.extend(signature.clone().map(Delta::Signature));
                (BlockStart::Thinking, d)
            }
            Part::RedactedThinking { data } => {
                (BlockStart::RedactedThinking { data: data.clone() }, vec![])
            }
            Part::Reasoning(r) => {
                let mut d: Vec<Delta> = r.summary.iter().cloned().map(Delta::Thinking).collect();
                d.extend(r.encrypted_content.clone().map(Delta::EncryptedReasoning));
                (BlockStart::Reasoning { id: r.id.clone() }, d)
            }
            Part::ToolCall(c) => {
                let mut d = vec![Delta::ToolArguments(c.arguments.clone())];
                d.extend(c.signature.clone().map(Delta::Signature));
                (
                    BlockStart::ToolCall {
                        id: c.id.clone(),
                        name: c.name.clone(),
                    },
                    d,
                )
            }
            Part::Unknown { protocol, value } => (
                BlockStart::Unknown {
                    protocol: *protocol,
                    value: value.clone(),
                },
                vec![],
            ),
            // Request-side parts never appear in a response; nothing to stream.
            Part::Image(_) | Part::Document(_) | Part::ToolResult(_) => continue,
        };
        out.push(StreamEvent::BlockStart { index, block });
        out.extend(
            deltas
                .into_iter()
                .map(|delta| StreamEvent::Delta { index, delta }),
        );
        out.push(StreamEvent::BlockStop { index });
    }
    out.push(StreamEvent::Usage(resp.usage));
    out.push(StreamEvent::Finish {
        stop: resp.stop.clone(),
    });
    out.push(StreamEvent::End);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::ErrorKind;

    fn sample() -> Response {
        Response {
            id: "msg_1".into(),
            model: "m".into(),
            parts: vec![
                Part::Thinking {
                    text: "hmm".into(),
                    signature: Some("sig".into()),
                },
                Part::Text {
                    text: "hello".into(),
                    cache_control: None,
                },
                Part::ToolCall(ToolCall {
                    id: "call_1".into(),
                    name: "f".into(),
                    arguments: "{\"a\":1}".into(),
                    signature: None,
                }),
            ],
            stop: StopReason::ToolUse,
            usage: Usage {
                input_tokens: 5,
                output_tokens: 7,
                ..Default::default()
            },
        }
    }

    #[test]
    fn whole_to_events_and_back() {
        let resp = sample();
        let mut agg = Aggregator::default();
        for ev in response_events(&resp) {
            agg.push(&ev);
        }
        assert_eq!(agg.finish().unwrap(), resp);
    }

    #[test]
    fn fragments_concatenate_and_interleaved_blocks_keep_their_order() {
        let mut agg = Aggregator::default();
        let evs = [
            StreamEvent::Start {
                id: "r".into(),
                model: "m".into(),
            },
            StreamEvent::BlockStart {
                index: 0,
                block: BlockStart::ToolCall {
                    id: "a".into(),
                    name: "x".into(),
                },
            },
            StreamEvent::BlockStart {
                index: 1,
                block: BlockStart::ToolCall {
                    id: "b".into(),
                    name: "y".into(),
                },
            },
            StreamEvent::Delta {
                index: 0,
                delta: Delta::ToolArguments("{\"k\":".into()),
            },
            StreamEvent::Delta {
                index: 1,
                delta: Delta::ToolArguments("{}".into()),
            },
            StreamEvent::Delta {
                index: 0,
                delta: Delta::ToolArguments("2}".into()),
            },
            StreamEvent::BlockStop { index: 0 },
            StreamEvent::BlockStop { index: 1 },
            StreamEvent::End,
        ];
        for ev in &evs {
            agg.push(ev);
        }
        let r = agg.finish().unwrap();
        assert_eq!(r.stop, StopReason::ToolUse);
        let args: Vec<_> = r
            .parts
            .iter()
            .map(|p| match p {
                Part::ToolCall(c) => (c.id.as_str(), c.arguments.as_str()),
                _ => panic!(),
            })
            .collect();
        assert_eq!(args, [("a", "{\"k\":2}"), ("b", "{}")]);
    }

    #[test]
    fn a_stream_error_is_the_result() {
        let mut agg = Aggregator::default();
        let err = StreamError {
            status: Some(529),
            kind: ErrorKind::Overloaded,
            message: "busy".into(),
        };
        agg.push(&StreamEvent::Start {
            id: "r".into(),
            model: "m".into(),
        });
        agg.push(&StreamEvent::Error(err.clone()));
        assert_eq!(agg.finish(), Err(err));
    }
}
