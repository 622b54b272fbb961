//! The one error type of the HTTP API and its mapping to
//! `application/problem+json` (RFC 9457) responses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One problem with one input field, listed under `errors`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Failure of a request. Expected failures are variants of their own.
/// `Internal` carries the cause for the log and responds with a generic
/// body, so no SQL, path or stack trace reaches the caller.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request")]
    InvalidRequest(Vec<FieldError>),
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("invalid token")]
    InvalidToken,
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("email taken")]
    EmailTaken,
    #[error("payload too large")]
    PayloadTooLarge(String),
    #[error("unsupported media type")]
    UnsupportedMediaType(String),
    #[error("rate limited")]
    RateLimited { retry_after_seconds: u64 },
    #[error("{0} unavailable")]
    Unavailable(&'static str),
    #[error("request timed out")]
    Timeout,
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidRequest(vec![FieldError::new(field, message)])
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::InvalidCredentials | Self::InvalidToken | Self::InvalidRefreshToken => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::EmailTaken => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable snake_case code for programs, the same in responses and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidToken | Self::InvalidRefreshToken => "invalid_token",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::EmailTaken => "email_taken",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Timeout => "request_timeout",
            Self::Internal(_) => "internal_error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::InvalidRequest(_) => "Invalid request format".into(),
            Self::InvalidCredentials => "The email or password is incorrect.".into(),
            Self::InvalidToken => "The access token is missing, invalid, expired or revoked.".into(),
            Self::InvalidRefreshToken => "The refresh token is invalid, expired, already used or revoked. Log in again.".into(),
            Self::NotFound => "The requested resource was not found.".into(),
            Self::MethodNotAllowed => "This method is not allowed on this resource.".into(),
            Self::EmailTaken => "An account with this email already exists.".into(),
            Self::PayloadTooLarge(detail) | Self::UnsupportedMediaType(detail) => detail.clone(),
            Self::RateLimited { retry_after_seconds } => {
                format!("Too many attempts. Try again in {retry_after_seconds} seconds.")
            }
            Self::Unavailable(part) => format!("The {part} is unavailable. Try again later."),
            Self::Timeout => "The request took too long and was abandoned.".into(),
            Self::Internal(_) => "The server failed to handle the request. Try again later.".into(),
        }
    }
}

#[derive(Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

/// Builds a problem+json response; also used by the edge middleware for
/// errors that axum or tower produce before a handler runs.
pub fn problem_response(status: StatusCode, code: &str, detail: &str, errors: Option<&[FieldError]>) -> Response {
    let body = ProblemBody {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error"),
        status: status.as_u16(),
        detail,
        code,
        errors,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            // Logged once here, inside the request span, so the request id
            // ties the log line to the caller's response.
            tracing::error!(error = %format!("{cause:#}"), "request failed");
        }
        let errors = match &self {
            Self::InvalidRequest(errors) if !errors.is_empty() => Some(errors.as_slice()),
            _ => None,
        };
        let mut response = problem_response(self.status(), self.code(), &self.detail(), errors);
        match self {
            Self::InvalidToken | Self::InvalidRefreshToken => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            Self::RateLimited { retry_after_seconds } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
            }
            _ => {}
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match &err {
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed,
            ) => {
                tracing::error!(error = %err, "database unreachable");
                Self::Unavailable("database")
            }
            _ => Self::Internal(err.into()),
        }
    }
}
