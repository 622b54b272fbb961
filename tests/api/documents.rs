//! Uploads of the real samples, limits, hostile input, listing, download,
//! delete and isolation between accounts.

use futures_util::stream;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{assert_problem, samples_dir, spawn_app, spawn_app_with};

const ACCEPTED: [(&str, &str); 9] = [
    ("boq-site-works.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("contract-c-2026-07.tiff", "image/tiff"),
    ("delivery-instructions.txt", "text/plain"),
    ("delivery-note-dn-5520.jpg", "image/jpeg"),
    ("invoice-inv-88213.png", "image/png"),
    ("po-4410-lines.csv", "text/csv"),
    ("quotation-q-7781.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("rfq-2026-014.pdf", "application/pdf"),
    ("third-party-shared-mime-info-spec.pdf", "application/pdf"),
];

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn accepted_samples_round_trip() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let listed = std::fs::read_dir(samples_dir().join("accepted")).unwrap().count();
    assert_eq!(listed, ACCEPTED.len(), "every accepted sample has an expected type");

    for (name, mime) in ACCEPTED {
        let bytes = std::fs::read(samples_dir().join("accepted").join(name)).unwrap();
        let meta = app.upload_sample(&user.tokens.access, name).await;
        assert_eq!(meta["filename"], name);
        assert_eq!(meta["size_bytes"], bytes.len(), "{name}");
        assert_eq!(meta["sha256"], hex::encode(Sha256::digest(&bytes)), "{name}");
        assert!(meta["content_type"].as_str().unwrap().starts_with(mime), "{name}: {}", meta["content_type"]);
        assert_eq!(meta["status"], "uploaded");
        assert_eq!(meta["document_type"], "OTHER");

        let id = meta["document_id"].as_str().unwrap();
        let download = app.get_auth(&format!("/documents/{id}/content"), &user.tokens.access).await;
        assert_eq!(download.status(), StatusCode::OK, "{name}");
        let headers = download.headers().clone();
        assert!(headers["content-type"].to_str().unwrap().starts_with(mime), "{name}");
        assert_eq!(headers["content-length"], bytes.len().to_string().as_str());
        assert_eq!(headers["etag"], format!("\"{}\"", meta["sha256"].as_str().unwrap()).as_str());
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(disposition.contains(&format!("filename*=UTF-8''{name}")), "{disposition}");
        assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice(), "{name} differs after download");
    }
}

#[tokio::test]
async fn rejected_samples_unsupported() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut seen = 0;
    for entry in std::fs::read_dir(samples_dir().join("rejected")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let response = app.upload(&user.tokens.access, &name, std::fs::read(&path).unwrap()).await;
        assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
        seen += 1;
    }
    assert!(seen >= 6);
    assert!(app.stored_files().is_empty(), "rejected uploads left files: {:?}", app.stored_files());
    let list = app.get_auth("/documents", &user.tokens.access).await;
    assert_eq!(list.headers()["x-total-count"], "0");
}

#[tokio::test]
async fn document_type_part_is_kept() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let bytes = std::fs::read(samples_dir().join("accepted/rfq-2026-014.pdf")).unwrap();
    let form = Form::new()
        .text("document_type", "rfq")
        .part("file", Part::bytes(bytes.clone()).file_name("rfq.pdf"));
    let response = app.upload_form(&user.tokens.access, form).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.json::<Value>().await.unwrap()["document_type"], "RFQ");

    let form = Form::new()
        .text("document_type", "SPREADSHEET")
        .part("file", Part::bytes(bytes).file_name("rfq.pdf"));
    let body = assert_problem(app.upload_form(&user.tokens.access, form).await, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(body["errors"][0]["field"], "document_type");
}

fn oversized_text(len: usize) -> Vec<u8> {
    vec![b'a'; len]
}

#[tokio::test]
async fn upload_over_limit_rejected() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let over = 50 * MIB + 1;

    // With Content-Length: the whole body length is known up front.
    let response = app.upload(&user.tokens.access, "big.txt", oversized_text(over)).await;
    let body = assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(body["detail"], "File too large. Max size: 50 MB");

    // Without Content-Length: the body is chunked and counted as it streams.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..50).map(|_| Ok(vec![b'a'; MIB])).chain([Ok(vec![b'a'; 1])]).collect();
    let part = Part::stream(reqwest::Body::wrap_stream(stream::iter(chunks))).file_name("big.txt");
    let response = app.upload_form(&user.tokens.access, Form::new().part("file", part)).await;
    let body = assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(body["detail"], "File too large. Max size: 50 MB");

    assert!(app.stored_files().is_empty(), "oversized uploads left files: {:?}", app.stored_files());
    let list = app.get_auth("/documents", &user.tokens.access).await;
    assert_eq!(list.headers()["x-total-count"], "0");
}

#[tokio::test]
async fn upload_at_limit_accepted() {
    let app = spawn_app_with(&[("MAX_UPLOAD_BYTES", "1048576")]).await;
    let user = app.new_user().await;
    let response = app.upload(&user.tokens.access, "exact.txt", oversized_text(MIB)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = app.upload(&user.tokens.access, "over.txt", oversized_text(MIB + 1)).await;
    let body = assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(body["detail"], "File too large. Max size: 1 MB");
}

#[tokio::test]
async fn malformed_uploads_rejected() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let token = &user.tokens.access;
    let pdf = std::fs::read(samples_dir().join("accepted/rfq-2026-014.pdf")).unwrap();

    let wrong_name = Form::new().part("document", Part::bytes(pdf.clone()).file_name("a.pdf"));
    assert_problem(app.upload_form(token, wrong_name).await, StatusCode::BAD_REQUEST, "invalid_request").await;

    let two_files = Form::new()
        .part("file", Part::bytes(pdf.clone()).file_name("a.pdf"))
        .part("file", Part::bytes(pdf.clone()).file_name("b.pdf"));
    let body = assert_problem(app.upload_form(token, two_files).await, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(body["errors"][0]["field"], "file");

    let no_file = Form::new().text("document_type", "RFQ");
    assert_problem(app.upload_form(token, no_file).await, StatusCode::BAD_REQUEST, "invalid_request").await;

    let empty = app.upload(token, "empty.pdf", Vec::new()).await;
    assert_problem(empty, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;

    let json_body = app.client.post(app.url("/docs/upload")).bearer_auth(token).json(&serde_json::json!({ "file": "x" })).send().await.unwrap();
    assert_problem(json_body, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;

    let no_boundary = app
        .client
        .post(app.url("/docs/upload"))
        .bearer_auth(token)
        .header("content-type", "multipart/form-data")
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert_problem(no_boundary, StatusCode::BAD_REQUEST, "invalid_request").await;

    let unauthenticated = app.client.post(app.url("/docs/upload")).multipart(Form::new().part("file", Part::bytes(pdf).file_name("a.pdf"))).send().await.unwrap();
    assert_problem(unauthenticated, StatusCode::UNAUTHORIZED, "invalid_token").await;

    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
    let list = app.get_auth("/documents", token).await;
    assert_eq!(list.headers()["x-total-count"], "0");
}

#[tokio::test]
async fn hostile_filenames_become_metadata() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let text = b"Deliver to gate 4.\n".to_vec();
    let cases = [("../../etc/passwd", "passwd"), ("..\\..\\boot.ini", "boot.ini"), ("invoice\u{202e}fdp.txt", "invoicefdp.txt")];
    for (raw, expected) in cases {
        let response = app.upload(&user.tokens.access, raw, text.clone()).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{raw:?}");
        let meta: Value = response.json().await.unwrap();
        assert_eq!(meta["filename"], expected, "{raw:?}");
    }
    let stored: Vec<String> = std::fs::read_dir(app.data_dir().join("documents"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(stored.len(), cases.len());
    assert!(stored.iter().all(|name| uuid::Uuid::parse_str(name).is_ok()), "{stored:?}");
    assert!(!app.dir.path().join("etc/passwd").exists());

    // A raw control character breaks the multipart part header itself, so
    // the whole upload is refused and nothing is stored.
    let response = app.upload(&user.tokens.access, "in\u{7}voice.txt", text).await;
    assert_problem(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    let list = app.get_auth("/documents", &user.tokens.access).await;
    assert_eq!(list.headers()["x-total-count"], cases.len().to_string().as_str());
}

#[tokio::test]
async fn listing_paginates_newest_first() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut ids = Vec::new();
    for name in ["delivery-instructions.txt", "po-4410-lines.csv", "rfq-2026-014.pdf"] {
        ids.push(app.upload_sample(&user.tokens.access, name).await["document_id"].as_str().unwrap().to_owned());
    }

    let first = app.get_auth("/documents?page=1&per_page=2", &user.tokens.access).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["x-total-count"], "3");
    assert_eq!(first.headers()["x-total-pages"], "2");
    let first: Vec<Value> = first.json().await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0]["document_id"], ids[2].as_str());
    assert_eq!(first[1]["document_id"], ids[1].as_str());

    let second: Vec<Value> = app.get_auth("/documents?page=2&per_page=2", &user.tokens.access).await.json().await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0]["document_id"], ids[0].as_str());

    for query in ["per_page=0", "per_page=101", "per_page=abc", "page=0", "page=-1"] {
        let response = app.get_auth(&format!("/documents?{query}"), &user.tokens.access).await;
        assert_problem(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

#[tokio::test]
async fn other_users_documents_look_missing() {
    let app = spawn_app().await;
    let owner = app.new_user().await;
    let intruder = app.new_user().await;
    let meta = app.upload_sample(&owner.tokens.access, "rfq-2026-014.pdf").await;
    let id = meta["document_id"].as_str().unwrap();
    let missing = uuid::Uuid::new_v4().to_string();

    for path in ["/documents/{}", "/documents/{}/content"] {
        let theirs = app.get_auth(&path.replace("{}", id), &intruder.tokens.access).await;
        let theirs = assert_problem(theirs, StatusCode::NOT_FOUND, "not_found").await;
        let absent = app.get_auth(&path.replace("{}", &missing), &intruder.tokens.access).await;
        let absent = assert_problem(absent, StatusCode::NOT_FOUND, "not_found").await;
        assert_eq!(theirs, absent, "{path}");
    }
    let delete = app.client.delete(app.url(&format!("/documents/{id}"))).bearer_auth(&intruder.tokens.access).send().await.unwrap();
    assert_problem(delete, StatusCode::NOT_FOUND, "not_found").await;
    let workflow = app
        .client
        .post(app.url("/workflows"))
        .bearer_auth(&intruder.tokens.access)
        .json(&serde_json::json!({ "kind": "inquiry", "document_ids": [id] }))
        .send()
        .await
        .unwrap();
    assert_problem(workflow, StatusCode::NOT_FOUND, "not_found").await;

    let list: Vec<Value> = app.get_auth("/documents", &intruder.tokens.access).await.json().await.unwrap();
    assert!(list.is_empty());
    // The owner still has the document, untouched.
    assert_eq!(app.get_auth(&format!("/documents/{id}"), &owner.tokens.access).await.status(), StatusCode::OK);

    let probes = app.audit_entries().await.into_iter().filter(|entry| entry["event_type"] == "UNAUTHORIZED_ACCESS").count();
    assert_eq!(probes, 4);

    let not_uuid = app.get_auth("/documents/not-a-uuid", &owner.tokens.access).await;
    assert_problem(not_uuid, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn delete_removes_bytes() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let meta = app.upload_sample(&user.tokens.access, "invoice-inv-88213.png").await;
    let id = meta["document_id"].as_str().unwrap();
    let path = app.data_dir().join("documents").join(id);
    assert!(path.exists());

    let response = app.client.delete(app.url(&format!("/documents/{id}"))).bearer_auth(&user.tokens.access).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(!path.exists(), "bytes still on disk");
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
    let again = app.get_auth(&format!("/documents/{id}"), &user.tokens.access).await;
    assert_problem(again, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn declared_oversize_rejected_before_reading() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut stream = tokio::net::TcpStream::connect(app.server.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/docs/upload HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: {}\r\n\r\n--xyz\r\n",
        user.tokens.access,
        60 * MIB
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buffer)).await.unwrap().unwrap();
        if read == 0 {
            break;
        }
        response.extend_from_slice(&buffer[..read]);
        if response.windows(4).any(|window| window == b"\r\n\r\n") && response.ends_with(b"}") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("File too large. Max size: 50 MB"), "{text}");
    assert!(app.stored_files().is_empty());
}

#[tokio::test]
async fn aborted_upload_leaves_nothing() {
    use tokio::io::AsyncWriteExt;

    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut stream = tokio::net::TcpStream::connect(app.server.addr).await.unwrap();
    let part_head = "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.pdf\"\r\n\r\n%PDF-1.4\n";
    let head = format!(
        "POST /api/v1/docs/upload HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: {}\r\n\r\n{part_head}",
        user.tokens.access,
        4 * MIB
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![b'x'; MIB]).await.unwrap();
    stream.flush().await.unwrap();

    // The partial file exists while the client is still sending.
    let mut seen_partial = false;
    for _ in 0..50 {
        if !app.stored_files().is_empty() {
            seen_partial = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(seen_partial, "upload never reached the temporary folder");
    drop(stream);

    let mut left = app.stored_files();
    for _ in 0..100 {
        left = app.stored_files();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(left.is_empty(), "aborted upload left {left:?}");
    let list = app.get_auth("/documents", &user.tokens.access).await;
    assert_eq!(list.headers()["x-total-count"], "0");
}

#[tokio::test]
async fn active_text_rejected() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let cases = [
        "Invoice 123\n<img src=x onerror=alert(document.domain)>\n",
        "Invoice\n<body onload=alert(1)>\n",
        "price list\n<?= system($_GET[\"c\"]) ?>\n",
        "\u{feff}<script>alert(1)</script>",
        "#!/bin/sh\nrm -rf /\n",
    ];
    for text in cases {
        let response = app.upload(&user.tokens.access, "notes.txt", text.as_bytes().to_vec()).await;
        assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    }
    let plain = app.upload(&user.tokens.access, "notes.txt", b"Deliver 5 < 10 pallets, price <= 100 EUR.\n".to_vec()).await;
    assert_eq!(plain.status(), StatusCode::CREATED);
}
