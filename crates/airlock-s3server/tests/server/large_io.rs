//! The faithful server's own large-object paths: GET bodies read in large blocks (ranges across
//! block boundaries, suffix ranges) and CompleteMultipartUpload joining part files without
//! reading them, checked against what stock s3s-fs answers for the same requests.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use crate::support::*;

/// Bytes that differ at every offset, so a block read at the wrong place shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 9)) as u8)
        .collect()
}

async fn get_range(fx: &Fixture, key: &str, range: &str) -> (Vec<u8>, Option<String>) {
    let out = fx
        .client
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .range(range)
        .send()
        .await
        .unwrap();
    let content_range = out.content_range().map(str::to_string);
    let body = out.body.collect().await.unwrap().into_bytes().to_vec();
    (body, content_range)
}

#[tokio::test]
async fn whole_and_ranged_gets_return_exactly_the_stored_bytes() {
    let (faithful, plain) = (Fixture::faithful().await, Fixture::plain().await);
    // Just over three 512 KiB read blocks.
    let data = pattern(3 * 512 * 1024 + 4321);
    for fx in [&faithful, &plain] {
        fx.put("big.bin", &data).await;
    }
    assert_eq!(faithful.get("big.bin").await, data);
    let len = data.len();
    let ranges = [
        (format!("bytes=0-{}", len - 1), 0..len),
        ("bytes=524000-1049000".to_string(), 524_000..1_049_001),
        ("bytes=1048576-".to_string(), 1_048_576..len),
        ("bytes=-1000".to_string(), len - 1000..len),
        (format!("bytes=10-{}", len + 5000), 10..len),
    ];
    for (range, want) in ranges {
        let (body, content_range) = get_range(&faithful, "big.bin", &range).await;
        assert_eq!(body, &data[want.clone()], "{range}");
        // Headers are s3s-fs's own; the body must agree with them.
        let (stock, stock_range) = get_range(&plain, "big.bin", &range).await;
        assert_eq!(body, stock, "{range}");
        assert_eq!(content_range, stock_range, "{range}");
    }
}

/// Create an upload for `key` (with a content type and user metadata) and upload `parts`.
async fn upload(fx: &Fixture, key: &str, parts: &[Vec<u8>]) -> (String, Vec<CompletedPart>) {
    let created = fx
        .client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .content_type("text/csv")
        .metadata("origin", "nightly")
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap().to_string();
    let mut completed = Vec::new();
    for (i, data) in parts.iter().enumerate() {
        let number = i as i32 + 1;
        let out = fx
            .client
            .upload_part()
            .bucket(BUCKET)
            .key(key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .unwrap();
        let part = CompletedPart::builder()
            .part_number(number)
            .e_tag(out.e_tag().unwrap());
        completed.push(part.build());
    }
    (upload_id, completed)
}

/// Complete the upload and return the object's ETag.
async fn complete(fx: &Fixture, key: &str, upload_id: &str, parts: Vec<CompletedPart>) -> String {
    let done = fx
        .client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    done.e_tag().unwrap().to_string()
}

async fn multipart(fx: &Fixture, key: &str, parts: &[Vec<u8>]) -> String {
    let (upload_id, completed) = upload(fx, key, parts).await;
    complete(fx, key, &upload_id, completed).await
}

/// Names in the server root that belong to uploads or unfinished writes.
fn leftovers(fx: &Fixture) -> Vec<String> {
    let names = std::fs::read_dir(fx.root.path()).unwrap();
    let names = names.map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
    let upload_files = |n: &String| n.starts_with(".upload") || n.starts_with(".tmp.");
    names.filter(upload_files).collect()
}

#[tokio::test]
async fn complete_gives_the_same_object_and_etag_as_s3s_fs_and_leaves_no_upload_files() {
    let (faithful, plain) = (Fixture::faithful().await, Fixture::plain().await);
    let parts = vec![
        pattern(5 * MIB),
        pattern(5 * MIB + 1)[1..].to_vec(),
        b"tail".to_vec(),
    ];
    let whole = parts.concat();
    // An older object under the same key: the upload replaces it.
    faithful.put("export/day.csv", b"old bytes").await;
    let etag = multipart(&faithful, "export/day.csv", &parts).await;
    let stock_etag = multipart(&plain, "export/day.csv", &parts).await;
    assert_eq!(
        etag, stock_etag,
        "the ETag s3s-fs computes by reading the parts again"
    );
    assert!(etag.trim_matches('"').ends_with("-3"), "{etag}");
    assert_eq!(faithful.get("export/day.csv").await, whole);
    let head = faithful
        .client
        .head_object()
        .bucket(BUCKET)
        .key("export/day.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    assert_eq!(head.content_length(), Some(whole.len() as i64));
    assert_eq!(head.content_type(), Some("text/csv"));
    let origin = head
        .metadata()
        .and_then(|m| m.get("origin"))
        .map(String::as_str);
    assert_eq!(origin, Some("nightly"));
    assert_eq!(leftovers(&faithful), Vec::<String>::new());
    let listed = faithful
        .client
        .list_multipart_uploads()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert!(listed.uploads().is_empty());
}

#[tokio::test]
async fn a_part_file_that_does_not_match_the_meta_is_left_to_s3s_fs() {
    let fx = Fixture::faithful().await;
    let parts = [pattern(5 * MIB), b"end".to_vec()];
    let (upload_id, completed) = upload(&fx, "k", &parts).await;
    // Part 2's file grows behind the server's back: the fast path must not trust its meta.
    let part2 = fx
        .root
        .path()
        .join(format!(".upload_id-{upload_id}.part-2"));
    std::fs::write(&part2, b"end and more").unwrap();
    let etag = complete(&fx, "k", &upload_id, completed).await;
    // s3s-fs joined what is on disk and hashed it itself: the object and its ETag agree.
    let grown = [parts[0].clone(), b"end and more".to_vec()];
    assert_eq!(fx.get("k").await, grown.concat());
    let stock_etag = multipart(&Fixture::plain().await, "k", &grown).await;
    assert_eq!(etag, stock_etag);
}

#[tokio::test]
async fn complete_takes_the_part_md5s_recorded_at_upload_and_does_not_read_parts_again() {
    let fx = Fixture::faithful().await;
    let parts = [pattern(5 * MIB), b"end".to_vec()];
    let expected_etag = multipart(&Fixture::plain().await, "k", &parts).await;
    let (upload_id, completed) = upload(&fx, "k", &parts).await;
    // Same size, other bytes: only a server that hashes the part files again would notice,
    // and S3 does not. This is how we know the fast path ran.
    let part2 = fx
        .root
        .path()
        .join(format!(".upload_id-{upload_id}.part-2"));
    std::fs::write(&part2, b"END").unwrap();
    let etag = complete(&fx, "k", &upload_id, completed).await;
    assert_eq!(etag, expected_etag);
    assert_eq!(
        fx.get("k").await,
        [parts[0].clone(), b"END".to_vec()].concat()
    );
}
