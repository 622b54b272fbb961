//! Security headers added to every response, whatever produced it, and the
//! removal of headers that advertise the server software.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};

/// Builds the fixed set once at start-up; `xss_protection` is the only
/// configurable value.
pub fn security_headers(xss_protection: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    // The API serves JSON and downloads, never pages, so nothing may load.
    set(header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'");
    set(header::CACHE_CONTROL, "no-store, no-cache, must-revalidate, max-age=0");
    set(header::PRAGMA, "no-cache");
    set(header::REFERRER_POLICY, "no-referrer");
    headers.insert(
        header::X_XSS_PROTECTION,
        HeaderValue::from_str(xss_protection).unwrap_or(HeaderValue::from_static("0")),
    );
    headers
}

/// Sets every security header on `target`, replacing any value a handler set.
pub fn apply(security: &HeaderMap, target: &mut HeaderMap) {
    target.reserve(security.len());
    for (name, value) in security {
        target.insert(name.clone(), value.clone());
    }
    target.remove(header::SERVER);
    target.remove("x-powered-by");
}
