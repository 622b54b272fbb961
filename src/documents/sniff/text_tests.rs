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

const TAG: &str = "text contains an HTML or XML tag";
const END_TAG: &str = "text contains an HTML or XML end tag";
const PROCESSING_INSTRUCTION: &str = "text contains `<?` (PHP code or XML processing instruction)";
const SERVER_CODE: &str = "text contains `<%` (ASP or JSP code)";
const DECLARATION: &str = "text contains `<!` (doctype, comment or CDATA section)";
const LEADING_MARKUP: &str = "text starts with HTML, SVG or XML markup";

#[test]
fn active_content_straddling_chunk_boundary() {
    let cases = [
        ("<img src=x onerror=alert(document.domain)>", TAG),
        ("<body onload=alert(1)>", TAG),
        ("<object data=x>", TAG),
        ("<embed src=x>", TAG),
        ("<link rel=import href=x>", TAG),
        ("<meta http-equiv=refresh content=0>", TAG),
        ("<style>", TAG),
        ("<form action=x>", TAG),
        ("<a href=\"javascript:alert(1)\">", TAG),
        ("<x:script>alert(1)</x:script>", TAG),
        ("<IMG SRC=x OnError=alert(1)>", TAG),
        ("<svg/onload=alert(1)>", TAG),
        ("<img\tsrc=x>", TAG),
        // HTML ends a tag name only at whitespace, `/` or `>`, so this is a
        // `x€` element whose attributes run script.
        ("<x€ autofocus tabindex=1 onfocus=alert(1)>", TAG),
        ("</script>", END_TAG),
        ("<?= system($_GET[\"c\"]) ?>", PROCESSING_INSTRUCTION),
        ("<? echo 1; ?>", PROCESSING_INSTRUCTION),
        ("<?PHP system('id'); ?>", PROCESSING_INSTRUCTION),
        ("<?xml version=\"1.0\"?>", PROCESSING_INSTRUCTION),
        ("<% Response.Write(1) %>", SERVER_CODE),
        ("<%= request.getParameter(\"c\") %>", SERVER_CODE),
        ("<!DocType html>", DECLARATION),
        ("<!-- comment -->", DECLARATION),
        ("<![CDATA[x]]>", DECLARATION),
        ("JavaScript:alert(1)", "text contains `javascript:`"),
    ];
    for (content, expected) in cases {
        let text = format!("Invoice 123\nSee {content} here\n");
        let results = sniff_text_all_chunk_sizes(text.as_bytes());
        for (i, result) in results.into_iter().enumerate() {
            assert_eq!(reason(result), expected, "{content}, chunk size {}", i + 1);
        }
    }
}

#[test]
fn tag_at_end_of_input_rejected() {
    for (text, expected) in [("Invoice\na<b", TAG), ("Invoice\n</b", END_TAG)] {
        for (i, result) in sniff_text_all_chunk_sizes(text.as_bytes())
            .into_iter()
            .enumerate()
        {
            assert_eq!(reason(result), expected, "{text:?}, chunk size {}", i + 1);
        }
    }
}

#[test]
fn less_than_before_letter_rejected() {
    // Not markup, but indistinguishable from a tag, so rejected by design.
    assert_eq!(reason(sniff_bytes(b"Supply <DN50 pipe\n")), TAG);
    assert_eq!(reason(sniff_bytes(b"if a<b, reorder\n")), TAG);
}

#[test]
fn comparisons_and_symbols_accepted() {
    let cases = [
        "qty < 5",
        "a<5",
        "price<=100",
        "<= 2 weeks",
        "1 < 2 > 0",
        "email: jane@example.com",
        "Pipe 2\" PVC",
        "50%",
        "< 5 pcs",
        "<3",
        "<",
        "a <- b",
        "x << 2",
        "<<< see below",
        "tolerance <±0.5 mm",
        "scrap <5% of lot",
        "ends with </",
        "a </ 5",
        "javascript tutorial",
        "#1 priority",
    ];
    for text in cases {
        let with_newline = format!("{text}\n");
        for (i, result) in sniff_text_all_chunk_sizes(with_newline.as_bytes())
            .into_iter()
            .enumerate()
        {
            assert!(
                matches!(result, Ok(DocumentKind::Text)),
                "{text:?}, chunk size {}: {result:?}",
                i + 1
            );
        }
    }
}

#[test]
fn active_content_at_real_chunk_boundary() {
    let cases = [
        ("<script>alert(1)</script>\n", 4, TAG),
        // `<` is the last byte of the first chunk.
        ("<img src=x>\n", 1, TAG),
        ("</b>\n", 1, END_TAG),
        ("</b>\n", 2, END_TAG),
        ("<?= 1 ?>\n", 1, PROCESSING_INSTRUCTION),
        ("javascript:x\n", 5, "text contains `javascript:`"),
    ];
    for (content, bytes_in_first_chunk, expected) in cases {
        let mut text = "a".repeat(CHUNK_SIZE - bytes_in_first_chunk);
        text.push_str(content);
        assert_eq!(
            reason(sniff_bytes(text.as_bytes())),
            expected,
            "{content:?} split after {bytes_in_first_chunk} bytes"
        );
    }

    let mut comparison = "a".repeat(CHUNK_SIZE - 1);
    comparison.push_str("< 5\n");
    assert_eq!(
        sniff_bytes(comparison.as_bytes()).expect("comparison"),
        DocumentKind::Text
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

    for (i, result) in sniff_text_all_chunk_sizes("\u{FEFF} <note>".as_bytes())
        .into_iter()
        .enumerate()
    {
        assert_eq!(reason(result), LEADING_MARKUP, "chunk size {}", i + 1);
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
    assert_eq!(
        reason(sniff_bytes("\u{FEFF}  \n<note>hi</note>".as_bytes())),
        LEADING_MARKUP
    );
    assert_eq!(reason(sniff_bytes(b"\n\n<b>bold</b>")), LEADING_MARKUP);

    // XML, unlike HTML, lets an element name start with `_`, `:` or a
    // non-ASCII letter, which matters only where an XML document can start.
    let xml_starts = [
        "<_:svg xmlns:_=\"http://www.w3.org/2000/svg\"/>",
        "<:a/>",
        "<é:svg/>",
        "</b>",
        "<?xml version=\"1.0\"?>",
        "<!DOCTYPE html>",
        "<% code %>",
    ];
    for text in xml_starts {
        for (i, result) in sniff_text_all_chunk_sizes(text.as_bytes())
            .into_iter()
            .enumerate()
        {
            assert_eq!(
                reason(result),
                LEADING_MARKUP,
                "{text:?}, chunk size {}",
                i + 1
            );
        }
    }

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
