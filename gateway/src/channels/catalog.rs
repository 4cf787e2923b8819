//! The model list of each OAuth account: its channel's catalog models, minus
//! `oauth-excluded-models.<channel>` and the file's `excluded_models`, renamed or forked by
//! `oauth-model-alias.<channel>`.
//!
//! Contract: runs in `oauth::load`, off the hot path, once per built account, after the
//! provider's builder; every account gets a non-empty `models` list (an account whose list
//! ends up empty is not served: an empty list would mean "any model" to the router).
//! Exclusions match the catalog id and the alias, with CLIProxyAPI's wildcards
//! ([`crate::routing::is_excluded`]). An alias entry with `fork: false` (the default) replaces
//! the catalog id; when every entry for an id has `fork: true`, the id is kept too.

use crate::routing::is_excluded;
use switchyard_auth::catalog::Catalog;
use switchyard_auth::{AuthRecord, ProviderId};
use switchyard_conf::{ApiKeyAccount, Config, ModelAlias};

/// Fills `account.models` from the catalog and the config's channel keys, and adds the
/// channel's exclusions to the account's. Returns the catalog channel, or `None` when the
/// account serves no model.
pub fn apply(
    account: &mut ApiKeyAccount,
    provider: ProviderId,
    record: &AuthRecord,
    catalog: &Catalog,
    config: &Config,
) -> Option<&'static str> {
    let (channel, models) = catalog.for_account(provider, record);
    let key = provider.name();
    if let Some(excluded) = config.oauth_excluded_models.get(key) {
        account.excluded_models.extend(excluded.iter().cloned());
    }
    let aliases = config
        .oauth_model_alias
        .get(key)
        .map_or(&[][..], Vec::as_slice);
    let mut out = Vec::with_capacity(models.len());
    for m in models {
        let mine: Vec<_> = aliases
            .iter()
            .filter(|a| a.name.eq_ignore_ascii_case(&m.id))
            .collect();
        if mine.iter().all(|a| a.fork) {
            out.push(ModelAlias {
                name: m.id.clone(),
                alias: String::new(),
            });
        }
        out.extend(mine.iter().map(|a| ModelAlias {
            name: m.id.clone(),
            alias: a.alias.clone(),
        }));
    }
    let excluded = &account.excluded_models;
    out.retain(|m| !is_excluded(excluded, &m.name) && !is_excluded(excluded, &m.alias));
    account.models = out;
    (!account.models.is_empty()).then_some(channel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{Plan, Router};
    use switchyard_conf::{OAuthModelAlias, ProviderKind, Secret};

    fn account() -> ApiKeyAccount {
        ApiKeyAccount {
            kind: ProviderKind::OpenAiCompat,
            id: "auth-dir/q.json".into(),
            provider_name: "qwen".into(),
            api_key: Secret::default(),
            base_url: "http://127.0.0.1:1/v1".into(),
            prefix: None,
            headers: Default::default(),
            proxy_url: None,
            models: vec![],
            excluded_models: vec!["vision-*".into()],
            disable_cooling: false,
            priority: 0,
            weight: 1,
            request_retry: None,
        }
    }

    fn names(a: &ApiKeyAccount) -> Vec<(String, String)> {
        a.models
            .iter()
            .map(|m| (m.name.clone(), m.alias.clone()))
            .collect()
    }

    #[test]
    fn catalog_aliases_and_exclusions() {
        let catalog = Catalog::parse(
            r#"{"qwen": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "vision-model"}]}"#,
            "t",
        )
        .unwrap();
        let record = AuthRecord::parse("q.json", br#"{"type":"qwen"}"#)
            .unwrap()
            .unwrap();
        let mut config = Config::default();
        let alias = |name: &str, alias: &str, fork| OAuthModelAlias {
            name: name.into(),
            alias: alias.into(),
            fork,
        };
        config.oauth_model_alias.insert(
            "qwen".into(),
            vec![
                alias("A", "a-renamed", false),
                alias("b", "b-fork", true),
                alias("c", "gone", false),
            ],
        );
        config
            .oauth_excluded_models
            .insert("qwen".into(), vec!["GON*".into()]);
        let mut a = account();
        assert_eq!(
            apply(&mut a, ProviderId::Qwen, &record, &catalog, &config),
            Some("qwen")
        );
        let pair = |n: &str, a: &str| (n.to_owned(), a.to_owned());
        assert_eq!(
            names(&a),
            [pair("a", "a-renamed"), pair("b", ""), pair("b", "b-fork")]
        );
        assert_eq!(a.excluded_models, ["vision-*", "GON*"]);

        // Routed: the alias reaches the upstream as the catalog id; a renamed id and an
        // excluded one are not served; the listing carries the catalog metadata.
        let accounts = vec![crate::accounts::Account::from_config(&a).unwrap()];
        let mut router = Router::build(
            switchyard_conf::RoutingStrategy::FillFirst,
            std::slice::from_ref(&a),
        );
        router.describe(|_, upstream| {
            catalog
                .channel("qwen")
                .iter()
                .find(|m| m.id == upstream)
                .cloned()
        });
        let Plan::Candidates(c) = router.plan("a-renamed", &accounts, |_| true) else {
            panic!("a-renamed is served")
        };
        assert_eq!(c[0].upstream_model, "a");
        for gone in ["a", "c", "gone", "vision-model", "anything"] {
            assert_eq!(
                router.plan(gone, &accounts, |_| true),
                Plan::Unknown,
                "{gone}"
            );
        }
        let listed: Vec<(&str, &str)> = router
            .listed()
            .iter()
            .map(|m| (m.id.as_str(), m.meta.as_ref().map_or("", |c| c.id.as_str())))
            .collect();
        assert_eq!(listed, [("a-renamed", "a"), ("b", "b"), ("b-fork", "b")]);

        // Nothing left: the account is not served.
        config
            .oauth_excluded_models
            .insert("qwen".into(), vec!["*".into()]);
        let mut a = account();
        assert_eq!(
            apply(&mut a, ProviderId::Qwen, &record, &catalog, &config),
            None
        );
    }
}
