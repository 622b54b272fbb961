//! Request extractors that turn every malformed input into the API's own
//! problem responses instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::audit::{AuditEvent, AuditStatus};
use crate::auth::tokens::{Claims, TokenError, TokenType};
use crate::edge::request_id::RequestMeta;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// JSON body parsed with the field path of the first problem, for the
/// `errors` list.
pub struct ApiJson<T>(pub T);

/// Like [`ApiJson`], but an empty body is `None`.
pub struct OptionalJson<T>(pub Option<T>);

/// Checks that the request declares a JSON body (`application/json` or a
/// `+json` type), or returns the 415 for it.
fn require_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
        });
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType("Content-Type must be application/json.".into()))
    }
}

async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state).await.map_err(|rejection: BytesRejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge("Request body too large.".into())
        } else {
            ApiError::InvalidRequest(vec![FieldError::new("body", "could not be read")])
        }
    })
}

/// Parses JSON, naming the field at fault. The message never repeats the
/// offending value, because that value may be a password.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let text = inner.to_string();
        let (field, message) = if let Some(rest) = text.strip_prefix("missing field `") {
            let name = rest.split('`').next().unwrap_or("body");
            let field = if path == "." { name.to_owned() } else { format!("{path}.{name}") };
            (field, "is required".to_owned())
        } else if inner.is_syntax() || inner.is_eof() {
            ("body".to_owned(), "is not valid JSON".to_owned())
        } else if text.starts_with("invalid type") {
            (path, "has the wrong type".to_owned())
        } else if text.starts_with("unknown variant") {
            (path, "is not an accepted value".to_owned())
        } else {
            (path, "is invalid".to_owned())
        };
        let field = if field == "." { "body".to_owned() } else { field };
        ApiError::InvalidRequest(vec![FieldError::new(field, message)])
    })?;
    // Trailing bytes after the JSON value make the body malformed too.
    deserializer
        .end()
        .map_err(|_| ApiError::InvalidRequest(vec![FieldError::new("body", "is not valid JSON")]))?;
    Ok(value)
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json(request.headers())?;
        let bytes = read_body(request, state).await?;
        Ok(Self(parse_json(&bytes)?))
    }
}

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared_json = require_json(request.headers());
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        declared_json?;
        Ok(Self(Some(parse_json(&bytes)?)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestMeta>()
            .cloned()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("request id middleware did not run")))
    }
}

impl RequestMeta {
    /// Starts an audit entry carrying this request's id and client address.
    pub fn event(&self, event_type: &'static str, status: AuditStatus) -> AuditEvent {
        AuditEvent::new(event_type, status).request(&self.request_id, self.client_ip.to_string())
    }
}

/// The caller of an authenticated route, after every token check passed.
pub struct AuthUser {
    pub user_id: String,
    pub email: String,
    pub claims: Claims,
    pub meta: RequestMeta,
}

/// Maximum length of a request path copied into an audit entry, in characters.
const MAX_LOGGED_PATH_CHARS: usize = 200;

/// Returns the request path for an audit entry, cut short so an anonymous
/// caller cannot write arbitrarily long entries.
fn logged_path(parts: &Parts) -> String {
    parts.uri.path().chars().take(MAX_LOGGED_PATH_CHARS).collect()
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let meta = RequestMeta::from_request_parts(parts, state).await?;
        let Some(token) = bearer_token(parts) else {
            let event = meta
                .event("TOKEN_VALIDATION_FAILED", AuditStatus::Failure)
                .anonymous()
                .details(serde_json::json!({ "reason": "missing", "path": logged_path(parts) }));
            state.audit(event).await?;
            return Err(ApiError::InvalidToken);
        };

        match check_access_token(state, token).await? {
            Ok((claims, email)) => Ok(Self {
                user_id: claims.sub.clone(),
                email,
                claims,
                meta,
            }),
            Err(reason) => {
                let event = meta
                    .event("TOKEN_VALIDATION_FAILED", AuditStatus::Failure)
                    .anonymous()
                    .details(serde_json::json!({ "reason": reason.to_string(), "path": logged_path(parts) }));
                state.audit(event).await?;
                Err(ApiError::InvalidToken)
            }
        }
    }
}

/// Verifies an access token and its revocation state. The outer error is a
/// server failure, and the inner one gives the reason the token was rejected.
pub async fn check_access_token(state: &AppState, token: &str) -> Result<Result<(Claims, String), TokenError>, ApiError> {
    let claims = match state.tokens.verify(token, TokenType::Access, OffsetDateTime::now_utc()) {
        Ok(claims) => claims,
        Err(reason) => return Ok(Err(reason)),
    };
    let Some(token_state) = state
        .store
        .token_state(&claims.sub, &claims.jti, &claims.sid)
        .await?
    else {
        return Ok(Err(TokenError::UnknownUser));
    };
    if token_state.jti_revoked || token_state.family_revoked || claims.iat < token_state.tokens_valid_after {
        return Ok(Err(TokenError::Revoked));
    }
    Ok(Ok((claims, token_state.email)))
}
