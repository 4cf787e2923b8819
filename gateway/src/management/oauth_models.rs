//! `/oauth-excluded-models` and `/oauth-model-alias`: CLIProxyAPI's per-channel maps of the
//! OAuth accounts' excluded models (`{channel: [pattern]}`) and model aliases
//! (`{channel: [{name, alias, fork?}]}`). GET answers the file's map; PUT replaces it (the
//! map, or `{"items": map}`); PATCH sets one channel (`{"provider", "models"}` /
//! `{"channel" | "provider", "aliases"}`; an empty list removes the channel); DELETE
//! `?provider=` (`?channel=`) removes one. Every write edits that one node of `config.yaml`,
//! validated by conf (unknown channels, bad patterns, duplicate aliases are 400s).

use super::{Call, Reply};
use crate::live_config::{ConfigError, LiveConfig};
use http::Method as M;
use serde_json::{json, Map, Value};

/// Which of the two maps a route edits.
#[derive(Clone, Copy)]
enum Which {
    Excluded,
    Alias,
}

impl Which {
    fn key(self) -> &'static str {
        match self {
            Which::Excluded => "oauth-excluded-models",
            Which::Alias => "oauth-model-alias",
        }
    }

    /// What one channel's list must hold; `Err` names the problem.
    fn check_list(self, channel: &str, list: &Value) -> Result<(), Reply> {
        let key = self.key();
        let Value::Array(items) = list else {
            return Err(Reply::bad(format!("{key}.{channel}: expected an array")));
        };
        for (i, item) in items.iter().enumerate() {
            let ok = match self {
                Which::Excluded => item.is_string(),
                Which::Alias => item.as_object().is_some_and(|o| {
                    o.keys()
                        .all(|k| matches!(k.as_str(), "name" | "alias" | "fork"))
                        && o.get("name").is_some_and(Value::is_string)
                        && o.get("alias").is_some_and(Value::is_string)
                        && o.get("fork").is_none_or(Value::is_boolean)
                }),
            };
            if !ok {
                let wanted = match self {
                    Which::Excluded => "a string",
                    Which::Alias => "{\"name\": string, \"alias\": string, \"fork\"?: bool}",
                };
                return Err(Reply::bad(format!(
                    "{key}.{channel}[{i}]: expected {wanted}"
                )));
            }
        }
        Ok(())
    }
}

pub(super) fn route(call: &Call, live: &LiveConfig, route: &str) -> Option<Reply> {
    let which = match route {
        "/oauth-excluded-models" => Which::Excluded,
        "/oauth-model-alias" => Which::Alias,
        _ => return None,
    };
    let reply = match call.method {
        M::GET => read(live, which).map(|map| Reply::ok(json!({ which.key(): map }))),
        M::PUT => put(call, live, which),
        M::PATCH => patch(call, live, which),
        M::DELETE => delete(call, live, which),
        _ => Err(Reply::error(405, "method not allowed")),
    };
    Some(reply.unwrap_or_else(|r| r))
}

fn read(live: &LiveConfig, which: Which) -> Result<Map<String, Value>, Reply> {
    let text = live.read().map_err(Reply::from)?;
    let doc = switchyard_conf::edit::document_json(&text)
        .map_err(|p| Reply::error(500, p.to_string()))?;
    Ok(match doc.get(which.key()) {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    })
}

/// Lower-cased, trimmed channel names (CLIProxyAPI's normalisation).
fn channel_name(raw: &str) -> String {
    raw.trim().to_ascii_lowercase()
}

fn write(
    live: &LiveConfig,
    which: Which,
    change: impl FnOnce(&mut Map<String, Value>) -> Result<(), Reply>,
) -> Result<Reply, Reply> {
    let result = live.update(|text| {
        let doc = switchyard_conf::edit::document_json(text)
            .map_err(|p| Reply::error(500, p.to_string()))?;
        let mut map = match doc.get(which.key()) {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        change(&mut map)?;
        let value = (!map.is_empty()).then_some(Value::Object(map));
        switchyard_conf::edit::set(text, &[which.key()], value.as_ref())
            .map_err(|e| Reply::from(ConfigError::from(e)))
    })?;
    Ok(match result {
        Ok(_) => Reply::done(),
        Err(e) => e.into(),
    })
}

fn put(call: &Call, live: &LiveConfig, which: Which) -> Result<Reply, Reply> {
    let body: Value = call.json()?;
    let map = match body {
        Value::Object(mut m) if m.len() == 1 && m.get("items").is_some_and(Value::is_object) => {
            match m.remove("items") {
                Some(Value::Object(items)) => items,
                _ => Map::new(),
            }
        }
        Value::Object(m) => m,
        _ => {
            return Err(Reply::bad(
                "invalid body: expected an object of channel lists or {\"items\": {...}}",
            ))
        }
    };
    let mut normalized = Map::new();
    for (channel, list) in map {
        which.check_list(&channel, &list)?;
        let name = channel_name(&channel);
        if list.as_array().is_some_and(|l| !l.is_empty()) {
            normalized.insert(name, list);
        }
    }
    write(live, which, |map| {
        *map = normalized;
        Ok(())
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExcludedPatch {
    provider: String,
    #[serde(default)]
    models: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasPatch {
    channel: Option<String>,
    provider: Option<String>,
    #[serde(default)]
    aliases: Vec<Value>,
}

fn patch(call: &Call, live: &LiveConfig, which: Which) -> Result<Reply, Reply> {
    let (channel, list) = match which {
        Which::Excluded => {
            let body: ExcludedPatch = call.json()?;
            let models: Vec<Value> = body
                .models
                .iter()
                .map(|m| m.trim())
                .filter(|m| !m.is_empty())
                .map(|m| Value::String(m.to_owned()))
                .collect();
            (channel_name(&body.provider), models)
        }
        Which::Alias => {
            let body: AliasPatch = call.json()?;
            let raw = body.channel.or(body.provider).unwrap_or_default();
            (channel_name(&raw), body.aliases)
        }
    };
    if channel.is_empty() {
        return Err(Reply::bad(match which {
            Which::Excluded => "invalid provider",
            Which::Alias => "invalid channel",
        }));
    }
    let list = Value::Array(list);
    which.check_list(&channel, &list)?;
    write(live, which, |map| {
        if list.as_array().is_some_and(Vec::is_empty) {
            return match map.remove(&channel) {
                Some(_) => Ok(()),
                None => Err(not_found(which)),
            };
        }
        map.insert(channel, list);
        Ok(())
    })
}

fn not_found(which: Which) -> Reply {
    Reply::not_found(match which {
        Which::Excluded => "provider not found",
        Which::Alias => "channel not found",
    })
}

fn delete(call: &Call, live: &LiveConfig, which: Which) -> Result<Reply, Reply> {
    let raw = match which {
        Which::Excluded => call.query("provider"),
        Which::Alias => call.query("channel").or_else(|| call.query("provider")),
    };
    let channel = channel_name(raw.unwrap_or_default());
    if channel.is_empty() {
        return Err(Reply::bad(match which {
            Which::Excluded => "missing provider",
            Which::Alias => "missing channel",
        }));
    }
    write(live, which, |map| match map.remove(&channel) {
        Some(_) => Ok(()),
        None => Err(not_found(which)),
    })
}
