//! TLS for the client side: HTTP/2 and HTTP/1.1 offered by ALPN, and a certificate that
//! follows its files. A renewal (certbot, cert-manager) replaces `tls.cert` / `tls.key` on
//! disk; a watcher thread notices (size, modification time, inode) and loads the pair, and the
//! next handshake gets it. Connections already open keep the certificate they started with,
//! nothing restarts. A pair that does not load (half-written, key not matching) is logged and
//! the current certificate stays.

use pingora_core::listeners::tls::TlsSettings;
use pingora_core::tls::sign::CertifiedKey;
use pingora_core::tls::{ClientHello, CryptoProvider, ResolvesServerCert};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// How often the watcher looks at the files (a metadata read of two files).
pub const WATCH_TICK: Duration = Duration::from_secs(1);

/// The certificate the next handshake gets.
#[derive(Debug)]
pub struct ReloadingCert {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadingCert {
    fn get(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set(&self, key: Arc<CertifiedKey>) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = key;
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// Why a certificate and key cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls: {}: {source}", path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "tls: {cert} / {key}: no PEM certificate, or no PEM private key (PKCS#1, PKCS#8, SEC1)"
    )]
    NoPem { cert: String, key: String },
    #[error("tls: {cert} / {key}: {reason}")]
    Invalid {
        cert: String,
        key: String,
        reason: String,
    },
    #[error("tls: no crypto provider")]
    NoProvider,
}

/// Reads and checks a certificate chain and its private key.
pub fn load_pair(cert: &Path, key: &Path) -> Result<Arc<CertifiedKey>, TlsError> {
    pingora_core::tls::install_default_crypto_provider();
    let (c, k) = (cert.to_string_lossy(), key.to_string_lossy());
    for p in [cert, key] {
        std::fs::metadata(p).map_err(|source| TlsError::File {
            path: p.to_owned(),
            source,
        })?;
    }
    let invalid = |reason: String| TlsError::Invalid {
        cert: c.to_string(),
        key: k.to_string(),
        reason,
    };
    let (chain, private) = match pingora_core::tls::load_certs_and_key_files(&c, &k) {
        Ok(Some(pair)) => pair,
        Ok(None) => {
            return Err(TlsError::NoPem {
                cert: c.to_string(),
                key: k.to_string(),
            })
        }
        Err(e) => return Err(invalid(e.to_string())),
    };
    let provider = CryptoProvider::get_default().ok_or(TlsError::NoProvider)?;
    CertifiedKey::from_der(chain, private, provider)
        .map(Arc::new)
        .map_err(|e| invalid(e.to_string()))
}

/// What identifies a version of a file without reading it: size, modification time, inode.
type Stamp = Option<(u64, SystemTime, u64)>;

fn stamp(p: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).ok()?;
    Some((m.len(), m.modified().ok()?, m.ino()))
}

/// Loads the pair now (an error is a start-up failure) and returns Pingora's TLS settings
/// for it: ALPN `h2` then `http/1.1`, certificate from the reloading resolver. The watcher
/// thread starts here and runs for the life of the process.
pub fn settings(cert: &str, key: &str) -> Result<TlsSettings, TlsError> {
    let (cert, key) = (PathBuf::from(cert), PathBuf::from(key));
    let seen = (stamp(&cert), stamp(&key));
    let resolver = Arc::new(ReloadingCert {
        current: RwLock::new(load_pair(&cert, &key)?),
    });
    let mut settings = TlsSettings::intermediate(&cert.to_string_lossy(), &key.to_string_lossy())
        .map_err(|e| TlsError::Invalid {
        cert: cert.to_string_lossy().into_owned(),
        key: key.to_string_lossy().into_owned(),
        reason: e.to_string(),
    })?;
    settings.set_cert_resolver(resolver.clone());
    settings.enable_h2();
    watch(resolver, cert, key, seen, WATCH_TICK);
    Ok(settings)
}

fn watch(
    resolver: Arc<ReloadingCert>,
    cert: PathBuf,
    key: PathBuf,
    seen: (Stamp, Stamp),
    tick: Duration,
) {
    let spawned = std::thread::Builder::new()
        .name("tls-cert-watch".into())
        .spawn(move || {
            let mut seen = seen;
            loop {
                std::thread::sleep(tick);
                let now = (stamp(&cert), stamp(&key));
                if now == seen {
                    continue;
                }
                match load_pair(&cert, &key) {
                    Ok(pair) => {
                        resolver.set(pair);
                        seen = now;
                        tracing::info!(cert = %cert.display(), "tls: certificate reloaded");
                    }
                    // Retried on the next tick: a renewal may be writing the files right now.
                    Err(e) => tracing::warn!("{e} (the current certificate stays)"),
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("tls: certificate watcher not started: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_bad_files_are_one_line_errors() {
        let dir = std::env::temp_dir().join(format!("sy-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = load_pair(&dir.join("nope.pem"), &dir.join("nope.key"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("tls: ") && e.contains("nope.pem"), "{e}");
        assert!(!e.contains('\n'));
        std::fs::write(dir.join("c.pem"), "not pem").unwrap();
        std::fs::write(dir.join("k.pem"), "not pem").unwrap();
        let e = load_pair(&dir.join("c.pem"), &dir.join("k.pem"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no PEM certificate"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
