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
    let mut cursor = io::Cursor::new(Vec::new());
    {
        let mut writer = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for name in names {
            writer.start_file(*name, options).expect("start zip entry");
            writer.write_all(b"<x/>").expect("write zip entry");
        }
        writer.finish().expect("finish zip");
    }
    cursor.into_inner()
}

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
        ("logo.svg", "text starts with `<` (HTML, SVG or XML markup)"),
        (
            "report.pdf",
            "text starts with `<` (HTML, SVG or XML markup)",
        ),
        (
            "shell.php.png",
            "text starts with `<` (HTML, SVG or XML markup)",
        ),
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
