//! Classification of zip uploads as DOCX or XLSX.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

use zip::result::ZipError;
use zip::ZipArchive;

use super::content_types::{check_content_types, MAX_CONTENT_TYPES_SIZE};
use super::{unsupported, DocumentKind, SniffError};

/// Maximum number of bytes the zip parser may consume while it locates and
/// reads the central directory.
///
/// The zip crate (2.6.1) keeps every central directory entry in memory and
/// retries each end-of-central-directory candidate it finds. Without a limit,
/// a crafted 50 MiB archive of 590,000 empty entries took 350 MB peak RSS and
/// 6.6 s to reject in a debug build on x86_64. A central directory entry is at
/// least 46 bytes, so 1 MiB allows at most about 22,000 entries, while a DOCX
/// or XLSX file of a few dozen parts needs a few KB.
const METADATA_READ_LIMIT: u64 = 1024 * 1024;

/// Maximum number of compressed bytes read for `[Content_Types].xml`.
///
/// Deflate adds 5 bytes per stored block of up to 65,535 bytes, so twice the
/// uncompressed limit is ample. The limit also ends a stream of empty blocks,
/// which would never produce the output that the uncompressed limit counts.
const CONTENT_TYPES_READ_LIMIT: u64 = 2 * MAX_CONTENT_TYPES_SIZE;

/// Signature of a central directory file header.
const CENTRAL_HEADER_SIGNATURE: &[u8; 4] = b"PK\x01\x02";

/// Length of the fixed part of a central directory file header.
const CENTRAL_HEADER_LEN: usize = 46;

/// Classifies a zip archive as DOCX or XLSX and rejects macro-enabled documents.
///
/// The entry names decide the kind. Only `[Content_Types].xml` is
/// decompressed, because a VBA project may be stored under any name and is
/// identified by the content type declared there.
pub(super) fn sniff_office_zip(file: File) -> Result<DocumentKind, SniffError> {
    let budget = Cell::new(METADATA_READ_LIMIT);
    let mut reader = LimitedReader::new(BufReader::new(file), &budget);
    let mut archive = match ZipArchive::new(&mut reader) {
        Ok(archive) => archive,
        Err(error) => return Err(classify_zip_error(error, budget.get() == 0)),
    };

    let (kind, content_types_name) = classify_entry_names(&archive)?;

    budget.set(CONTENT_TYPES_READ_LIMIT);
    let content_types = read_content_types(&mut archive, &content_types_name, &budget)?;
    check_content_types(&content_types)?;

    let directory_start = archive.central_directory_start();
    let distinct_names = archive.len();
    drop(archive);
    budget.set(METADATA_READ_LIMIT);
    check_no_duplicate_entries(&mut reader, directory_start, distinct_names, &budget)?;

    Ok(kind)
}

/// Classifies the archive from its entry names and returns the kind together
/// with the exact name of its `[Content_Types].xml` entry.
fn classify_entry_names<R: Read + Seek>(
    archive: &ZipArchive<R>,
) -> Result<(DocumentKind, String), SniffError> {
    let mut content_types_name = None;
    let mut has_word_document = false;
    let mut has_workbook = false;
    for name in archive.file_names() {
        // OPC part names are case-insensitive (ECMA-376 Part 2), so they are
        // matched the way Office matches them.
        let lowercase = name.to_ascii_lowercase();
        // `vbaProject.bin` contains the VBA macros of .docm and .xlsm files,
        // which are otherwise laid out like DOCX and XLSX.
        if lowercase == "vbaproject.bin" || lowercase.ends_with("/vbaproject.bin") {
            return Err(unsupported(
                "Office document contains macros (vbaProject.bin)",
            ));
        }
        match lowercase.as_str() {
            // Names that differ only in case are the same part, and this code
            // cannot tell which copy Office would read.
            "[content_types].xml" if content_types_name.is_some() => {
                return Err(unsupported(
                    "zip archive contains more than one [Content_Types].xml",
                ));
            }
            "[content_types].xml" => content_types_name = Some(name.to_string()),
            "word/document.xml" => has_word_document = true,
            "xl/workbook.xml" => has_workbook = true,
            _ => {}
        }
    }

    let Some(content_types_name) = content_types_name else {
        return Err(unsupported("zip archive is not a DOCX or XLSX document"));
    };
    let kind = match (has_word_document, has_workbook) {
        (true, false) => DocumentKind::Docx,
        (false, true) => DocumentKind::Xlsx,
        (true, true) => {
            return Err(unsupported(
                "zip archive contains both a DOCX and an XLSX main part",
            ))
        }
        (false, false) => return Err(unsupported("zip archive is not a DOCX or XLSX document")),
    };
    Ok((kind, content_types_name))
}

/// Decompresses the entry `name`, which must be at most
/// `MAX_CONTENT_TYPES_SIZE` bytes both as declared and as actually produced.
fn read_content_types<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    name: &str,
    budget: &Cell<u64>,
) -> Result<Vec<u8>, SniffError> {
    let entry = archive
        .by_name(name)
        .map_err(|error| classify_content_types_error(error, budget.get() == 0))?;
    if entry.size() > MAX_CONTENT_TYPES_SIZE {
        return Err(unsupported("[Content_Types].xml exceeds 1 MiB"));
    }

    // The declared size may be false, so the output is cut off one byte past
    // the limit to detect a longer stream.
    let mut xml = Vec::new();
    entry
        .take(MAX_CONTENT_TYPES_SIZE + 1)
        .read_to_end(&mut xml)
        .map_err(|error| classify_content_types_error(ZipError::Io(error), budget.get() == 0))?;
    if xml.len() as u64 > MAX_CONTENT_TYPES_SIZE {
        return Err(unsupported("[Content_Types].xml exceeds 1 MiB"));
    }
    Ok(xml)
}

fn classify_content_types_error(error: ZipError, limit_reached: bool) -> SniffError {
    if limit_reached {
        return unsupported("[Content_Types].xml exceeds 2 MiB of compressed data");
    }
    match error {
        // The zip crate reports a corrupt deflate stream or a CRC mismatch as
        // invalid data or input, and a truncated entry as an early end of file.
        ZipError::Io(e)
            if !matches!(
                e.kind(),
                io::ErrorKind::InvalidData
                    | io::ErrorKind::InvalidInput
                    | io::ErrorKind::UnexpectedEof
            ) =>
        {
            SniffError::Io(e)
        }
        ZipError::UnsupportedArchive(_) => unsupported(
            "[Content_Types].xml is encrypted or uses an unsupported compression method",
        ),
        _ => unsupported("[Content_Types].xml is corrupt or truncated"),
    }
}

/// Rejects a central directory with more records than the archive has
/// distinct entry names.
///
/// The zip crate (2.6.1) keeps only the last of several records with the same
/// name, so a second `[Content_Types].xml` that declares macros would never be
/// read here, while other readers may use the first. Counting the records from
/// `directory_start` also catches records beyond the count that the end of
/// central directory record declares.
fn check_no_duplicate_entries<R: Read + Seek>(
    reader: &mut LimitedReader<'_, R>,
    directory_start: u64,
    distinct_names: usize,
    budget: &Cell<u64>,
) -> Result<(), SniffError> {
    let records = count_central_directory_records(reader, directory_start).map_err(|error| {
        if budget.get() == 0 {
            unsupported("zip central directory exceeds 1 MiB")
        } else {
            SniffError::Io(error)
        }
    })?;
    if records != distinct_names {
        return Err(unsupported(
            "zip central directory contains duplicate or undeclared entries",
        ));
    }
    Ok(())
}

/// Counts consecutive central directory file headers from `start` until the
/// first bytes that are not one, such as the end of central directory record.
fn count_central_directory_records(
    reader: &mut (impl Read + Seek),
    start: u64,
) -> io::Result<usize> {
    reader.seek(SeekFrom::Start(start))?;
    let mut records = 0;
    let mut header = [0u8; CENTRAL_HEADER_LEN];
    loop {
        match reader.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
        if !header.starts_with(CENTRAL_HEADER_SIGNATURE) {
            break;
        }

        // The file name, extra field and comment lengths are at offsets 28, 30
        // and 32, and their contents follow the fixed part.
        let name_len = u16::from_le_bytes([header[28], header[29]]);
        let extra_len = u16::from_le_bytes([header[30], header[31]]);
        let comment_len = u16::from_le_bytes([header[32], header[33]]);
        let variable_len = u64::from(name_len) + u64::from(extra_len) + u64::from(comment_len);
        let skipped = io::copy(&mut reader.by_ref().take(variable_len), &mut io::sink())?;
        if skipped < variable_len {
            break;
        }
        records += 1;
    }
    Ok(records)
}

fn classify_zip_error(error: zip::result::ZipError, limit_reached: bool) -> SniffError {
    if limit_reached {
        return unsupported("zip central directory exceeds 1 MiB");
    }
    match error {
        // A truncated or corrupt archive shows up as an early end of file, so
        // only other I/O errors are failures of the server.
        zip::result::ZipError::Io(e) if e.kind() != io::ErrorKind::UnexpectedEof => {
            SniffError::Io(e)
        }
        _ => unsupported("zip archive could not be parsed"),
    }
}

/// Reader that fails once the shared budget of bytes is used up.
///
/// It wraps the `BufReader` rather than the file because the zip crate seeks
/// before every central directory entry, which discards the buffer. Counting
/// below the buffer would charge a full refill to each entry. The budget is a
/// `Cell` outside the reader so that it can be raised for the next step while
/// the zip archive still borrows the reader.
struct LimitedReader<'a, R> {
    inner: R,
    remaining: &'a Cell<u64>,
}

impl<'a, R> LimitedReader<'a, R> {
    fn new(inner: R, remaining: &'a Cell<u64>) -> Self {
        LimitedReader { inner, remaining }
    }
}

impl<R: Read> Read for LimitedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let remaining = self.remaining.get();
        if remaining == 0 && !buf.is_empty() {
            return Err(io::Error::other("zip read limit reached"));
        }
        let max =
            usize::try_from(remaining).map_or(buf.len(), |remaining| remaining.min(buf.len()));
        let read = self.inner.read(&mut buf[..max])?;
        self.remaining.set(remaining - read as u64);
        Ok(read)
    }
}

impl<R: Seek> Seek for LimitedReader<'_, R> {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        self.inner.seek(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_reader_stops_at_limit() {
        let budget = Cell::new(4);
        let mut reader = LimitedReader::new(io::Cursor::new(vec![7u8; 10]), &budget);
        let mut buf = [0u8; 8];
        assert_eq!(reader.read(&mut buf).expect("first read"), 4);
        assert!(reader.read(&mut buf).is_err());

        // Seeking does not restore the budget.
        reader.seek(SeekFrom::Start(0)).expect("seek");
        assert!(reader.read(&mut buf).is_err());
    }
}
