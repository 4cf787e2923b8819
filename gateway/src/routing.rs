//! Model routing: which accounts serve a model name, under which upstream name, in which order.
//!
//! Built once per config snapshot. Per request, [`Router::resolve`] turns the name the client
//! sent into the model to route (`auto`, `model-fallback`) and [`Router::plan`] returns the
//! ordered candidate list for it (round-robin rotates the start per model; fill-first always
//! starts at the first account). Failover walks that list.
//!
//! Name rules, CLIProxyAPI's unless noted:
//! - `prefix: team` also serves `team/<alias>`; with `force-model-prefix: true` a prefixed
//!   account serves only `team/<alias>` (and `<alias>` when it equals the prefix)
//!   (`applyModelPrefixes`). Accounts without a `models` list honour their prefix the same way.
//! - `auto` (unless an account lists a model named `auto`) is the first model in `/v1/models`
//!   order that some account can serve right now (not cooling, reachable from the client's
//!   protocol). CLIProxyAPI picks the newest model of its catalog by creation time; without a
//!   catalog, config order is the deterministic equivalent, and the operator controls it. The
//!   request then behaves as if `auto` were an alias of that model.
//! - `model-fallback` (a Switchyard key; CLIProxyAPI only has Amp's `model-mappings`): a name no
//!   account serves is routed as the first entry whose `from` wildcard matches it.

use crate::accounts::Account;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use switchyard_auth::catalog::CatalogModel;
use switchyard_conf::{ApiKeyAccount, Config, ModelFallback, ProviderKind, RoutingStrategy};

/// One way to serve a model: an account and the model name it is sent upstream as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub account: usize,
    pub upstream_model: String,
}

#[derive(Debug, Default)]
struct Pool {
    candidates: Vec<Candidate>,
    cursor: AtomicUsize,
}

/// A model as listed by the `/models` endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedModel {
    pub id: String,
    pub kind: ProviderKind,
    /// What the catalog says about the model (OAuth channels), for the listing.
    pub meta: Option<Arc<CatalogModel>>,
}

/// The outcome of resolving a model name.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// No account serves this model.
    Unknown,
    /// Accounts serve it, but none speaks the client's protocol; the kinds that do serve it.
    Incompatible(Vec<ProviderKind>),
    /// Candidates in the order to try them.
    Candidates(Vec<Candidate>),
}

/// Model name → account pools.
#[derive(Debug, Default)]
pub struct Router {
    strategy: RoutingStrategy,
    pools: HashMap<String, Pool>,
    /// Accounts with no `models` list: they serve any model name not claimed explicitly,
    /// under the same name, unless `excluded-models` matches it.
    open: Pool,
    open_exclusions: Vec<Vec<String>>,
    /// Per open account: its `prefix`, if any.
    open_prefixes: Vec<Option<String>>,
    force_model_prefix: bool,
    fallback: Vec<ModelFallback>,
    listed: Vec<ListedModel>,
}

/// How the routed model name came from the one the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The name as sent.
    Asked,
    /// `auto`, resolved to this listed model.
    Auto,
    /// No account serves the name; `model-fallback` routed it to this model.
    Fallback,
}

/// The model to route and its plan.
#[derive(Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The model name the plan is for.
    pub model: String,
    pub via: Via,
    pub plan: Plan,
}

impl Router {
    /// The router for a config: its accounts, strategy, `force-model-prefix` and
    /// `model-fallback`.
    /// `accounts` are the config's accounts followed by any from `auth-dir`.
    pub fn from_config(config: &Config, accounts: &[ApiKeyAccount]) -> Self {
        let mut r = Self::build_with(config.routing_strategy, accounts, config.force_model_prefix);
        r.fallback = config.model_fallback.clone();
        r
    }

    /// `accounts[i]` must be built from `configs[i]`.
    pub fn build(strategy: RoutingStrategy, configs: &[ApiKeyAccount]) -> Self {
        Self::build_with(strategy, configs, false)
    }

    fn build_with(
        strategy: RoutingStrategy,
        configs: &[ApiKeyAccount],
        force_prefix: bool,
    ) -> Self {
        let mut r = Router {
            strategy,
            force_model_prefix: force_prefix,
            ..Default::default()
        };
        for (i, a) in configs.iter().enumerate() {
            let prefix = a.prefix.as_deref().filter(|p| !p.is_empty());
            if a.models.is_empty() {
                r.open.candidates.push(Candidate {
                    account: i,
                    upstream_model: String::new(),
                });
                r.open_exclusions.push(a.excluded_models.clone());
                r.open_prefixes.push(prefix.map(str::to_owned));
                continue;
            }
            for m in &a.models {
                let alias = if m.alias.is_empty() {
                    &m.name
                } else {
                    &m.alias
                };
                if is_excluded(&a.excluded_models, alias)
                    || is_excluded(&a.excluded_models, &m.name)
                {
                    continue;
                }
                let mut names = Vec::with_capacity(2);
                if !force_prefix || prefix.is_none_or(|p| p == alias) {
                    names.push(alias.clone());
                }
                if let Some(p) = prefix {
                    names.push(format!("{p}/{alias}"));
                }
                for name in names {
                    if !r.pools.contains_key(&name) {
                        r.listed.push(ListedModel {
                            id: name.clone(),
                            kind: a.kind,
                            meta: None,
                        });
                    }
                    r.pools.entry(name).or_default().candidates.push(Candidate {
                        account: i,
                        upstream_model: m.name.clone(),
                    });
                }
            }
        }
        r
    }

    /// Whether a config lists `model` by name (not just an open account taking any name).
    pub fn is_named(&self, model: &str) -> bool {
        self.pools.contains_key(model)
    }

    /// Models to list, in config order.
    pub fn listed(&self) -> &[ListedModel] {
        &self.listed
    }

    /// The listed models account `account` serves by name (its `models` list or catalog).
    pub fn models_of(&self, account: usize) -> Vec<&ListedModel> {
        self.listed
            .iter()
            .filter(|m| {
                self.pools
                    .get(&m.id)
                    .is_some_and(|p| p.candidates.iter().any(|c| c.account == account))
            })
            .collect()
    }

    /// Attaches catalog metadata to the listed models: `lookup(account, upstream model)` for the
    /// first account that serves each one.
    pub fn describe(&mut self, lookup: impl Fn(usize, &str) -> Option<Arc<CatalogModel>>) {
        for m in &mut self.listed {
            if let Some(c) = self.pools.get(&m.id).and_then(|p| p.candidates.first()) {
                m.meta = lookup(c.account, &c.upstream_model);
            }
        }
    }

    /// Resolve `model` for a client whose protocol `servable` accepts the account kind.
    pub fn plan(
        &self,
        model: &str,
        accounts: &[Account],
        servable: impl Fn(ProviderKind) -> bool,
    ) -> Plan {
        let (pool, open) = match self.pools.get(model) {
            Some(p) => (p, false),
            None => (&self.open, true),
        };
        let mut all: Vec<Candidate> = if open {
            self.open_candidates(model).collect()
        } else {
            pool.candidates.clone()
        };
        let kind = |c: &Candidate| accounts[c.account].kind;
        if open {
            // An open account of another protocol does not make every name a known model;
            // nor does a Gemini account make a name that cannot be one path segment one
            // (its model goes into the upstream path).
            all.retain(|c| {
                servable(kind(c))
                    && (kind(c) != ProviderKind::Gemini
                        || crate::protocol::is_path_safe_model(&c.upstream_model))
            });
        }
        if all.is_empty() {
            return Plan::Unknown;
        }
        if !all.iter().any(|c| servable(kind(c))) {
            let mut kinds: Vec<ProviderKind> = all.iter().map(kind).collect();
            kinds.dedup();
            return Plan::Incompatible(kinds);
        }
        all.retain(|c| servable(kind(c)));
        if self.strategy == RoutingStrategy::WeightedRoundRobin {
            all.retain(|c| accounts[c.account].weight > 0);
            if all.is_empty() {
                return Plan::Unknown;
            }
        }
        // Priority groups, highest first (stable: config order within a group); the strategy
        // picks the first account inside each group, the rest follow in order for failover.
        all.sort_by_key(|c| std::cmp::Reverse(accounts[c.account].priority));
        let tick = match self.strategy {
            RoutingStrategy::FillFirst => 0,
            RoutingStrategy::RoundRobin | RoutingStrategy::WeightedRoundRobin => {
                pool.cursor.fetch_add(1, Ordering::Relaxed)
            }
        };
        for group in
            all.chunk_by_mut(|a, b| accounts[a.account].priority == accounts[b.account].priority)
        {
            let start = match self.strategy {
                RoutingStrategy::FillFirst => 0,
                RoutingStrategy::RoundRobin => tick % group.len(),
                RoutingStrategy::WeightedRoundRobin => weighted_pick(group, accounts, tick),
            };
            group.rotate_left(start);
        }
        Plan::Candidates(all)
    }
}

impl Router {
    /// Open accounts that serve `model`, with the name each sends upstream: `team/x` reaches a
    /// `prefix: team` account as `x`; a bare name reaches it unless `force-model-prefix`.
    fn open_candidates<'a>(&'a self, model: &'a str) -> impl Iterator<Item = Candidate> + 'a {
        self.open
            .candidates
            .iter()
            .enumerate()
            .filter_map(move |(j, c)| {
                let upstream = match self.open_prefixes[j].as_deref() {
                    Some(p) => match model.strip_prefix(p).and_then(|m| m.strip_prefix('/')) {
                        Some(rest) if !rest.is_empty() => rest,
                        _ if self.force_model_prefix && model != p => return None,
                        _ => model,
                    },
                    None => model,
                };
                (!is_excluded(&self.open_exclusions[j], upstream)).then(|| Candidate {
                    account: c.account,
                    upstream_model: upstream.to_owned(),
                })
            })
    }

    /// Resolve the name the client sent: `auto`, then the name itself, then `model-fallback`.
    /// `usable` says whether a candidate can be tried now (not cooling); `auto` skips models
    /// with none.
    pub fn resolve(
        &self,
        asked: &str,
        accounts: &[Account],
        servable: impl Fn(ProviderKind) -> bool,
        usable: impl Fn(&Candidate) -> bool,
    ) -> Resolved {
        if asked == "auto" && !self.pools.contains_key(asked) {
            let first = self.listed.iter().find(|m| {
                self.pools.get(&m.id).is_some_and(|p| {
                    p.candidates
                        .iter()
                        .any(|c| servable(accounts[c.account].kind) && usable(c))
                })
            });
            if let Some(m) = first {
                return Resolved {
                    model: m.id.clone(),
                    via: Via::Auto,
                    plan: self.plan(&m.id, accounts, &servable),
                };
            }
        }
        let plan = self.plan(asked, accounts, &servable);
        if plan == Plan::Unknown {
            let lower = asked.to_ascii_lowercase();
            let hit = self
                .fallback
                .iter()
                .find(|f| crate::payload::wildcard(&f.from.to_ascii_lowercase(), &lower));
            if let Some(f) = hit {
                let plan = self.plan(&f.to, accounts, &servable);
                if plan != Plan::Unknown {
                    return Resolved {
                        model: f.to.clone(),
                        via: Via::Fallback,
                        plan,
                    };
                }
            }
        }
        Resolved {
            model: asked.to_owned(),
            via: Via::Asked,
            plan,
        }
    }
}

/// The index in `group` that tick number `tick` lands on when each account owns `weight`
/// consecutive ticks of every cycle: over any whole cycle the shares are exact.
fn weighted_pick(group: &[Candidate], accounts: &[Account], tick: usize) -> usize {
    let total: u64 = group
        .iter()
        .map(|c| u64::from(accounts[c.account].weight))
        .sum();
    if total == 0 {
        return 0;
    }
    let mut pos = tick as u64 % total;
    for (i, c) in group.iter().enumerate() {
        let w = u64::from(accounts[c.account].weight);
        if pos < w {
            return i;
        }
        pos -= w;
    }
    0
}

/// CLIProxyAPI's wildcard match for `excluded-models`: exact, `prefix-*`, `*-suffix`,
/// `*substring*`, case-insensitive.
pub fn is_excluded(patterns: &[String], model: &str) -> bool {
    let model = model.to_ascii_lowercase();
    patterns.iter().any(|p| {
        let p = p.to_ascii_lowercase();
        match (p.strip_prefix('*'), p.strip_suffix('*')) {
            (Some(_), Some(_)) if p.len() >= 2 => model.contains(&p[1..p.len() - 1]),
            (Some(suffix), _) => model.ends_with(suffix),
            (_, Some(prefix)) => model.starts_with(prefix),
            _ => model == p,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_conf::{ModelAlias, ModelFallback, Secret};

    fn acct(
        kind: ProviderKind,
        id: &str,
        models: &[(&str, &str)],
        prefix: Option<&str>,
    ) -> ApiKeyAccount {
        ApiKeyAccount {
            kind,
            id: id.into(),
            provider_name: String::new(),
            api_key: Secret::new("k"),
            base_url: "http://127.0.0.1:1/v1".into(),
            prefix: prefix.map(Into::into),
            headers: Default::default(),
            proxy_url: None,
            models: models
                .iter()
                .map(|(n, a)| ModelAlias {
                    name: (*n).into(),
                    alias: (*a).into(),
                })
                .collect(),
            excluded_models: vec![],
            disable_cooling: false,
            priority: 0,
            weight: 1,
            request_retry: None,
        }
    }

    fn built(cfg: &[ApiKeyAccount], s: RoutingStrategy) -> (Router, Vec<Account>) {
        let accounts = cfg
            .iter()
            .map(|a| Account::from_config(a).unwrap())
            .collect();
        (Router::build(s, cfg), accounts)
    }

    fn accounts_of(p: Plan) -> Vec<usize> {
        match p {
            Plan::Candidates(c) => c.into_iter().map(|c| c.account).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn aliases_resolve_and_round_robin_rotates() {
        let cfg = [
            acct(
                ProviderKind::OpenAiCompat,
                "a",
                &[("gpt-4o-mini", "fast")],
                None,
            ),
            acct(
                ProviderKind::OpenAiCompat,
                "b",
                &[("gpt-4.1-mini", "fast")],
                Some("team"),
            ),
        ];
        let (r, acc) = built(&cfg, RoutingStrategy::RoundRobin);
        let all = |_| true;
        let Plan::Candidates(c) = r.plan("fast", &acc, all) else {
            panic!()
        };
        assert_eq!(
            c[0],
            Candidate {
                account: 0,
                upstream_model: "gpt-4o-mini".into()
            }
        );
        assert_eq!(
            c[1],
            Candidate {
                account: 1,
                upstream_model: "gpt-4.1-mini".into()
            }
        );
        assert_eq!(accounts_of(r.plan("fast", &acc, all)), vec![1, 0]);
        assert_eq!(accounts_of(r.plan("fast", &acc, all)), vec![0, 1]);
        assert_eq!(accounts_of(r.plan("team/fast", &acc, all)), vec![1]);
        assert_eq!(r.plan("gpt-4o-mini", &acc, all), Plan::Unknown);
        let ids: Vec<_> = r.listed().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["fast", "team/fast"]);
    }

    #[test]
    fn fill_first_keeps_order() {
        let cfg = [
            acct(ProviderKind::Claude, "a", &[("m", "")], None),
            acct(ProviderKind::Claude, "b", &[("m", "")], None),
        ];
        let (r, acc) = built(&cfg, RoutingStrategy::FillFirst);
        for _ in 0..3 {
            assert_eq!(accounts_of(r.plan("m", &acc, |_| true)), vec![0, 1]);
        }
    }

    #[test]
    fn incompatible_and_open_accounts() {
        let mut open = acct(ProviderKind::Gemini, "g", &[], None);
        open.excluded_models = vec!["*-pro".into()];
        let cfg = [
            acct(ProviderKind::Claude, "c", &[("claude-x", "")], None),
            open,
        ];
        let (r, acc) = built(&cfg, RoutingStrategy::RoundRobin);
        assert_eq!(
            r.plan("claude-x", &acc, |k| k == ProviderKind::Gemini),
            Plan::Incompatible(vec![ProviderKind::Claude])
        );
        let Plan::Candidates(c) = r.plan("gemini-9-flash", &acc, |k| k == ProviderKind::Gemini)
        else {
            panic!()
        };
        assert_eq!(
            c,
            vec![Candidate {
                account: 1,
                upstream_model: "gemini-9-flash".into()
            }]
        );
        assert_eq!(r.plan("gemini-9-pro", &acc, |_| true), Plan::Unknown);
    }

    #[test]
    fn an_open_gemini_account_takes_no_name_that_would_leave_its_path_segment() {
        let cfg = [
            acct(ProviderKind::Gemini, "g", &[], None),
            acct(ProviderKind::OpenAiCompat, "o", &[], None),
        ];
        let (r, acc) = built(&cfg, RoutingStrategy::FillFirst);
        let gemini = |k| k == ProviderKind::Gemini;
        for bad in ["../../v1beta/cachedContents", "a/b", "..", "m\r\nx-evil: 1"] {
            assert_eq!(r.plan(bad, &acc, gemini), Plan::Unknown, "{bad:?}");
        }
        assert_eq!(accounts_of(r.plan("gemini-9-flash", &acc, gemini)), vec![0]);
        // In a body, a `vendor/model` name is ordinary (OpenRouter): the open OpenAI-compatible
        // account still takes it.
        assert_eq!(
            accounts_of(r.plan("openai/gpt-4o", &acc, |_| true)),
            vec![1]
        );
    }

    #[test]
    fn priority_groups_come_first_and_weights_hold() {
        let mut cfg: Vec<ApiKeyAccount> = (0..4)
            .map(|i| acct(ProviderKind::Claude, &format!("a{i}"), &[("m", "")], None))
            .collect();
        cfg[0].priority = -1;
        cfg[1].weight = 3;
        cfg[2].weight = 1;
        cfg[3].weight = 0;
        let (r, acc) = built(&cfg, RoutingStrategy::WeightedRoundRobin);
        let mut firsts = [0usize; 4];
        for _ in 0..1000 {
            let order = accounts_of(r.plan("m", &acc, |_| true));
            assert_eq!(order.len(), 3, "weight 0 is out of rotation: {order:?}");
            assert_eq!(
                order[2], 0,
                "the lower-priority account comes last: {order:?}"
            );
            firsts[order[0]] += 1;
        }
        assert_eq!(firsts, [0, 750, 250, 0]);

        let (r, acc) = built(&cfg, RoutingStrategy::RoundRobin);
        let orders: Vec<Vec<usize>> = (0..3)
            .map(|_| accounts_of(r.plan("m", &acc, |_| true)))
            .collect();
        assert_eq!(
            orders,
            [vec![1, 2, 3, 0], vec![2, 3, 1, 0], vec![3, 1, 2, 0]]
        );
    }

    #[test]
    fn force_model_prefix_hides_bare_names_of_prefixed_accounts() {
        let mut open = acct(ProviderKind::OpenAiCompat, "o", &[], Some("loc"));
        open.excluded_models = vec!["bad".into()];
        let cfg = [
            acct(
                ProviderKind::Claude,
                "p",
                &[("m", ""), ("team", "")],
                Some("team"),
            ),
            acct(ProviderKind::Claude, "q", &[("n", "")], None),
            open,
        ];
        let accounts: Vec<Account> = cfg
            .iter()
            .map(|a| Account::from_config(a).unwrap())
            .collect();
        let all = |_| true;
        let forced = Router::build_with(RoutingStrategy::FillFirst, &cfg, true);
        let ids: Vec<_> = forced.listed().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["team/m", "team", "team/team", "n"]);
        assert_eq!(accounts_of(forced.plan("team/m", &accounts, all)), vec![0]);
        // The bare name is no longer a pool: it falls to the open account, which has a prefix
        // too and so does not take bare names either.
        assert_eq!(forced.plan("m", &accounts, all), Plan::Unknown);
        let Plan::Candidates(c) = forced.plan("loc/x", &accounts, all) else {
            panic!()
        };
        assert_eq!(c[0].upstream_model, "x", "the prefix is not sent upstream");
        assert_eq!(forced.plan("loc/bad", &accounts, all), Plan::Unknown);
        let free = Router::build(RoutingStrategy::FillFirst, &cfg);
        assert_eq!(accounts_of(free.plan("m", &accounts, all)), vec![0]);
        assert_eq!(accounts_of(free.plan("x", &accounts, all)), vec![2]);
    }

    #[test]
    fn auto_and_fallback_resolution() {
        let cfg = [
            acct(ProviderKind::Claude, "a", &[("one", "")], None),
            acct(ProviderKind::Gemini, "b", &[("two", "")], None),
        ];
        let accounts: Vec<Account> = cfg
            .iter()
            .map(|a| Account::from_config(a).unwrap())
            .collect();
        let mut r = Router::build(RoutingStrategy::FillFirst, &cfg);
        r.fallback = vec![
            ModelFallback {
                from: "CLAUDE-*".into(),
                to: "one".into(),
            },
            ModelFallback {
                from: "*".into(),
                to: "two".into(),
            },
        ];
        let all = |_| true;
        let res = r.resolve("auto", &accounts, all, |_| true);
        assert_eq!((res.model.as_str(), res.via), ("one", Via::Auto));
        // The first model's account is not usable (cooling): the next listed model.
        let res = r.resolve("auto", &accounts, all, |c| c.account != 0);
        assert_eq!((res.model.as_str(), res.via), ("two", Via::Auto));
        // Nor reachable from the client's protocol.
        let res = r.resolve("auto", &accounts, |k| k == ProviderKind::Gemini, |_| true);
        assert_eq!(res.model, "two");
        let res = r.resolve("claude-haiku-4-5", &accounts, all, |_| true);
        assert_eq!((res.model.as_str(), res.via), ("one", Via::Fallback));
        assert_eq!(accounts_of(res.plan), vec![0]);
        let res = r.resolve("gpt-5.4-nano", &accounts, all, |_| true);
        assert_eq!((res.model.as_str(), res.via), ("two", Via::Fallback));
        let res = r.resolve("one", &accounts, all, |_| true);
        assert_eq!(res.via, Via::Asked, "a served name is never a fallback");
        r.fallback.clear();
        let res = r.resolve("gpt-5.4-nano", &accounts, all, |_| true);
        assert_eq!((res.via, res.plan), (Via::Asked, Plan::Unknown));
    }

    #[test]
    fn wildcards() {
        let p = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(is_excluded(&p(&["gemini-*"]), "Gemini-2.5-pro"));
        assert!(is_excluded(&p(&["*-preview"]), "x-preview"));
        assert!(is_excluded(&p(&["*flash*"]), "a-flash-b"));
        assert!(is_excluded(&p(&["exact"]), "EXACT"));
        assert!(!is_excluded(&p(&["exact"]), "exactly"));
    }
}
