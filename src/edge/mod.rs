//! The HTTP edge every response passes through: request ids, client
//! address, CORS, security headers and uniform problem responses. Each
//! concern has its own file; [`edge`] applies them in one middleware, so
//! the order is written once and a request pays for one layer, not five.

pub mod client_ip;
pub mod cors;
pub mod problem_fallback;
pub mod request_id;
pub mod security_headers;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use tracing::Instrument;

use self::cors::AllowedOrigins;
use self::request_id::X_REQUEST_ID;

/// Everything the edge needs, built once at start-up.
pub struct EdgeConfig {
    pub trusted_proxies: Vec<IpNet>,
    pub origins: AllowedOrigins,
    pub security_headers: HeaderMap,
}

/// Runs around every request: assigns the request id and client address,
/// then on the way out turns stray errors into problem+json, withholds
/// CORS headers from unlisted origins, sets the security headers and
/// echoes the request id. It runs outside the CORS layer, so preflight
/// responses get the same treatment.
pub async fn edge(State(config): State<Arc<EdgeConfig>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (request_id, span) = request_id::assign(&mut request, &config.trusted_proxies);
    let origin_allowed = request
        .headers()
        .get(header::ORIGIN)
        .is_some_and(|origin| config.origins.contains(origin));

    let response = next.run(request).instrument(span.clone()).await;

    let mut response = problem_fallback::convert(response);
    let headers = response.headers_mut();
    cors::strip_unless_allowed(origin_allowed, headers);
    security_headers::apply(&config.security_headers, headers);
    headers.insert(X_REQUEST_ID.clone(), request_id);

    span.record("status", response.status().as_u16());
    span.record("latency_ms", u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    span.in_scope(|| tracing::debug!("request finished"));
    response
}
