//! The key table: for each mapping level of `config.yaml`, the keys Switchyard supports and the
//! keys CLIProxyAPI knows (v6.9.25 and HEAD `config.example.yaml`, cliproxyapi.md §6) that
//! Switchyard accepts with a warning and ignores. Anything else is an unknown key (an error),
//! with a "did you mean" hint computed here.
//!
//! Pure; no I/O. The walkers in `top.rs` and `accounts.rs` dispatch on the supported names; a
//! test checks that every supported name here is really handled there.

/// Keys of one mapping level.
pub(crate) struct Section {
    /// Keys Switchyard reads.
    pub(crate) supported: &'static [&'static str],
    /// Keys CLIProxyAPI knows that Switchyard ignores with a warning (one per occurrence).
    pub(crate) unsupported: &'static [&'static str],
}

impl Section {
    pub(crate) fn is_unsupported(&self, key: &str) -> bool {
        self.unsupported.contains(&key)
    }

    /// The closest known key (supported first on a tie) within the allowed edit distance.
    pub(crate) fn suggest(&self, key: &str) -> Option<&'static str> {
        let wanted = normalize(key);
        let limit = if wanted.chars().count() <= 3 { 1 } else { 2 };
        let mut best: Option<(usize, &'static str)> = None;
        for candidate in self.supported.iter().chain(self.unsupported) {
            // Optimal string alignment: Levenshtein plus adjacent transposition (`kye`/`key`).
            let d = strsim::osa_distance(&wanted, candidate);
            if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, candidate));
            }
        }
        best.map(|(_, k)| k)
    }
}

/// Lowercase with `_` spelled `-`: the commonest slips in hand-written YAML keys.
fn normalize(key: &str) -> String {
    key.to_ascii_lowercase().replace('_', "-")
}

/// Top level.
pub(crate) const TOP: Section = Section {
    supported: &[
        "host",
        "port",
        "tls",
        "api-keys",
        "auth-dir",
        "debug",
        "request-retry",
        "max-retry-interval",
        "max-retry-credentials",
        "routing",
        "streaming",
        "nonstream-keepalive-interval",
        "proxy-url",
        "gemini-api-key",
        "claude-api-key",
        "codex-api-key",
        "openai-compatibility",
        // Switchyard's own keys.
        "max-body-size",
        "max-concurrent-requests",
        "max-connections",
        "max-in-flight-memory",
        "client-timeouts",
        "workers",
        "upstream-timeouts",
        "shutdown-grace-seconds",
        "disable-cooling",
        "transient-error-cooldown-seconds",
        "force-model-prefix",
        "passthrough-headers",
        "payload",
        "model-fallback",
        "oauth-overrides",
        "model-catalog",
        "oauth-model-alias",
        "oauth-excluded-models",
        "enable-gemini-cli-endpoint",
        "logging-to-file",
        "logs-max-total-size-mb",
        "error-logs-max-files",
        "usage-statistics-enabled",
        "request-log",
        "metrics",
        "shared-state",
        "server-timing",
        "log-format",
        "logs-dir",
        "usage-statistics-file",
        "remote-management",
        "commercial-mode",
    ],
    unsupported: &[
        // v6.9.25
        "pprof",
        "auth-auto-refresh-workers",
        "quota-exceeded",
        "ws-auth",
        "antigravity-signature-cache-enabled",
        "antigravity-signature-bypass-strict",
        "claude-header-defaults",
        "codex-header-defaults",
        "vertex-api-key",
        "ampcode",
        // HEAD (v7.2.140)
        "plugins",
        "credential-concurrency",
        "credential-in-flight",
        "redis-usage-queue-retention-seconds",
        "save-cooldown-status",
        "disable-claude-cloak-mode",
        "claude-code",
        "disable-image-generation",
        "gpt-image-2-base-model",
        "video-result-auth-cache-ttl",
        "codex",
        "antigravity",
        "xai",
        "interactions-api-key",
        "xai-api-key",
        "oauth-request-scoped-errors",
    ],
};

/// `remote-management:`. Switchyard's panel is built into the binary: nothing to download or
/// update, so the update keys are accepted and ignored.
pub(crate) const REMOTE_MANAGEMENT: Section = Section {
    supported: &["secret-key", "allow-remote", "disable-control-panel"],
    unsupported: &["disable-auto-update-panel", "panel-github-repository"],
};

/// `metrics:` (Switchyard key).
pub(crate) const METRICS: Section = Section {
    supported: &["listen", "account-labels"],
    unsupported: &[],
};

/// `shared-state:` (Switchyard key).
pub(crate) const SHARED_STATE: Section = Section {
    supported: &[
        "redis-url",
        "key-prefix",
        "write-queue",
        "flush-interval-ms",
        "timeout-ms",
        "auth-store",
    ],
    unsupported: &[],
};

/// `payload:`.
pub(crate) const PAYLOAD: Section = Section {
    supported: &[
        "default",
        "default-raw",
        "override",
        "override-raw",
        "filter",
    ],
    unsupported: &[],
};

/// One rule of a `payload.*` list.
pub(crate) const PAYLOAD_RULE: Section = Section {
    supported: &["models", "params"],
    unsupported: &[],
};

/// `payload.*[].models[]`. The HEAD conditions after `from-protocol` are read only to make the
/// entry never match (a narrowing condition Switchyard cannot evaluate must not widen a rule).
pub(crate) const PAYLOAD_MODEL: Section = Section {
    supported: &[
        "name",
        "protocol",
        "from-protocol",
        "headers",
        "match",
        "not-match",
        "exist",
        "not-exist",
    ],
    unsupported: &[],
};

/// `model-fallback[]` (Switchyard key).
pub(crate) const MODEL_FALLBACK: Section = Section {
    supported: &["from", "to"],
    unsupported: &[],
};

pub(crate) const TLS: Section = Section {
    supported: &["enable", "cert", "key"],
    unsupported: &[],
};

pub(crate) const ROUTING: Section = Section {
    supported: &["strategy", "session-affinity", "session-affinity-ttl"],
    unsupported: &["session-affinity-subagents"],
};

/// `streaming`. Switchyard always fails over before the first content byte (stream bootstrap),
/// so `bootstrap-retries` has nothing to add.
pub(crate) const STREAMING: Section = Section {
    supported: &["keepalive-seconds"],
    unsupported: &["bootstrap-retries"],
};

pub(crate) const UPSTREAM_TIMEOUTS: Section = Section {
    supported: &["connect-seconds", "first-byte-seconds", "idle-seconds"],
    unsupported: &[],
};

pub(crate) const CLIENT_TIMEOUTS: Section = Section {
    supported: &["header-seconds", "body-seconds", "write-seconds"],
    unsupported: &[],
};

/// `oauth-overrides.<provider>` (a Switchyard key; `client-secret` is for the providers whose
/// installed-app client has one, Google's and iFlow's).
pub(crate) const OAUTH_OVERRIDE: Section = Section {
    supported: &[
        "auth-url",
        "token-url",
        "device-url",
        "client-id",
        "client-secret",
        "base-url",
    ],
    unsupported: &[],
};

/// One `oauth-model-alias.<channel>[]` entry (HEAD's `display-name` and `force-mapping` are
/// accepted and ignored).
pub(crate) const OAUTH_MODEL_ALIAS: Section = Section {
    supported: &["name", "alias", "fork"],
    unsupported: &["display-name", "force-mapping"],
};

/// Keys every `*-api-key[]` entry reads.
const KEY_ENTRY_SUPPORTED: &[&str] = &[
    "api-key",
    "base-url",
    "prefix",
    "headers",
    "proxy-url",
    "models",
    "excluded-models",
    "disable-cooling",
    "priority",
    "weight",
    "request-retry",
];

pub(crate) const GEMINI_ENTRY: Section = Section {
    supported: KEY_ENTRY_SUPPORTED,
    unsupported: &["request-scoped-errors"],
};

pub(crate) const CLAUDE_ENTRY: Section = Section {
    supported: KEY_ENTRY_SUPPORTED,
    unsupported: &[
        "request-scoped-errors",
        "cloak",
        "experimental-cch-signing",
        "rebuild-mid-system-message",
        "fingerprint-profile",
    ],
};

pub(crate) const CODEX_ENTRY: Section = Section {
    supported: KEY_ENTRY_SUPPORTED,
    unsupported: &["request-scoped-errors", "websockets", "alpha-search"],
};

/// `openai-compatibility[]`. `disabled` is supported: a disabled provider is validated but
/// yields no accounts (ignoring it would send traffic the user switched off).
pub(crate) const COMPAT_ENTRY: Section = Section {
    supported: &[
        "name",
        "base-url",
        "prefix",
        "api-key-entries",
        "models",
        "headers",
        "disabled",
        "disable-cooling",
        "priority",
        "request-retry",
    ],
    unsupported: &["support-prompt-cache-key", "request-scoped-errors"],
};

/// `openai-compatibility[].api-key-entries[]`.
pub(crate) const COMPAT_KEY_ENTRY: Section = Section {
    supported: &["api-key", "proxy-url", "weight"],
    unsupported: &[],
};

/// `models[]` of a `*-api-key[]` entry.
pub(crate) const MODEL: Section = Section {
    supported: &["name", "alias"],
    unsupported: &[
        "display-name",
        "max-context-length",
        "force-mapping",
        "is-compat",
        "thinking",
    ],
};

/// `models[]` of an `openai-compatibility[]` entry.
pub(crate) const COMPAT_MODEL: Section = Section {
    supported: &["name", "alias"],
    unsupported: &[
        "display-name",
        "max-context-length",
        "force-mapping",
        "is-compat",
        "thinking",
        "image",
        "input-modalities",
        "output-modalities",
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The metric the hints depend on (strsim's OSA distance counts chars, not bytes).
    #[test]
    fn distance() {
        use strsim::osa_distance;
        assert_eq!(osa_distance("api-kye", "api-key"), 1);
        assert_eq!(osa_distance("", "abc"), 3);
        assert_eq!(osa_distance("prot", "port"), 1);
        assert_eq!(osa_distance("host", "host"), 0);
    }

    #[test]
    fn suggestions() {
        assert_eq!(CLAUDE_ENTRY.suggest("api_kye"), Some("api-key"));
        assert_eq!(TOP.suggest("prot"), Some("port"));
        assert_eq!(TOP.suggest("Proxy_URL"), Some("proxy-url"));
        assert_eq!(TOP.suggest("remote-managment"), Some("remote-management"));
        assert_eq!(TOP.suggest("completely-different"), None);
        assert_eq!(TLS.suggest("kez"), Some("key"));
        assert_eq!(TLS.suggest("xyz"), None);
    }

    #[test]
    fn no_key_is_both_supported_and_unsupported() {
        for s in [
            &TOP,
            &TLS,
            &ROUTING,
            &UPSTREAM_TIMEOUTS,
            &CLIENT_TIMEOUTS,
            &OAUTH_OVERRIDE,
            &OAUTH_MODEL_ALIAS,
            &GEMINI_ENTRY,
            &CLAUDE_ENTRY,
            &CODEX_ENTRY,
            &COMPAT_ENTRY,
            &COMPAT_KEY_ENTRY,
            &MODEL,
            &COMPAT_MODEL,
            &PAYLOAD,
            &PAYLOAD_RULE,
            &PAYLOAD_MODEL,
            &MODEL_FALLBACK,
        ] {
            for k in s.supported {
                assert!(!s.unsupported.contains(k), "{k}");
            }
        }
    }
}
