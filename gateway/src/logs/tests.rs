//! Tests of the whole module: JSON lines, rotation, the total-size cleaner, request and error
//! logs, the drop counter, and a grep of every produced file for known secrets.

use super::*;
use pingora_http::{RequestHeader, ResponseHeader};
use std::fs;
use std::sync::mpsc::sync_channel;
use std::time::UNIX_EPOCH;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "switchyard-logs-{name}-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn config(dir: &Path, edit: impl FnOnce(&mut Config)) -> Config {
    let mut c = Config {
        logs_dir: Some(dir.to_string_lossy().into_owned()),
        logging_to_file: true,
        ..Config::default()
    };
    edit(&mut c);
    c
}

fn start(c: &Config, opts: Options) -> Logs {
    Logs::start_with(c, Path::new("/nonexistent/config.yaml"), opts).unwrap()
}

/// Runs `f` with `logs`'s tracing layer as the thread's subscriber, then flushes.
fn emit(logs: &Logs, f: impl FnOnce()) {
    let subscriber = Registry::default().with(logs.layer());
    tracing::subscriber::with_default(subscriber, f);
    logs.flush();
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn names(dir: &Path, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    v.sort();
    v
}

#[test]
fn resolves_the_logs_dir_beside_the_config() {
    let c = Config::default();
    assert_eq!(
        resolve_dir(&c, Path::new("/etc/sy/config.yaml")),
        Path::new("/etc/sy/logs")
    );
    assert_eq!(
        resolve_dir(&c, Path::new("config.yaml")),
        Path::new("./logs")
    );
    let c = Config {
        logs_dir: Some("/var/log/sy".into()),
        ..Config::default()
    };
    assert_eq!(
        resolve_dir(&c, Path::new("/etc/sy/config.yaml")),
        Path::new("/var/log/sy")
    );
}

#[test]
fn json_lines_parse_back_with_fixed_field_names() {
    let tmp = TempDir::new("json");
    let logs = start(
        &config(&tmp.0, |c| c.log_format = LogFormat::Json),
        Options::default(),
    );
    emit(&logs, || {
        tracing::info!(
            target: "switchyard::test",
            answer = 42u64,
            name = "x",
            ok = true,
            ratio = 0.5,
            shown = %"disp",
            "hello {}",
            1
        );
        tracing::warn!(ts = "clash", "second");
    });
    let text = read(&tmp.0.join("main.log"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let ts = v["ts"].as_str().unwrap();
    assert_eq!(ts.len(), "2024-01-02T03:04:05.678Z".len(), "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.');
    assert_eq!(v["level"], "INFO");
    assert_eq!(v["target"], "switchyard::test");
    assert_eq!(v["msg"], "hello 1");
    assert_eq!(v["answer"], 42);
    assert_eq!(v["name"], "x");
    assert_eq!(v["ok"], true);
    assert_eq!(v["ratio"], 0.5);
    assert_eq!(v["shown"], "disp");
    // Field order: ts, level, target, msg, then the event's.
    let at = |k: &str| lines[0].find(&format!("\"{k}\":")).unwrap();
    assert!(lines[0].starts_with("{\"ts\":"));
    assert!(at("ts") < at("level") && at("level") < at("target") && at("target") < at("msg"));
    assert!(at("msg") < at("answer"));
    let w: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(w["level"], "WARN");
    assert_eq!(w["msg"], "second");
    assert_eq!(w["field.ts"], "clash");
    assert_ne!(w["ts"], "clash");
}

#[test]
fn text_lines_keep_the_fmt_layout_without_colour_in_files() {
    let tmp = TempDir::new("text");
    let logs = start(&config(&tmp.0, |_| {}), Options::default());
    emit(&logs, || {
        tracing::info!(target: "switchyard::access", method = %"POST", path = "/v1/x", status = 200u16);
    });
    logs.access(access_sample());
    logs.flush();
    let text = read(&tmp.0.join("main.log"));
    assert!(!text.contains('\x1b'), "{text}");
    assert!(
        text.contains(" INFO switchyard::access: method=POST path=\"/v1/x\" status=200\n"),
        "{text}"
    );
    assert!(
        text.contains(" INFO switchyard::access: method=POST path=\"/v1/chat/completions\" status=200 model=\"gpt-4o-mini\""),
        "{text}"
    );
}

fn access_sample() -> AccessRecord {
    AccessRecord {
        request_id: "req-1".into(),
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        model_asked: "gpt-4o-mini".into(),
        status: 200,
        duration_ms: 1.0,
        client_protocol: "openai-chat",
        ..AccessRecord::default()
    }
}

#[test]
fn main_log_rotates_at_the_configured_size() {
    let tmp = TempDir::new("rotate");
    let logs = start(
        &config(&tmp.0, |_| {}),
        Options {
            rotate_bytes: 4096,
            ..Options::default()
        },
    );
    emit(&logs, || {
        for i in 0..200 {
            tracing::info!("line {i:03} {}", "x".repeat(60));
        }
    });
    let rotated = names(&tmp.0, "main-");
    assert!(rotated.len() >= 4, "{rotated:?}");
    let mut lines = 0;
    for name in rotated
        .iter()
        .chain(std::iter::once(&"main.log".to_owned()))
    {
        let path = tmp.0.join(name);
        assert!(fs::metadata(&path).unwrap().len() <= 4096, "{name}");
        lines += read(&path).lines().count();
        assert!(name == "main.log" || name.ends_with(".log"), "{name}");
    }
    assert_eq!(lines, 200);
    assert_eq!(logs.dropped_lines(), 0);
}

#[test]
fn rotation_keeps_the_total_under_the_cap_subdirectories_included() {
    let tmp = TempDir::new("cap");
    let old = tmp.0.join("requests").join("20000101T000000-old.log");
    fs::create_dir_all(old.parent().unwrap()).unwrap();
    fs::write(&old, vec![b'o'; 3000]).unwrap();
    fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(UNIX_EPOCH + Duration::from_secs(1_000_000))
        .unwrap();
    let logs = start(
        &config(&tmp.0, |_| {}),
        Options {
            rotate_bytes: 4096,
            max_total_bytes: Some(10_000),
            ..Options::default()
        },
    );
    emit(&logs, || {
        for i in 0..300 {
            tracing::info!("line {i:03} {}", "y".repeat(60));
        }
    });
    assert!(
        !old.exists(),
        "the oldest file, in a subdirectory, is deleted"
    );
    let total: u64 = all_files(&tmp.0)
        .iter()
        .map(|p| fs::metadata(p).unwrap().len())
        .sum();
    assert!(total <= 10_000 + 4096, "{total}");
    assert!(tmp.0.join("main.log").exists());
}

#[test]
fn cleaner_deletes_the_oldest_log_files_anywhere_under_the_dir() {
    let tmp = TempDir::new("cleaner");
    let put = |rel: &str, size: usize, age_secs: u64| {
        let p = tmp.0.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, vec![b'z'; size]).unwrap();
        fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(age_secs))
            .unwrap();
        p
    };
    let main = put("main.log", 1000, 500);
    let a = put("sub/a.log", 1000, 400);
    let b = put("b.log.gz", 1000, 300);
    let c = put("sub/deeper/c.log", 1000, 200);
    let note = put("note.txt", 5000, 600);
    let deleted = files::enforce_total_size(&tmp.0, 2500, Some(&main));
    assert_eq!(deleted, 2);
    assert!(main.exists() && c.exists() && note.exists());
    assert!(!a.exists() && !b.exists());
    assert_eq!(files::enforce_total_size(&tmp.0, 2500, Some(&main)), 0);
}

fn request(uri: &str, headers: &[(&str, &str)]) -> RequestHeader {
    let mut req = RequestHeader::build("POST", uri.as_bytes(), None).unwrap();
    for (k, v) in headers {
        req.insert_header(k.to_string(), v.to_string()).unwrap();
    }
    req
}

fn response(status: u16, headers: &[(&str, &str)]) -> ResponseHeader {
    let mut resp = ResponseHeader::build(status, None).unwrap();
    for (k, v) in headers {
        resp.insert_header(k.to_string(), v.to_string()).unwrap();
    }
    resp
}

#[test]
fn error_logs_only_for_failures_and_only_the_newest_n() {
    let tmp = TempDir::new("errors");
    let logs = start(
        &config(&tmp.0, |c| {
            c.logging_to_file = false;
            c.error_logs_max_files = 3;
        }),
        Options::default(),
    );
    let req = request("/v1/messages", &[("content-type", "application/json")]);
    for i in 0..5 {
        let mut cap = logs.capture();
        cap.client_request(&req, b"{}");
        cap.client_response(&response(502, &[]));
        cap.client_body(b"{\"error\":\"bad gateway\"}");
        logs.exchange(&format!("req-{i}"), 502, true, cap);
        logs.flush();
    }
    let mut cap = logs.capture();
    cap.client_request(&req, b"{}");
    logs.exchange("ok-1", 200, false, cap);
    logs.flush();
    let errors = names(&tmp.0, "error-");
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(!tmp.0.join(files::REQUESTS_DIR).exists());
    let newest = logs.find_request_log("req-4").unwrap();
    assert!(read(&newest).contains("bad gateway"));
    assert!(logs.find_request_log("req-0").is_none());
    assert!(logs.find_request_log("ok-1").is_none());
    assert!(logs.find_request_log("req-").is_none());
}

#[test]
fn request_logs_have_cliproxyapi_sections_per_attempt() {
    let tmp = TempDir::new("requests");
    let logs = start(
        &config(&tmp.0, |c| {
            c.logging_to_file = false;
            c.request_log = true;
        }),
        Options::default(),
    );
    let mut cap = logs.capture();
    cap.client_request(&request("/v1/messages", &[]), b"{\"model\":\"m\"}");
    cap.upstream_request(0, &request("/v1/messages", &[]), b"{\"model\":\"m1\"}");
    cap.upstream_response(0, &response(429, &[]));
    cap.upstream_body(0, b"{\"error\":\"slow down\"}");
    cap.upstream_request(1, &request("/v1/messages", &[]), b"{\"model\":\"m2\"}");
    cap.upstream_response(1, &response(200, &[]));
    cap.upstream_body(1, b"data: one\n\n");
    cap.client_response(&response(200, &[("content-type", "text/event-stream")]));
    cap.client_body(&vec![b'a'; BODY_CAP]);
    cap.client_body(b"0123456789");
    logs.exchange("r/1", 200, false, cap);
    logs.flush();
    let path = logs.find_request_log("r/1").unwrap();
    assert_eq!(path.parent().unwrap(), tmp.0.join("requests"));
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with("-r_1.log") && name.len() == "20240102T030405-r_1.log".len());
    let text = read(&path);
    let mut at = 0;
    for section in [
        "=== REQUEST INFO ===",
        "Request ID: r/1",
        "=== HEADERS ===",
        "=== REQUEST BODY ===",
        "{\"model\":\"m\"}",
        "=== API REQUEST 1 ===",
        "{\"model\":\"m1\"}",
        "=== API ERROR RESPONSE 1 ===",
        "Status: 429",
        "slow down",
        "=== API REQUEST 2 ===",
        "=== API RESPONSE 2 ===",
        "data: one",
        "=== RESPONSE ===",
        "content-type: text/event-stream",
        "[... 10 bytes not kept]",
    ] {
        let found = text[at..].find(section);
        assert!(found.is_some(), "{section} after byte {at}");
        at += found.unwrap_or(0);
    }
}

#[test]
fn a_full_channel_drops_and_counts() {
    let tmp = TempDir::new("drops");
    let logs = start(
        &config(&tmp.0, |_| {}),
        Options {
            capacity: 4,
            ..Options::default()
        },
    );
    let (paused_tx, paused) = sync_channel(1);
    let (resume, resume_rx) = sync_channel(1);
    assert!(logs.inner.tx.send(Msg::Pause(paused_tx, resume_rx)));
    paused.recv_timeout(Duration::from_secs(5)).unwrap();
    for _ in 0..20 {
        logs.access(access_sample());
    }
    assert_eq!(logs.dropped_lines(), 16);
    resume.send(()).unwrap();
    logs.flush();
    assert_eq!(read(&tmp.0.join("main.log")).lines().count(), 4);
    assert_eq!(logs.dropped_lines(), 16);
}

/// Every secret below contains `SECRET`; masks keep at most 4 trailing characters, so no
/// produced file may contain that word.
#[test]
fn no_log_file_contains_a_secret() {
    const CLIENT: &str = "sk-client-0123456789SECRETabcdef";
    const ACCOUNT: &str = "AIzaAccountKey0123456789SECRETxyz";
    const OAUTH: &str = "ya29.oauthSECRETaccess0123456789";
    const COOKIE: &str = "session=cookieSECRET0123456789";
    const REFRESH: &str = "1//refreshSECRET0123456789abcdef";
    const MGMT: &str = "mgmtSECRET0123456789abcd";
    const QTOKEN: &str = "qtokSECRET0123456789abcd";

    let run = |dir: &Path, format: LogFormat, request_log: bool| {
        let logs = start(
            &config(dir, |c| {
                c.log_format = format;
                c.request_log = request_log;
            }),
            Options::default(),
        );
        let mut cap = logs.capture();
        cap.client_request(
            &request(
                &format!("/v1beta/models/g:generateContent?key={ACCOUNT}&alt=sse"),
                &[
                    ("authorization", &format!("Bearer {CLIENT}")),
                    ("x-api-key", CLIENT),
                    ("cookie", COOKIE),
                    ("x-management-key", MGMT),
                    ("proxy-authorization", "Basic dXNlcjpTRUNSRVQ6U0VDUkVUU0VDUkVU"),
                ],
            ),
            format!(
                "{{\"model\":\"m\",\"password\":\"pw-SECRET-hunter2\",\"nested\":{{\"refresh_token\":\"{REFRESH}\"}}}}"
            )
            .as_bytes(),
        );
        cap.upstream_request(
            0,
            &request(
                &format!("/v1beta/models/g:streamGenerateContent?key={ACCOUNT}&access_token={QTOKEN}"),
                &[
                    ("x-goog-api-key", ACCOUNT),
                    ("authorization", &format!("Bearer {OAUTH}")),
                ],
            ),
            b"{\"contents\":[],\"client_secret\":\"GOCSPX-SECRET0123456789\",\"id_token\":\"eyJSECRET\"}",
        );
        cap.upstream_response(0, &response(401, &[("set-cookie", COOKIE)]));
        cap.upstream_body(
            0,
            format!("{{\"error\":{{\"message\":\"API key not valid: {ACCOUNT}\"}}}}").as_bytes(),
        );
        cap.client_response(&response(401, &[]));
        cap.client_body(format!("{{\"error\":\"Invalid API key: {CLIENT}\"}}").as_bytes());
        logs.exchange("req-secret", 401, true, cap);
        logs.access(AccessRecord {
            path: format!("/v1beta/models/g:generateContent?key={ACCOUNT}"),
            cause: format!("upstream rejected Bearer {OAUTH}"),
            model_asked: CLIENT.into(),
            model_sent: ACCOUNT.into(),
            request_id: OAUTH.into(),
            client_key_id: "3f2a".into(),
            ..access_sample()
        });
        emit(&logs, || {
            tracing::warn!(url = %format!("https://h/x?key={ACCOUNT}"), "refresh failed: {{\"refresh_token\":\"{REFRESH}\"}}");
            tracing::info!(header = ?("authorization", format!("Bearer {OAUTH}")), "sending");
            tracing::info!("x-api-key={CLIENT} access_token={QTOKEN}");
        });
        logs
    };

    let text = TempDir::new("secrets-text");
    let json = TempDir::new("secrets-json");
    run(&text.0, LogFormat::Text, true);
    run(&json.0, LogFormat::Json, false);
    let files: Vec<PathBuf> = all_files(&text.0)
        .into_iter()
        .chain(all_files(&json.0))
        .collect();
    let produced: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(&text.0)
                .or_else(|_| p.strip_prefix(&json.0))
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    // Text: main.log and one request log; JSON: main.log and one error log.
    assert_eq!(files.len(), 4, "{produced:?}");
    assert!(
        produced.iter().any(|p| p.starts_with("requests/")),
        "{produced:?}"
    );
    assert!(
        produced.iter().any(|p| p.starts_with("error-")),
        "{produced:?}"
    );
    for path in &files {
        let content = read(path);
        assert!(
            content.contains("****"),
            "{}: nothing masked?\n{content}",
            path.display()
        );
        assert!(
            !content.contains("SECRET"),
            "{}:\n{content}",
            path.display()
        );
    }
    let json_main = read(&json.0.join("main.log"));
    for line in json_main.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}
