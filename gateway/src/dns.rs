//! Asynchronous upstream name resolution with a small cache.
//!
//! `HttpPeer::new` resolves names with blocking DNS and panics on failure (pingora.md §9), so
//! peers are always built from a `SocketAddr` resolved here, in `upstream_peer`. IP literals
//! skip resolution; names are cached for 30 s with every address the lookup gave. An attempt
//! uses one address; when it cannot connect, the same account is tried on the next address
//! (`Repeat::Address`) and the address that failed moves to the end of the cached list, so
//! the following requests start with one that works. When an entry expires, one lookup per
//! name runs at a time: the callers that arrive meanwhile wait for it instead of starting their
//! own (a provider's name is asked for by every request).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(30);

type Key = (String, u16);
type Lookup = dyn Fn(String, u16) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>
    + Send
    + Sync;

struct Entry {
    addrs: Arc<[SocketAddr]>,
    at: Instant,
}

pub struct Resolver {
    cache: Mutex<HashMap<Key, Entry>>,
    /// One lock per name whose lookup is running (single flight).
    inflight: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
    lookup: Box<Lookup>,
}

impl Default for Resolver {
    fn default() -> Self {
        Self::with_lookup(|host, port| {
            Box::pin(async move {
                Ok(tokio::net::lookup_host((host.as_str(), port))
                    .await?
                    .collect())
            })
        })
    }
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resolver")
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Resolver {
    /// A resolver with its own lookup function (tests).
    pub fn with_lookup(
        lookup: impl Fn(
                String,
                u16,
            )
                -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        Self {
            cache: Mutex::default(),
            inflight: Mutex::default(),
            lookup: Box::new(lookup),
        }
    }

    /// Every address of `host` (at least one), in the order to try them.
    pub async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Arc<[SocketAddr]>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(Arc::from([SocketAddr::new(ip, port)]));
        }
        let key = (host.to_owned(), port);
        if let Some(addrs) = self.fresh(&key) {
            return Ok(addrs);
        }
        let gate = lock(&self.inflight).entry(key.clone()).or_default().clone();
        let _turn = gate.lock().await;
        // Another caller may have looked it up while this one waited.
        if let Some(addrs) = self.fresh(&key) {
            return Ok(addrs);
        }
        let result = match (self.lookup)(host.to_owned(), port).await {
            Ok(list) if !list.is_empty() => {
                let addrs: Arc<[SocketAddr]> = list.into();
                lock(&self.cache).insert(
                    key.clone(),
                    Entry {
                        addrs: addrs.clone(),
                        at: Instant::now(),
                    },
                );
                Ok(addrs)
            }
            Ok(_) => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{host} has no address"),
            )),
            Err(e) => Err(e),
        };
        lock(&self.inflight).remove(&key);
        result
    }

    fn fresh(&self, key: &Key) -> Option<Arc<[SocketAddr]>> {
        let cache = lock(&self.cache);
        let e = cache.get(key)?;
        (e.at.elapsed() < TTL).then(|| e.addrs.clone())
    }

    /// `addr` of `host` could not be connected to: later requests try it last.
    pub fn demote(&self, host: &str, port: u16, addr: SocketAddr) {
        let mut cache = lock(&self.cache);
        let Some(e) = cache.get_mut(&(host.to_owned(), port)) else {
            return;
        };
        if e.addrs.len() < 2 || e.addrs.last() == Some(&addr) {
            return;
        }
        let mut v: Vec<SocketAddr> = e.addrs.iter().copied().filter(|a| *a != addr).collect();
        if v.len() < e.addrs.len() {
            v.push(addr);
            e.addrs = v.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting(addrs: Vec<SocketAddr>) -> (Arc<Resolver>, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let r = Resolver::with_lookup(move |_, _| {
            c.fetch_add(1, Ordering::SeqCst);
            let addrs = addrs.clone();
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(addrs)
            })
        });
        (Arc::new(r), calls)
    }

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn every_address_is_kept_and_one_lookup_serves_concurrent_callers() {
        let addrs = vec![a("10.0.0.1:443"), a("10.0.0.2:443"), a("[::1]:443")];
        let (r, calls) = counting(addrs.clone());
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let r = r.clone();
                tokio::spawn(async move { r.resolve("api.example", 443).await.unwrap() })
            })
            .collect();
        for t in tasks {
            assert_eq!(&*t.await.unwrap(), &addrs[..]);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one lookup for 20 callers");
        r.resolve("api.example", 443).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1, "cached");
        r.resolve("api.example", 80).await.unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "another port is another entry"
        );
    }

    #[tokio::test]
    async fn a_demoted_address_goes_last() {
        let (r, _) = counting(vec![
            a("10.0.0.1:443"),
            a("10.0.0.2:443"),
            a("10.0.0.3:443"),
        ]);
        r.resolve("h", 443).await.unwrap();
        r.demote("h", 443, a("10.0.0.1:443"));
        let got = r.resolve("h", 443).await.unwrap();
        assert_eq!(
            &*got,
            &[a("10.0.0.2:443"), a("10.0.0.3:443"), a("10.0.0.1:443")]
        );
        r.demote("h", 443, a("10.9.9.9:443"));
        assert_eq!(
            &*r.resolve("h", 443).await.unwrap(),
            &*got,
            "unknown address: no change"
        );
    }

    #[tokio::test]
    async fn literals_skip_the_lookup_and_empty_answers_are_errors() {
        let (r, calls) = counting(vec![]);
        assert_eq!(
            &*r.resolve("127.0.0.1", 8).await.unwrap(),
            &[a("127.0.0.1:8")]
        );
        assert_eq!(&*r.resolve("::1", 8).await.unwrap(), &[a("[::1]:8")]);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        let e = r.resolve("nothing.example", 8).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
        // A failed lookup is not cached: the next caller asks again.
        let _ = r.resolve("nothing.example", 8).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
