//! Management changes between replicas (`shared-state`, docs/scale-out.md): the config text a
//! management call wrote is handed to a publisher (`shared_state::config_sync`), and a text
//! another replica wrote is applied here like a management write of this replica's own, except
//! that it is not published again and this replica's own listener and link settings stay.
//!
//! Contract: [`LOCAL_KEYS`] (top-level keys) keep this replica's values, whatever the other
//! replica's file says: `host`, `port`, `tls`, `workers` (its listener), `metrics` (its own
//! scrape address) and `shared-state` (its link). Everything else is taken as written. A text
//! that would not validate here is refused and logged, and the file is left as it is.

use super::{digest, Applied, ConfigError, LiveConfig};

/// Hands a written config text to the other replicas; must not wait.
pub type Publish = Box<dyn Fn(&str) + Send + Sync>;

/// Top-level keys each replica keeps its own value of.
pub const LOCAL_KEYS: [&str; 6] = ["host", "port", "tls", "workers", "metrics", "shared-state"];

impl LiveConfig {
    /// Sets where management changes go (once; `shared-state` at start).
    pub fn set_peers(&self, publish: Publish) {
        let _ = self.peers.set(publish);
    }

    pub(super) fn publish(&self, text: &str) {
        if let Some(publish) = self.peers.get() {
            publish(text);
        }
    }

    /// Applies a config text another replica's management API wrote. `Ok(None)`: this
    /// replica's file already says the same.
    pub fn apply_from_peer(&self, text: &str) -> Result<Option<Applied>, ConfigError> {
        let mut seen = self.lock();
        let own = self.read()?;
        let merged = keep_local(text, &own)?;
        if digest(&merged) == *seen {
            return Ok(None);
        }
        self.write_locked(&merged, &mut seen).map(Some)
    }
}

/// `received` with [`LOCAL_KEYS`] set to their values in `own` (or removed where `own` has
/// none). Pure.
pub fn keep_local(received: &str, own: &str) -> Result<String, ConfigError> {
    let mine =
        switchyard_conf::edit::document_json(own).map_err(|p| ConfigError::Invalid(vec![p]))?;
    let theirs = switchyard_conf::edit::document_json(received)
        .map_err(|p| ConfigError::Invalid(vec![p]))?;
    let mut out = received.to_owned();
    for key in LOCAL_KEYS {
        let (m, t) = (mine.get(key), theirs.get(key));
        if m != t {
            out = switchyard_conf::edit::set(&out, &[key], m.filter(|v| !v.is_null()))?;
        }
    }
    Ok(out)
}

/// Whether a config text changes nothing but [`LOCAL_KEYS`] compared with another (tests).
#[cfg(test)]
fn same_but_local(a: &str, b: &str) -> bool {
    let strip = |t: &str| {
        let mut v = switchyard_conf::edit::document_json(t).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            for k in LOCAL_KEYS {
                m.remove(k);
            }
        }
        v
    };
    strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peers_config_keeps_this_replicas_listener_and_link() {
        let own = "host: 127.0.0.1\nport: 8001\nmetrics: {listen: \"127.0.0.1:9001\"}\napi-keys: [a]\nshared-state: {redis-url: \"redis://127.0.0.1:1/0\"}\n";
        let theirs = "# theirs\nhost: 127.0.0.1\nport: 8002\nmetrics: {listen: \"127.0.0.1:9002\"}\napi-keys: [a, b]\nworkers: 3\nshared-state: {redis-url: \"redis://127.0.0.1:1/0\"}\n";
        let merged = keep_local(theirs, own).unwrap();
        let doc = switchyard_conf::edit::document_json(&merged).unwrap();
        assert_eq!(doc["port"], 8001);
        assert_eq!(doc["metrics"]["listen"], "127.0.0.1:9001");
        assert_eq!(doc["api-keys"], serde_json::json!(["a", "b"]));
        assert!(doc.get("workers").is_none(), "{merged}");
        assert!(merged.starts_with("# theirs\n"), "{merged}");
        assert!(same_but_local(&merged, theirs));
        assert!(!same_but_local(&merged, own));
    }
}
