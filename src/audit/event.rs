//! The audit event that callers build and pass to [`AuditLog::record`](super::AuditLog::record).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::mask::mask_email;

/// Value of `user` for requests without an authenticated user.
pub const ANONYMOUS: &str = "ANONYMOUS";

/// Event type names used by the API. `event_type` accepts any string, so new names
/// need no change here.
pub mod event_types {
    pub const USER_REGISTER: &str = "USER_REGISTER";
    pub const USER_LOGIN: &str = "USER_LOGIN";
    pub const USER_LOGIN_FAILED: &str = "USER_LOGIN_FAILED";
    pub const USER_LOGOUT: &str = "USER_LOGOUT";
    pub const TOKEN_REFRESH: &str = "TOKEN_REFRESH";
    pub const DOCUMENT_UPLOAD: &str = "DOCUMENT_UPLOAD";
    pub const DOCUMENT_ACCESS: &str = "DOCUMENT_ACCESS";
    pub const DOCUMENT_DELETE: &str = "DOCUMENT_DELETE";
    pub const WORKFLOW_INITIATED: &str = "WORKFLOW_INITIATED";
    pub const UNAUTHORIZED_ACCESS: &str = "UNAUTHORIZED_ACCESS";
    pub const TOKEN_VALIDATION_FAILED: &str = "TOKEN_VALIDATION_FAILED";
    pub const LOGIN_THROTTLED: &str = "LOGIN_THROTTLED";
    pub const REFRESH_TOKEN_REUSE: &str = "REFRESH_TOKEN_REUSE";
    pub const KEY_ROTATION: &str = "KEY_ROTATION";
    pub const KEY_EMERGENCY_ROTATION: &str = "KEY_EMERGENCY_ROTATION";
}

/// Outcome of the audited action, serialized as `"SUCCESS"` or `"FAILURE"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuditStatus {
    Success,
    Failure,
}

/// One audited action, without the fields that the writer adds (`timestamp`, `seq`,
/// `prev_hash` and `hash`).
///
/// [`AuditEvent::new`] starts with user [`ANONYMOUS`], empty `resource_type`,
/// `request_id` and `client_ip`, no `resource_id` and empty `details`. The setters
/// consume and return the event so that calls can be chained:
///
/// ```ignore
/// let event = AuditEvent::new(event_types::DOCUMENT_UPLOAD, AuditStatus::Success)
///     .user_email("jane.doe@example.com")
///     .resource("document", document_id)
///     .details(json!({ "size_bytes": 1024 }))
///     .request(request_id, client_ip);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub event_type: String,
    /// Masked email or [`ANONYMOUS`]. Never store a plain address here.
    pub user: String,
    pub resource_type: String,
    /// Serialized as JSON `null` when absent.
    pub resource_id: Option<String>,
    pub status: AuditStatus,
    /// JSON object. [`AuditEvent::details`] wraps any other value in one.
    pub details: Value,
    pub request_id: String,
    pub client_ip: String,
}

impl AuditEvent {
    /// Creates an event for an anonymous user with no resource, details or request.
    pub fn new(event_type: impl Into<String>, status: AuditStatus) -> Self {
        AuditEvent {
            event_type: event_type.into(),
            user: ANONYMOUS.to_string(),
            resource_type: String::new(),
            resource_id: None,
            status,
            details: Value::Object(Map::new()),
            request_id: String::new(),
            client_ip: String::new(),
        }
    }

    /// Sets `user` to the masked form of `email` (see [`mask_email`]).
    pub fn user_email(mut self, email: &str) -> Self {
        self.user = mask_email(email);
        self
    }

    /// Sets `user` to [`ANONYMOUS`].
    pub fn anonymous(mut self) -> Self {
        self.user = ANONYMOUS.to_string();
        self
    }

    /// Sets `resource_type` and `resource_id`.
    pub fn resource(
        mut self,
        resource_type: impl Into<String>,
        resource_id: impl Into<String>,
    ) -> Self {
        self.resource_type = resource_type.into();
        self.resource_id = Some(resource_id.into());
        self
    }

    /// Sets `resource_type` and clears `resource_id`, for actions on a kind of resource
    /// rather than one instance (for example a rejected upload).
    pub fn resource_type(mut self, resource_type: impl Into<String>) -> Self {
        self.resource_type = resource_type.into();
        self.resource_id = None;
        self
    }

    /// Sets `details`. An object is stored as it is and `null` becomes `{}`. Any other
    /// value is wrapped as `{"value": ...}`, because the log format requires an object.
    pub fn details(mut self, details: Value) -> Self {
        self.details = match details {
            Value::Object(map) => Value::Object(map),
            Value::Null => Value::Object(Map::new()),
            other => {
                let mut map = Map::new();
                map.insert("value".to_string(), other);
                Value::Object(map)
            }
        };
        self
    }

    /// Sets `request_id` and `client_ip`.
    pub fn request(mut self, request_id: impl Into<String>, client_ip: impl Into<String>) -> Self {
        self.request_id = request_id.into();
        self.client_ip = client_ip.into();
        self
    }
}
