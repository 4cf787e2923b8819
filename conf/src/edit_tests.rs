use super::*;
use serde_json::json;

const FILE: &str = "\
# Switchyard on the build box.
host: 127.0.0.1   # loopback only
port: 8317

# Client keys: one per team.
api-keys:
  - \"team-a\"   # alice
  - team-b

routing:
  # fill-first keeps caches warm
  strategy: round-robin
  session-affinity: true

claude-api-key:
  - api-key: k1
    base-url: https://api.anthropic.com
# trailing comment
";

fn ok(path: &[&str], value: Option<Value>) -> String {
    set(FILE, path, value.as_ref()).unwrap()
}

#[test]
fn a_scalar_changes_and_its_comment_stays() {
    let out = ok(&["port"], Some(json!(9000)));
    assert_eq!(out, FILE.replace("port: 8317", "port: 9000"));
    let out = ok(&["host"], Some(json!("0.0.0.0")));
    assert_eq!(
        out,
        FILE.replace("host: 127.0.0.1   #", "host: \"0.0.0.0\"   #")
    );
}

#[test]
fn a_nested_scalar_keeps_the_comment_above_it() {
    let out = ok(&["routing", "strategy"], Some(json!("fill-first")));
    assert_eq!(
        out,
        FILE.replace("strategy: round-robin", "strategy: fill-first")
    );
}

#[test]
fn a_list_is_rewritten_in_block_style_and_the_rest_stays() {
    let out = ok(&["api-keys"], Some(json!(["team-a", "team-c"])));
    assert_eq!(
        out,
        FILE.replace(
            "api-keys:\n  - \"team-a\"   # alice\n  - team-b\n",
            "api-keys:\n  - team-a\n  - team-c\n"
        )
    );
    let out = ok(
        &["claude-api-key"],
        Some(json!([{"api-key": "k1", "base-url": "https://a"}, {"api-key": "k 2"}])),
    );
    assert!(
        out.ends_with(
            "claude-api-key:\n  - api-key: k1\n    base-url: \"https://a\"\n  - api-key: \"k 2\"\n# trailing comment\n"
        ),
        "{out}"
    );
    assert!(out.starts_with(&FILE[..FILE.find("claude-api-key").unwrap()]));
}

#[test]
fn missing_keys_are_added_after_their_siblings() {
    let out = ok(&["debug"], Some(json!(true)));
    assert_eq!(
        out,
        FILE.replace(
            "    base-url: https://api.anthropic.com\n",
            "    base-url: https://api.anthropic.com\ndebug: true\n"
        )
    );
    let out = ok(&["routing", "session-affinity-ttl"], Some(json!("2h")));
    assert_eq!(
        out,
        FILE.replace(
            "  session-affinity: true\n",
            "  session-affinity: true\n  session-affinity-ttl: \"2h\"\n"
        )
    );
    let out = ok(&["remote-management", "allow-remote"], Some(json!(false)));
    assert!(
        out.contains("\nremote-management:\n  allow-remote: false\n"),
        "{out}"
    );
    assert_eq!(
        set("", &["proxy-url"], Some(&json!("socks5://h:1"))).unwrap(),
        "proxy-url: \"socks5://h:1\"\n"
    );
    assert_eq!(
        set("port: 1", &["debug"], Some(&json!(false))).unwrap(),
        "port: 1\ndebug: false\n"
    );
}

#[test]
fn removing_a_key_removes_its_lines_only() {
    let out = ok(&["api-keys"], None);
    assert_eq!(
        out,
        FILE.replace("api-keys:\n  - \"team-a\"   # alice\n  - team-b\n", "")
    );
    assert_eq!(ok(&["proxy-url"], None), FILE, "a missing key: no change");
}

#[test]
fn an_empty_value_is_filled() {
    let text = "proxy-url:\nport: 1\n";
    assert_eq!(
        set(text, &["proxy-url"], Some(&json!("direct"))).unwrap(),
        "proxy-url: direct\nport: 1\n"
    );
    let text = "routing:\nport: 1\n";
    assert_eq!(
        set(text, &["routing", "strategy"], Some(&json!("fill-first"))).unwrap(),
        "routing:\n  strategy: fill-first\nport: 1\n"
    );
}

#[test]
fn flow_parents_and_non_mappings_are_refused() {
    let text = "routing: {strategy: round-robin}\n";
    assert_eq!(
        set(text, &["routing", "session-affinity"], Some(&json!(true))),
        Err(EditError::NotInPlace {
            path: "routing.session-affinity".into()
        })
    );
    // Replacing inside a flow mapping keeps the text valid: the result is checked.
    assert_eq!(
        set(text, &["routing", "strategy"], Some(&json!("fill-first"))).unwrap(),
        "routing: {strategy: fill-first}\n"
    );
    assert_eq!(
        set("port: 1\n", &["port", "x"], Some(&json!(1))),
        Err(EditError::NotAMapping {
            path: "port.x".into()
        })
    );
}

#[test]
fn strings_that_yaml_would_read_differently_are_quoted() {
    for s in [
        "true", "Null", "123", "0x10", "a b", "", "-x", "x: y", "#x", "é",
    ] {
        let out = set("", &["k"], Some(&json!(s))).unwrap();
        assert_eq!(document_json(&out).unwrap(), json!({"k": s}), "{out}");
    }
    assert_eq!(scalar_text("fill-first"), "fill-first");
    assert_eq!(scalar_text("true"), "\"true\"");
}
