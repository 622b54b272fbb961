//! Classification of zip uploads as DOCX or XLSX.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

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

/// Classifies a zip archive as DOCX or XLSX from its entry names alone, so no
/// entry is ever decompressed.
pub(super) fn sniff_office_zip(file: File) -> Result<DocumentKind, SniffError> {
    let mut reader = LimitedReader::new(BufReader::new(file), METADATA_READ_LIMIT);
    let archive = match zip::ZipArchive::new(&mut reader) {
        Ok(archive) => archive,
        Err(error) => return Err(classify_zip_error(error, reader.remaining == 0)),
    };

    let mut has_content_types = false;
    let mut has_word_document = false;
    let mut has_workbook = false;
    for name in archive.file_names() {
        // OPC part names are case-insensitive (ECMA-376 Part 2), so they are
        // matched the way Office matches them.
        let name = name.to_ascii_lowercase();
        // `vbaProject.bin` contains the VBA macros of .docm and .xlsm files,
        // which are otherwise laid out like DOCX and XLSX.
        if name == "vbaproject.bin" || name.ends_with("/vbaproject.bin") {
            return Err(unsupported(
                "Office document contains macros (vbaProject.bin)",
            ));
        }
        match name.as_str() {
            "[content_types].xml" => has_content_types = true,
            "word/document.xml" => has_word_document = true,
            "xl/workbook.xml" => has_workbook = true,
            _ => {}
        }
    }

    match (has_content_types, has_word_document, has_workbook) {
        (true, true, false) => Ok(DocumentKind::Docx),
        (true, false, true) => Ok(DocumentKind::Xlsx),
        (true, true, true) => Err(unsupported(
            "zip archive contains both a DOCX and an XLSX main part",
        )),
        _ => Err(unsupported("zip archive is not a DOCX or XLSX document")),
    }
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

/// Reader that fails once `remaining` bytes have been consumed.
///
/// It wraps the `BufReader` rather than the file because the zip crate seeks
/// before every central directory entry, which discards the buffer. Counting
/// below the buffer would charge a full refill to each entry.
struct LimitedReader<R> {
    inner: R,
    remaining: u64,
}

impl<R> LimitedReader<R> {
    fn new(inner: R, limit: u64) -> Self {
        LimitedReader {
            inner,
            remaining: limit,
        }
    }
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 && !buf.is_empty() {
            return Err(io::Error::other("zip metadata read limit reached"));
        }
        let max =
            usize::try_from(self.remaining).map_or(buf.len(), |remaining| remaining.min(buf.len()));
        let read = self.inner.read(&mut buf[..max])?;
        self.remaining -= read as u64;
        Ok(read)
    }
}

impl<R: Seek> Seek for LimitedReader<R> {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        self.inner.seek(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_reader_stops_at_limit() {
        let mut reader = LimitedReader::new(io::Cursor::new(vec![7u8; 10]), 4);
        let mut buf = [0u8; 8];
        assert_eq!(reader.read(&mut buf).expect("first read"), 4);
        assert!(reader.read(&mut buf).is_err());

        // Seeking does not restore the budget.
        reader.seek(SeekFrom::Start(0)).expect("seek");
        assert!(reader.read(&mut buf).is_err());
    }
}
