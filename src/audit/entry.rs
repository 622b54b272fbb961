//! The on-disk form of an audit entry and its hash, shared by the writer and the verifier.
//!
//! An entry is one line: the canonical body with a `hash` member added as the last
//! member, followed by `\n`. The canonical body is the compact JSON (serde_json, no
//! whitespace) of [`EntryBody`], whose members are, in this order: `seq`, `timestamp`,
//! `event_type`, `user`, `resource_type`, `resource_id`, `status`, `details`,
//! `request_id`, `client_ip`, `prev_hash`. So a stored line is
//! `{"seq":1,...,"prev_hash":"<64 hex>","hash":"<64 hex>"}`.
//!
//! `hash` is the lowercase hex SHA-256 of the 64 ASCII characters of `prev_hash`
//! followed by the body bytes, where the body is the stored line with the final
//! `,"hash":"<64 hex>"` removed (so it ends in `}`). The verifier takes these bytes from
//! the file instead of serializing the parsed entry again. That keeps the check
//! independent of JSON details such as the key order of `details` or float formatting.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::event::{AuditEvent, AuditStatus};

/// `prev_hash` of the first entry of a log (the one with `seq` 1).
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Number of hex digits in a SHA-256 hash.
const HASH_HEX_LEN: usize = 64;

/// The text that precedes the hash value at the end of a stored line.
const HASH_MEMBER_PREFIX: &[u8] = b",\"hash\":\"";

#[derive(Serialize)]
struct EntryBody<'a> {
    seq: u64,
    timestamp: &'a str,
    event_type: &'a str,
    user: &'a str,
    resource_type: &'a str,
    resource_id: Option<&'a str>,
    status: AuditStatus,
    details: &'a Value,
    request_id: &'a str,
    client_ip: &'a str,
    prev_hash: &'a str,
}

/// An audit entry as read back from a log line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredEntry {
    pub seq: u64,
    pub timestamp: String,
    pub event_type: String,
    pub user: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub status: AuditStatus,
    pub details: Value,
    pub request_id: String,
    pub client_ip: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Position in the hash chain: the `seq` and `hash` of the last entry written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainPosition {
    pub seq: u64,
    pub hash: String,
}

impl ChainPosition {
    /// Position before the first entry: the next entry gets `seq` 1 and [`ZERO_HASH`].
    pub fn start() -> Self {
        ChainPosition {
            seq: 0,
            hash: ZERO_HASH.to_string(),
        }
    }
}

/// A stored line that parsed as an entry, with the result of its hash check.
#[derive(Debug)]
pub(crate) struct ParsedLine {
    pub entry: StoredEntry,
    pub hash_matches: bool,
}

/// Computes the entry hash from the previous hash and the canonical body bytes.
pub(crate) fn entry_hash(prev_hash: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// Encodes `event` as the next line after `previous`, including the trailing newline.
/// Returns the line and the position that it creates.
pub(crate) fn encode_line(
    previous: &ChainPosition,
    timestamp: &str,
    event: &AuditEvent,
) -> Result<(Vec<u8>, ChainPosition), serde_json::Error> {
    let seq = previous.seq + 1;
    let body = EntryBody {
        seq,
        timestamp,
        event_type: &event.event_type,
        user: &event.user,
        resource_type: &event.resource_type,
        resource_id: event.resource_id.as_deref(),
        status: event.status,
        details: &event.details,
        request_id: &event.request_id,
        client_ip: &event.client_ip,
        prev_hash: &previous.hash,
    };
    let mut line = serde_json::to_vec(&body)?;
    let hash = entry_hash(&previous.hash, &line);

    // serde_json writes a struct as an object, so the last byte is its closing brace,
    // which moves after the added hash member.
    line.pop();
    line.extend_from_slice(HASH_MEMBER_PREFIX);
    line.extend_from_slice(hash.as_bytes());
    line.extend_from_slice(b"\"}\n");
    Ok((line, ChainPosition { seq, hash }))
}

/// Parses one stored line (without its newline) and checks its hash.
///
/// Returns an error message when the line is not a complete entry: invalid JSON, a
/// missing member, a malformed hash, or a `hash` member that is not last.
pub(crate) fn parse_line(line: &[u8]) -> Result<ParsedLine, String> {
    let entry: StoredEntry = serde_json::from_slice(line)
        .map_err(|error| format!("not a valid audit entry: {error}"))?;
    if entry.seq == 0 {
        return Err("seq is 0, but entries start at 1".to_string());
    }
    if !is_hash_hex(&entry.prev_hash) {
        return Err("prev_hash is not 64 lowercase hex digits".to_string());
    }
    if !is_hash_hex(&entry.hash) {
        return Err("hash is not 64 lowercase hex digits".to_string());
    }

    let body = canonical_body(line, &entry.hash).ok_or_else(|| {
        "the line does not end with the hash member in canonical form".to_string()
    })?;
    let hash_matches = entry_hash(&entry.prev_hash, &body) == entry.hash;
    Ok(ParsedLine {
        entry,
        hash_matches,
    })
}

/// Returns the body bytes that `hash` covers: `line` without its final
/// `,"hash":"<hash>"`, so that the body ends with the closing brace.
fn canonical_body(line: &[u8], hash: &str) -> Option<Vec<u8>> {
    let mut suffix = HASH_MEMBER_PREFIX.to_vec();
    suffix.extend_from_slice(hash.as_bytes());
    suffix.extend_from_slice(b"\"}");

    let body_without_brace = line.strip_suffix(suffix.as_slice())?;
    let mut body = body_without_brace.to_vec();
    body.push(b'}');
    Some(body)
}

fn is_hash_hex(value: &str) -> bool {
    value.len() == HASH_HEX_LEN
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
