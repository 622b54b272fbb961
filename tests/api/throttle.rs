//! Login throttling per account and per client address, and which
//! `X-Forwarded-For` is believed.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app_with, unique_email, TestApp, PASSWORD};

async fn login_from(app: &TestApp, email: &str, password: &str, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = app.client.post(app.url("/auth/login")).json(&json!({ "email": email, "password": password }));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn sixth_failure_throttles_account() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "5"), ("LOGIN_WINDOW_SECONDS", "3")]).await;
    let email = unique_email("throttled");
    app.register(&email, PASSWORD).await;
    for attempt in 1..=5 {
        let response = app.login(&email, "Wrong-Password-000").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let sixth = app.login(&email, "Wrong-Password-000").await;
    let retry_after: u64 = sixth.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3).contains(&retry_after), "{retry_after}");
    assert_problem(sixth, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    let correct = app.login(&email, PASSWORD).await;
    assert!(correct.headers().contains_key("retry-after"));
    assert_problem(correct, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    tokio::time::sleep(Duration::from_secs(retry_after) + Duration::from_millis(200)).await;
    assert_eq!(app.login(&email, PASSWORD).await.status(), StatusCode::OK);
    // The success reset the account's count: one more failure is a plain 401.
    assert_eq!(app.login(&email, "Wrong-Password-000").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn spoofed_forwarded_for_ignored() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    for index in 0..3 {
        let address = format!("203.0.113.{index}");
        let response = login_from(&app, &unique_email("spoof"), "Wrong-Password-000", Some(&address)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // Every attempt counted against the real socket address, 127.0.0.1.
    let response = login_from(&app, &unique_email("spoof"), "Wrong-Password-000", Some("203.0.113.99")).await;
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let entries: Vec<Value> = app.audit_entries().await;
    assert!(entries.iter().filter(|entry| entry["event_type"] == "USER_LOGIN_FAILED").all(|entry| entry["client_ip"] == "127.0.0.1"));
}

#[tokio::test]
async fn trusted_proxy_forwarded_for_used() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "3"), ("TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    for _ in 0..3 {
        let response = login_from(&app, &unique_email("proxied"), "Wrong-Password-000", Some("198.51.100.1")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let same_client = login_from(&app, &unique_email("proxied"), "Wrong-Password-000", Some("198.51.100.1")).await;
    assert_problem(same_client, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let other_client = login_from(&app, &unique_email("proxied"), "Wrong-Password-000", Some("198.51.100.2")).await;
    assert_problem(other_client, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    let entries = app.audit_entries().await;
    assert!(entries.iter().any(|entry| entry["event_type"] == "USER_LOGIN_FAILED" && entry["client_ip"] == "198.51.100.2"));
    assert!(entries.iter().any(|entry| entry["event_type"] == "LOGIN_THROTTLED" && entry["client_ip"] == "198.51.100.1"));
}

#[tokio::test]
async fn parallel_guesses_share_one_limit() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "5")]).await;
    let email = unique_email("burst");
    app.register(&email, PASSWORD).await;

    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..30 {
        let client = app.client.clone();
        let url = app.url("/auth/login");
        let password = if index == 29 { PASSWORD.to_owned() } else { format!("Wrong-Guess-{index}") };
        let email = email.clone();
        tasks.spawn(async move {
            client.post(url).json(&json!({ "email": email, "password": password })).send().await.unwrap().status()
        });
    }
    let mut checked = 0;
    let mut throttled = 0;
    while let Some(status) = tasks.join_next().await {
        match status.unwrap() {
            StatusCode::UNAUTHORIZED | StatusCode::OK => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(checked <= 5, "{checked} passwords were checked in one burst");
    assert_eq!(checked + throttled, 30);
}
