//! Legacy stores, each switched on its own: Ceph RGW before 2025 (no trailers, no CRC64NVME),
//! MinIO before 2025 (no FULL_OBJECT multipart checksums), and s3rver (aws-chunked bodies stored
//! as they came, no AbortMultipartUpload or ListMultipartUploads).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
};

use crate::raw;
use crate::support::*;

#[tokio::test]
async fn a_legacy_store_refuses_trailers_and_takes_plain_uploads() {
    let fx = Fixture::faithful().await;
    let data = bytes(1024, 3);
    let path = format!("/{BUCKET}/trailed");
    let (status_off, _) =
        raw::upload_part_with_trailer(&fx.server, &path, &data, &crc64nvme_b64(&data)).await;
    assert_eq!(status_off, 200);

    fx.server.behaviours().set_trailers_refused(true);
    let (status_on, answer) =
        raw::upload_part_with_trailer(&fx.server, &path, &data, &crc64nvme_b64(&data)).await;
    assert_eq!(status_on, 400, "{answer}");
    assert!(
        answer.contains("<Code>XAmzContentSHA256Mismatch</Code>"),
        "{answer}"
    );
    // A checksum sent as a header (the SDK's choice for a body it holds) is no trailer.
    let header = checksumming_client(&fx.server)
        .put_object()
        .bucket(BUCKET)
        .key("header")
        .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Crc32)
        .body(ByteStream::from(data.clone()))
        .send()
        .await;
    assert_eq!(
        header.unwrap().checksum_crc32(),
        Some(crc32_b64(&data).as_str())
    );
    // A plain PUT with Content-MD5 still works, with an MD5 ETag.
    let md5 = md5_b64(&data);
    let plain = fx
        .client
        .put_object()
        .bucket(BUCKET)
        .key("plain")
        .content_md5(md5);
    let out = plain
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.e_tag(),
        Some(format!("\"{}\"", md5_hex(&data)).as_str())
    );
}

#[tokio::test]
async fn an_s3rver_like_store_keeps_the_chunk_framing_as_the_object() {
    let fx = Fixture::faithful().await;
    let data = bytes(1024, 4);
    let trailer = crc64nvme_b64(&data);
    let path = format!("/{BUCKET}/framed");
    // Off: decoded, as S3 does.
    raw::upload_part_with_trailer(&fx.server, &path, &data, &trailer).await;
    assert_eq!(fx.get("framed").await, data);

    fx.server.behaviours().set_s3rver(true);
    let (status_on, answer) =
        raw::upload_part_with_trailer(&fx.server, &path, &data, &trailer).await;
    assert_eq!(status_on, 200, "{answer}");
    let stored = fx.get("framed").await;
    assert_eq!(stored.len(), 1075);
    assert_eq!(stored, raw::chunked_with_trailer(&data, &trailer));
    let empty_path = format!("/{BUCKET}/empty");
    let empty_trailer = crc64nvme_b64(b"");
    raw::upload_part_with_trailer(&fx.server, &empty_path, b"", &empty_trailer).await;
    assert_eq!(fx.get("empty").await.len(), 44);
    // Even a wrong trailer is taken: nothing is checked.
    let (status_wrong, _) =
        raw::upload_part_with_trailer(&fx.server, &path, &data, "AAAAAAAAAAA=").await;
    assert_eq!(status_wrong, 200);

    let created = fx.client.create_multipart_upload().bucket(BUCKET).key("mp");
    let upload_id = created
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    let abort = fx.client.abort_multipart_upload().bucket(BUCKET).key("mp");
    let err = abort.upload_id(&upload_id).send().await.unwrap_err();
    assert_eq!(status(&err), 405);
    let err = fx
        .client
        .list_multipart_uploads()
        .bucket(BUCKET)
        .send()
        .await;
    let err = err.unwrap_err();
    assert_eq!(status(&err), 501);
    assert_eq!(code(&err).as_deref(), Some("NotImplemented"));
}

#[tokio::test]
async fn an_s3rver_like_store_completes_framed_parts_and_checks_no_checksum() {
    let fx = Fixture::faithful().await;
    fx.server.behaviours().set_s3rver(true);
    let data = bytes(1024, 7);
    let created = fx.client.create_multipart_upload().bucket(BUCKET).key("mp");
    let created = created
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .send()
        .await;
    let upload_id = created.unwrap().upload_id().unwrap().to_string();
    let path = format!("/{BUCKET}/mp?partNumber=1&uploadId={upload_id}");
    let trailer = crc64nvme_b64(&data);
    let (status_part, answer) =
        raw::upload_part_with_trailer(&fx.server, &path, &data, &trailer).await;
    assert_eq!(status_part, 200, "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("x-amz-checksum-"),
        "nothing echoed: {answer}"
    );
    let etag = answer
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("etag:")
                .then(|| l[5..].trim().to_string())
        })
        .unwrap();
    // The client lists the part's checksum and the object's, as airlock does; nothing is checked.
    let part = CompletedPart::builder()
        .part_number(1)
        .e_tag(&etag)
        .checksum_crc64_nvme(&trailer);
    let completed = CompletedMultipartUpload::builder()
        .parts(part.build())
        .build();
    let complete = fx
        .client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("mp");
    let complete = complete.upload_id(&upload_id).multipart_upload(completed);
    let done = complete
        .checksum_crc64_nvme(&trailer)
        .checksum_type(ChecksumType::FullObject);
    let done = done.send().await.unwrap();
    assert_eq!(done.checksum_crc64_nvme(), None);
    assert_eq!(
        fx.get("mp").await,
        raw::chunked_with_trailer(&data, &trailer)
    );
}

/// Create an upload, send one part with the checksumming client, return (upload id, part ETag).
async fn one_part_upload(
    fx: &Fixture,
    key: &str,
    algorithm: Option<ChecksumAlgorithm>,
    checksum_type: Option<ChecksumType>,
    data: &[u8],
) -> (String, String) {
    let created = fx.client.create_multipart_upload().bucket(BUCKET).key(key);
    let created = created.set_checksum_algorithm(algorithm.clone());
    let created = created
        .set_checksum_type(checksum_type)
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap().to_string();
    let part = checksumming_client(&fx.server)
        .upload_part()
        .bucket(BUCKET)
        .key(key);
    let part = part
        .upload_id(&upload_id)
        .part_number(1)
        .set_checksum_algorithm(algorithm);
    let sent = part
        .body(ByteStream::from(data.to_vec()))
        .send()
        .await
        .unwrap();
    (upload_id, sent.e_tag().unwrap().to_string())
}

fn one_part(etag: &str) -> CompletedMultipartUpload {
    let part = CompletedPart::builder().part_number(1).e_tag(etag).build();
    CompletedMultipartUpload::builder().parts(part).build()
}

#[tokio::test]
async fn a_store_without_crc64nvme_ignores_its_values_and_keeps_the_others() {
    let fx = Fixture::faithful().await;
    let data = bytes(1024, 5);
    let put = |key: &'static str, crc64: String| {
        let request = fx
            .client
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .checksum_crc64_nvme(crc64);
        async move { request.body(ByteStream::from(bytes(1024, 5))).send().await }
    };
    let wrong = crc64nvme_b64(b"other bytes");
    // Off: a wrong CRC64NVME is refused, a right one stored and echoed.
    assert_eq!(
        code(&put("k", wrong.clone()).await.unwrap_err()).as_deref(),
        Some("BadDigest")
    );

    fx.server.behaviours().set_crc64nvme_unknown(true);
    let out = put("k", wrong.clone()).await.unwrap();
    assert_eq!(
        out.checksum_crc64_nvme(),
        None,
        "neither checked nor echoed"
    );
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("k")
        .checksum_mode(ChecksumMode::Enabled);
    let head = head.send().await.unwrap();
    assert_eq!(
        (head.checksum_crc64_nvme(), head.content_length()),
        (None, Some(1024))
    );
    let path = format!("/{BUCKET}/trailed");
    let (status_trailer, answer) =
        raw::upload_part_with_trailer(&fx.server, &path, &data, &wrong).await;
    assert_eq!(status_trailer, 200, "{answer}");
    assert_eq!(fx.get("trailed").await, data);
    // The other algorithms are still checked.
    let crc32 = fx
        .client
        .put_object()
        .bucket(BUCKET)
        .key("c")
        .checksum_crc32(crc32_b64(b"x"));
    let err = crc32
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("BadDigest"));

    // A CRC64NVME upload is an upload without a checksum.
    let (upload_id, etag) =
        one_part_upload(&fx, "mp", Some(ChecksumAlgorithm::Crc64Nvme), None, &data).await;
    let parts = fx
        .client
        .list_parts()
        .bucket(BUCKET)
        .key("mp")
        .upload_id(&upload_id);
    let parts = parts.send().await.unwrap();
    assert_eq!(
        (parts.checksum_algorithm(), parts.checksum_type()),
        (None, None)
    );
    assert_eq!(parts.parts()[0].checksum_crc64_nvme(), None);
    let complete = fx
        .client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("mp");
    let complete = complete
        .upload_id(&upload_id)
        .multipart_upload(one_part(&etag));
    let done = complete.checksum_crc64_nvme(wrong).send().await.unwrap();
    assert_eq!(
        (done.checksum_crc64_nvme(), done.checksum_type()),
        (None, None)
    );
    assert_eq!(fx.get("mp").await, data);
}

#[tokio::test]
async fn a_store_without_full_object_checksums_answers_invalid_part() {
    let fx = Fixture::faithful().await;
    let data = bytes(1000, 6);
    let complete = |key: &'static str, upload_id: String, etag: String| {
        let request = fx
            .client
            .complete_multipart_upload()
            .bucket(BUCKET)
            .key(key);
        let request = request
            .upload_id(upload_id)
            .multipart_upload(one_part(&etag));
        async move { request.send().await }
    };
    // Off: a CRC64NVME upload is a FULL_OBJECT upload and completes.
    let (id, etag) =
        one_part_upload(&fx, "a", Some(ChecksumAlgorithm::Crc64Nvme), None, &data).await;
    let done = complete("a", id, etag).await.unwrap();
    assert_eq!(done.checksum_type(), Some(&ChecksumType::FullObject));

    fx.server.behaviours().set_full_object_refused(true);
    let (id, etag) =
        one_part_upload(&fx, "b", Some(ChecksumAlgorithm::Crc64Nvme), None, &data).await;
    let err = complete("b", id.clone(), etag.clone()).await.unwrap_err();
    assert_eq!(
        (status(&err), code(&err).as_deref()),
        (400, Some("InvalidPart"))
    );
    let full = Some(ChecksumType::FullObject);
    let (id32, etag32) =
        one_part_upload(&fx, "c", Some(ChecksumAlgorithm::Crc32), full, &data).await;
    let err = complete("c", id32, etag32).await.unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("InvalidPart"));
    // The refused upload is still there (a client can complete it the plain way elsewhere)...
    let parts = fx
        .client
        .list_parts()
        .bucket(BUCKET)
        .key("b")
        .upload_id(&id)
        .send()
        .await;
    assert_eq!(parts.unwrap().parts().len(), 1);
    // ...and a plain upload (MD5 ETags only) completes, with an MD5-of-MD5s ETag.
    let (plain_id, plain_etag) = one_part_upload(&fx, "d", None, None, &data).await;
    let done = complete("d", plain_id, plain_etag).await.unwrap();
    assert!(done.e_tag().unwrap().ends_with("-1\""));

    // Both legacy switches: the CRC64NVME is forgotten at create, but a Complete that sends one
    // (or the FULL_OBJECT type) is still refused.
    fx.server.behaviours().set_legacy(true);
    let (id, etag) =
        one_part_upload(&fx, "e", Some(ChecksumAlgorithm::Crc64Nvme), None, &data).await;
    let request = fx
        .client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("e");
    let request = request.upload_id(&id).multipart_upload(one_part(&etag));
    let err = request
        .checksum_crc64_nvme(crc64nvme_b64(&data))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("InvalidPart"));
    complete("e", id, etag).await.unwrap();
}
