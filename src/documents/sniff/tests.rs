use super::*;
use std::io::Write;
use std::path::PathBuf;

/// Sample documents, relative to the crate root.
const SAMPLES_DIR: &str = "../shared/samples";

fn sample(group: &str, name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(SAMPLES_DIR)
        .join(group)
        .join(name);
    assert!(path.is_file(), "sample file not found: {}", path.display());
    path
}

pub(super) fn sniff_bytes(bytes: &[u8]) -> Result<DocumentKind, SniffError> {
    let mut file = tempfile::NamedTempFile::new().expect("create temp file");
    file.write_all(bytes).expect("write temp file");
    file.flush().expect("flush temp file");
    sniff_file(file.path())
}

pub(super) fn reason(result: Result<DocumentKind, SniffError>) -> &'static str {
    match result {
        Err(SniffError::Unsupported { reason }) => reason,
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

fn zip_with_entries(names: &[&str]) -> Vec<u8> {
    let entries: Vec<(&str, &[u8])> = names.iter().map(|name| (*name, &b"<x/>"[..])).collect();
    zip_with_contents(&entries, zip::CompressionMethod::Stored)
}

fn zip_with_contents(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut cursor = io::Cursor::new(Vec::new());
    {
        let mut writer = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, contents) in entries {
            writer.start_file(*name, options).expect("start zip entry");
            writer.write_all(contents).expect("write zip entry");
        }
        writer.finish().expect("finish zip");
    }
    cursor.into_inner()
}

/// CRC-32 as zip entries record it (IEEE polynomial, reflected).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Zip entry written byte by byte, for layouts that `ZipWriter` refuses to
/// write. `data` is already compressed with `method`, and `size` is the
/// declared uncompressed size.
struct RawEntry<'a> {
    name: &'a str,
    method: u16,
    data: &'a [u8],
    crc32: u32,
    size: u32,
}

impl<'a> RawEntry<'a> {
    fn stored(name: &'a str, data: &'a [u8]) -> Self {
        RawEntry {
            name,
            method: 0,
            data,
            crc32: crc32(data),
            size: u32::try_from(data.len()).expect("entry fits in zip32"),
        }
    }
}

fn word_document() -> RawEntry<'static> {
    RawEntry::stored("word/document.xml", b"<w:document/>")
}

/// Builds a zip archive without data descriptors or extra fields, and without
/// checking names for duplicates.
fn raw_zip(entries: &[RawEntry]) -> Vec<u8> {
    fn sizes_and_name(out: &mut Vec<u8>, entry: &RawEntry) {
        out.extend_from_slice(&entry.method.to_le_bytes());
        out.extend_from_slice(&[0; 4]); // modification time and date
        out.extend_from_slice(&entry.crc32.to_le_bytes());
        let compressed_size = u32::try_from(entry.data.len()).expect("entry fits in zip32");
        out.extend_from_slice(&compressed_size.to_le_bytes());
        out.extend_from_slice(&entry.size.to_le_bytes());
        let name_len = u16::try_from(entry.name.len()).expect("name fits in zip");
        out.extend_from_slice(&name_len.to_le_bytes());
    }

    let mut archive = Vec::new();
    let mut directory = Vec::new();
    for entry in entries {
        let local_header_offset = u32::try_from(archive.len()).expect("archive fits in zip32");

        archive.extend_from_slice(b"PK\x03\x04");
        archive.extend_from_slice(&[20, 0, 0, 0]); // version needed, flags
        sizes_and_name(&mut archive, entry);
        archive.extend_from_slice(&[0; 2]); // extra field length
        archive.extend_from_slice(entry.name.as_bytes());
        archive.extend_from_slice(entry.data);

        directory.extend_from_slice(b"PK\x01\x02");
        directory.extend_from_slice(&[20, 0, 20, 0, 0, 0]); // versions, flags
        sizes_and_name(&mut directory, entry);
        // Extra field and comment lengths, disk number, internal and external
        // attributes.
        directory.extend_from_slice(&[0; 12]);
        directory.extend_from_slice(&local_header_offset.to_le_bytes());
        directory.extend_from_slice(entry.name.as_bytes());
    }

    let directory_offset = u32::try_from(archive.len()).expect("archive fits in zip32");
    let directory_len = u32::try_from(directory.len()).expect("directory fits in zip32");
    let count = u16::try_from(entries.len()).expect("entry count fits in zip32");
    archive.extend_from_slice(&directory);
    archive.extend_from_slice(b"PK\x05\x06");
    archive.extend_from_slice(&[0; 4]); // disk numbers
    archive.extend_from_slice(&count.to_le_bytes());
    archive.extend_from_slice(&count.to_le_bytes());
    archive.extend_from_slice(&directory_len.to_le_bytes());
    archive.extend_from_slice(&directory_offset.to_le_bytes());
    archive.extend_from_slice(&[0; 2]); // comment length
    archive
}

const CLEAN_CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

/// Content types of a DOCX whose VBA project is stored as `word/macros.bin`.
const RENAMED_VBA_CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/macros.bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>"#;

const RENAMED_VBA_RELATIONSHIPS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="macros.bin"/></Relationships>"#;

const VBA_PROJECT_DECLARED: &str = "Office document declares a VBA project in [Content_Types].xml";

#[test]
fn accepted_samples_detected() {
    let cases = [
        ("boq-site-works.xlsx", DocumentKind::Xlsx),
        ("contract-c-2026-07.tiff", DocumentKind::Tiff),
        ("delivery-instructions.txt", DocumentKind::Text),
        ("delivery-note-dn-5520.jpg", DocumentKind::Jpeg),
        ("invoice-inv-88213.png", DocumentKind::Png),
        ("po-4410-lines.csv", DocumentKind::Csv),
        ("quotation-q-7781.docx", DocumentKind::Docx),
        ("rfq-2026-014.pdf", DocumentKind::Pdf),
        ("third-party-shared-mime-info-spec.pdf", DocumentKind::Pdf),
    ];
    for (name, expected) in cases {
        let kind = sniff_file(&sample("accepted", name));
        assert!(
            matches!(kind, Ok(k) if k == expected),
            "{name}: expected {expected:?}, got {kind:?}"
        );
    }
}

#[test]
fn rejected_samples_rejected() {
    let cases = [
        ("boq.xlsx", "zip archive is not a DOCX or XLSX document"),
        ("invoice.pdf", "text is not valid UTF-8"),
        ("logo.svg", "text starts with HTML, SVG or XML markup"),
        ("report.pdf", "text starts with HTML, SVG or XML markup"),
        ("shell.php.png", "text starts with HTML, SVG or XML markup"),
    ];
    for (name, expected) in cases {
        let result = sniff_file(&sample("rejected", name));
        assert_eq!(reason(result), expected, "{name}");
    }

    let empty = sniff_file(&sample("rejected", "empty.pdf"));
    assert!(
        matches!(empty, Err(SniffError::Empty)),
        "empty.pdf: got {empty:?}"
    );
}

#[test]
fn rejected_samples_all_covered() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(SAMPLES_DIR)
        .join("rejected");
    for entry in std::fs::read_dir(&dir).expect("read rejected samples") {
        let path = entry.expect("read directory entry").path();
        let result = sniff_file(&path);
        assert!(
            result.is_err(),
            "{} was accepted as {result:?}",
            path.display()
        );
    }
}

#[test]
fn missing_file_is_io_error() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let result = sniff_file(&dir.path().join("missing"));
    assert!(matches!(result, Err(SniffError::Io(_))), "got {result:?}");
}

#[test]
fn signatures_detected() {
    let cases: [(&[u8], DocumentKind); 6] = [
        (b"%PDF-1.7\n", DocumentKind::Pdf),
        (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", DocumentKind::Png),
        (b"\xFF\xD8\xFF\xDB\0\x43", DocumentKind::Jpeg),
        (b"II*\0\x08\0\0\0", DocumentKind::Tiff),
        (b"MM\0*\0\0\0\x08", DocumentKind::Tiff),
        (b"%PDF-", DocumentKind::Pdf),
    ];
    for (bytes, expected) in cases {
        let kind = sniff_bytes(bytes).expect("signature accepted");
        assert_eq!(kind, expected, "{bytes:?}");
    }
}

#[test]
fn truncated_png_signature_rejected() {
    let result = sniff_bytes(b"\x89PNG\r\n");
    assert_eq!(reason(result), "text is not valid UTF-8");
}

#[test]
fn binary_formats_rejected() {
    let cases: [&[u8]; 3] = [
        b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF",
        b"\x1f\x8b\x08\0\0\0\0\0\0\x03",
        b"\x7fELF\x02\x01\x01\0",
    ];
    for bytes in cases {
        assert!(
            matches!(sniff_bytes(bytes), Err(SniffError::Unsupported { .. })),
            "{bytes:?}"
        );
    }
}

#[test]
fn zip_office_layouts() {
    let docx = zip_with_entries(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
    assert_eq!(sniff_bytes(&docx).expect("docx"), DocumentKind::Docx);

    let xlsx = zip_with_entries(&[
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/worksheets/sheet1.xml",
    ]);
    assert_eq!(sniff_bytes(&xlsx).expect("xlsx"), DocumentKind::Xlsx);

    let docm = zip_with_entries(&[
        "[Content_Types].xml",
        "word/document.xml",
        "word/vbaProject.bin",
    ]);
    assert_eq!(
        reason(sniff_bytes(&docm)),
        "Office document contains macros (vbaProject.bin)"
    );

    let xlsm = zip_with_entries(&[
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/vbaProject.bin",
    ]);
    assert_eq!(
        reason(sniff_bytes(&xlsm)),
        "Office document contains macros (vbaProject.bin)"
    );

    let no_content_types = zip_with_entries(&["word/document.xml"]);
    assert_eq!(
        reason(sniff_bytes(&no_content_types)),
        "zip archive is not a DOCX or XLSX document"
    );

    let both = zip_with_entries(&[
        "[Content_Types].xml",
        "word/document.xml",
        "xl/workbook.xml",
    ]);
    assert!(matches!(
        sniff_bytes(&both),
        Err(SniffError::Unsupported { .. })
    ));
}

#[test]
fn corrupt_zip_rejected() {
    let mut docx = zip_with_entries(&["[Content_Types].xml", "word/document.xml"]);
    docx.truncate(docx.len() - 30);
    assert_eq!(
        reason(sniff_bytes(&docx)),
        "zip archive could not be parsed"
    );

    assert_eq!(
        reason(sniff_bytes(b"PK\x03\x04garbage")),
        "zip archive could not be parsed"
    );
}

#[test]
fn content_type_adds_charset_for_text() {
    assert_eq!(DocumentKind::Csv.mime(), "text/csv");
    assert_eq!(DocumentKind::Csv.content_type(), "text/csv; charset=utf-8");
    assert_eq!(
        DocumentKind::Text.content_type(),
        "text/plain; charset=utf-8"
    );
    assert_eq!(DocumentKind::Pdf.content_type(), "application/pdf");
    assert_eq!(
        DocumentKind::Xlsx.mime(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
}

#[test]
fn oversized_zip_directory_rejected() {
    // Twenty names of 60,000 bytes make a central directory of about 1.2 MB.
    let long_names: Vec<String> = (0..20)
        .map(|i| format!("{i:02}{}", "n".repeat(60_000)))
        .collect();
    let mut names: Vec<&str> = vec!["[Content_Types].xml", "word/document.xml"];
    names.extend(long_names.iter().map(String::as_str));

    let archive = zip_with_entries(&names);
    assert_eq!(
        reason(sniff_bytes(&archive)),
        "zip central directory exceeds 1 MiB"
    );
}

#[test]
fn renamed_vba_project_rejected() {
    let entries: [(&str, &[u8]); 4] = [
        ("[Content_Types].xml", RENAMED_VBA_CONTENT_TYPES),
        ("word/document.xml", b"<w:document/>"),
        ("word/_rels/document.xml.rels", RENAMED_VBA_RELATIONSHIPS),
        ("word/macros.bin", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"),
    ];
    for method in [
        zip::CompressionMethod::Deflated,
        zip::CompressionMethod::Stored,
    ] {
        let archive = zip_with_contents(&entries, method);
        assert_eq!(
            reason(sniff_bytes(&archive)),
            VBA_PROJECT_DECLARED,
            "{method:?}"
        );
    }
}

#[test]
fn macro_enabled_main_part_rejected() {
    let docm_types = String::from_utf8_lossy(CLEAN_CONTENT_TYPES).replace(
        "officedocument.wordprocessingml.document.main+xml",
        "ms-word.document.macroEnabled.main+xml",
    );
    let entries: [(&str, &[u8]); 2] = [
        ("[Content_Types].xml", docm_types.as_bytes()),
        ("word/document.xml", b"<w:document/>"),
    ];
    let archive = zip_with_contents(&entries, zip::CompressionMethod::Deflated);
    assert_eq!(
        reason(sniff_bytes(&archive)),
        "Office document declares a macro-enabled part in [Content_Types].xml"
    );
}

#[test]
fn deflated_clean_docx_accepted() {
    let entries: [(&str, &[u8]); 2] = [
        ("[Content_Types].xml", CLEAN_CONTENT_TYPES),
        ("word/document.xml", b"<w:document/>"),
    ];
    let archive = zip_with_contents(&entries, zip::CompressionMethod::Deflated);
    assert_eq!(sniff_bytes(&archive).expect("docx"), DocumentKind::Docx);

    // The hand-built layout is accepted too, which the tests below rely on.
    let raw = raw_zip(&[
        RawEntry::stored("[Content_Types].xml", CLEAN_CONTENT_TYPES),
        word_document(),
    ]);
    assert_eq!(sniff_bytes(&raw).expect("raw docx"), DocumentKind::Docx);
}

#[test]
fn content_types_case_variants_rejected() {
    let entries: [(&str, &[u8]); 3] = [
        ("[Content_Types].xml", CLEAN_CONTENT_TYPES),
        ("[CONTENT_TYPES].XML", RENAMED_VBA_CONTENT_TYPES),
        ("word/document.xml", b"<w:document/>"),
    ];
    let archive = zip_with_contents(&entries, zip::CompressionMethod::Deflated);
    assert_eq!(
        reason(sniff_bytes(&archive)),
        "zip archive contains more than one [Content_Types].xml"
    );
}

#[test]
fn duplicate_entry_names_rejected() {
    // The zip crate keeps only the last record of a name, here the clean one.
    let archive = raw_zip(&[
        RawEntry::stored("[Content_Types].xml", RENAMED_VBA_CONTENT_TYPES),
        word_document(),
        RawEntry::stored("[Content_Types].xml", CLEAN_CONTENT_TYPES),
    ]);
    assert_eq!(
        reason(sniff_bytes(&archive)),
        "zip central directory contains duplicate or undeclared entries"
    );
}

#[test]
fn undeclared_directory_record_rejected() {
    let mut archive = raw_zip(&[
        RawEntry::stored("[Content_Types].xml", CLEAN_CONTENT_TYPES),
        word_document(),
        RawEntry::stored("word/vbaProject.bin", b"\xD0\xCF\x11\xE0"),
    ]);
    // Declare two entries in the end of central directory record, so the zip
    // crate reads only the first two records.
    let end_record = archive.len() - 22;
    archive[end_record + 8..end_record + 12].copy_from_slice(&[2, 0, 2, 0]);
    assert_eq!(
        reason(sniff_bytes(&archive)),
        "zip central directory contains duplicate or undeclared entries"
    );
}

#[test]
fn oversized_content_types_rejected() {
    let mut large = CLEAN_CONTENT_TYPES.to_vec();
    large.extend(std::iter::repeat_n(b' ', 1024 * 1024));
    let entries: [(&str, &[u8]); 2] = [
        ("[Content_Types].xml", &large),
        ("word/document.xml", b"<w:document/>"),
    ];
    let archive = zip_with_contents(&entries, zip::CompressionMethod::Deflated);
    assert_eq!(
        reason(sniff_bytes(&archive)),
        "[Content_Types].xml exceeds 1 MiB"
    );

    // A declared size below the limit does not let a longer entry through.
    // The CRC is wrong as well, and the zip crate checks it only at the end
    // of the entry, so this reason also shows that reading stopped early.
    let mut understated = RawEntry::stored("[Content_Types].xml", &large);
    understated.size = 100;
    understated.crc32 ^= 1;
    let archive = raw_zip(&[understated, word_document()]);
    assert_eq!(
        reason(sniff_bytes(&archive)),
        "[Content_Types].xml exceeds 1 MiB"
    );
}

#[test]
fn endless_deflate_stream_rejected() {
    // Empty non-final stored blocks (header byte 0, LEN 0, NLEN 0xFFFF) make
    // a deflate stream that consumes input without producing output.
    let mut stream = [0u8, 0, 0, 0xFF, 0xFF].repeat(450_000);
    stream.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    let content_types = RawEntry {
        name: "[Content_Types].xml",
        method: 8,
        data: &stream,
        crc32: 0,
        size: 0,
    };
    let archive = raw_zip(&[content_types, word_document()]);
    assert_eq!(
        reason(sniff_bytes(&archive)),
        "[Content_Types].xml exceeds 2 MiB of compressed data"
    );
}

#[test]
fn unreadable_content_types_rejected() {
    let bzip2 = RawEntry {
        name: "[Content_Types].xml",
        method: 12,
        data: b"BZh91AY&SY",
        crc32: 0,
        size: 100,
    };
    let archive = raw_zip(&[bzip2, word_document()]);
    assert_eq!(
        reason(sniff_bytes(&archive)),
        "[Content_Types].xml is encrypted or uses an unsupported compression method"
    );

    // Block type 3 is reserved in deflate.
    let corrupt_deflate = RawEntry {
        name: "[Content_Types].xml",
        method: 8,
        data: &[0xFF; 16],
        crc32: 0,
        size: 100,
    };
    let archive = raw_zip(&[corrupt_deflate, word_document()]);
    assert_eq!(
        reason(sniff_bytes(&archive)),
        "[Content_Types].xml is corrupt or truncated"
    );

    let mut bad_checksum = RawEntry::stored("[Content_Types].xml", CLEAN_CONTENT_TYPES);
    bad_checksum.crc32 ^= 1;
    let archive = raw_zip(&[bad_checksum, word_document()]);
    assert_eq!(
        reason(sniff_bytes(&archive)),
        "[Content_Types].xml is corrupt or truncated"
    );
}
