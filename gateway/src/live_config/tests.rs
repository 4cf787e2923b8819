use super::*;
use crate::reload::RuntimeHolder;
use crate::runtime::Runtime;
use std::os::unix::fs::PermissionsExt;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn setup(name: &str, text: &str) -> (Dir, Arc<LiveConfig>, Arc<RuntimeHolder>) {
    let dir = std::env::temp_dir().join(format!("switchyard-live-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("auth")).unwrap();
    let path = dir.join("config.yaml");
    let text = format!(
        "auth-dir: {:?}\nlogs-dir: {:?}\n{text}",
        dir.join("auth"),
        dir.join("logs")
    );
    std::fs::write(&path, &text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let config = switchyard_conf::load_str(&text).unwrap().config;
    let refresher = crate::channels::oauth::new_refresher(&config).unwrap();
    let rt = Runtime::build_with(&config, refresher.clone()).unwrap();
    let holder = Arc::new(RuntimeHolder::new(rt));
    let reloader = Arc::new(Reloader::new(holder.clone(), config.clone(), refresher));
    let logs = Logs::start(&config, &path).unwrap();
    let live = Arc::new(LiveConfig::new(path, config, reloader, logs));
    (Dir(dir), live, holder)
}

const KEY: &str = "claude-api-key:\n  - api-key: k1\n    base-url: \"http://127.0.0.1:9\"\n";

#[test]
fn a_hand_edit_is_applied_and_a_broken_one_keeps_the_last_good_config() {
    let (_dir, live, holder) = setup("edit", "# keys\napi-keys: [a]\n");
    assert_eq!(
        live.reload(false).unwrap(),
        None,
        "unchanged: nothing to do"
    );
    let text = live.read().unwrap();
    std::fs::write(live.path(), format!("{text}{KEY}")).unwrap();
    let applied = live.reload(false).unwrap().unwrap();
    assert_eq!(applied.accounts, 1);
    assert_eq!(holder.load().accounts[0].id, "claude-api-key[0]");
    let good = holder.load();

    std::fs::write(live.path(), format!("{text}{KEY}port: 99999\nbogus: 1\n")).unwrap();
    let err = live.reload(false).unwrap_err().to_string();
    assert!(
        err.contains("port: ") && err.contains("bogus: unknown key"),
        "{err}"
    );
    assert!(
        Arc::ptr_eq(&holder.load(), &good),
        "the last good snapshot stays"
    );
    assert_eq!(live.current().accounts.len(), 1);
    assert_eq!(
        live.reload(false).unwrap(),
        None,
        "a refused file is not retried every tick"
    );
}

#[test]
fn writes_are_validated_atomic_and_keep_mode_and_comments() {
    let (_dir, live, holder) = setup("write", "# keys\napi-keys: [a] # team\n");
    let before = live.read().unwrap();
    let err = live.write("api-keys: [a\n").unwrap_err();
    assert!(matches!(err, ConfigError::Invalid(_)), "{err}");
    assert_eq!(live.read().unwrap(), before, "nothing written");

    let applied = live
        .update(|t| switchyard_conf::edit::set(t, &["port"], Some(&serde_json::json!(9999))))
        .unwrap()
        .unwrap();
    assert_eq!(applied.at_restart, ["port"]);
    let after = live.read().unwrap();
    assert_eq!(after, format!("{before}port: 9999\n"));
    let mode = std::fs::metadata(live.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
    assert_eq!(
        live.reload(false).unwrap(),
        None,
        "our own write is not applied twice"
    );

    live.update(|t| {
        switchyard_conf::edit::set(
            t,
            &["claude-api-key"],
            Some(&serde_json::json!([{"api-key": "k", "base-url": "http://127.0.0.1:9"}])),
        )
    })
    .unwrap()
    .unwrap();
    assert_eq!(holder.load().accounts.len(), 1);
    let leftovers: Vec<_> = std::fs::read_dir(live.path().parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_plaintext_management_secret_is_hashed_into_the_file() {
    let (_dir, live, _) = setup(
        "secret",
        "remote-management:\n  # the panel's password\n  secret-key: \"pw-1\" # set by ops\n",
    );
    live.reload(true).unwrap().unwrap();
    let text = live.read().unwrap();
    assert!(
        text.contains("  # the panel's password\n  secret-key: \"$2"),
        "{text}"
    );
    assert!(text.contains("\" # set by ops\n"), "{text}");
    let rm = &live.current().remote_management;
    assert!(rm.secret_is_hashed());
    let hash = rm.secret_key.as_ref().unwrap().expose().to_owned();
    assert!(bcrypt::verify("pw-1", &hash).unwrap());
    // A hash stays as it is.
    live.reload(true).unwrap().unwrap();
    assert_eq!(live.read().unwrap(), text);
}

#[test]
fn the_watcher_applies_a_file_only_once_it_reads_the_same_twice() {
    let (_dir, live, holder) = setup("settle", &format!("api-keys: [a]\n{KEY}"));
    let good = holder.load();
    let mut settling = Settling::default();
    assert_eq!(live.reload_settled(&mut settling).unwrap(), None);
    // Half written in place: the accounts are not there yet. Never applied.
    let text = live.read().unwrap();
    std::fs::write(live.path(), &text[..text.find("claude-api-key").unwrap()]).unwrap();
    assert_eq!(live.reload_settled(&mut settling).unwrap(), None);
    assert!(Arc::ptr_eq(&holder.load(), &good));
    // The rest lands before the next tick: the whole file settles and is applied.
    std::fs::write(live.path(), format!("{text}debug: true\n")).unwrap();
    assert_eq!(live.reload_settled(&mut settling).unwrap(), None);
    assert!(Arc::ptr_eq(&holder.load(), &good));
    let applied = live.reload_settled(&mut settling).unwrap().unwrap();
    assert_eq!(applied.accounts, 1);
    assert!(live.current().debug);
    assert_eq!(live.reload_settled(&mut settling).unwrap(), None);
}
