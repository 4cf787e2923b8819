//! Tests of the model catalog: the embedded file is valid and has every channel, the override
//! replaces whole channels, bad files are refused with every problem named, and Codex accounts
//! get their plan's list.

use super::*;
use base64::Engine;

fn codex_record(extra: &str) -> AuthRecord {
    let text = format!(r#"{{"type":"codex","access_token":"t"{extra}}}"#);
    AuthRecord::parse("codex-a.json", text.as_bytes())
        .unwrap()
        .unwrap()
}

fn id_token(plan: &str) -> String {
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = format!(r#"{{"https://api.openai.com/auth":{{"chatgpt_plan_type":"{plan}"}}}}"#);
    format!("{}.{}.sig", e.encode("{}"), e.encode(claims))
}

#[test]
fn embedded_catalog_has_every_channel() {
    let cat = Catalog::embedded().unwrap();
    for ch in CHANNELS {
        assert!(!cat.channel(ch).is_empty(), "{ch}");
    }
    let opus = cat
        .channel("claude")
        .iter()
        .find(|m| m.id == "claude-opus-4-6")
        .unwrap();
    assert_eq!(opus.display_name, "Claude 4.6 Opus");
    assert_eq!(opus.owned_by, "anthropic");
    assert_eq!(
        (opus.context_length, opus.max_output_tokens),
        (Some(1_000_000), Some(128_000))
    );
    let ids = |ch: &str| -> Vec<String> { cat.channel(ch).iter().map(|m| m.id.clone()).collect() };
    assert!(ids("codex-pro").contains(&"gpt-5.4".to_owned()));
    assert!(!ids("codex-free").contains(&"gpt-5.4".to_owned()));
    assert_eq!(cat.channel("kimi")[0].owned_by, "moonshot");
}

#[test]
fn codex_accounts_follow_their_plan() {
    let cat = Catalog::embedded().unwrap();
    let plan = |p: &str| {
        let r = codex_record(&format!(r#","id_token":"{}""#, id_token(p)));
        cat.for_account(ProviderId::Codex, &r).0
    };
    assert_eq!(plan("free"), "codex-free");
    assert_eq!(plan("business"), "codex-team");
    assert_eq!(plan("Plus"), "codex-plus");
    assert_eq!(plan("enterprise"), "codex-pro");
    let no_token = codex_record("");
    assert_eq!(channel_of(ProviderId::Codex, &no_token), "codex-pro");
    let field = codex_record(r#","plan_type":"free""#);
    assert_eq!(channel_of(ProviderId::Codex, &field), "codex-free");
}

#[test]
fn override_file_replaces_the_channels_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("models.json");
    std::fs::write(
        &path,
        r#"{"qwen": [{"id": "my-qwen", "context_length": 1000}], "kimi": []}"#,
    )
    .unwrap();
    let cat = Catalog::load(Some(&path)).unwrap();
    let q = cat.channel("qwen");
    assert_eq!(q.len(), 1);
    assert_eq!(
        *q[0],
        CatalogModel {
            id: "my-qwen".into(),
            display_name: "my-qwen".into(),
            owned_by: "qwen".into(),
            created: DEFAULT_CREATED,
            context_length: Some(1000),
            max_output_tokens: None,
        }
    );
    assert!(cat.channel("kimi").is_empty());
    assert_eq!(
        cat.channel("claude"),
        Catalog::embedded().unwrap().channel("claude")
    );
}

#[test]
fn bad_catalogs_name_every_problem() {
    let err = Catalog::parse(
        r#"{"openai": [], "qwen": [{"id": " "}, {"id": "a"}, {"id": "A"}]}"#,
        "f",
    )
    .unwrap_err();
    let err: Vec<String> = err.iter().map(ToString::to_string).collect();
    assert_eq!(
        err,
        [
            format!(
                "f: unknown channel \"openai\"; expected one of {}",
                CHANNELS.join(", ")
            ),
            "f: qwen[0].id: must not be empty".to_owned(),
            "f: qwen[2].id: \"A\" is listed twice".to_owned(),
        ]
    );
    let err = Catalog::parse(r#"{"qwen": [{"id": "a", "context": 1}]}"#, "f").unwrap_err();
    assert!(
        err[0].to_string().starts_with("f: unknown field `context`"),
        "{err:?}"
    );
    let missing = Catalog::load(Some(Path::new("/nonexistent/models.json"))).unwrap_err();
    assert!(missing[0]
        .to_string()
        .starts_with("model-catalog /nonexistent/models.json: cannot read"));
}
