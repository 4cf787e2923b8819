//! The control panel: `GET /management.html` on the main port. One self-contained page
//! (`panel.html`: inline CSS and vanilla JS, an inline SVG chart, nothing fetched from
//! elsewhere) built into the binary, so it works offline and needs no update.
//!
//! The page itself is public, as CLIProxyAPI's is: it holds no data. Every call it makes goes
//! to `/v0/management` with the key the operator types (kept in `sessionStorage`) and meets
//! that API's rules (`auth.rs`). The page answers 404 when management is off (no
//! `secret-key`, no `MANAGEMENT_PASSWORD`) or with `remote-management.disable-control-panel:
//! true`; both follow reloads. Its Content-Security-Policy allows only the page's own inline
//! script (by hash) and calls to the same origin.

use super::Reply;
use base64::Engine as _;
use sha2::{Digest, Sha256};

pub const PATH: &str = "/management.html";

const PAGE: &str = include_str!("panel.html");

/// The page and the headers it is served with, prepared once.
#[derive(Debug)]
pub struct Panel {
    csp: String,
}

impl Panel {
    pub fn new() -> Self {
        let scripts: Vec<String> = inline_scripts(PAGE)
            .map(|s| {
                let digest = Sha256::digest(s.as_bytes());
                format!(
                    "'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                )
            })
            .collect();
        Self {
            csp: format!(
                "default-src 'none'; script-src {}; style-src 'unsafe-inline'; \
                 connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
                 form-action 'none'; frame-ancestors 'none'",
                scripts.join(" ")
            ),
        }
    }

    /// The answer to a request for [`PATH`]. `on`: management is on and the panel is not
    /// disabled.
    pub(super) fn reply(&self, method: &http::Method, on: bool) -> Reply {
        if !on {
            return Reply::not_found("not found");
        }
        if method != http::Method::GET && method != http::Method::HEAD {
            let mut r = Reply::error(405, "method not allowed");
            r.extra.push(("allow", "GET, HEAD".into()));
            return r;
        }
        Reply {
            status: 200,
            body: PAGE.as_bytes().to_vec(),
            content_type: "text/html; charset=utf-8",
            extra: vec![
                ("content-security-policy", self.csp.clone()),
                ("x-content-type-options", "nosniff".into()),
                ("x-frame-options", "DENY".into()),
                ("referrer-policy", "no-referrer".into()),
            ],
        }
    }
}

impl Default for Panel {
    fn default() -> Self {
        Self::new()
    }
}

/// The text of every `<script>` element without a `src` (the page has no other kind).
fn inline_scripts(page: &str) -> impl Iterator<Item = &str> {
    page.split("<script>")
        .skip(1)
        .filter_map(|rest| rest.find("</script>").map(|end| &rest[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_only_when_on_and_with_a_policy_naming_the_script() {
        let panel = Panel::new();
        assert_eq!(panel.reply(&http::Method::GET, false).status, 404);
        let r = panel.reply(&http::Method::GET, true);
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type, "text/html; charset=utf-8");
        let csp = &r.extra[0].1;
        assert_eq!(csp.matches("'sha256-").count(), 1, "{csp}");
        assert!(!csp.contains("unsafe-eval") && csp.contains("connect-src 'self'"));
        assert_eq!(panel.reply(&http::Method::HEAD, true).status, 200);
        let post = panel.reply(&http::Method::POST, true);
        assert_eq!(post.status, 405);
        assert_eq!(post.extra, vec![("allow", "GET, HEAD".to_owned())]);
    }

    #[test]
    fn the_page_fetches_nothing_from_elsewhere() {
        // Offline: no external script, style, font or image, and one inline script.
        // (The SVG namespace is the one absolute URL in it, and it is never fetched.)
        for needle in [
            " src=",
            "href=\"http",
            "stylesheet",
            "@import",
            "url(",
            "<iframe",
        ] {
            assert!(!PAGE.contains(needle), "panel.html contains {needle:?}");
        }
        assert_eq!(inline_scripts(PAGE).count(), 1);
        assert!(PAGE.starts_with("<!doctype html>"));
    }
}
