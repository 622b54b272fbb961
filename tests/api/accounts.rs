//! Health, registration, login, refresh, logout and me.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, unique_email, PASSWORD};

#[tokio::test]
async fn health_reports_every_dependency() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["database"], "connected");
    assert_eq!(body["storage"], "connected");
    assert_eq!(body["audit_log"], "writable");
    assert!(body["version"].is_string());
    assert!(body["uptime_seconds"].is_u64());
}

#[tokio::test]
async fn register_returns_account() {
    let app = spawn_app().await;
    let email = unique_email("Jane.Doe");
    let response = app
        .post_json("/auth/register", &json!({ "email": format!("  {}  ", email.to_uppercase()), "password": PASSWORD, "first_name": "Jane", "company": "Acme" }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], email.to_lowercase());
    assert!(uuid::Uuid::parse_str(body["user_id"].as_str().unwrap()).is_ok());
    let created_at = body["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z'));
    assert!(time::OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339).is_ok());
    assert!(body.get("password").is_none());
}

#[tokio::test]
async fn register_duplicate_email_conflicts() {
    let app = spawn_app().await;
    let email = unique_email("dup");
    assert_eq!(app.register(&email, PASSWORD).await.status(), StatusCode::CREATED);
    let again = app.register(&format!(" {} ", email.to_uppercase()), PASSWORD).await;
    assert_problem(again, StatusCode::CONFLICT, "email_taken").await;
}

#[tokio::test]
async fn register_names_each_broken_rule() {
    let app = spawn_app().await;
    let cases = [
        ("short@example.com", "Sh0rt!", "12 characters"),
        ("common@example.com", "password1234", "common"),
        ("marguerite@example.com", "xx-Marguerite-2026-yy", "email"),
    ];
    for (email, password, expected) in cases {
        let response = app.register(email, password).await;
        let body = assert_problem(response, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert_eq!(body["detail"], "Invalid request format");
        let errors = body["errors"].as_array().expect("errors list");
        let messages: Vec<String> = errors
            .iter()
            .filter(|error| error["field"] == "password")
            .map(|error| error["message"].as_str().unwrap().to_lowercase())
            .collect();
        assert!(messages.iter().any(|message| message.contains(expected)), "{password}: {messages:?}");
        assert!(!body.to_string().contains(password), "password echoed for {email}");
    }

    let long_password = "k".repeat(129);
    let body = assert_problem(app.register("long@example.com", &long_password).await, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(body["errors"][0]["field"], "password");

    for email in ["not-an-email", "two@@example.com", "a@b", &format!("{}@example.com", "x".repeat(250))] {
        let body = assert_problem(app.register(email, PASSWORD).await, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert!(body["errors"].as_array().unwrap().iter().any(|error| error["field"] == "email"), "{email}");
    }
}

#[tokio::test]
async fn register_bad_json_is_invalid_request() {
    let app = spawn_app().await;
    let malformed = app
        .client
        .post(app.url("/auth/register"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let body = assert_problem(malformed, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(body["detail"], "Invalid request format");

    let wrong_type = app.post_json("/auth/register", &json!({ "email": "x@example.com", "password": 123456789012345_u64 })).await;
    let body = assert_problem(wrong_type, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(body["errors"][0]["field"], "password");
    assert!(!body.to_string().contains("123456789012345"));

    let missing = app.post_json("/auth/register", &json!({ "email": "x@example.com" })).await;
    let body = assert_problem(missing, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(body["errors"][0]["field"], "password");
    assert_eq!(body["errors"][0]["message"], "is required");

    let not_json = app.client.post(app.url("/auth/register")).body("email=x").send().await.unwrap();
    assert_problem(not_json, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
}

#[tokio::test]
async fn login_returns_token_pair() {
    let app = spawn_app().await;
    let email = unique_email("login");
    app.register(&email, PASSWORD).await;
    let response = app.login(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(body["refresh_token"].is_string());
}

#[tokio::test]
async fn login_failures_look_alike() {
    let app = spawn_app().await;
    let email = unique_email("alike");
    app.register(&email, PASSWORD).await;
    let wrong_password = assert_problem(app.login(&email, "Wrong-Password-123").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown_email = assert_problem(app.login(&unique_email("ghost"), PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(wrong_password, unknown_email);
}

#[tokio::test]
async fn me_returns_profile() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let response = app.get_auth("/auth/me", &user.tokens.access).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user_id"], user.user_id);
    assert_eq!(body["email"], user.email);
    for field in ["first_name", "last_name", "company", "created_at"] {
        assert!(body.get(field).is_some(), "{field} missing");
    }
}

#[tokio::test]
async fn refresh_rotates_pair() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let response = app.post_json("/auth/refresh", &json!({ "refresh_token": user.tokens.refresh })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_ne!(refresh, user.tokens.refresh);
    assert_eq!(app.get_auth("/auth/me", access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_token_reuse_revokes_family() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let first: Value = app
        .post_json("/auth/refresh", &json!({ "refresh_token": user.tokens.refresh }))
        .await
        .json()
        .await
        .unwrap();

    let reuse = app.post_json("/auth/refresh", &json!({ "refresh_token": user.tokens.refresh })).await;
    assert_eq!(reuse.headers()["www-authenticate"], "Bearer error=\"invalid_token\"");
    assert_problem(reuse, StatusCode::UNAUTHORIZED, "invalid_token").await;

    // Every token of that login is now dead, the newest pair included.
    let newest_refresh = app.post_json("/auth/refresh", &json!({ "refresh_token": first["refresh_token"] })).await;
    assert_problem(newest_refresh, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let newest_access = app.get_auth("/auth/me", first["access_token"].as_str().unwrap()).await;
    assert_problem(newest_access, StatusCode::UNAUTHORIZED, "invalid_token").await;

    let entries = app.audit_entries().await;
    assert!(entries.iter().any(|entry| entry["event_type"] == "REFRESH_TOKEN_REUSE"));
}

#[tokio::test]
async fn logout_ends_both_tokens() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let other_login = app.login_tokens(&user.email, PASSWORD).await;

    let response = app
        .client
        .post(app.url("/auth/logout"))
        .bearer_auth(&user.tokens.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    assert_problem(app.get_auth("/auth/me", &user.tokens.access).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let refresh = app.post_json("/auth/refresh", &json!({ "refresh_token": user.tokens.refresh })).await;
    assert_problem(refresh, StatusCode::UNAUTHORIZED, "invalid_token").await;
    // Another login of the same user is not affected by a plain logout.
    assert_eq!(app.get_auth("/auth/me", &other_login.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_with_refresh_token_body() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let response = app
        .client
        .post(app.url("/auth/logout"))
        .bearer_auth(&user.tokens.access)
        .json(&json!({ "refresh_token": user.tokens.refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let refresh = app.post_json("/auth/refresh", &json!({ "refresh_token": user.tokens.refresh })).await;
    assert_problem(refresh, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[tokio::test]
async fn logout_all_ends_every_login() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let second = app.login_tokens(&user.email, PASSWORD).await;
    let response = app
        .client
        .post(app.url("/auth/logout-all"))
        .bearer_auth(&second.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for tokens in [&user.tokens, &second] {
        assert_problem(app.get_auth("/auth/me", &tokens.access).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
        let refresh = app.post_json("/auth/refresh", &json!({ "refresh_token": tokens.refresh })).await;
        assert_problem(refresh, StatusCode::UNAUTHORIZED, "invalid_token").await;
    }
    // A new login after logging out everywhere works.
    let fresh = app.login_tokens(&user.email, PASSWORD).await;
    assert_eq!(app.get_auth("/auth/me", &fresh.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_route_and_method_are_problems() {
    let app = spawn_app().await;
    let missing = app.client.get(app.url("/nothing-here")).send().await.unwrap();
    assert_problem(missing, StatusCode::NOT_FOUND, "not_found").await;
    let wrong_method = app.client.delete(app.url("/auth/login")).send().await.unwrap();
    assert_problem(wrong_method, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn health_fails_without_database() {
    let app = spawn_app().await;
    app.server.state.store.close().await;
    let response = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["database"], "unreachable");
    assert_eq!(body["audit_log"], "writable");

    // A request that needs the database gets 503 too, not a 500.
    let login = app.login("someone@example.com", PASSWORD).await;
    assert_problem(login, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
}
