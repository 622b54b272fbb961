//! Tests of the text path: UTF-8 and chunk boundaries, control characters,
//! active content and the choice between CSV and plain text.

use super::tests::{reason, sniff_bytes};
use super::text::{sniff_text, CSV_SAMPLE_RECORDS};
use super::*;

/// Runs the text path with every chunk size from 1 to 40 bytes, so each
/// boundary position inside short inputs is exercised.
fn sniff_text_all_chunk_sizes(bytes: &[u8]) -> Vec<Result<DocumentKind, SniffError>> {
    (1..=40).map(|size| sniff_text(bytes, size)).collect()
}

#[test]
fn marker_straddling_chunk_boundary() {
    let cases = [
        ("<script", "text contains `<script`"),
        ("JavaScript:", "text contains `javascript:`"),
        ("<?PHP", "text contains `<?php`"),
        ("<!DocType", "text contains `<!doctype`"),
        ("<iframe", "text contains `<iframe`"),
        ("<SVG", "text contains `<svg`"),
        ("<html", "text contains `<html`"),
        ("<?xml", "text contains `<?xml`"),
    ];
    for (marker, expected) in cases {
        let text = format!("Delivery notes for site 4.\nSee {marker} here\n");
        let results = sniff_text_all_chunk_sizes(text.as_bytes());
        for (i, result) in results.into_iter().enumerate() {
            assert_eq!(reason(result), expected, "{marker}, chunk size {}", i + 1);
        }
    }
}

#[test]
fn marker_at_real_chunk_boundary() {
    let mut text = "a".repeat(CHUNK_SIZE - 4);
    text.push_str("<script>alert(1)</script>\n");
    assert_eq!(
        reason(sniff_bytes(text.as_bytes())),
        "text contains `<script`"
    );
}

#[test]
fn multibyte_char_straddling_chunk_boundary() {
    // Two-, three- and four-byte characters at every offset for small chunks.
    let text = "Menge: 5 Stück, Preis 10 €, Lieferung 🚚 morgen\n";
    for (i, result) in sniff_text_all_chunk_sizes(text.as_bytes())
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            result.expect("valid text"),
            DocumentKind::Text,
            "chunk size {}",
            i + 1
        );
    }

    let mut large = "a".repeat(CHUNK_SIZE - 1);
    large.push_str("€ and more text\n");
    assert_eq!(
        sniff_bytes(large.as_bytes()).expect("valid text"),
        DocumentKind::Text
    );
}

#[test]
fn invalid_utf8_rejected() {
    let cases: [&[u8]; 4] = [
        b"price \xFF\n",
        b"caf\xC3(\n",
        // Overlong encoding of `/`.
        b"a\xC0\xAFb\n",
        // A three-byte sequence cut off at the end of the file.
        b"total \xE2\x82",
    ];
    for bytes in cases {
        for result in sniff_text_all_chunk_sizes(bytes) {
            assert!(
                reason(result).starts_with("text is not valid UTF-8"),
                "{bytes:?}"
            );
        }
    }
}

#[test]
fn nul_byte_rejected() {
    assert_eq!(
        reason(sniff_bytes(b"line one\nline\0two\n")),
        "text contains a NUL byte"
    );
}

#[test]
fn control_characters() {
    assert_eq!(
        reason(sniff_bytes(b"bell \x07 here\n")),
        "text contains a control character"
    );
    assert_eq!(
        reason(sniff_bytes(b"escape \x1b[31m\n")),
        "text contains a control character"
    );
    assert_eq!(
        reason(sniff_bytes("C1 \u{85} here\n".as_bytes())),
        "text contains a control character"
    );

    let allowed = sniff_bytes(b"tab\there\r\npage\x0cbreak\n");
    assert_eq!(allowed.expect("allowed controls"), DocumentKind::Text);
}

#[test]
fn bom_text_accepted() {
    let kind = sniff_bytes("\u{FEFF}Deliver to gate 4.\n".as_bytes());
    assert_eq!(kind.expect("BOM text"), DocumentKind::Text);

    let csv = sniff_bytes("\u{FEFF}a,b\n1,2\n".as_bytes());
    assert_eq!(csv.expect("BOM CSV"), DocumentKind::Csv);

    let markup = "text starts with `<` (HTML, SVG or XML markup)";
    for (i, result) in sniff_text_all_chunk_sizes("\u{FEFF} <note>".as_bytes())
        .into_iter()
        .enumerate()
    {
        assert_eq!(reason(result), markup, "chunk size {}", i + 1);
    }
    for (i, result) in sniff_text_all_chunk_sizes("\u{FEFF}".as_bytes())
        .into_iter()
        .enumerate()
    {
        assert!(
            matches!(result, Err(SniffError::Empty)),
            "chunk size {}: {result:?}",
            i + 1
        );
    }
    assert!(matches!(sniff_bytes(b"  \n\t\r\n"), Err(SniffError::Empty)));
}

#[test]
fn leading_markup_and_shebang_rejected() {
    let markup = "text starts with `<` (HTML, SVG or XML markup)";
    assert_eq!(
        reason(sniff_bytes("\u{FEFF}  \n<note>hi</note>".as_bytes())),
        markup
    );
    assert_eq!(reason(sniff_bytes(b"\n\n<b>bold</b>")), markup);

    let script = "text starts with `#!` (script)";
    assert_eq!(reason(sniff_bytes(b"#!/bin/sh\nrm -rf /\n")), script);
    assert_eq!(reason(sniff_bytes(b"  #!/usr/bin/env python\n")), script);
    for result in sniff_text_all_chunk_sizes(b"   #!/bin/sh\n") {
        assert_eq!(reason(result), script);
    }

    let comment = sniff_bytes(b"# Delivery notes\nGate 4\n");
    assert_eq!(comment.expect("comment text"), DocumentKind::Text);
}

#[test]
fn csv_with_quoted_commas() {
    let text = "item,description,qty\n\
                1,\"Cable, 3 core\",10\n\
                2,\"Pipe 2\"\" PVC, grey\",4\n\
                3,\"Note with\nline break, inside\",1\n";
    for (i, result) in sniff_text_all_chunk_sizes(text.as_bytes())
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            result.expect("CSV"),
            DocumentKind::Csv,
            "chunk size {}",
            i + 1
        );
    }
}

#[test]
fn csv_delimiters_and_mismatch() {
    assert_eq!(
        sniff_bytes(b"a;b;c\n1;2;3\n").expect("semicolon"),
        DocumentKind::Csv
    );
    assert_eq!(
        sniff_bytes(b"a\tb\n1\t2\n").expect("tab"),
        DocumentKind::Csv
    );
    assert_eq!(
        sniff_bytes(b"a,b\r\n1,2\r\n\r\n").expect("CRLF"),
        DocumentKind::Csv
    );
    assert_eq!(
        sniff_bytes(b"a,b\n\n1,2").expect("blank line"),
        DocumentKind::Csv
    );
    // An inch mark inside an unquoted field is a literal quote.
    assert_eq!(
        sniff_bytes(b"item,qty\nPipe 2\" PVC,4\nValve,2\n").expect("inch mark"),
        DocumentKind::Csv
    );

    assert_eq!(
        sniff_bytes(b"a,b,c\n1,2\n").expect("field mismatch"),
        DocumentKind::Text
    );
    assert_eq!(
        sniff_bytes(b"a,\"b\n1,2\n").expect("open quote"),
        DocumentKind::Text
    );
    assert_eq!(
        sniff_bytes(b"no delimiters\nhere\n").expect("prose"),
        DocumentKind::Text
    );
}

#[test]
fn csv_checks_only_first_records() {
    let mut text = String::from("a,b\n");
    for i in 0..(CSV_SAMPLE_RECORDS - 1) {
        text.push_str(&format!("{i},x\n"));
    }
    text.push_str("odd line without delimiter\n");
    assert_eq!(
        sniff_bytes(text.as_bytes()).expect("long CSV"),
        DocumentKind::Csv
    );
}

#[test]
fn single_line_text() {
    assert_eq!(sniff_bytes(b"a,b,c").expect("one line"), DocumentKind::Text);
    assert_eq!(sniff_bytes(b"x").expect("one byte"), DocumentKind::Text);
}
