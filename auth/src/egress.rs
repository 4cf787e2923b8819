//! The auth crate's outbound HTTP: which proxy a login, token exchange, refresh or onboarding
//! call goes through ([`Route`]), and the reqwest client for it ([`client`], cached per route
//! by [`Clients`]), trusting the certificates upstream requests trust.
//!
//! Contract:
//! - Route: an auth file's `proxy_url` wins, else the global `proxy-url`, else none. Values are
//!   parsed by conf's [`switchyard_conf::parse_proxy_url`], the parser behind the gateway's
//!   upstream proxies, so `http://`, `https://`, `socks5://` and `socks5h://` mean the same
//!   here as for upstream requests, and `direct` / `none` mean no proxy, not even the global
//!   one. A configured choice (a proxy, or `direct`) turns off reqwest's environment proxies
//!   (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`); with nothing configured they apply
//!   as reqwest reads them ([`Route::Environment`]).
//! - Trust: the bundled webpki roots plus the platform's roots, or the files named by
//!   `SSL_CERT_FILE` / `SSL_CERT_DIR` when set (rustls-native-certs, the loader Pingora uses
//!   for upstream TLS). The bundled roots stay so a host without a CA bundle (a scratch
//!   container) can still reach the public providers.
//! - Clients: rustls, redirects off (the oauth2 crate's advice), a 30 s timeout.
//! - Errors and `Display` name a proxy as `scheme://host:port`, never its credentials.

use crate::error::AuthError;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, RwLock};
use std::time::Duration;
use switchyard_conf::{ProxySetting, ProxyUrl};

/// How an auth call reaches the network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Route {
    /// No `proxy-url` anywhere: reqwest's environment proxies apply.
    #[default]
    Environment,
    /// `direct` / `none`: no proxy at all, environment proxies ignored.
    Direct,
    Via(ProxyUrl),
}

impl Route {
    /// The route of an account: the file's `proxy_url`, else `global`, else
    /// [`Route::Environment`]. An empty value counts as absent.
    pub fn choose(file: Option<&str>, global: Option<&str>) -> Result<Self, AuthError> {
        if let Some(own) = setting(file, "the auth file's proxy_url")? {
            return Ok(own);
        }
        Ok(setting(global, "proxy-url")?.unwrap_or_default())
    }

    /// The route of a call that belongs to no account yet (a login): the global `proxy-url`.
    pub fn global(global: Option<&str>) -> Result<Self, AuthError> {
        Self::choose(None, global)
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Environment => f.write_str("environment proxies"),
            Self::Direct => f.write_str("direct"),
            Self::Via(url) => f.write_str(&url.display()),
        }
    }
}

fn setting(value: Option<&str>, what: &str) -> Result<Option<Route>, AuthError> {
    let value = value.map(str::trim).unwrap_or_default();
    match switchyard_conf::parse_proxy_url(value) {
        Ok(None) => Ok(None),
        Ok(Some(ProxySetting::Direct)) => Ok(Some(Route::Direct)),
        Ok(Some(ProxySetting::Via(url))) => Ok(Some(Route::Via(url))),
        Err(e) => Err(AuthError::Config(format!("{what}: {e}"))),
    }
}

/// `headers` as a header map (names and values checked).
pub fn header_map(headers: &[(&str, String)]) -> Result<reqwest::header::HeaderMap, AuthError> {
    let mut map = reqwest::header::HeaderMap::new();
    for (k, v) in headers {
        let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| AuthError::Config(format!("bad header name {k:?}")))?;
        let value = reqwest::header::HeaderValue::from_str(v)
            .map_err(|_| AuthError::Config(format!("bad value for header {k}")))?;
        map.insert(name, value);
    }
    Ok(map)
}

/// A client for `route`, sending `headers` with every request (Kimi's `X-Msh-*` device
/// headers during its login).
pub fn client(route: &Route, headers: &[(&str, String)]) -> Result<reqwest::Client, AuthError> {
    let map = header_map(headers)?;
    let mut b = reqwest::Client::builder()
        .default_headers(map)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30));
    for der in platform_roots()? {
        b = b.add_root_certificate(
            reqwest::Certificate::from_der(&der)
                .map_err(|e| AuthError::Config(format!("a platform CA certificate: {e}")))?,
        );
    }
    b = match route {
        Route::Environment => b,
        Route::Direct => b.no_proxy(),
        Route::Via(url) => b.proxy(proxy(url)?),
    };
    b.build()
        .map_err(|e| AuthError::Config(format!("HTTP client ({route}): {}", chain(&e))))
}

/// The platform's CA certificates, or those of `SSL_CERT_FILE` / `SSL_CERT_DIR` when set.
fn platform_roots() -> Result<Vec<Vec<u8>>, AuthError> {
    let certs = rustls_native_certs::load_native_certs()
        .map_err(|e| AuthError::Config(format!("loading CA certificates: {e}")))?;
    Ok(certs.into_iter().map(|c| c.as_ref().to_vec()).collect())
}

/// `url` as a reqwest proxy; credentials go in the URL's userinfo (percent-encoded by
/// `Url`), where reqwest reads them for Basic auth and for SOCKS5.
fn proxy(url: &ProxyUrl) -> Result<reqwest::Proxy, AuthError> {
    let bad = || AuthError::Config(format!("proxy {} is not a valid URL", url.display()));
    let mut u = reqwest::Url::parse(&url.display()).map_err(|_| bad())?;
    if let Some(c) = &url.credentials {
        u.set_username(&c.username).map_err(|()| bad())?;
        u.set_password(Some(c.password.expose()))
            .map_err(|()| bad())?;
    }
    // reqwest reads the scheme as conf does: `socks5` resolves the upstream name here,
    // `socks5h` at the proxy; `https` is TLS to the proxy, then CONNECT.
    reqwest::Proxy::all(u).map_err(|_| bad())
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}

/// One client per route, built on first use: the refresh service's clients. The global
/// `proxy-url` can change (config reload); per-file routes come with each call.
#[derive(Debug, Default)]
pub struct Clients {
    global: RwLock<Option<String>>,
    built: Mutex<HashMap<Route, reqwest::Client>>,
}

impl Clients {
    pub fn new(global: Option<&str>) -> Self {
        Self {
            global: RwLock::new(global.map(str::to_owned)),
            built: Mutex::default(),
        }
    }

    /// Takes the global `proxy-url` of a reloaded config. Clients already built stay cached
    /// (they are keyed by route, not by where the route came from).
    pub fn set_global(&self, global: Option<&str>) {
        *self
            .global
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = global.map(str::to_owned);
    }

    /// The route of an account whose file says `file_proxy`.
    pub fn route(&self, file_proxy: Option<&str>) -> Result<Route, AuthError> {
        let global = self
            .global
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Route::choose(file_proxy, global.as_deref())
    }

    /// The client for `route`, built once.
    pub fn get(&self, route: &Route) -> Result<reqwest::Client, AuthError> {
        let mut built = self
            .built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = built.get(route) {
            return Ok(c.clone());
        }
        let c = client(route, &[])?;
        built.insert(route.clone(), c.clone());
        Ok(c)
    }

    #[cfg(test)]
    fn built_count(&self) -> usize {
        self.built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via(s: &str) -> Route {
        match switchyard_conf::parse_proxy_url(s) {
            Ok(Some(ProxySetting::Via(u))) => Route::Via(u),
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn the_file_wins_then_the_global_then_the_environment() {
        let file = Some("socks5://127.0.0.1:1080");
        let global = Some("http://proxy.corp:3128");
        assert_eq!(
            Route::choose(file, global).unwrap(),
            via("socks5://127.0.0.1:1080")
        );
        assert_eq!(
            Route::choose(None, global).unwrap(),
            via("http://proxy.corp:3128")
        );
        assert_eq!(
            Route::choose(Some(""), global).unwrap(),
            via("http://proxy.corp:3128")
        );
        assert_eq!(Route::choose(None, None).unwrap(), Route::Environment);
        assert_eq!(Route::choose(None, Some("")).unwrap(), Route::Environment);
        assert_eq!(
            Route::global(global).unwrap(),
            via("http://proxy.corp:3128")
        );
    }

    #[test]
    fn direct_in_the_file_overrides_the_global_proxy() {
        let global = Some("http://proxy.corp:3128");
        assert_eq!(
            Route::choose(Some("direct"), global).unwrap(),
            Route::Direct
        );
        assert_eq!(Route::choose(Some("NONE"), global).unwrap(), Route::Direct);
        assert_eq!(Route::choose(None, Some("none")).unwrap(), Route::Direct);
        // A file's proxy still wins over a global `direct`.
        assert_eq!(
            Route::choose(Some("https://p:8443"), Some("direct")).unwrap(),
            via("https://p:8443")
        );
    }

    #[test]
    fn a_bad_value_is_an_error_that_hides_the_password() {
        let e = Route::choose(Some("ftp://u:secret@h"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("the auth file's proxy_url"), "{e}");
        assert!(!e.contains("secret"), "{e}");
        // Never a silent fallback to the global proxy or to a direct connection.
        assert!(Route::choose(Some("http://h:0"), Some("http://ok:1")).is_err());
        let shown = via("socks5h://u:secret@[::1]:9050").to_string();
        assert_eq!(shown, "socks5h://[::1]:9050");
    }

    #[test]
    fn clients_are_built_once_per_route() {
        let c = Clients::new(Some("http://127.0.0.1:3128"));
        let global = c.route(None).unwrap();
        assert_eq!(global, via("http://127.0.0.1:3128"));
        let own = c.route(Some("socks5://u:p@127.0.0.1:1080")).unwrap();
        for _ in 0..3 {
            c.get(&global).unwrap();
            c.get(&own).unwrap();
        }
        assert_eq!(c.built_count(), 2);
        c.set_global(Some("direct"));
        assert_eq!(c.route(None).unwrap(), Route::Direct);
        assert_eq!(c.route(Some("socks5://u:p@127.0.0.1:1080")).unwrap(), own);
        c.set_global(None);
        assert_eq!(c.route(None).unwrap(), Route::Environment);
    }
}
