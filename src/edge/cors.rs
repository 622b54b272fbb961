//! CORS from the `ALLOWED_ORIGINS` allowlist: exact origin matching with
//! credentials, built on tower-http's `CorsLayer`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The allowlist as header values, compared byte for byte with `Origin`.
#[derive(Clone)]
pub struct AllowedOrigins(Arc<Vec<HeaderValue>>);

impl AllowedOrigins {
    pub fn new(origins: &[String]) -> Self {
        Self(Arc::new(origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()).collect()))
    }

    pub fn contains(&self, origin: &HeaderValue) -> bool {
        self.0.iter().any(|allowed| allowed == origin)
    }
}

pub fn cors_layer(origins: &AllowedOrigins) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.0.iter().cloned()))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([HeaderName::from_static("x-total-count"), HeaderName::from_static("x-total-pages")])
        .max_age(Duration::from_secs(3600))
}

/// Removes every `Access-Control-*` header from responses to origins that
/// are not allowed. tower-http sends the method, header, credential and
/// max-age headers to any origin and only withholds `Allow-Origin`; the
/// contract here is stricter: an unlisted origin learns nothing.
pub async fn strip_unlisted_origin(State(origins): State<AllowedOrigins>, request: Request, next: Next) -> Response {
    let allowed = request.headers().get(header::ORIGIN).is_some_and(|origin| origins.contains(origin));
    let mut response = next.run(request).await;
    if !allowed {
        let names: Vec<HeaderName> = response
            .headers()
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in names {
            response.headers_mut().remove(name);
        }
    }
    response
}
