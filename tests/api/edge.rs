//! The HTTP edge: security headers on every kind of response, CORS
//! allowlist matching, body limits, request ids and slow clients.

use std::time::Duration;

use futures_util::stream;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp};

const EXPECTED_HEADERS: [(&str, &str); 8] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("x-xss-protection", "1; mode=block"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
    ("cache-control", "no-store, no-cache, must-revalidate, max-age=0"),
    ("pragma", "no-cache"),
    ("referrer-policy", "no-referrer"),
];

fn assert_security_headers(headers: &HeaderMap, case: &str) {
    for (name, value) in EXPECTED_HEADERS {
        assert_eq!(headers.get(name).map(|v| v.to_str().unwrap()), Some(value), "{case}: {name}");
    }
    let request_id = headers.get("x-request-id").expect("x-request-id").to_str().unwrap();
    assert!(!request_id.is_empty(), "{case}: x-request-id");
    assert!(headers.get("server").is_none(), "{case}: server header sent");
    assert!(headers.get("x-powered-by").is_none(), "{case}: x-powered-by sent");
}

fn access_control_headers(headers: &HeaderMap) -> Vec<String> {
    headers.keys().map(|name| name.as_str().to_owned()).filter(|name| name.starts_with("access-control-")).collect()
}

#[tokio::test]
async fn security_headers_on_every_status() {
    let app = spawn_app_with(&[("MAX_REQUEST_BYTES", "2048")]).await;
    let user = app.new_user().await;
    let client = &app.client;

    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode)> = vec![
        ("200", client.get(app.url("/health")), StatusCode::OK),
        ("400", client.post(app.url("/auth/login")).header("content-type", "application/json").body("{"), StatusCode::BAD_REQUEST),
        ("401", client.get(app.url("/auth/me")), StatusCode::UNAUTHORIZED),
        ("404", client.get(app.url("/no-such-route")), StatusCode::NOT_FOUND),
        ("404 outside api", client.get(app.server.url("/")), StatusCode::NOT_FOUND),
        ("405", client.put(app.url("/health")), StatusCode::METHOD_NOT_ALLOWED),
        ("413", client.post(app.url("/auth/login")).header("content-type", "application/json").body(vec![b' '; 4096]), StatusCode::PAYLOAD_TOO_LARGE),
        ("415", client.post(app.url("/auth/login")).header("content-type", "text/plain").body("x"), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("415 upload", client.post(app.url("/docs/upload")).bearer_auth(&user.tokens.access).multipart(reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"<svg/>".to_vec()).file_name("x.svg"))), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (
            "preflight",
            client
                .request(Method::OPTIONS, app.url("/auth/login"))
                .header("origin", "http://localhost:3000")
                .header("access-control-request-method", "POST"),
            StatusCode::OK,
        ),
    ];
    for (case, request, status) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{case}");
        assert_security_headers(response.headers(), case);
        if status.is_client_error() {
            assert_eq!(response.headers()["content-type"], "application/problem+json", "{case}");
        }
    }
}

#[tokio::test]
async fn cors_allows_listed_origin() {
    let app = spawn_app().await;
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/docs/upload"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    assert!(matches!(preflight.status(), StatusCode::OK | StatusCode::NO_CONTENT));
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "https://app.example.com");
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(headers["access-control-max-age"], "3600");
    let methods = headers["access-control-allow-methods"].to_str().unwrap().replace(' ', "");
    assert_eq!(methods, "GET,POST,PUT,DELETE,OPTIONS");
    let allowed = headers["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase().replace(' ', "");
    assert_eq!(allowed, "authorization,content-type,accept");
    assert!(headers["vary"].to_str().unwrap().to_ascii_lowercase().contains("origin"));

    let simple = app.client.get(app.url("/health")).header("origin", "http://localhost:3000").send().await.unwrap();
    let headers = simple.headers();
    assert_eq!(headers["access-control-allow-origin"], "http://localhost:3000");
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(headers["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase().replace(' ', ""), "x-total-count,x-total-pages");
    assert!(headers["vary"].to_str().unwrap().to_ascii_lowercase().contains("origin"));
}

#[tokio::test]
async fn cors_refuses_other_origins() {
    let app = spawn_app().await;
    let origins = [
        Some("null"),
        Some("https://app.example.com.evil.test"),
        Some("https://evil-app.example.com"),
        Some("https://app.example.co"),
        Some("https://app.example.com:8443"),
        Some("http://app.example.com"),
        Some("http://localhost:3001"),
        Some("HTTPS://APP.EXAMPLE.COM"),
        None,
    ];
    for origin in origins {
        for method in [Method::OPTIONS, Method::GET] {
            let mut request = app.client.request(method.clone(), app.url("/health"));
            if let Some(origin) = origin {
                request = request.header("origin", origin);
            }
            if method == Method::OPTIONS {
                request = request.header("access-control-request-method", "GET");
            }
            let response = request.send().await.unwrap();
            let leaked = access_control_headers(response.headers());
            assert!(leaked.is_empty(), "{origin:?} {method}: {leaked:?}");
            assert_security_headers(response.headers(), "refused origin");
        }
    }
}

#[tokio::test]
async fn json_body_limit_with_and_without_length() {
    let app = spawn_app().await;
    let big = vec![b' '; 10 * 1024 * 1024 + 1];
    let with_length = app
        .client
        .post(app.url("/auth/login"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_problem(with_length, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..11).map(|_| Ok(vec![b' '; 1024 * 1024])).collect();
    let chunked = app
        .client
        .post(app.url("/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_problem(chunked, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    // Just under the limit is read and judged on its content.
    let mut fits = serde_json::to_vec(&json!({ "email": "a@example.com", "password": "x" })).unwrap();
    fits.resize(10 * 1024 * 1024, b' ');
    let response = app.client.post(app.url("/auth/login")).header("content-type", "application/json").body(fits).send().await.unwrap();
    assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn request_id_kept_or_replaced() {
    let app = spawn_app().await;
    let echoed = app.client.get(app.url("/health")).header("x-request-id", "trace-42.abc_DEF").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-42.abc_DEF");

    for hostile in ["<script>alert(1)</script>", "a b", &"x".repeat(65), ""] {
        let response = app.client.get(app.url("/health")).header("x-request-id", hostile).send().await.unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(id, hostile);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    }

    let user = app.new_user().await;
    let response = app.client.get(app.url("/auth/me")).bearer_auth(&user.tokens.access).header("x-request-id", "audit-me-1").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let _ = app.client.get(app.url("/auth/me")).header("x-request-id", "audit-me-2").send().await.unwrap();
    let entries = app.audit_entries().await;
    assert!(entries.iter().any(|entry| entry["request_id"] == "audit-me-2" && entry["event_type"] == "TOKEN_VALIDATION_FAILED"));
}

async fn raw_health(app: &TestApp) -> StatusCode {
    app.client.get(app.url("/health")).send().await.unwrap().status()
}

#[tokio::test]
async fn slow_headers_closed() {
    let app = spawn_app_with(&[("HEADER_READ_TIMEOUT_SECONDS", "1")]).await;
    let mut slow = tokio::net::TcpStream::connect(app.server.addr).await.unwrap();
    slow.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n").await.unwrap();

    // Another client is served while the slow one dawdles.
    assert_eq!(raw_health(&app).await, StatusCode::OK);

    let started = std::time::Instant::now();
    let mut buffer = [0u8; 1024];
    let mut closed = false;
    for _ in 0..20 {
        // Keep trickling bytes; the timeout covers the whole header.
        let _ = slow.write_all(b"X-Slow: 1\r\n").await;
        match tokio::time::timeout(Duration::from_millis(250), slow.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(_)) => {
                // hyper may send a 408 before closing; keep reading until EOF.
            }
            Err(_) => {}
        }
    }
    assert!(closed, "slow connection still open after {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(raw_health(&app).await, StatusCode::OK);
}

#[tokio::test]
async fn in_flight_request_survives_shutdown() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(receiver));
    let part = reqwest::multipart::Part::stream(body).file_name("slow.txt");
    let form = reqwest::multipart::Form::new().part("file", part);
    let request = app.client.post(app.url("/docs/upload")).bearer_auth(&user.tokens.access).multipart(form).send();
    let upload = tokio::spawn(request);

    sender.send(Ok(b"first half, ".to_vec())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut app = app;
    app.server.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // New connections are refused once shutdown began.
    assert!(tokio::net::TcpStream::connect(app.server.addr).await.is_err());
    sender.send(Ok(b"second half.\n".to_vec())).await.unwrap();
    drop(sender);

    let response = upload.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

fn tokio_stream_from(
    mut receiver: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

#[tokio::test]
async fn rewritten_errors_keep_cors_headers() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/auth/login"))
        .header("origin", "http://localhost:3000")
        .header("content-type", "application/json")
        .body(vec![b' '; 10 * 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "http://localhost:3000");
    assert!(response.headers()["vary"].to_str().unwrap().to_ascii_lowercase().contains("origin"));
    assert_security_headers(response.headers(), "413 rewritten");
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}
