//! Every `*.yaml` under `deploy/` loads without a single problem or warning (STYLE §9). The
//! folder is walked, so a new example file is covered without touching this test
//! (`deploy/kubernetes/` excepted: manifests). The
//! quickstart config must also give the four mock accounts the quickstart documents.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use std::path::{Path, PathBuf};

use switchyard_conf::{load_file, Loaded, ProviderKind};

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // deploy/kubernetes/ holds Kubernetes manifests, not configs; the config inside its
            // ConfigMap is rendered and checked by tests/e2e/test_deploy.py.
            if path.file_name().is_some_and(|n| n == "kubernetes") {
                continue;
            }
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

fn load(path: &Path) -> Loaded {
    match load_file(path) {
        Ok(loaded) => loaded,
        Err(problems) => panic!("{}: {problems:#?}", path.display()),
    }
}

#[test]
fn every_deploy_config_loads_cleanly() {
    let mut files = Vec::new();
    yaml_files(&deploy_dir(), &mut files);
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"quickstart.yaml".to_owned()), "{names:?}");
    assert!(
        names.contains(&"config.example.yaml".to_owned()),
        "{names:?}"
    );
    for file in &files {
        let loaded = load(file);
        assert!(
            loaded.warnings.is_empty(),
            "{}: {:#?}",
            file.display(),
            loaded.warnings
        );
    }
}

#[test]
fn quickstart_has_one_mock_account_per_kind() {
    let c = load(&deploy_dir().join("quickstart.yaml")).config;
    assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8317));
    assert!(c.api_keys.is_empty());
    // Not ~/.cli-proxy-api: real OAuth accounts logged in there must not join the demo's pool.
    assert_eq!(c.auth_dir, "./target/quickstart-auth");
    let got: Vec<(ProviderKind, &str, &str, &str)> = c
        .accounts
        .iter()
        .map(|a| {
            assert_eq!(a.models.len(), 1, "{}", a.id);
            assert_eq!(a.models[0].alias, a.models[0].name);
            (
                a.kind,
                a.provider_name.as_str(),
                a.base_url.as_str(),
                a.models[0].name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                ProviderKind::Gemini,
                "",
                "http://127.0.0.1:18317",
                "gemini-2.5-flash"
            ),
            (
                ProviderKind::Claude,
                "",
                "http://127.0.0.1:18317",
                "claude-sonnet-4-5"
            ),
            (
                ProviderKind::Codex,
                "",
                "http://127.0.0.1:18317/v1",
                "gpt-5-codex"
            ),
            (
                ProviderKind::OpenAiCompat,
                "mock",
                "http://127.0.0.1:18317/v1",
                "gpt-4o-mini"
            ),
        ]
    );
}
