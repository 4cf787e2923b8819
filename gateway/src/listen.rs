//! Start-up that tells the truth: everything that would leave the process up but useless is
//! checked before Pingora starts, and reported as one line (`serve` prints it and exits 1).
//!
//! - the auth directory is created (0700) and must be writable (refresh rewrites token files);
//! - the TLS certificate and key must load ([`crate::tls_reload`]);
//! - the port must be free, and so must `metrics.listen` ([`check_free`]). Pingora 0.9.1 binds inside its listener task, retries an address in
//!   use for 30 s and then panics there, which leaves a process without a listener; a probe
//!   bind here catches the common case, and [`exit_on_listener_panic`] turns the rest (a race
//!   with another process) into the same one line and exit code.
//!
//! `host: ""` listens on `[::]` with `IPV6_V6ONLY` off (IPv4 and IPv6), or on `0.0.0.0` when
//! the host has no IPv6. With `serve --upgrade` the sockets come from the running process
//! over the upgrade socket (Pingora's hand-over), so nothing is bound here; the probe only
//! checks that something listens there to take over.

use pingora_core::listeners::TcpSocketOptions;
use std::io::{ErrorKind, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use switchyard_conf::Config;

/// How `serve` was asked to start.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Take the listening sockets from the running process (`serve --upgrade`).
    pub upgrade: bool,
    /// The Unix socket the hand-over goes through; `None`: [`default_upgrade_socket`].
    pub upgrade_socket: Option<PathBuf>,
}

/// Where this process listens.
#[derive(Debug, Clone)]
pub struct ListenPlan {
    /// Pingora's address string (also the key of a handed-over socket).
    pub addr: String,
    /// Socket options (dual-stack for `host: ""`).
    pub options: Option<TcpSocketOptions>,
}

/// The upgrade socket when none is given: one per port, so two gateways on one host (or two
/// test runs) never hand their sockets to each other.
pub fn default_upgrade_socket(port: u16) -> PathBuf {
    std::env::temp_dir().join(format!("switchyard-{port}.upgrade.sock"))
}

/// The upgrade socket `serve` uses with these options.
pub fn upgrade_socket(config: &Config, opts: &ServeOptions) -> PathBuf {
    opts.upgrade_socket
        .clone()
        .unwrap_or_else(|| default_upgrade_socket(config.port))
}

/// Why the gateway cannot start listening (printed as one line before exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("auth-dir {}: cannot create it: {source}", dir.display())]
    AuthDirCreate {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("auth-dir {}: not writable: {source}", dir.display())]
    AuthDirWrite {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {shown}:{port}: the port is in use (another process listens there)")]
    PortInUse { shown: String, port: u16 },
    #[error(
        "cannot listen on {shown}:{port}: permission denied (ports below 1024 need a privilege)"
    )]
    PortDenied { shown: String, port: u16 },
    #[error("cannot listen on {shown}:{port}: {source}")]
    Bind {
        shown: String,
        port: u16,
        source: std::io::Error,
    },
    /// Another listener of the gateway (`metrics.listen`) cannot be bound.
    #[error("{what}: {cause}")]
    Listener {
        what: &'static str,
        cause: Box<StartupError>,
    },
    #[error("{what}: {addr:?} is not host:port")]
    NotHostPort { what: &'static str, addr: String },
    #[error("serve --upgrade: nothing listens on {addr} to take over (start without --upgrade)")]
    NothingToTakeOver { addr: String },
    /// A thread the gateway needs could not start.
    #[error("{what}: {source}")]
    Thread {
        what: &'static str,
        source: std::io::Error,
    },
}

/// Creates `auth-dir` (0700) when missing and checks that a file can be written in it.
pub fn prepare_auth_dir(dir: &Path) -> Result<(), StartupError> {
    if !dir.is_dir() {
        create_private_dir(dir).map_err(|source| StartupError::AuthDirCreate {
            dir: dir.to_owned(),
            source,
        })?;
    }
    let probe = dir.join(format!(".switchyard-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|source| StartupError::AuthDirWrite {
            dir: dir.to_owned(),
            source,
        })
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// The address to listen on, checked to be free unless the sockets are handed over.
pub fn plan(config: &Config, upgrade: bool) -> Result<ListenPlan, StartupError> {
    let port = config.port;
    if config.host.is_empty() {
        let mut dual = TcpSocketOptions::default();
        dual.ipv6_only = Some(false);
        let v6 = ListenPlan {
            addr: format!("[::]:{port}"),
            options: Some(dual),
        };
        if upgrade {
            return taken_over(v6, "[::]", port).or_else(|_| {
                taken_over(
                    ListenPlan {
                        addr: format!("0.0.0.0:{port}"),
                        options: None,
                    },
                    "0.0.0.0",
                    port,
                )
            });
        }
        return match probe("[::]", port) {
            Ok(()) => Ok(v6),
            // No IPv6 on this host (a container without it, ipv6.disable=1): IPv4 only.
            Err(e) if e.kind() != ErrorKind::AddrInUse => {
                probe("0.0.0.0", port).map_err(|e| bind_error("", port, e))?;
                Ok(ListenPlan {
                    addr: format!("0.0.0.0:{port}"),
                    options: None,
                })
            }
            Err(e) => Err(bind_error("", port, e)),
        };
    }
    let host = config.host.as_str();
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let plan = ListenPlan {
        addr: format!("{host}:{port}"),
        options: None,
    };
    if upgrade {
        return taken_over(plan, &host, port);
    }
    probe(&host, port).map_err(|e| bind_error(&host, port, e))?;
    Ok(plan)
}

/// Checks that a `host:port` listener of another service (`metrics.listen`) is free, with
/// the main port's message prefixed by `what`. Nothing is checked with `upgrade`: the running
/// gateway hands that socket over too.
pub fn check_free(what: &'static str, addr: &str, upgrade: bool) -> Result<(), StartupError> {
    if upgrade {
        return Ok(());
    }
    let (host, port) = addr
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        .ok_or_else(|| StartupError::NotHostPort {
            what,
            addr: addr.to_owned(),
        })?;
    probe(host, port).map_err(|e| StartupError::Listener {
        what,
        cause: Box::new(bind_error(host, port, e)),
    })
}

/// `serve --upgrade` takes the socket of a running gateway: something must listen there.
fn taken_over(plan: ListenPlan, host: &str, port: u16) -> Result<ListenPlan, StartupError> {
    match probe(host, port) {
        Err(e) if e.kind() == ErrorKind::AddrInUse => Ok(plan),
        _ => Err(StartupError::NothingToTakeOver { addr: plan.addr }),
    }
}

/// Binds and listens (std sets `SO_REUSEADDR`, as Pingora does), then closes again.
fn probe(host: &str, port: u16) -> std::io::Result<()> {
    TcpListener::bind(format!("{host}:{port}")).map(drop)
}

fn bind_error(host: &str, port: u16, e: std::io::Error) -> StartupError {
    let shown = if host.is_empty() { "*" } else { host }.to_owned();
    match e.kind() {
        ErrorKind::AddrInUse => StartupError::PortInUse { shown, port },
        ErrorKind::PermissionDenied => StartupError::PortDenied { shown, port },
        _ => StartupError::Bind {
            shown,
            port,
            source: e,
        },
    }
}

/// Pingora builds its listeners inside a service task and panics there when that fails
/// (`Failed to build listeners`), which would leave the process running without a listener.
/// This hook turns that panic into one line on stderr and exit code 1; every other panic
/// goes to the previous hook unchanged.
pub fn exit_on_listener_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if let Some(rest) = msg.strip_prefix("Failed to build listeners") {
            let why = rest.trim_start_matches([':', ' ']);
            let first = why.lines().next().unwrap_or(why);
            let _ = writeln!(std::io::stderr(), "error: cannot listen: {first}");
            std::process::exit(1);
        }
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(host: &str, port: u16) -> Config {
        let mut c = switchyard_conf::load_str("")
            .map(|l| l.config)
            .unwrap_or_else(|p| panic!("{p:?}"));
        c.host = host.into();
        c.port = port;
        c
    }

    #[test]
    fn a_port_in_use_is_one_clear_error() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let e = plan(&config("127.0.0.1", port), false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!("cannot listen on 127.0.0.1:{port}: the port is in use (another process listens there)")
        );
        // With --upgrade the socket comes from the running process: no probe.
        assert_eq!(
            plan(&config("127.0.0.1", port), true).unwrap().addr,
            format!("127.0.0.1:{port}")
        );
    }

    #[test]
    fn a_metrics_port_in_use_is_the_same_clear_error() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = held.local_addr().unwrap().to_string();
        let port = held.local_addr().unwrap().port();
        assert_eq!(
            check_free("metrics.listen", &addr, false)
                .unwrap_err()
                .to_string(),
            format!("metrics.listen: cannot listen on 127.0.0.1:{port}: the port is in use (another process listens there)")
        );
        assert!(check_free("metrics.listen", &addr, true).is_ok());
        drop(held);
        assert!(check_free("metrics.listen", &addr, false).is_ok());
        assert!(check_free("metrics.listen", "9464", false)
            .unwrap_err()
            .to_string()
            .contains("not host:port"));
    }

    #[test]
    fn empty_host_is_dual_stack_when_the_host_has_ipv6() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let p = plan(&config("", port), false).unwrap();
        if TcpListener::bind("[::1]:0").is_ok() {
            assert_eq!(p.addr, format!("[::]:{port}"));
            assert_eq!(p.options.and_then(|o| o.ipv6_only), Some(false));
        } else {
            assert_eq!(p.addr, format!("0.0.0.0:{port}"));
        }
    }

    #[test]
    fn ipv6_literals_get_brackets() {
        let Ok(held) = TcpListener::bind("[::1]:0") else {
            return; // no IPv6 on this host
        };
        let port = held.local_addr().unwrap().port();
        let e = plan(&config("::1", port), false).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "cannot listen on [::1]:{port}: the port is in use"
            )),
            "{e}"
        );
        assert_eq!(
            plan(&config("::1", port), true).unwrap().addr,
            format!("[::1]:{port}")
        );
    }

    #[test]
    fn upgrade_needs_a_running_gateway() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert_eq!(
            plan(&config("127.0.0.1", port), true)
                .unwrap_err()
                .to_string(),
            format!("serve --upgrade: nothing listens on 127.0.0.1:{port} to take over (start without --upgrade)")
        );
    }

    #[test]
    fn auth_dir_is_created_private_or_refused() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = std::env::temp_dir().join(format!("sy-listen-{}", std::process::id()));
        let dir = tmp.join("a/b");
        prepare_auth_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        // A path under a regular file cannot be a directory.
        std::fs::write(tmp.join("file"), b"").unwrap();
        let e = prepare_auth_dir(&tmp.join("file/sub"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("auth-dir ") && e.contains("cannot create it"),
            "{e}"
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
