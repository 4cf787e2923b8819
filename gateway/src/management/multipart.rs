//! `multipart/form-data` bodies (RFC 7578), as far as an auth-file upload needs: the parts'
//! field names, file names and bytes. Pure; no I/O.

/// One part of a form.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Part<'a> {
    /// `name` of its `Content-Disposition`.
    pub field: String,
    /// `filename`, when the part is a file.
    pub file_name: Option<String>,
    pub body: &'a [u8],
}

/// Why a form could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MultipartError {
    #[error("no boundary in the content type")]
    NoBoundary,
    #[error("the body does not start with the boundary")]
    NoStart,
    #[error("part {0} has no end of headers")]
    Headers(usize),
    #[error("part {0} has no Content-Disposition name")]
    NoName(usize),
    #[error("the closing boundary is missing")]
    Unterminated,
}

/// The boundary of a `multipart/form-data` content type; `None` for another type.
pub(crate) fn boundary(content_type: &str) -> Option<Result<String, MultipartError>> {
    let mut params = content_type.split(';');
    let mime = params.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let found = params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    });
    Some(
        found
            .filter(|b| !b.is_empty())
            .ok_or(MultipartError::NoBoundary),
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A `key="value"` parameter of a header value.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The parts of `body`.
pub(crate) fn parts<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, MultipartError> {
    let open = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let start = find(body, open.as_bytes()).ok_or(MultipartError::NoStart)?;
    let mut rest = &body[start + open.len()..];
    let mut out = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(out);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or(MultipartError::Unterminated)?;
        let n = out.len();
        let head_end = find(rest, b"\r\n\r\n").ok_or(MultipartError::Headers(n))?;
        let head = String::from_utf8_lossy(&rest[..head_end]);
        let disposition = head
            .split("\r\n")
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then(|| v.trim().to_owned())
            })
            .ok_or(MultipartError::NoName(n))?;
        let field = param(&disposition, "name").ok_or(MultipartError::NoName(n))?;
        let file_name = param(&disposition, "filename");
        let data = &rest[head_end + 4..];
        let end = find(data, delimiter.as_bytes()).ok_or(MultipartError::Unterminated)?;
        out.push(Part {
            field,
            file_name,
            body: &data[..end],
        });
        rest = &data[end + delimiter.len()..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_file_parts_and_refuses_broken_forms() {
        let ct = "multipart/form-data; boundary=\"XyZ\"";
        let b = boundary(ct).unwrap().unwrap();
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.json\"\r\nContent-Type: application/json\r\n\r\n{\"type\":\"codex\"}\r\n--XyZ\r\ncontent-disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--XyZ--\r\n";
        let p = parts(body, &b).unwrap();
        assert_eq!(
            p,
            vec![
                Part {
                    field: "file".into(),
                    file_name: Some("a.json".into()),
                    body: b"{\"type\":\"codex\"}"
                },
                Part {
                    field: "note".into(),
                    file_name: None,
                    body: b"hi"
                },
            ]
        );
        assert!(boundary("application/json").is_none());
        assert_eq!(
            boundary("multipart/form-data"),
            Some(Err(MultipartError::NoBoundary))
        );
        assert_eq!(
            parts(
                b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nno end",
                "XyZ"
            ),
            Err(MultipartError::Unterminated)
        );
        assert_eq!(parts(b"nothing", "XyZ"), Err(MultipartError::NoStart));
    }
}
