//! Gives every request an id and a client address, and builds the
//! request's tracing span with them; the id is echoed in `X-Request-Id`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue};
use ipnet::IpNet;

use super::client_ip::client_ip;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request id and client address of a request, read by handlers for audit entries.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub request_id: String,
    pub client_ip: IpAddr,
}

/// Returns whether a caller's id may be kept: only a short token of safe
/// characters, so it can go into logs and headers without escaping.
fn is_sane_request_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Assigns the request its id and client address, stores them as a
/// [`RequestMeta`] extension and in the `X-Request-Id` request header, and
/// returns the header value to echo plus the request's span.
pub fn assign(request: &mut Request, trusted: &[IpNet]) -> (HeaderValue, tracing::Span) {
    let caller_id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_sane_request_id(value));
    let (request_id, header_value) = match caller_id {
        Some(id) => (id.to_owned(), request.headers()[&X_REQUEST_ID].clone()),
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            let value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
            (id, value)
        }
    };

    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let client = client_ip(peer, request.headers(), trusted);

    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
        client_ip = %client,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    request.headers_mut().insert(X_REQUEST_ID.clone(), header_value.clone());
    request.extensions_mut().insert(RequestMeta {
        request_id,
        client_ip: client,
    });
    (header_value, span)
}

#[cfg(test)]
mod tests {
    use super::is_sane_request_id;

    #[test]
    fn request_id_sanity() {
        assert!(is_sane_request_id("abc-123_x.y"));
        assert!(!is_sane_request_id(""));
        assert!(!is_sane_request_id("a b"));
        assert!(!is_sane_request_id("<script>"));
        assert!(!is_sane_request_id(&"a".repeat(65)));
    }
}
