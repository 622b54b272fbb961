//! Gives every request an id and a client address, opens the request's
//! tracing span with them, and echoes the id in `X-Request-Id`.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::client_ip::client_ip;
use crate::state::AppState;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Who sent a request and under which id; read by handlers for audit entries.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub request_id: String,
    pub client_ip: IpAddr,
}

/// A caller's id is kept only when it is a short token of safe characters,
/// so it can go into logs and headers without escaping.
fn is_sane_request_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub async fn request_id(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_sane_request_id(value))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());

    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let client = client_ip(peer, request.headers(), &state.config.trusted_proxies);

    let header_value = HeaderValue::from_str(&request_id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    request.headers_mut().insert(X_REQUEST_ID.clone(), header_value.clone());
    request.extensions_mut().insert(RequestMeta {
        request_id: request_id.clone(),
        client_ip: client,
    });

    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
        client_ip = %client,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    response.headers_mut().insert(X_REQUEST_ID.clone(), header_value);

    span.record("status", response.status().as_u16());
    span.record("latency_ms", started.elapsed().as_millis() as u64);
    span.in_scope(|| tracing::debug!("request finished"));
    response
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
