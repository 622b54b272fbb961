//! Every way a presented token can be wrong is refused with 401
//! `invalid_token` and a `WWW-Authenticate` challenge.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp, JWT_SECRET};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("token part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

async fn assert_rejected(app: &TestApp, token: &str, case: &str) {
    let response = app.get_auth("/auth/me", token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
    assert_eq!(response.headers()["www-authenticate"], "Bearer error=\"invalid_token\"", "{case}");
    let body = assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert!(!body.to_string().contains(token), "{case}: token echoed");
}

fn sign_hs256(claims: &Value, secret: &str, kid: &str) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test]
async fn issued_token_carries_required_claims() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let header = decode_part(&user.tokens.access, 0);
    assert_eq!(header["alg"], "EdDSA");
    assert!(header["kid"].is_string());
    let claims = decode_part(&user.tokens.access, 1);
    assert_eq!(claims["sub"], user.user_id);
    assert_eq!(claims["type"], "access");
    assert_eq!(claims["iss"], "kraftd");
    assert_eq!(claims["aud"], "kraftd-api");
    for claim in ["exp", "iat", "nbf"] {
        assert!(claims[claim].is_i64(), "{claim}");
    }
    let jti = URL_SAFE_NO_PAD.decode(claims["jti"].as_str().unwrap()).expect("jti is URL-safe base64");
    assert!(jti.len() >= 32, "jti carries at least 256 bits");
    assert_eq!(decode_part(&user.tokens.refresh, 1)["type"], "refresh");
}

#[tokio::test]
async fn forged_tokens_refused() {
    let app = spawn_app_with(&[("JWT_SECRET", JWT_SECRET)]).await;
    let user = app.new_user().await;
    let kid = decode_part(&user.tokens.access, 0)["kid"].as_str().unwrap().to_owned();
    let good = decode_part(&user.tokens.access, 1);
    assert_eq!(app.get_auth("/auth/me", &sign_hs256(&good, JWT_SECRET, &kid)).await.status(), StatusCode::OK, "control");

    let with = |name: &str, value: Value| {
        let mut claims = good.clone();
        claims[name] = value;
        claims
    };
    let cases = [
        ("expired", sign_hs256(&with("exp", json!(now() - 120)), JWT_SECRET, &kid)),
        ("future nbf", sign_hs256(&with("nbf", json!(now() + 3600)), JWT_SECRET, &kid)),
        ("wrong type", sign_hs256(&with("type", json!("refresh")), JWT_SECRET, &kid)),
        ("wrong iss", sign_hs256(&with("iss", json!("someone-else")), JWT_SECRET, &kid)),
        ("wrong aud", sign_hs256(&with("aud", json!("other-api")), JWT_SECRET, &kid)),
        ("wrong signature", sign_hs256(&good, "another-secret-that-is-long-enough-0123456789", &kid)),
        ("unknown kid", sign_hs256(&good, JWT_SECRET, "no-such-key")),
        ("unknown user", sign_hs256(&with("sub", json!(uuid::Uuid::new_v4().to_string())), JWT_SECRET, &kid)),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (case, token) in &cases {
        assert_rejected(&app, token, case).await;
    }

    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT", "kid": kid }).to_string());
    let payload = URL_SAFE_NO_PAD.encode(good.to_string());
    assert_rejected(&app, &format!("{header}.{payload}."), "alg none").await;

    let missing = app.client.get(app.url("/auth/me")).send().await.unwrap();
    assert_eq!(missing.headers()["www-authenticate"], "Bearer error=\"invalid_token\"");
    assert_problem(missing, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[tokio::test]
async fn revoked_jti_refused() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let logout = app.client.post(app.url("/auth/logout")).bearer_auth(&user.tokens.access).send().await.unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_rejected(&app, &user.tokens.access, "revoked jti").await;
    let reasons: Vec<Value> = app
        .audit_entries()
        .await
        .into_iter()
        .filter(|entry| entry["event_type"] == "TOKEN_VALIDATION_FAILED")
        .map(|entry| entry["details"]["reason"].clone())
        .collect();
    assert!(reasons.contains(&json!("revoked")), "{reasons:?}");
}

#[tokio::test]
async fn eddsa_key_confusion_refused() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let kid = decode_part(&user.tokens.access, 0)["kid"].as_str().unwrap().to_owned();
    let jwks: Value = app.client.get(app.url("/auth/jwks")).send().await.unwrap().json().await.unwrap();
    let x = jwks["keys"][0]["x"].as_str().unwrap();
    let public_key = URL_SAFE_NO_PAD.decode(x).unwrap();
    // HS256 keyed with the public key is the classic algorithm-confusion forgery.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.clone());
    let forged = encode(&header, &decode_part(&user.tokens.access, 1), &EncodingKey::from_secret(&public_key)).unwrap();
    assert_rejected(&app, &forged, "alg confusion").await;

    // The real private key with an expired claim set is still refused.
    let ring: Value = serde_json::from_str(&std::fs::read_to_string(app.data_dir().join("keys/keyring.json")).unwrap()).unwrap();
    let pkcs8 = STANDARD.decode(ring["keys"][0]["private_key_pkcs8"].as_str().unwrap()).unwrap();
    let mut claims = decode_part(&user.tokens.access, 1);
    claims["exp"] = json!(now() - 60);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid);
    let expired = encode(&header, &claims, &EncodingKey::from_ed_der(&pkcs8)).unwrap();
    assert_rejected(&app, &expired, "expired EdDSA").await;
}

#[tokio::test]
async fn jwks_serves_signing_key() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let kid = decode_part(&user.tokens.access, 0)["kid"].clone();
    let jwks: Value = app.client.get(app.url("/auth/jwks")).send().await.unwrap().json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kid"], kid);
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["crv"], "Ed25519");
    assert!(keys[0].get("d").is_none(), "private part must not be served");

    let decoding = jsonwebtoken::DecodingKey::from_ed_components(keys[0]["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["kraftd-api"]);
    assert!(jsonwebtoken::decode::<Value>(&user.tokens.access, &decoding, &validation).is_ok());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(app.data_dir().join("keys/keyring.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
