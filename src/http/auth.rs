//! Account and token routes: register, login, refresh, logout, logout
//! everywhere, me, and the public signing keys.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::extract::{ApiJson, AuthUser, OptionalJson};
use crate::audit::{AuditEvent, AuditStatus, INVALID_EMAIL};
use crate::auth::password::{hash_password, verify_password};
use crate::auth::password_policy::password_problems;
use crate::auth::tokens::{random_id, Claims, TokenType};
use crate::edge::request_id::RequestMeta;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::state::AppState;
use crate::store::{NewUser, RefreshOutcome, StoreError};
use crate::timefmt::{format_rfc3339, unix_now};

const MAX_EMAIL_CHARS: usize = 254;
const MAX_NAME_CHARS: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/logout-all", post(logout_all))
        .route("/auth/me", get(me))
        .route("/auth/jwks", get(jwks))
}

#[derive(Deserialize)]
struct RegisterRequest {
    email: String,
    password: String,
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
}

/// Trims and lower-cases an email, or returns why it is not one.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err("is required");
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err("must be at most 254 characters");
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("must be an email address");
    };
    let valid_chars = email.chars().all(|c| !c.is_whitespace() && !c.is_control());
    let valid_domain = domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains("..");
    if local.is_empty() || local.chars().count() > 64 || !valid_chars || !valid_domain {
        return Err("must be an email address");
    }
    Ok(email)
}

fn clean_optional(field: &str, value: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty())?;
    if value.chars().count() > MAX_NAME_CHARS {
        errors.push(FieldError::new(field, "must be at most 100 characters"));
    } else if value.chars().any(char::is_control) {
        errors.push(FieldError::new(field, "must not contain control characters"));
    }
    Some(value)
}

async fn register(State(state): State<AppState>, meta: RequestMeta, ApiJson(body): ApiJson<RegisterRequest>) -> ApiResult<impl IntoResponse> {
    let mut errors = Vec::new();
    let email = normalize_email(&body.email)
        .map_err(|message| errors.push(FieldError::new("email", message)))
        .ok();
    for problem in password_problems(&body.password, email.as_deref().unwrap_or("")) {
        errors.push(FieldError::new("password", problem));
    }
    let first_name = clean_optional("first_name", body.first_name, &mut errors);
    let last_name = clean_optional("last_name", body.last_name, &mut errors);
    let company = clean_optional("company", body.company, &mut errors);
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(ApiError::InvalidRequest(errors));
    };

    let password = body.password;
    let password_hash = state.password_check(move || hash_password(&password)).await??;
    let user = NewUser {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.clone(),
        password_hash,
        first_name,
        last_name,
        company,
        created_at: format_rfc3339(OffsetDateTime::now_utc()),
    };

    match state.store.create_user(&user).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            let event = meta
                .event("USER_REGISTER", AuditStatus::Failure)
                .user_email(&email)
                .details(json!({ "reason": "email_taken" }));
            state.audit(event).await?;
            return Err(ApiError::EmailTaken);
        }
        Err(err) => return Err(err.into()),
    }

    let event = meta
        .event("USER_REGISTER", AuditStatus::Success)
        .user_email(&email)
        .resource("user", &user.id);
    if let Err(err) = state.audit(event).await {
        // The account must not exist without its audit entry.
        if let Err(cleanup) = state.store.delete_user(&user.id).await {
            tracing::error!(error = %cleanup, user_id = %user.id, "cannot remove account after failed audit write");
        }
        return Err(err);
    }

    let body = json!({ "user_id": user.id, "email": user.email, "created_at": user.created_at });
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize)]
struct LoginRequest {
    email: String,
    password: String,
}

fn token_response(access: &str, refresh: &str, expires_in: i64) -> Json<serde_json::Value> {
    Json(json!({
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": expires_in,
    }))
}

async fn login(State(state): State<AppState>, meta: RequestMeta, ApiJson(body): ApiJson<LoginRequest>) -> ApiResult<impl IntoResponse> {
    // No account can have a longer email, and bounding it here bounds the
    // throttle's keys and the audit entries an anonymous caller can cause.
    let email = body.email.trim().to_lowercase();
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(ApiError::invalid_field("email", "must be at most 254 characters"));
    }
    let email_valid = email.is_empty() || normalize_email(&email).is_ok();
    let now = unix_now();

    let attempt = match state.throttle.begin(&email, meta.client_ip, now) {
        Ok(attempt) => attempt,
        Err(retry_after_seconds) => {
            let event = login_user(meta.event("LOGIN_THROTTLED", AuditStatus::Failure), &email, email_valid)
                .details(json!({ "retry_after_seconds": retry_after_seconds }));
            state.audit(event).await?;
            return Err(ApiError::RateLimited { retry_after_seconds });
        }
    };

    let user = state.store.user_by_email(&email).await?;
    // An unknown email is checked against a dummy hash so it takes as long
    // as a wrong password and does not reveal which accounts exist.
    let phc = user
        .as_ref()
        .map_or_else(|| state.dummy_hash.as_str().to_owned(), |user| user.password_hash.clone());
    let password = body.password;
    let password_ok = state.password_check(move || verify_password(&password, &phc)).await?;

    let Some(user) = user.filter(|_| password_ok) else {
        attempt.failed();
        let event = login_user(meta.event("USER_LOGIN_FAILED", AuditStatus::Failure), &email, email_valid)
            .details(json!({ "reason": "invalid_credentials" }));
        state.audit(event).await?;
        return Err(ApiError::InvalidCredentials);
    };

    attempt.succeeded();
    let family_id = random_id();
    let issued = OffsetDateTime::now_utc();
    let (access, _) = state.tokens.issue(&user.id, &family_id, TokenType::Access, issued).map_err(ApiError::internal)?;
    let (refresh, refresh_claims) = state.tokens.issue(&user.id, &family_id, TokenType::Refresh, issued).map_err(ApiError::internal)?;
    state
        .store
        .create_family(&family_id, &user.id, &refresh_claims.jti, refresh_claims.exp, issued.unix_timestamp())
        .await?;

    let event = meta
        .event("USER_LOGIN", AuditStatus::Success)
        .user_email(&user.email)
        .resource("user", &user.id);
    if let Err(err) = state.audit(event).await {
        state.store.revoke_family(&family_id, unix_now()).await?;
        return Err(err);
    }
    Ok(token_response(&access, &refresh, state.tokens.access_ttl_seconds()))
}

/// Names the user of a login audit entry. A value that is not an email
/// address is logged as `[INVALID_EMAIL]` without its text, because users
/// sometimes type their password into the email field.
fn login_user(event: AuditEvent, email: &str, email_valid: bool) -> AuditEvent {
    if email_valid {
        event.user_email(email)
    } else {
        AuditEvent {
            user: INVALID_EMAIL.to_owned(),
            ..event
        }
    }
}

#[derive(Deserialize)]
struct RefreshRequest {
    refresh_token: String,
}

async fn refresh(State(state): State<AppState>, meta: RequestMeta, ApiJson(body): ApiJson<RefreshRequest>) -> ApiResult<impl IntoResponse> {
    let now = OffsetDateTime::now_utc();
    let claims = match state.tokens.verify(&body.refresh_token, TokenType::Refresh, now) {
        Ok(claims) => claims,
        Err(reason) => {
            let event = meta
                .event("TOKEN_REFRESH", AuditStatus::Failure)
                .anonymous()
                .details(json!({ "reason": reason.to_string() }));
            state.audit(event).await?;
            return Err(ApiError::InvalidRefreshToken);
        }
    };

    let token_state = state.store.token_state(&claims.sub, &claims.jti, &claims.sid).await?;
    let Some(token_state) = token_state.filter(|found| claims.iat >= found.tokens_valid_after) else {
        let event = meta
            .event("TOKEN_REFRESH", AuditStatus::Failure)
            .anonymous()
            .details(json!({ "reason": "revoked" }));
        state.audit(event).await?;
        return Err(ApiError::InvalidRefreshToken);
    };

    let (access, _) = state.tokens.issue(&claims.sub, &claims.sid, TokenType::Access, now).map_err(ApiError::internal)?;
    let (refresh, new_claims) = state.tokens.issue(&claims.sub, &claims.sid, TokenType::Refresh, now).map_err(ApiError::internal)?;
    let outcome = state
        .store
        .rotate_refresh(&claims.sid, &claims.jti, &new_claims.jti, new_claims.exp, now.unix_timestamp())
        .await?;

    match outcome {
        RefreshOutcome::Rotated => {
            let event = meta
                .event("TOKEN_REFRESH", AuditStatus::Success)
                .user_email(&token_state.email)
                .resource("user", &claims.sub);
            if let Err(err) = state.audit(event).await {
                state.store.revoke_family(&claims.sid, unix_now()).await?;
                return Err(err);
            }
            Ok(token_response(&access, &refresh, state.tokens.access_ttl_seconds()))
        }
        RefreshOutcome::Reused => {
            let event = meta
                .event("REFRESH_TOKEN_REUSE", AuditStatus::Failure)
                .user_email(&token_state.email)
                .resource("user", &claims.sub)
                .details(json!({ "action": "family_revoked" }));
            state.audit(event).await?;
            Err(ApiError::InvalidRefreshToken)
        }
        RefreshOutcome::Rejected => {
            let event = meta
                .event("TOKEN_REFRESH", AuditStatus::Failure)
                .user_email(&token_state.email)
                .details(json!({ "reason": "revoked" }));
            state.audit(event).await?;
            Err(ApiError::InvalidRefreshToken)
        }
    }
}

#[derive(Deserialize)]
struct LogoutRequest {
    refresh_token: Option<String>,
}

async fn logout(State(state): State<AppState>, user: AuthUser, OptionalJson(body): OptionalJson<LogoutRequest>) -> ApiResult<StatusCode> {
    let now = unix_now();
    state.store.revoke_jti(&user.claims.jti, user.claims.exp).await?;
    state.store.revoke_family(&user.claims.sid, now).await?;

    // A refresh token from another login of the same user ends that login
    // too. One that belongs to someone else, or is not valid, is ignored.
    let other_login = body
        .and_then(|body| body.refresh_token)
        .and_then(|token| state.tokens.verify(&token, TokenType::Refresh, OffsetDateTime::now_utc()).ok())
        .filter(|claims: &Claims| claims.sub == user.user_id && claims.sid != user.claims.sid);
    if let Some(claims) = &other_login {
        state.store.revoke_family(&claims.sid, now).await?;
    }

    let event = user
        .meta
        .event("USER_LOGOUT", AuditStatus::Success)
        .user_email(&user.email)
        .resource("user", &user.user_id)
        .details(json!({ "scope": "session" }));
    state.audit(event).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn logout_all(State(state): State<AppState>, user: AuthUser) -> ApiResult<StatusCode> {
    state.store.revoke_jti(&user.claims.jti, user.claims.exp).await?;
    state.store.revoke_all_for_user(&user.user_id, unix_now()).await?;
    let event = user
        .meta
        .event("USER_LOGOUT", AuditStatus::Success)
        .user_email(&user.email)
        .resource("user", &user.user_id)
        .details(json!({ "scope": "all" }));
    state.audit(event).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(state): State<AppState>, user: AuthUser) -> ApiResult<impl IntoResponse> {
    let record = state.store.user_by_id(&user.user_id).await?.ok_or(ApiError::InvalidToken)?;
    Ok(Json(json!({
        "user_id": record.id,
        "email": record.email,
        "first_name": record.first_name,
        "last_name": record.last_name,
        "company": record.company,
        "created_at": record.created_at,
    })))
}

/// Serves the public keys that may still verify a token, as a JWK set.
/// With an HS256 secret there is nothing public to serve and the set is empty.
async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    let now = OffsetDateTime::now_utc();
    let keys = state.tokens.key_ring().keys();
    let entries: Vec<serde_json::Value> = keys
        .keys
        .iter()
        .filter(|key| key.may_verify(now))
        .filter_map(|key| {
            key.public_x.as_ref().map(|x| {
                json!({ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": key.kid, "x": x })
            })
        })
        .collect();
    Json(json!({ "keys": entries }))
}
