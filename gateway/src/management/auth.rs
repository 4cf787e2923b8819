//! Who may call the management API: CLIProxyAPI's rules (cliproxyapi.md §7).
//!
//! - No `remote-management.secret-key` and no `MANAGEMENT_PASSWORD`: every route is 404.
//! - Callers other than `127.0.0.1` and `::1` (other loopback addresses count as remote, as
//!   in CLIProxyAPI) get 403 unless `allow-remote: true`; a remote address with 5 failed
//!   attempts is banned for 30 minutes (403).
//! - The key comes as `Authorization: Bearer <key>` (or the bare key) or `X-Management-Key`;
//!   missing: 401 `missing management key`, wrong: 401 `invalid management key`.
//! - It is compared with bcrypt against the hashed secret, or in constant time against
//!   `MANAGEMENT_PASSWORD`. A key bcrypt accepted is remembered (as a SHA-256 of hash and
//!   key, compared in constant time) so a panel's polling does not pay bcrypt every call.
//!
//! The clock is a parameter (tests pass their own `Instant`s).

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use switchyard_conf::{RemoteManagement, Secret};

pub const MAX_FAILURES: u32 = 5;
pub const BAN: Duration = Duration::from_secs(30 * 60);

/// Why a call is refused: status and message (`{"error": message}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// Management is off: the routes do not exist.
    Off,
    Forbidden(String),
    Unauthorized(&'static str),
}

#[derive(Debug, Default)]
struct Attempts {
    failures: u32,
    banned_until: Option<Instant>,
}

/// Failed attempts per address, and the key bcrypt last accepted.
#[derive(Debug, Default)]
pub struct Guard {
    env_password: Option<Secret>,
    attempts: Mutex<HashMap<IpAddr, Attempts>>,
    accepted: Mutex<Option<[u8; 32]>>,
}

/// `127.0.0.1` or `::1` (also IPv4-mapped).
pub fn is_local(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4 == std::net::Ipv4Addr::LOCALHOST,
        IpAddr::V6(v6) => v6 == std::net::Ipv6Addr::LOCALHOST,
    }
}

impl Guard {
    /// `env_password`: `MANAGEMENT_PASSWORD`, when set and not empty.
    pub fn new(env_password: Option<String>) -> Self {
        Self {
            env_password: env_password.filter(|p| !p.is_empty()).map(Secret::new),
            ..Self::default()
        }
    }

    /// Whether management is on: a `secret-key` or `MANAGEMENT_PASSWORD`.
    pub fn is_on(&self, rm: &RemoteManagement) -> bool {
        rm.secret_key.is_some() || self.env_password.is_some()
    }

    /// Admits the call or says why not. `ip`: `None` when the peer is not an IP socket
    /// (treated as remote).
    pub fn check(
        &self,
        rm: &RemoteManagement,
        ip: Option<IpAddr>,
        presented: Option<&str>,
        now: Instant,
    ) -> Result<(), Denied> {
        if !self.is_on(rm) {
            return Err(Denied::Off);
        }
        let local = ip.is_some_and(is_local);
        if !local {
            if let Some(ip) = ip {
                let attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(until) = attempts.get(&ip).and_then(|a| a.banned_until) {
                    if until > now {
                        let left = until.duration_since(now).as_secs().div_ceil(60);
                        return Err(Denied::Forbidden(format!(
                            "IP banned due to too many failed attempts. Try again in {left}m"
                        )));
                    }
                }
            }
            if !rm.allow_remote {
                return Err(Denied::Forbidden("remote management disabled".into()));
            }
        }
        let verdict = match presented.map(str::trim).filter(|k| !k.is_empty()) {
            None => Err(Denied::Unauthorized("missing management key")),
            Some(key) if self.valid(rm, key) => Ok(()),
            Some(_) => Err(Denied::Unauthorized("invalid management key")),
        };
        if let (false, Some(ip)) = (local, ip) {
            let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
            match verdict {
                Ok(()) => {
                    attempts.remove(&ip);
                }
                Err(_) => {
                    let a = attempts.entry(ip).or_default();
                    if a.banned_until.is_some_and(|u| u <= now) {
                        *a = Attempts::default();
                    }
                    a.failures += 1;
                    if a.failures >= MAX_FAILURES {
                        a.failures = 0;
                        a.banned_until = Some(now + BAN);
                    }
                }
            }
        }
        verdict
    }

    fn valid(&self, rm: &RemoteManagement, key: &str) -> bool {
        if let Some(p) = &self.env_password {
            if bool::from(p.expose().as_bytes().ct_eq(key.as_bytes())) {
                return true;
            }
        }
        let Some(hash) = rm.secret_key.as_ref().map(Secret::expose) else {
            return false;
        };
        let mut d = Sha256::new();
        d.update(hash.as_bytes());
        d.update([0]);
        d.update(key.as_bytes());
        let digest: [u8; 32] = d.finalize().into();
        let mut accepted = self.accepted.lock().unwrap_or_else(|p| p.into_inner());
        if accepted.is_some_and(|a| bool::from(a.ct_eq(&digest))) {
            return true;
        }
        let ok = bcrypt::verify(key, hash).unwrap_or(false);
        if ok {
            *accepted = Some(digest);
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rm(secret: &str, allow_remote: bool) -> RemoteManagement {
        RemoteManagement {
            secret_key: Some(Secret::new(bcrypt::hash(secret, 4).unwrap())),
            allow_remote,
            ..RemoteManagement::default()
        }
    }

    const LOCAL: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    fn remote() -> Option<IpAddr> {
        Some("10.0.0.7".parse().unwrap())
    }

    #[test]
    fn off_without_a_secret_unless_the_environment_has_one() {
        let g = Guard::new(None);
        let now = Instant::now();
        let off = RemoteManagement::default();
        assert_eq!(g.check(&off, LOCAL, Some("x"), now), Err(Denied::Off));
        let g = Guard::new(Some("envpw".into()));
        assert_eq!(g.check(&off, LOCAL, Some("envpw"), now), Ok(()));
        assert_eq!(
            g.check(&off, LOCAL, Some("nope"), now),
            Err(Denied::Unauthorized("invalid management key"))
        );
    }

    #[test]
    fn local_keys_missing_wrong_and_right() {
        let g = Guard::new(None);
        let rm = rm("s3cret", false);
        let now = Instant::now();
        assert_eq!(
            g.check(&rm, LOCAL, None, now),
            Err(Denied::Unauthorized("missing management key"))
        );
        assert_eq!(
            g.check(&rm, LOCAL, Some("wrong"), now),
            Err(Denied::Unauthorized("invalid management key"))
        );
        assert_eq!(g.check(&rm, LOCAL, Some("s3cret"), now), Ok(()));
        assert_eq!(g.check(&rm, LOCAL, Some("s3cret"), now), Ok(()), "cached");
        // Local callers are never banned.
        for _ in 0..10 {
            let _ = g.check(&rm, LOCAL, Some("wrong"), now);
        }
        assert_eq!(g.check(&rm, LOCAL, Some("s3cret"), now), Ok(()));
    }

    #[test]
    fn remote_callers_need_allow_remote_and_are_banned_after_five_failures() {
        let g = Guard::new(None);
        let now = Instant::now();
        assert_eq!(
            g.check(&rm("k", false), remote(), Some("k"), now),
            Err(Denied::Forbidden("remote management disabled".into()))
        );
        let rm = rm("k", true);
        assert_eq!(g.check(&rm, remote(), Some("k"), now), Ok(()));
        for _ in 0..MAX_FAILURES {
            assert_eq!(
                g.check(&rm, remote(), Some("bad"), now),
                Err(Denied::Unauthorized("invalid management key"))
            );
        }
        let banned = g.check(&rm, remote(), Some("k"), now);
        assert_eq!(
            banned,
            Err(Denied::Forbidden(
                "IP banned due to too many failed attempts. Try again in 30m".into()
            ))
        );
        assert_eq!(
            g.check(&rm, Some("10.0.0.8".parse().unwrap()), Some("k"), now),
            Ok(()),
            "another address is not banned"
        );
        let later = now + BAN + Duration::from_secs(1);
        assert_eq!(g.check(&rm, remote(), Some("k"), later), Ok(()));
        assert!(is_local("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_local("127.0.0.2".parse().unwrap()));
    }
}
