//! Detects an uploaded document's kind from its bytes.
//!
//! The client's file name and declared content type are never consulted, because
//! both are under the uploader's control. Binary formats are recognized by their
//! signatures, and DOCX and XLSX by the entry names in the zip archive, whose
//! `[Content_Types].xml` must not declare macros. Anything else must pass as
//! plain UTF-8 text without HTML or XML tags, PHP, ASP or JSP code blocks, a
//! leading `#!` or a `javascript:` URL.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;

mod content_types;
mod office_zip;
mod text;

/// Size of the buffer that text is validated in, so a large upload is never
/// held in memory whole.
const CHUNK_SIZE: usize = 64 * 1024;

/// Document kinds that kraftd accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    Pdf,
    Docx,
    Xlsx,
    Png,
    Jpeg,
    Tiff,
    Csv,
    Text,
}

impl DocumentKind {
    /// Returns the bare media type, without parameters, for storage and comparison.
    pub fn mime(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "application/pdf",
            DocumentKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            DocumentKind::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            DocumentKind::Png => "image/png",
            DocumentKind::Jpeg => "image/jpeg",
            DocumentKind::Tiff => "image/tiff",
            DocumentKind::Csv => "text/csv",
            DocumentKind::Text => "text/plain",
        }
    }

    /// Returns the value to send in a `Content-Type` header when serving the document.
    ///
    /// CSV and text carry `charset=utf-8` because `sniff_file` accepts them only
    /// as valid UTF-8, and without the parameter browsers may guess another charset.
    pub fn content_type(self) -> &'static str {
        match self {
            DocumentKind::Csv => "text/csv; charset=utf-8",
            DocumentKind::Text => "text/plain; charset=utf-8",
            other => other.mime(),
        }
    }
}

/// Reasons a file is not accepted as a document.
#[derive(Debug, thiserror::Error)]
pub enum SniffError {
    #[error("file is empty or contains only whitespace")]
    Empty,
    /// The reason is meant for logs. Clients should get a generic message.
    #[error("unsupported document: {reason}")]
    Unsupported { reason: &'static str },
    #[error("failed to read file: {0}")]
    Io(#[from] io::Error),
}

fn unsupported(reason: &'static str) -> SniffError {
    SniffError::Unsupported { reason }
}

/// Detects the kind of the document stored at `path` from its content.
///
/// This is blocking file I/O, so async callers should run it on a blocking
/// thread. Memory use does not grow with the file size: text is read in 64 KiB
/// chunks, a zip central directory may take at most 1 MiB, and
/// `[Content_Types].xml` at most 1 MiB before it is decoded.
pub fn sniff_file(path: &Path) -> Result<DocumentKind, SniffError> {
    let mut file = File::open(path)?;

    let mut head = [0u8; 8];
    let head_len = read_up_to(&mut file, &mut head)?;
    let head = &head[..head_len];
    if head.is_empty() {
        return Err(SniffError::Empty);
    }

    if head.starts_with(b"%PDF-") {
        return Ok(DocumentKind::Pdf);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(DocumentKind::Png);
    }
    if head.starts_with(b"\xFF\xD8\xFF") {
        return Ok(DocumentKind::Jpeg);
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return Ok(DocumentKind::Tiff);
    }

    file.rewind()?;
    if head.starts_with(b"PK\x03\x04") {
        return office_zip::sniff_office_zip(file);
    }
    text::sniff_text(file, CHUNK_SIZE)
}

/// Fills `buf` as far as the reader allows and returns the number of bytes read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod text_tests;
