//! Detection of macro-enabled Office documents from `[Content_Types].xml`.
//!
//! Every part of an OPC package has its content type declared in
//! `[Content_Types].xml`. The Office format specifications, such as [MS-XLSB]
//! section 2.1.7.56, define the VBA project part by its content type
//! `application/vnd.ms-office.vbaProject` and its relationship type, not by
//! its name, so the part may be stored under any name. The file is searched
//! as text rather than parsed, after the decoding steps that an XML parser
//! would apply.
//!
//! NOTE: relationship parts (`*.rels`) are not read, so a vbaProject
//! relationship to a part declared with another content type is accepted.
//! Whether Office would load such a part has not been tested.

use super::{unsupported, SniffError};

/// Maximum uncompressed size of `[Content_Types].xml` in bytes. The file has
/// one `Default` or `Override` element per extension or part, typically 1 to
/// 2 KB in a DOCX or XLSX document.
pub(super) const MAX_CONTENT_TYPES_SIZE: u64 = 1024 * 1024;

/// Lowercase substrings of content types that declare macros, with the reason
/// to report.
///
/// `vbaProject` is the VBA project part, `macroEnabled` the main part of
/// .docm, .xlsm and .xlsb files, and `macrosheet` an Excel 4.0 macro sheet
/// (including `intlmacrosheet`), which runs without VBA.
const MACRO_CONTENT_TYPE_MARKERS: [(&str, &str); 3] = [
    (
        "vbaproject",
        "Office document declares a VBA project in [Content_Types].xml",
    ),
    (
        "macroenabled",
        "Office document declares a macro-enabled part in [Content_Types].xml",
    ),
    (
        "macrosheet",
        "Office document declares an Excel 4.0 macro sheet in [Content_Types].xml",
    ),
];

/// Rejects `[Content_Types].xml` content that declares macros or that could
/// hide such a declaration from a text search.
///
/// The markers are matched ASCII case-insensitively anywhere in the file, so a
/// comment that mentions them is rejected too.
pub(super) fn check_content_types(xml: &[u8]) -> Result<(), SniffError> {
    let text = decode_xml(xml)?;
    if text.contains('\0') {
        return Err(unsupported("[Content_Types].xml contains a NUL character"));
    }

    let lowercase = text.to_ascii_lowercase();
    // OPC forbids DTDs (ECMA-376 Part 2, M1.18), and a DTD could define
    // entities that spell out a marker.
    if lowercase.contains("<!doctype") {
        return Err(unsupported(
            "[Content_Types].xml contains a document type declaration",
        ));
    }
    check_encoding_declaration(&lowercase)?;

    let resolved = resolve_references(&text).to_ascii_lowercase();
    for (marker, reason) in MACRO_CONTENT_TYPE_MARKERS {
        if resolved.contains(marker) {
            return Err(unsupported(reason));
        }
    }
    Ok(())
}

/// Decodes XML as UTF-16 when it starts with a UTF-16 byte order mark and as
/// UTF-8 otherwise, the two encodings that OPC allows (ECMA-376 Part 2, M1.17).
fn decode_xml(bytes: &[u8]) -> Result<String, SniffError> {
    match bytes {
        [0xFF, 0xFE, rest @ ..] => decode_utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => decode_utf16(rest, u16::from_be_bytes),
        _ => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            std::str::from_utf8(bytes)
                .map(str::to_string)
                .map_err(|_| unsupported("[Content_Types].xml is not valid UTF-8"))
        }
    }
}

/// Decodes UTF-16 `bytes` that follow the byte order mark, building each code
/// unit from two bytes with `to_code_unit`.
fn decode_utf16(bytes: &[u8], to_code_unit: fn([u8; 2]) -> u16) -> Result<String, SniffError> {
    let invalid = || unsupported("[Content_Types].xml is not valid UTF-16");
    if !bytes.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let code_units = bytes
        .chunks_exact(2)
        .map(|pair| to_code_unit([pair[0], pair[1]]));
    char::decode_utf16(code_units)
        .collect::<Result<String, _>>()
        .map_err(|_| invalid())
}

/// Rejects an XML declaration that names an encoding other than UTF-8 or
/// UTF-16. OPC forbids other encodings, and one such as UTF-7 would spell the
/// markers in bytes that this search does not match.
fn check_encoding_declaration(lowercase: &str) -> Result<(), SniffError> {
    let Some(declaration) = lowercase.trim_start().strip_prefix("<?xml") else {
        return Ok(());
    };
    let declaration = declaration
        .split_once("?>")
        .map_or(declaration, |(inside, _)| inside);
    let Some((_, after_keyword)) = declaration.split_once("encoding") else {
        return Ok(());
    };

    // `after_keyword` is `="name" …` with optional whitespace around `=`,
    // so splitting at quotes yields the `=` and then the name.
    let mut pieces = after_keyword.split(['"', '\'']);
    let is_well_formed = pieces.next().is_some_and(|equals| equals.trim() == "=");
    match pieces.next() {
        Some("utf-8" | "utf-16") if is_well_formed => Ok(()),
        _ => Err(unsupported(
            "[Content_Types].xml declares an encoding other than UTF-8 or UTF-16",
        )),
    }
}

/// Replaces character references such as `&#80;` and `&#x50;` and the five
/// predefined entity references with the characters they stand for, as an XML
/// parser does, so that `vba&#80;roject` matches `vbaproject`. Anything else
/// after `&` is kept as it is.
fn resolve_references(text: &str) -> String {
    let mut resolved = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(ampersand) = rest.find('&') {
        resolved.push_str(&rest[..ampersand]);
        let after_ampersand = &rest[ampersand + 1..];
        match parse_reference(after_ampersand) {
            Some((c, len)) => {
                resolved.push(c);
                rest = &after_ampersand[len..];
            }
            None => {
                resolved.push('&');
                rest = after_ampersand;
            }
        }
    }
    resolved.push_str(rest);
    resolved
}

/// Parses the reference that follows a `&` and returns its character and the
/// number of bytes it takes up to and including the `;`.
///
/// XML allows any number of leading zeros in a character reference, so the
/// digits are read until the first non-digit instead of up to a fixed length.
/// Each `&` is then scanned only as far as its own digits, which keeps
/// `resolve_references` linear.
fn parse_reference(after_ampersand: &str) -> Option<(char, usize)> {
    const PREDEFINED_ENTITIES: [(&str, char); 5] = [
        ("amp;", '&'),
        ("lt;", '<'),
        ("gt;", '>'),
        ("quot;", '"'),
        ("apos;", '\''),
    ];
    for (name, c) in PREDEFINED_ENTITIES {
        if after_ampersand.starts_with(name) {
            return Some((c, name.len()));
        }
    }

    let (prefix_len, radix) = if after_ampersand.starts_with("#x") {
        (2, 16)
    } else if after_ampersand.starts_with('#') {
        (1, 10)
    } else {
        return None;
    };
    let digits = &after_ampersand[prefix_len..];
    let digits_len = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if digits_len == 0 || !digits[digits_len..].starts_with(';') {
        return None;
    }

    let mut code_point: u32 = 0;
    for digit in digits[..digits_len].chars() {
        code_point = code_point
            .checked_mul(radix)?
            .checked_add(digit.to_digit(radix)?)?;
    }
    Some((char::from_u32(code_point)?, prefix_len + digits_len + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(xml: &[u8]) -> &'static str {
        match check_content_types(xml) {
            Err(SniffError::Unsupported { reason }) => reason,
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }

    const DOCX_CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

    const VBA_PROJECT: &str = "Office document declares a VBA project in [Content_Types].xml";
    const MACRO_ENABLED: &str =
        "Office document declares a macro-enabled part in [Content_Types].xml";

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            let pair = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            bytes.extend_from_slice(&pair);
        }
        bytes
    }

    #[test]
    fn plain_docx_accepted() {
        assert!(check_content_types(DOCX_CONTENT_TYPES.as_bytes()).is_ok());

        let with_bom = format!("\u{FEFF}{DOCX_CONTENT_TYPES}");
        assert!(check_content_types(with_bom.as_bytes()).is_ok());

        for big_endian in [false, true] {
            let encoded = utf16(&DOCX_CONTENT_TYPES.replace("UTF-8", "UTF-16"), big_endian);
            assert!(
                check_content_types(&encoded).is_ok(),
                "UTF-16, big endian: {big_endian}"
            );
        }

        let no_declaration =
            r#"<Types><Default Extension="xml" ContentType="application/xml"/></Types>"#;
        assert!(check_content_types(no_declaration.as_bytes()).is_ok());

        let entity = r#"<Types><Override PartName="/word/a&amp;b.xml" ContentType="application/xml"/></Types>"#;
        assert!(check_content_types(entity.as_bytes()).is_ok());
    }

    #[test]
    fn macro_markers_rejected() {
        let vba = r#"<Types><Override PartName="/word/macros.bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>"#;
        assert_eq!(reason(vba.as_bytes()), VBA_PROJECT);

        let docm = DOCX_CONTENT_TYPES.replace(
            "wordprocessingml.document.main+xml",
            "ms-word.document.macroEnabled.main+xml",
        );
        assert_eq!(reason(docm.as_bytes()), MACRO_ENABLED);

        let xlsm = r#"<Types><Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.MACROENABLED.main+xml"/></Types>"#;
        assert_eq!(reason(xlsm.as_bytes()), MACRO_ENABLED);

        let xlm = r#"<Types><Override PartName="/xl/macrosheets/sheet1.xml" ContentType="application/vnd.ms-excel.intlmacrosheet+xml"/></Types>"#;
        assert_eq!(
            reason(xlm.as_bytes()),
            "Office document declares an Excel 4.0 macro sheet in [Content_Types].xml"
        );

        let default_bin = r#"<Types><Default Extension="bin" ContentType="application/vnd.ms-office.VbaProject"/></Types>"#;
        assert_eq!(reason(default_bin.as_bytes()), VBA_PROJECT);
    }

    #[test]
    fn references_resolved_before_matching() {
        let cases = [
            "application/vnd.ms-office.vba&#80;roject",
            "application/vnd.ms-office.vba&#x50;roject",
            "application/vnd.ms-office.vba&#x0000000000000050;roject",
            "application/vnd.ms-office.&#118;&#98;&#97;project",
        ];
        for content_type in cases {
            let xml = format!(
                r#"<Types><Default Extension="bin" ContentType="{content_type}"/></Types>"#
            );
            assert_eq!(reason(xml.as_bytes()), VBA_PROJECT, "{content_type}");
        }

        let macro_enabled = r#"<Types><Default Extension="xml" ContentType="a.macro&#69;nabled.main+xml"/></Types>"#;
        assert_eq!(reason(macro_enabled.as_bytes()), MACRO_ENABLED);
    }

    #[test]
    fn parse_reference_cases() {
        assert_eq!(parse_reference("amp;rest"), Some(('&', 4)));
        assert_eq!(parse_reference("#80;"), Some(('P', 4)));
        assert_eq!(parse_reference("#x50;"), Some(('P', 5)));
        assert_eq!(parse_reference("#x;"), None);
        assert_eq!(parse_reference("#80"), None);
        assert_eq!(parse_reference("#xD800;"), None);
        assert_eq!(parse_reference("#99999999999999999999;"), None);
        assert_eq!(parse_reference("nbsp;"), None);
        assert_eq!(resolve_references("a & b &#65; &c"), "a & b A &c");
    }

    #[test]
    fn utf16_macro_content_types_rejected() {
        let vba = r#"<?xml version="1.0" encoding="UTF-16"?><Types><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>"#;
        for big_endian in [false, true] {
            assert_eq!(
                reason(&utf16(vba, big_endian)),
                VBA_PROJECT,
                "big endian: {big_endian}"
            );
        }
    }

    #[test]
    fn hiding_encodings_rejected() {
        let utf7 = r#"<?xml version="1.0" encoding="UTF-7"?><Types><Default Extension="bin" ContentType="application/vnd.ms-office.+AHY-baProject"/></Types>"#;
        assert_eq!(
            reason(utf7.as_bytes()),
            "[Content_Types].xml declares an encoding other than UTF-8 or UTF-16"
        );

        let unquoted = r#"<?xml version="1.0" encoding=UTF-7?><Types/>"#;
        assert_eq!(
            reason(unquoted.as_bytes()),
            "[Content_Types].xml declares an encoding other than UTF-8 or UTF-16"
        );

        // UTF-16 without a byte order mark decodes as UTF-8 with NUL bytes.
        let mut no_bom = utf16("<Types/>", false);
        no_bom.drain(..2);
        assert_eq!(
            reason(&no_bom),
            "[Content_Types].xml contains a NUL character"
        );

        assert_eq!(
            reason(b"<Types>\xFF</Types>"),
            "[Content_Types].xml is not valid UTF-8"
        );
        assert_eq!(
            reason(b"\xFF\xFE<\0T"),
            "[Content_Types].xml is not valid UTF-16"
        );

        let dtd = r#"<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY a "vba"><!ENTITY b "Project">]><Types><Default Extension="bin" ContentType="application/vnd.ms-office.&a;&b;"/></Types>"#;
        assert_eq!(
            reason(dtd.as_bytes()),
            "[Content_Types].xml contains a document type declaration"
        );
    }
}
