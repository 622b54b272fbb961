//! CORS from the `ALLOWED_ORIGINS` allowlist: exact origin matching with
//! credentials, built on tower-http's `CorsLayer`.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The allowlist as header values, compared byte for byte with `Origin`.
#[derive(Clone)]
pub struct AllowedOrigins(Arc<Vec<HeaderValue>>);

impl AllowedOrigins {
    pub fn new(origins: &[String]) -> Self {
        Self(Arc::new(origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()).collect()))
    }

    /// Returns whether `origin` is on the list, compared byte for byte.
    pub fn contains(&self, origin: &HeaderValue) -> bool {
        self.0.iter().any(|allowed| allowed == origin)
    }
}

pub fn cors_layer(origins: &AllowedOrigins) -> CorsLayer {
    // A predicate over the shared list, because a list origin would be
    // copied with the layer on every request.
    let allowed = origins.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| allowed.contains(origin)))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([HeaderName::from_static("x-total-count"), HeaderName::from_static("x-total-pages")])
        .max_age(Duration::from_secs(3600))
}

/// Removes every `Access-Control-*` header from a response to an origin
/// that is not allowed. tower-http sends the method, header, credential and
/// max-age headers to any origin and only withholds `Allow-Origin`. The
/// contract here is stricter, because an unlisted origin must learn nothing.
pub fn strip_unless_allowed(allowed: bool, headers: &mut HeaderMap) {
    if allowed {
        return;
    }
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in names {
        headers.remove(name);
    }
}
