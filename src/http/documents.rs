//! Document routes: upload, list, metadata, download and delete. A document
//! of another user gets exactly the response of a missing one.

use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use time::OffsetDateTime;
use tokio_util::io::ReaderStream;

use super::extract::AuthUser;
use super::pagination::{page_headers, PageQuery};
use crate::audit::AuditStatus;
use crate::blocking::run_blocking;
use crate::documents::filename::content_disposition;
use crate::documents::sniff::{sniff_file, SniffError};
use crate::documents::upload::{receive_upload, too_large};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::DocumentRecord;
use crate::timefmt::format_rfc3339;

/// Room for multipart boundaries, part headers and the `document_type`
/// part on top of the file itself.
pub const MULTIPART_OVERHEAD_BYTES: u64 = 64 * 1024;

pub fn upload_router() -> Router<AppState> {
    Router::new().route("/docs/upload", post(upload))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/documents", get(list))
        .route("/documents/{document_id}", get(metadata).delete(delete))
        .route("/documents/{document_id}/content", get(download))
}

/// Parses a path id; anything but a UUID is a bad request, not a lookup.
pub fn parse_id(field: &str, raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::invalid_field(field, "must be a UUID"))
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("multipart/form-data"))
}

async fn upload(State(state): State<AppState>, user: AuthUser, headers: HeaderMap, multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>) -> ApiResult<Response> {
    let max_bytes = state.config.max_upload_bytes;
    if !is_multipart(&headers) {
        return Err(ApiError::UnsupportedMediaType("Content-Type must be multipart/form-data.".into()));
    }
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > max_bytes + MULTIPART_OVERHEAD_BYTES) {
        return Err(too_large(max_bytes));
    }
    let multipart = multipart.map_err(|_| ApiError::invalid_field("body", "is not a multipart/form-data body with a boundary"))?;

    let received = receive_upload(multipart, &state.documents, max_bytes).await?;
    let sniff_path = received.temp.path().to_owned();
    let kind = match run_blocking(move || sniff_file(&sniff_path)).await? {
        Ok(kind) => kind,
        Err(SniffError::Io(err)) => return Err(ApiError::internal(err)),
        Err(err) => {
            let event = user
                .meta
                .event("DOCUMENT_UPLOAD", AuditStatus::Failure)
                .user_email(&user.email)
                .details(json!({ "reason": "unsupported_media_type", "detail": err.to_string(), "filename": received.filename }));
            state.audit(event).await?;
            return Err(ApiError::UnsupportedMediaType(
                "The file is not an accepted document type (PDF, DOCX, XLSX, PNG, JPEG, TIFF, CSV or plain text).".into(),
            ));
        }
    };

    let id = uuid::Uuid::new_v4();
    let record = DocumentRecord {
        id: id.to_string(),
        owner_id: user.user_id.clone(),
        filename: received.filename,
        content_type: kind.content_type().to_owned(),
        size_bytes: i64::try_from(received.size_bytes).map_err(ApiError::internal)?,
        sha256: received.sha256,
        document_type: received.document_type,
        status: "uploaded".into(),
        uploaded_at: format_rfc3339(OffsetDateTime::now_utc()),
    };
    let stored_path = state.documents.commit(received.temp, &id).await.map_err(|err| {
        tracing::error!(error = %err, document_id = %id, "cannot move upload into storage");
        ApiError::Unavailable("storage")
    })?;
    let undo_file = || async {
        if let Err(err) = tokio::fs::remove_file(&stored_path).await {
            tracing::error!(error = %err, document_id = %id, "cannot remove stored file after a failed upload");
        }
    };
    if let Err(err) = state.store.insert_document(&record).await {
        undo_file().await;
        return Err(err.into());
    }

    let event = user
        .meta
        .event("DOCUMENT_UPLOAD", AuditStatus::Success)
        .user_email(&user.email)
        .resource("document", &record.id)
        .details(json!({ "size_bytes": record.size_bytes, "sha256": record.sha256, "content_type": record.content_type }));
    if let Err(err) = state.audit(event).await {
        // An upload without its audit entry must not stay, so the row and the file go.
        if let Err(cleanup) = state.store.delete_document(&user.user_id, &record.id).await {
            tracing::error!(error = %cleanup, document_id = %id, "cannot remove document row after failed audit write");
        }
        undo_file().await;
        return Err(err);
    }
    Ok((StatusCode::CREATED, Json(record)).into_response())
}

/// Looks up the caller's document, auditing a probe at someone else's.
async fn owned_document(state: &AppState, user: &AuthUser, raw_id: &str, action: &str) -> ApiResult<(uuid::Uuid, DocumentRecord)> {
    let uuid = parse_id("document_id", raw_id)?;
    let id = uuid.to_string();
    if let Some(document) = state.store.document(&user.user_id, &id).await? {
        return Ok((uuid, document));
    }
    if state.store.document_exists(&id).await? {
        let event = user
            .meta
            .event("UNAUTHORIZED_ACCESS", AuditStatus::Failure)
            .user_email(&user.email)
            .resource("document", &id)
            .details(json!({ "action": action }));
        state.audit(event).await?;
    }
    Err(ApiError::NotFound)
}

async fn list(State(state): State<AppState>, user: AuthUser, query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>) -> ApiResult<Response> {
    let page = PageQuery::validate(query)?;
    let result = state.store.list_documents(&user.user_id, page.per_page, page.offset()).await?;
    let headers = page_headers(result.total, page.per_page);
    Ok((headers, Json(result.items)).into_response())
}

async fn metadata(State(state): State<AppState>, user: AuthUser, Path(raw_id): Path<String>) -> ApiResult<Json<DocumentRecord>> {
    let (_, document) = owned_document(&state, &user, &raw_id, "read").await?;
    let event = user
        .meta
        .event("DOCUMENT_ACCESS", AuditStatus::Success)
        .user_email(&user.email)
        .resource("document", &document.id)
        .details(json!({ "action": "metadata" }));
    state.audit(event).await?;
    Ok(Json(document))
}

async fn download(State(state): State<AppState>, user: AuthUser, Path(raw_id): Path<String>) -> ApiResult<Response> {
    let (id, document) = owned_document(&state, &user, &raw_id, "download").await?;
    let file = tokio::fs::File::open(state.documents.path_of(&id)).await.map_err(|err| {
        tracing::error!(error = %err, document_id = %document.id, "stored file missing or unreadable");
        ApiError::Unavailable("storage")
    })?;

    let event = user
        .meta
        .event("DOCUMENT_ACCESS", AuditStatus::Success)
        .user_email(&user.email)
        .resource("document", &document.id)
        .details(json!({ "action": "download", "size_bytes": document.size_bytes }));
    state.audit(event).await?;

    let mut headers = HeaderMap::new();
    let content_type = HeaderValue::from_str(&document.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(document.size_bytes));
    if let Ok(value) = HeaderValue::from_str(&content_disposition(&document.filename)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", document.sha256)) {
        headers.insert(header::ETAG, value);
    }
    Ok((headers, Body::from_stream(ReaderStream::new(file))).into_response())
}

async fn delete(State(state): State<AppState>, user: AuthUser, Path(raw_id): Path<String>) -> ApiResult<StatusCode> {
    let (id, document) = owned_document(&state, &user, &raw_id, "delete").await?;
    if !state.store.delete_document(&user.user_id, &document.id).await? {
        return Err(ApiError::NotFound);
    }

    // The bytes are set aside, not removed, until the audit entry is
    // written, so a failed audit write can put the document back whole.
    let path = state.documents.path_of(&id);
    let aside = path.with_extension("deleting");
    let moved_aside = tokio::fs::rename(&path, &aside).await.is_ok();

    let event = user
        .meta
        .event("DOCUMENT_DELETE", AuditStatus::Success)
        .user_email(&user.email)
        .resource("document", &document.id);
    if let Err(err) = state.audit(event).await {
        if moved_aside {
            let _ = tokio::fs::rename(&aside, &path).await;
        }
        state.store.insert_document(&document).await?;
        return Err(err);
    }

    if moved_aside {
        if let Err(err) = tokio::fs::remove_file(&aside).await {
            tracing::error!(error = %err, document_id = %document.id, "cannot remove deleted document bytes");
        }
    } else {
        tracing::error!(document_id = %document.id, "stored file was already missing at delete");
    }
    Ok(StatusCode::NO_CONTENT)
}
