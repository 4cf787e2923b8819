//! Switchyard: an LLM API gateway on Pingora. This crate is the Pingora service and the
//! `switchyard` binary; protocol conversion lives in `switchyard-translators`, config in
//! `switchyard-conf`, OAuth accounts in `switchyard-auth`.

pub mod accounts;
pub mod body;
pub mod bootstrap;
pub mod claude_oauth;
pub mod client_auth;
pub mod codeassist;
pub mod ctx;
pub mod dns;
pub mod errors;
pub mod health;
pub mod json_path;
pub mod local;
pub mod oauth;
pub mod oauth_models;
pub mod oauth_openai;
pub mod payload;
pub mod phases;
pub mod pool;
pub mod protocol;
pub mod proxy;
pub mod reload;
pub mod response_headers;
pub mod routing;
pub mod runtime;
pub mod server;
pub mod time;
pub mod translate;
pub mod upstream_proxy;
pub mod vertex;
