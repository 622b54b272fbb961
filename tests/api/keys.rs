//! Signing key rotation with a grace period, emergency rotation, the JWK
//! set, the previous HS256 secret, and pruning of revocation records.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::cli::run;
use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp, JWT_SECRET, PASSWORD};

fn kid_of(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap();
    serde_json::from_slice::<Value>(&bytes).unwrap()["kid"].as_str().unwrap().to_owned()
}

async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = app.client.get(app.url("/auth/jwks")).send().await.unwrap().json().await.unwrap();
    let mut kids: Vec<String> = jwks["keys"].as_array().unwrap().iter().map(|key| key["kid"].as_str().unwrap().to_owned()).collect();
    kids.sort();
    kids
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.get_auth("/auth/me", token).await.status()
}

#[tokio::test]
async fn rotated_key_verifies_until_grace_ends() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let old_kid = kid_of(&user.tokens.access);

    let (output, text) = run(app.command().args(["keys", "rotate", "--grace", "3s"]));
    assert!(output.status.success(), "{text}");
    let rotated_at = std::time::Instant::now();

    let fresh = app.login_tokens(&user.email, PASSWORD).await;
    let new_kid = kid_of(&fresh.access);
    assert_ne!(new_kid, old_kid, "the running server signs with the new key without a restart");
    assert_eq!(me_status(&app, &user.tokens.access).await, StatusCode::OK, "old key inside the grace period");
    let mut both = vec![old_kid.clone(), new_kid.clone()];
    both.sort();
    assert_eq!(jwks_kids(&app).await, both);

    let (_, listing) = run(app.command().args(["keys", "list"]));
    assert!(listing.contains(&old_kid), "{listing}");
    assert!(listing.contains("verifying"), "{listing}");
    assert!(listing.contains("active"), "{listing}");

    tokio::time::sleep(Duration::from_secs(3).saturating_sub(rotated_at.elapsed()) + Duration::from_millis(300)).await;
    assert_problem(app.get_auth("/auth/me", &user.tokens.access).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert_eq!(me_status(&app, &fresh.access).await, StatusCode::OK);
    assert_eq!(jwks_kids(&app).await, vec![new_kid]);

    let entries = app.audit_entries().await;
    assert!(entries.iter().any(|entry| entry["event_type"] == "KEY_ROTATION" && entry["details"]["previous_kids"][0] == old_kid.as_str()));
    let (output, text) = run(app.command().args(["audit", "verify"]));
    assert!(output.status.success(), "chain broken by a second writer: {text}");
}

#[tokio::test]
async fn emergency_rotation_ends_every_token() {
    let app = spawn_app().await;
    let first = app.new_user().await;
    let second = app.new_user().await;
    let (output, text) = run(app.command().args(["keys", "rotate"]));
    assert!(output.status.success(), "{text}");
    let after_rotation = app.login_tokens(&second.email, PASSWORD).await;

    let (output, text) = run(app.command().args(["keys", "emergency-rotate"]));
    assert!(output.status.success(), "{text}");

    for tokens in [&first.tokens, &second.tokens, &after_rotation] {
        assert_problem(app.get_auth("/auth/me", &tokens.access).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
        let refresh = app.post_json("/auth/refresh", &json!({ "refresh_token": tokens.refresh })).await;
        assert_problem(refresh, StatusCode::UNAUTHORIZED, "invalid_token").await;
    }
    let kids = jwks_kids(&app).await;
    assert_eq!(kids.len(), 1);
    let fresh = app.login_tokens(&first.email, PASSWORD).await;
    assert_eq!(vec![kid_of(&fresh.access)], kids);
    assert_eq!(me_status(&app, &fresh.access).await, StatusCode::OK);

    let entries = app.audit_entries().await;
    assert!(entries.iter().any(|entry| entry["event_type"] == "KEY_EMERGENCY_ROTATION"));
}

#[tokio::test]
async fn previous_secret_verifies_until_removed() {
    let old_secret = "the-previous-secret-of-this-deployment-0123456789";
    let mut app = spawn_app_with(&[("JWT_SECRET", old_secret)]).await;
    let user = app.new_user().await;
    assert!(kid_of(&user.tokens.access).starts_with("hs256-"));
    let jwks: Value = app.client.get(app.url("/auth/jwks")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"], json!([]), "no public key to publish for HS256");

    app.restart(&[("JWT_SECRET", JWT_SECRET), ("JWT_SECRET_PREVIOUS", old_secret)]).await;
    assert_eq!(me_status(&app, &user.tokens.access).await, StatusCode::OK);
    let fresh = app.login_tokens(&user.email, PASSWORD).await;
    assert_ne!(kid_of(&fresh.access), kid_of(&user.tokens.access));

    app.restart(&[("JWT_SECRET", JWT_SECRET)]).await;
    assert_problem(app.get_auth("/auth/me", &user.tokens.access).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert_eq!(me_status(&app, &fresh.access).await, StatusCode::OK);
}

#[tokio::test]
async fn pruning_empties_expired_revocations() {
    let app = spawn_app_with(&[("PRUNE_INTERVAL_SECONDS", "1")]).await;
    let user = app.new_user().await;
    let logged_out = app.new_user().await;
    let response = app.client.post(app.url("/auth/logout")).bearer_auth(&logged_out.tokens.access).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let url = format!("sqlite://{}", app.data_dir().join("kraftd.db").display());
    let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    let long_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 3600;
    let mut transaction = pool.begin().await.unwrap();
    for index in 0..500 {
        sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?)")
            .bind(format!("expired-{index}"))
            .bind(long_ago)
            .execute(&mut *transaction)
            .await
            .unwrap();
    }
    for index in 0..100 {
        sqlx::query("INSERT INTO token_families (id, user_id, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?)")
            .bind(format!("family-{index}"))
            .bind(&user.user_id)
            .bind(long_ago - 60)
            .bind(long_ago)
            .bind(long_ago)
            .execute(&mut *transaction)
            .await
            .unwrap();
        sqlx::query("INSERT INTO refresh_tokens (jti, family_id, expires_at) VALUES (?, ?, ?)")
            .bind(format!("refresh-{index}"))
            .bind(format!("family-{index}"))
            .bind(long_ago)
            .execute(&mut *transaction)
            .await
            .unwrap();
    }
    transaction.commit().await.unwrap();

    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    let mut expired_left = i64::MAX;
    for _ in 0..50 {
        expired_left = count("SELECT (SELECT COUNT(*) FROM revoked_tokens WHERE jti LIKE 'expired-%') + (SELECT COUNT(*) FROM token_families WHERE id LIKE 'family-%') + (SELECT COUNT(*) FROM refresh_tokens WHERE jti LIKE 'refresh-%')").await;
        if expired_left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(expired_left, 0, "pruning left expired records");

    // Live revocations stay: the logged-out token is still refused, and the
    // live logins still work.
    assert_eq!(count("SELECT COUNT(*) FROM revoked_tokens").await, 1);
    assert_problem(app.get_auth("/auth/me", &logged_out.tokens.access).await, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let refresh = app.post_json("/auth/refresh", &json!({ "refresh_token": logged_out.tokens.refresh })).await;
    assert_problem(refresh, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert_eq!(me_status(&app, &user.tokens.access).await, StatusCode::OK);
    let refresh = app.post_json("/auth/refresh", &json!({ "refresh_token": user.tokens.refresh })).await;
    assert_eq!(refresh.status(), StatusCode::OK);
}
