//! Kimi's device identity: the `X-Msh-*` headers CLIProxyAPI's Kimi login sends with the
//! device-code and token requests and with every API request of the account. The device id
//! is made once per login and kept in the auth file as `device_id`.
//!
//! Pure apart from reading the host name; no network.

use rand::RngCore;

/// `X-Msh-Platform` and `X-Msh-Version`, as CLIProxyAPI sends them.
pub const PLATFORM: &str = "cli-proxy-api";
pub const VERSION: &str = "1.0.0";

/// A new device id (a random UUID v4).
pub fn new_device_id() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The device headers for `device_id` (name, value); an empty id leaves `X-Msh-Device-Id`
/// out.
pub fn device_headers(device_id: &str) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("X-Msh-Platform", PLATFORM.to_owned()),
        ("X-Msh-Version", VERSION.to_owned()),
        ("X-Msh-Device-Name", host_name()),
        ("X-Msh-Device-Model", device_model()),
    ];
    if !device_id.is_empty() {
        h.push(("X-Msh-Device-Id", device_id.to_owned()));
    }
    h
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or_else(|| "unknown".into())
}

/// `Linux x86_64`, `macOS aarch64`, ... as CLIProxyAPI's `getDeviceModel`.
fn device_model() -> String {
    let os = match std::env::consts::OS {
        "macos" => "macOS",
        "linux" => "Linux",
        "windows" => "Windows",
        other => other,
    };
    format!("{os} {}", std::env::consts::ARCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_and_headers() {
        let id = new_device_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, new_device_id());
        let h = device_headers(&id);
        assert_eq!(h[0], ("X-Msh-Platform", "cli-proxy-api".to_owned()));
        assert_eq!(h.last(), Some(&("X-Msh-Device-Id", id)));
        assert_eq!(device_headers("").len(), 4);
    }
}
