//! Reading request parameters without trusting the request: size-limited bodies, exact content
//! types, and RFC 6749 §3.1's rule that no parameter may appear twice.

use super::error::OAuthError;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use std::collections::BTreeMap;

/// Largest request body any OIDC endpoint reads. Authorization requests pushed by PAR are the
/// biggest legitimate ones and stay far below this.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Parameters of one request, each name at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params(BTreeMap<String, String>);

/// Why parameters could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ParamError {
    /// A parameter was sent more than once.
    #[error("parameter {0:?} is included more than once")]
    Duplicate(String),
    /// The body is over [`MAX_BODY_BYTES`].
    #[error("request body exceeds {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// The body could not be read.
    #[error("request body could not be read")]
    Read,
    /// The content type is not the one the endpoint takes.
    #[error("content type must be {expected}, not {got:?}")]
    ContentType {
        /// Expected media type.
        expected: &'static str,
        /// What was sent.
        got: String,
    },
}

impl From<ParamError> for OAuthError {
    fn from(e: ParamError) -> Self {
        let status = match e {
            ParamError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ParamError::ContentType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        };
        OAuthError::new(status, "invalid_request", e.to_string())
    }
}

impl Params {
    /// Parse `application/x-www-form-urlencoded` text (a query string or a body).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, ParamError> {
        let mut map = BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(bytes) {
            if map.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(ParamError::Duplicate(k.into_owned()));
            }
        }
        Ok(Params(map))
    }

    /// Build from pairs (PAR-stored requests).
    pub(crate) fn from_map(map: BTreeMap<String, String>) -> Self {
        Params(map)
    }

    /// The value of a parameter; an empty value counts as absent (RFC 6749 §3.1).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Whether the parameter is present (even if empty).
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Remove and return a parameter.
    pub(crate) fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name).filter(|v| !v.is_empty())
    }

    /// The underlying map.
    pub(crate) fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

/// Whether the request's media type is `expected` (parameters such as `charset` ignored).
pub(crate) fn content_type_is(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(expected))
}

/// Read a body of at most [`MAX_BODY_BYTES`].
pub(crate) async fn read_body(body: Body) -> Result<axum::body::Bytes, ParamError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| {
            // `to_bytes` reports the limit as an error whose chain says "length limit exceeded".
            let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(s) = src {
                if s.to_string().contains("length limit exceeded") {
                    return ParamError::TooLarge;
                }
                src = s.source();
            }
            ParamError::Read
        })
}

/// Read a form body: the content type must be `application/x-www-form-urlencoded`.
pub(crate) async fn read_form(headers: &HeaderMap, body: Body) -> Result<Params, ParamError> {
    const FORM: &str = "application/x-www-form-urlencoded";
    if !content_type_is(headers, FORM) {
        return Err(ParamError::ContentType {
            expected: FORM,
            got: headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(none)")
                .to_string(),
        });
    }
    let bytes = read_body(body).await?;
    Params::parse(&bytes)
}

/// Whether a browser-facing error should be JSON: the client asked for JSON and not HTML.
pub(crate) fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("application/json") && !accept.contains("text/html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_empty_values() {
        assert!(matches!(
            Params::parse(b"a=1&a=2"),
            Err(ParamError::Duplicate(n)) if n == "a"
        ));
        let p = Params::parse(b"a=&b=x+y%21").unwrap();
        assert_eq!(p.get("a"), None);
        assert!(p.contains("a"));
        assert_eq!(p.get("b"), Some("x y!"));
        // Invalid percent-encoding and UTF-8 do not panic.
        assert!(Params::parse(b"c=%ff%fe%&d=%zz").is_ok());
    }
}
