//! What replicas say to each other through Redis: key names, the pub/sub message, the sorted
//! set members, and end times as Unix milliseconds. Pure; no I/O.
//!
//! Keys (prefix `switchyard:` by default; docs/scale-out.md):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{switchyard:}cooldowns` | sorted set | member `["<account>","<model>","<reason>"]`, score = end (Unix ms) |
//! | `{switchyard:}affinity` | sorted set | member `["<session>\u0000<model>","<account>"]`, score = end (Unix ms) |
//! | `{switchyard:}usage` | hash | usage counters (`usage_stats::SharedTotals` names the fields) |
//! | `{switchyard:}refresh:<account>` | string, `PX` | the OAuth refresh lock of one auth file (`refresh_lock.rs`) |
//! | `switchyard:events` | pub/sub channel | one JSON [`Message`] per cooldown or binding |
//!
//! Every key carries the same hash tag (the prefix in braces), so all of them live in one
//! Redis Cluster slot and a pipeline or `MULTI` touching several is valid there. A prefix that
//! already has a `{...}` tag is used as it is. Expired members are removed by the writers
//! (`ZREMRANGEBYSCORE` with every write) and skipped by readers.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The key names of one `key-prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub cooldowns: String,
    pub affinity: String,
    pub usage: String,
    pub channel: String,
    /// The start of every account's refresh lock key ([`Keys::refresh_lock`]).
    pub refresh: String,
    /// `auth-store`: the OAuth token files, id -> bytes (`auth_mirror`).
    pub auth: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        let tagged = if prefix.contains('{') && prefix.contains('}') {
            prefix.to_owned()
        } else {
            format!("{{{prefix}}}")
        };
        Keys {
            cooldowns: format!("{tagged}cooldowns"),
            affinity: format!("{tagged}affinity"),
            usage: format!("{tagged}usage"),
            channel: format!("{prefix}events"),
            refresh: format!("{tagged}refresh:"),
            auth: format!("{tagged}auth"),
        }
    }

    /// The refresh lock of an OAuth account (its file id in `auth-dir`).
    pub fn refresh_lock(&self, account: &str) -> String {
        format!("{}{account}", self.refresh)
    }
}

/// A cooldown one replica recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cooldown {
    pub account: String,
    pub model: String,
    pub reason: String,
    pub until_ms: u64,
}

/// A session bound to an account (`affinity::affinity_key` form: session, NUL, model).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub key: String,
    pub account: String,
    pub until_ms: u64,
}

/// A change every replica applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Cooldown(Cooldown),
    Bind(Binding),
}

impl Event {
    pub fn until_ms(&self) -> u64 {
        match self {
            Event::Cooldown(c) => c.until_ms,
            Event::Bind(b) => b.until_ms,
        }
    }

    /// The sorted set it is kept in and its member there (the score is the end time).
    pub fn member<'k>(&self, keys: &'k Keys) -> (&'k str, String) {
        match self {
            Event::Cooldown(c) => (
                &keys.cooldowns,
                json_array(&[&c.account, &c.model, &c.reason]),
            ),
            Event::Bind(b) => (&keys.affinity, json_array(&[&b.key, &b.account])),
        }
    }
}

fn json_array(parts: &[&str]) -> String {
    serde_json::Value::from(parts.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).to_string()
}

/// A cooldown read back from its sorted set; `None` for a member of another shape.
pub fn cooldown_of(member: &str, until_ms: u64) -> Option<Cooldown> {
    let [account, model, reason]: [String; 3] = serde_json::from_str(member).ok()?;
    Some(Cooldown {
        account,
        model,
        reason,
        until_ms,
    })
}

/// A binding read back from its sorted set; `None` for a member of another shape.
pub fn binding_of(member: &str, until_ms: u64) -> Option<Binding> {
    let [key, account]: [String; 2] = serde_json::from_str(member).ok()?;
    Some(Binding {
        key,
        account,
        until_ms,
    })
}

/// One pub/sub message: who sent it (replicas skip their own) and the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub origin: String,
    #[serde(flatten)]
    pub event: Event,
}

impl Message {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The local `Instant` of a shared end time, given the wall clock and `Instant` of now;
/// `None` once it has passed. Replicas' clocks are assumed in step (NTP): a skew of `s`
/// lengthens or shortens what they apply by `s`.
pub fn local_end(until_ms: u64, now_ms: u64, now: Instant) -> Option<Instant> {
    let left = until_ms.checked_sub(now_ms).filter(|ms| *ms > 0)?;
    now.checked_add(Duration::from_millis(left))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_one_hash_tag() {
        let k = Keys::new("switchyard:");
        assert_eq!(k.cooldowns, "{switchyard:}cooldowns");
        assert_eq!(k.affinity, "{switchyard:}affinity");
        assert_eq!(k.usage, "{switchyard:}usage");
        assert_eq!(k.channel, "switchyard:events");
        assert_eq!(
            k.refresh_lock("team/codex-a.json"),
            "{switchyard:}refresh:team/codex-a.json"
        );
        let own = Keys::new("team-{a}:");
        assert_eq!(own.usage, "team-{a}:usage");
    }

    #[test]
    fn messages_and_members_round_trip() {
        let keys = Keys::new("p:");
        let c = Event::Cooldown(Cooldown {
            account: "claude-api-key[0]".into(),
            model: "m\"x".into(),
            reason: "quota".into(),
            until_ms: 42,
        });
        let m = Message {
            origin: "r1".into(),
            event: c.clone(),
        };
        let text = m.encode();
        assert!(text.contains(r#""kind":"cooldown""#), "{text}");
        assert_eq!(Message::decode(text.as_bytes()), Some(m));
        let (set, member) = c.member(&keys);
        assert_eq!(set, "{p:}cooldowns");
        assert_eq!(cooldown_of(&member, 42).map(Event::Cooldown), Some(c));
        let b = Event::Bind(Binding {
            key: "sess\u{0}model".into(),
            account: "a".into(),
            until_ms: 7,
        });
        let (set, member) = b.member(&keys);
        assert_eq!(set, "{p:}affinity");
        assert_eq!(binding_of(&member, 7).map(Event::Bind), Some(b));
        assert_eq!(binding_of("[1,2]", 7), None);
        assert_eq!(Message::decode(b"{\"kind\":\"other\"}"), None);
    }

    #[test]
    fn end_times_convert_to_instants() {
        let now = Instant::now();
        assert_eq!(
            local_end(1_500, 1_000, now),
            Some(now + Duration::from_millis(500))
        );
        assert_eq!(local_end(1_000, 1_000, now), None);
        assert_eq!(local_end(900, 1_000, now), None);
    }
}
