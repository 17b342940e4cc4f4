//! Multipart checksums: UploadPart verifies and echoes part checksums (header and aws-chunked
//! trailer), CompleteMultipartUpload computes, checks and stores the full-object CRC.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
};

use crate::raw;
use crate::support::*;

fn completed(parts: &[(i32, &str)]) -> CompletedMultipartUpload {
    let parts = parts.iter().map(|(n, etag)| {
        CompletedPart::builder()
            .part_number(*n)
            .e_tag(*etag)
            .build()
    });
    CompletedMultipartUpload::builder()
        .set_parts(Some(parts.collect()))
        .build()
}

#[tokio::test]
async fn crc64nvme_full_object_multipart_is_verified_and_stored() {
    let fx = Fixture::faithful().await;
    let (part1, part2) = (bytes(5 * MIB, 1), bytes(MIB + 17, 2));
    let whole = [part1.as_slice(), part2.as_slice()].concat();
    let created = fx
        .client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("big.bin")
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await
        .unwrap();
    assert_eq!(created.checksum_type(), Some(&ChecksumType::FullObject));
    let upload_id = created.upload_id().unwrap();
    let sender = checksumming_client(&fx.server);
    let upload_part = |n: i32| {
        sender
            .upload_part()
            .bucket(BUCKET)
            .key("big.bin")
            .upload_id(upload_id)
            .part_number(n)
    };

    // In-memory body: the SDK computes the CRC and sends it as a header; we echo ours.
    let spy = RequestSpy::default();
    let one = upload_part(1)
        .body(ByteStream::from(part1.clone()))
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .customize()
        .interceptor(spy.clone())
        .send()
        .await
        .unwrap();
    let sent = spy.header("x-amz-checksum-crc64nvme");
    assert_eq!(sent, Some(crc64nvme_b64(&part1)));
    assert_eq!(
        one.checksum_crc64_nvme(),
        Some(crc64nvme_b64(&part1).as_str())
    );

    // File body: the SDK streams it aws-chunked with the CRC as a trailer.
    let file = fx.root.path().join("part2.bin");
    std::fs::write(&file, &part2).unwrap();
    let two = upload_part(2)
        .body(ByteStream::from_path(&file).await.unwrap())
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .customize()
        .interceptor(spy.clone())
        .send()
        .await
        .unwrap();
    let trailer = spy.header("x-amz-trailer");
    assert_eq!(trailer.as_deref(), Some("x-amz-checksum-crc64nvme"));
    assert_eq!(
        two.checksum_crc64_nvme(),
        Some(crc64nvme_b64(&part2).as_str())
    );

    // A wrong checksum is refused, and the part already stored under that number survives.
    let err = upload_part(2)
        .body(ByteStream::from(bytes(MIB + 17, 3)))
        .checksum_crc64_nvme(crc64nvme_b64(&part2))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&err), code(&err).as_deref()),
        (400, Some("BadDigest"))
    );

    let parts = fx
        .client
        .list_parts()
        .bucket(BUCKET)
        .key("big.bin")
        .upload_id(upload_id)
        .send()
        .await
        .unwrap();
    let listed: Vec<_> = parts
        .parts()
        .iter()
        .map(|p| p.checksum_crc64_nvme())
        .collect();
    let expected = [crc64nvme_b64(&part1), crc64nvme_b64(&part2)];
    assert_eq!(
        listed,
        expected
            .iter()
            .map(|v| Some(v.as_str()))
            .collect::<Vec<_>>()
    );

    let etags = [one.e_tag().unwrap(), two.e_tag().unwrap()];
    let complete = || {
        fx.client
            .complete_multipart_upload()
            .bucket(BUCKET)
            .key("big.bin")
            .upload_id(upload_id)
            .checksum_type(ChecksumType::FullObject)
            .multipart_upload(completed(&[(1, etags[0]), (2, etags[1])]))
    };
    // A wrong full-object value is refused before anything is written.
    let err = complete()
        .checksum_crc64_nvme(crc64nvme_b64(&part1))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&err), code(&err).as_deref()),
        (400, Some("BadDigest"))
    );
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("big.bin")
        .send()
        .await;
    assert_eq!(status(&head.unwrap_err()), 404);

    // The upload is still there; the right value completes it.
    let full = crc64nvme_b64(&whole);
    let done = complete().checksum_crc64_nvme(&full).send().await.unwrap();
    assert_eq!(done.checksum_crc64_nvme(), Some(full.as_str()));
    assert_eq!(done.checksum_type(), Some(&ChecksumType::FullObject));

    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("big.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc64_nvme(), Some(full.as_str()));
    assert_eq!(head.checksum_type(), Some(&ChecksumType::FullObject));
    assert_eq!(head.content_length(), Some(whole.len() as i64));
    assert!(head.e_tag().unwrap().ends_with("-2\""));

    // Without checksum mode S3 reports no checksum.
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("big.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc64_nvme(), None);

    let got = fx
        .client
        .get_object()
        .bucket(BUCKET)
        .key("big.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.checksum_crc64_nvme(), Some(full.as_str()));
    assert!(got.body.collect().await.unwrap().into_bytes() == whole);
}

#[tokio::test]
async fn crc32_full_object_multipart_and_part_checks() {
    let fx = Fixture::faithful().await;
    let (part1, part2) = (bytes(5 * MIB, 4), bytes(1000, 5));
    let whole = [part1.as_slice(), part2.as_slice()].concat();
    let created = fx
        .client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("crc32.bin")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap();
    let mut etags = Vec::new();
    for (n, part) in [(1, &part1), (2, &part2)] {
        let out = checksumming_client(&fx.server)
            .upload_part()
            .bucket(BUCKET)
            .key("crc32.bin")
            .upload_id(upload_id)
            .part_number(n)
            .body(ByteStream::from(part.clone()))
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .send()
            .await
            .unwrap();
        assert_eq!(out.checksum_crc32(), Some(crc32_b64(part).as_str()));
        etags.push(out.e_tag().unwrap().to_string());
    }
    let complete = |parts: CompletedMultipartUpload| {
        fx.client
            .complete_multipart_upload()
            .bucket(BUCKET)
            .key("crc32.bin")
            .upload_id(upload_id)
            .multipart_upload(parts)
    };
    // A part that was never uploaded, or a wrong part checksum: InvalidPart, upload kept.
    let err = complete(completed(&[(1, &etags[0]), (2, &etags[1]), (3, &etags[1])]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("InvalidPart"));
    let wrong_part_sum = CompletedPart::builder()
        .part_number(2)
        .e_tag(&etags[1])
        .checksum_crc32(crc32_b64(b"other"))
        .build();
    let first = CompletedPart::builder()
        .part_number(1)
        .e_tag(&etags[0])
        .build();
    let parts = CompletedMultipartUpload::builder()
        .parts(first)
        .parts(wrong_part_sum)
        .build();
    let err = complete(parts).send().await.unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("InvalidPart"));

    let done = complete(completed(&[(1, &etags[0]), (2, &etags[1])]))
        .send()
        .await
        .unwrap();
    assert_eq!(done.checksum_crc32(), Some(crc32_b64(&whole).as_str()));
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("crc32.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32(), Some(crc32_b64(&whole).as_str()));
    assert_eq!(head.checksum_type(), Some(&ChecksumType::FullObject));

    // Overwriting the key with a plain PUT drops the stored checksum.
    fx.put("crc32.bin", b"small").await;
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("crc32.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_crc32(), None);
}

#[tokio::test]
async fn a_trailer_checksum_that_does_not_match_is_refused() {
    let fx = Fixture::faithful().await;
    let created = fx
        .client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("k")
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap();
    let path = format!("/{BUCKET}/k?partNumber=1&uploadId={upload_id}");
    let (good, bad) = (bytes(300_000, 6), bytes(300_000, 7));

    let (status, body) =
        raw::upload_part_with_trailer(&fx.server, &path, &good, &crc64nvme_b64(&good)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        raw::upload_part_with_trailer(&fx.server, &path, &bad, &crc64nvme_b64(&good)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>BadDigest</Code>"), "{body}");

    // The refused body did not replace the good part 1.
    let parts = fx
        .client
        .list_parts()
        .bucket(BUCKET)
        .key("k")
        .upload_id(upload_id)
        .send()
        .await
        .unwrap();
    let sums: Vec<_> = parts
        .parts()
        .iter()
        .map(|p| p.checksum_crc64_nvme())
        .collect();
    assert_eq!(sums, [Some(crc64nvme_b64(&good).as_str())]);
    let etag = parts.parts()[0].e_tag().unwrap();
    let done = fx
        .client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("k")
        .upload_id(upload_id)
        .multipart_upload(completed(&[(1, etag)]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        done.checksum_crc64_nvme(),
        Some(crc64nvme_b64(&good).as_str())
    );
    assert_eq!(fx.get("k").await, good);
}

#[tokio::test]
async fn checksum_type_must_suit_the_algorithm() {
    let fx = Fixture::faithful().await;
    let err = fx
        .client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("x")
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .checksum_type(ChecksumType::Composite)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&err), code(&err).as_deref()),
        (400, Some("InvalidRequest"))
    );
}

/// S3 stores nothing when it refuses a PUT (BadDigest): the key keeps its old object, or stays
/// empty. (s3s-fs moves the new bytes into place before it checks.)
#[tokio::test]
async fn a_put_refused_for_a_wrong_trailer_changes_nothing() {
    let fx = Fixture::faithful().await;
    let data = bytes(1024, 5);
    let path = format!("/{BUCKET}/refused");
    let (status, answer) =
        crate::raw::upload_part_with_trailer(&fx.server, &path, &data, "AAAAAAAAAAA=").await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("<Code>BadDigest</Code>"), "{answer}");
    let head = fx
        .client
        .head_object()
        .bucket(BUCKET)
        .key("refused")
        .send()
        .await;
    assert!(head.is_err(), "nothing stored: {head:?}");

    let old = bytes(2048, 6);
    let (status, _) =
        crate::raw::upload_part_with_trailer(&fx.server, &path, &old, &crc64nvme_b64(&old)).await;
    assert_eq!(status, 200);
    let (status, _) =
        crate::raw::upload_part_with_trailer(&fx.server, &path, &data, "AAAAAAAAAAA=").await;
    assert_eq!(status, 400);
    assert_eq!(fx.get("refused").await, old, "the old object is kept");
}
