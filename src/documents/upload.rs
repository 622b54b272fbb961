//! Receiving a multipart upload: the `file` part is streamed to a temporary
//! file while it is hashed and counted, so memory stays at one chunk per
//! upload and the size limit applies whether or not the client sent a
//! `Content-Length`.

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::Multipart;
use axum::http::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::filename::sanitize_filename;
use super::storage::{DocumentStorage, TempUpload};
use crate::error::{ApiError, FieldError};

/// Document types a client may declare.
pub const DOCUMENT_TYPES: [&str; 7] = ["RFQ", "BOQ", "QUOTATION", "INVOICE", "PO", "CONTRACT", "OTHER"];

/// Maximum length in bytes of a text part such as `document_type`.
const MAX_TEXT_PART_BYTES: usize = 64;

/// An upload that arrived whole and within the limit, not yet sniffed.
pub struct ReceivedUpload {
    pub temp: TempUpload,
    pub size_bytes: u64,
    pub sha256: String,
    pub filename: String,
    pub document_type: String,
}

/// Builds the 413 for a file over `max_bytes`. A limit of whole mebibytes
/// is stated in MB, as clients of this API expect. Any other limit is
/// stated in bytes, so the message never rounds it to a wrong figure.
pub fn too_large(max_bytes: u64) -> ApiError {
    const MIB: u64 = 1024 * 1024;
    let limit = if max_bytes % MIB == 0 {
        format!("{} MB", max_bytes / MIB)
    } else {
        format!("{max_bytes} bytes")
    };
    ApiError::PayloadTooLarge(format!("File too large. Max size: {limit}"))
}

fn multipart_error(err: &MultipartError, max_bytes: u64) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(max_bytes)
    } else {
        ApiError::InvalidRequest(vec![FieldError::new("body", "is not a complete multipart/form-data body")])
    }
}

// NOTE: axum's multipart reader buffers each part's header block whole and
// sets no limit of its own on it. A part header can therefore take memory
// up to the route's body limit; only the file part's body is streamed.

/// Reads every part of the form. Exactly one `file` part is required and
/// `document_type` is optional. Any other part is an error, because a
/// misspelt field name would otherwise be silently ignored.
pub async fn receive_upload(mut multipart: Multipart, storage: &DocumentStorage, max_bytes: u64) -> Result<ReceivedUpload, ApiError> {
    let mut file: Option<(TempUpload, u64, String, String)> = None;
    let mut document_type: Option<String> = None;

    while let Some(field) = multipart.next_field().await.map_err(|err| multipart_error(&err, max_bytes))? {
        match field.name() {
            Some("file") => {
                if file.is_some() {
                    return Err(ApiError::invalid_field("file", "must be sent exactly once"));
                }
                let filename = sanitize_filename(field.file_name().unwrap_or(""));
                let temp = storage.temp_file();
                let (size, sha256) = stream_to_file(field, &temp, max_bytes).await?;
                file = Some((temp, size, sha256, filename));
            }
            Some("document_type") => {
                if document_type.is_some() {
                    return Err(ApiError::invalid_field("document_type", "must be sent at most once"));
                }
                let value = read_text_part(field, max_bytes).await?;
                let value = value.trim().to_ascii_uppercase();
                if !DOCUMENT_TYPES.contains(&value.as_str()) {
                    return Err(ApiError::invalid_field(
                        "document_type",
                        format!("must be one of {}", DOCUMENT_TYPES.join(", ")),
                    ));
                }
                document_type = Some(value);
            }
            other => {
                let name = other.unwrap_or("").chars().take(40).collect::<String>();
                return Err(ApiError::invalid_field(
                    if name.is_empty() { "body" } else { &name },
                    "is not an accepted part; send `file` and optionally `document_type`",
                ));
            }
        }
    }

    let Some((temp, size_bytes, sha256, filename)) = file else {
        return Err(ApiError::invalid_field("file", "is required"));
    };
    Ok(ReceivedUpload {
        temp,
        size_bytes,
        sha256,
        filename,
        document_type: document_type.unwrap_or_else(|| "OTHER".into()),
    })
}

async fn stream_to_file(mut field: Field<'_>, temp: &TempUpload, max_bytes: u64) -> Result<(u64, String), ApiError> {
    let mut out = tokio::fs::File::create(temp.path()).await.map_err(|err| storage_error(&err))?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    while let Some(chunk) = field.chunk().await.map_err(|err| multipart_error(&err, max_bytes))? {
        size += chunk.len() as u64;
        if size > max_bytes {
            return Err(too_large(max_bytes));
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(|err| storage_error(&err))?;
    }
    out.sync_all().await.map_err(|err| storage_error(&err))?;
    Ok((size, hex::encode(hasher.finalize())))
}

async fn read_text_part(mut field: Field<'_>, max_bytes: u64) -> Result<String, ApiError> {
    let name = field.name().unwrap_or("").to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|err| multipart_error(&err, max_bytes))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_TEXT_PART_BYTES {
            return Err(ApiError::invalid_field(&name, "is too long"));
        }
    }
    String::from_utf8(bytes).map_err(|_| ApiError::invalid_field(&name, "must be UTF-8 text"))
}

fn storage_error(err: &std::io::Error) -> ApiError {
    tracing::error!(error = %err, "cannot write upload to temporary storage");
    ApiError::Unavailable("storage")
}
