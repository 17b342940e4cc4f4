//! The synthetic sink against the AWS SDK: it lists only its preset subset (every k-th source
//! key, a quarter of them with another size), takes PutObject and multipart uploads with S3's
//! answers (MD5 ETags, checksums checked and echoed, full-object CRC combined at Complete), and
//! keeps no bytes: what it received is never listed or read back, only found by HEAD (size,
//! ETag, checksum, metadata), as a client's check after Complete needs. A source refuses writes.

use airlock_s3server::{Dataset, SyntheticOptions, SyntheticS3};
use aws_credential_types::Credentials;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Region, RequestChecksumCalculation};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use base64::Engine as _;

use crate::support::{MIB, bytes, code, crc64nvme_b64, md5_b64, md5_hex, status};

const TARGET_BUCKET: &str = "synthetic-target";

async fn start(dataset: Dataset, present_every: Option<u64>) -> (SyntheticS3, Client) {
    let options = SyntheticOptions::source(dataset, TARGET_BUCKET, "dst-key", "dst-secret");
    let server = SyntheticS3::start(options.sink(present_every))
        .await
        .unwrap();
    let credentials = Credentials::new("dst-key", "dst-secret", None, None, "test");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(&server.endpoint)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .build();
    (server, Client::from_conf(config))
}

/// (key, size, ETag) of every listed object.
async fn listed(client: &Client, bucket: &str) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .max_keys(37)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for object in page.unwrap().contents() {
            let key = object.key().unwrap().to_string();
            out.push((
                key,
                object.size().unwrap(),
                object.e_tag().unwrap().to_string(),
            ));
        }
    }
    out
}

#[tokio::test]
async fn a_sink_lists_every_kth_source_key_a_quarter_of_them_changed() {
    let dataset = Dataset::folders(1_000, 100);
    let (_target, client) = start(dataset.clone(), Some(10)).await;
    let options = SyntheticOptions::source(dataset, "src", "src-key", "src-secret");
    let source = SyntheticS3::start(options).await.unwrap();
    let source_client = {
        let credentials = Credentials::new("src-key", "src-secret", None, None, "test");
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials)
            .endpoint_url(&source.endpoint)
            .force_path_style(true)
            .build();
        Client::from_conf(config)
    };
    let source_listing = listed(&source_client, "src").await;
    let target_listing = listed(&client, TARGET_BUCKET).await;
    assert_eq!(source_listing.len(), 1_000);
    assert_eq!(target_listing.len(), 100);
    let (mut same, mut changed) = (0, 0);
    for (n, (key, size, etag)) in target_listing.iter().enumerate() {
        let (source_key, source_size, source_etag) = &source_listing[n * 10];
        assert_eq!(key, source_key);
        match n % 4 == 1 {
            true => {
                assert_eq!(*size, source_size + 1, "{key}");
                assert_ne!(etag, source_etag, "{key}");
                changed += 1;
            }
            false => {
                assert_eq!((size, etag), (source_size, source_etag), "{key}");
                same += 1;
            }
        }
    }
    assert_eq!((same, changed), (75, 25));
    let (_empty, empty_client) = start(Dataset::flat(1_000), None).await;
    assert!(listed(&empty_client, TARGET_BUCKET).await.is_empty());
}

#[tokio::test]
async fn a_put_is_checked_and_answered_as_s3_does_and_only_headed_after() {
    let (_target, client) = start(Dataset::flat(100), None).await;
    let data = bytes(100_000, 9);
    let put = client
        .put_object()
        .bucket(TARGET_BUCKET)
        .key("copied/one.bin")
        .checksum_crc64_nvme(crc64nvme_b64(&data))
        .content_md5(md5_b64(&data))
        .metadata("airlock-source-etag", "abc")
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.e_tag(),
        Some(format!("\"{}\"", md5_hex(&data)).as_str())
    );
    assert_eq!(
        put.checksum_crc64_nvme(),
        Some(crc64nvme_b64(&data).as_str())
    );
    // The SDK's own checksum (named by x-amz-sdk-checksum-algorithm, sent as it chooses: a
    // header or an aws-chunked trailer) is computed and echoed too.
    let checksumming = client
        .config()
        .to_builder()
        .request_checksum_calculation(RequestChecksumCalculation::WhenSupported)
        .build();
    let sdk_put = Client::from_conf(checksumming)
        .put_object()
        .bucket(TARGET_BUCKET)
        .key("copied/sdk.bin")
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.e_tag(),
        Some(format!("\"{}\"", md5_hex(&data)).as_str())
    );
    let crc32c = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, &data) as u32;
    let crc32c = base64::engine::general_purpose::STANDARD.encode(crc32c.to_be_bytes());
    assert_eq!(sdk_put.checksum_crc32_c(), Some(crc32c.as_str()));
    assert_eq!(sdk_put.checksum_crc64_nvme(), None);
    // No bytes were kept: nothing is listed or read back, but HEAD finds what was received.
    assert!(listed(&client, TARGET_BUCKET).await.is_empty());
    let head = client
        .head_object()
        .bucket(TARGET_BUCKET)
        .key("copied/one.bin")
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(100_000));
    assert_eq!(head.e_tag(), put.e_tag());
    assert_eq!(
        head.checksum_crc64_nvme(),
        Some(crc64nvme_b64(&data).as_str())
    );
    assert_eq!(head.metadata().unwrap()["airlock-source-etag"], "abc");
    let get = client
        .get_object()
        .bucket(TARGET_BUCKET)
        .key("copied/one.bin")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&get), 501);
    client
        .delete_object()
        .bucket(TARGET_BUCKET)
        .key("copied/one.bin")
        .send()
        .await
        .unwrap();
    let gone = client
        .head_object()
        .bucket(TARGET_BUCKET)
        .key("copied/one.bin")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&gone), 404);
    // A checksum or Content-MD5 that does not match the body.
    let wrong_crc = client
        .put_object()
        .bucket(TARGET_BUCKET)
        .key("copied/two.bin")
        .checksum_crc64_nvme(crc64nvme_b64(b"other bytes"))
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&wrong_crc), code(&wrong_crc)),
        (400, Some("BadDigest".into()))
    );
    let wrong_md5 = client
        .put_object()
        .bucket(TARGET_BUCKET)
        .key("copied/two.bin")
        .content_md5(md5_b64(b"other bytes"))
        .body(ByteStream::from(data))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&wrong_md5), code(&wrong_md5)),
        (400, Some("BadDigest".into()))
    );
}

#[tokio::test]
async fn a_multipart_upload_gets_md5_of_md5s_and_a_combined_full_object_crc() {
    let (_target, client) = start(Dataset::flat(100), Some(1)).await;
    let parts = [bytes(5 * MIB, 1), bytes(1000, 2)];
    let whole: Vec<u8> = parts.concat();
    let created = client
        .create_multipart_upload()
        .bucket(TARGET_BUCKET)
        .key("big.bin")
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .metadata("airlock-source-etag", "def")
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap().to_string();
    let mut completed = Vec::new();
    let mut md5s = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        let number = n as i32 + 1;
        let out = client
            .upload_part()
            .bucket(TARGET_BUCKET)
            .key("big.bin")
            .upload_id(&upload_id)
            .part_number(number)
            .checksum_crc64_nvme(crc64nvme_b64(part))
            .body(ByteStream::from(part.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.checksum_crc64_nvme(),
            Some(crc64nvme_b64(part).as_str())
        );
        md5s.extend(hex_bytes(&md5_hex(part)));
        completed.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(out.e_tag().unwrap())
                .checksum_crc64_nvme(out.checksum_crc64_nvme().unwrap())
                .build(),
        );
    }
    let uploads = client
        .list_multipart_uploads()
        .bucket(TARGET_BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(uploads.uploads()[0].upload_id(), Some(upload_id.as_str()));
    let listed_parts = client
        .list_parts()
        .bucket(TARGET_BUCKET)
        .key("big.bin")
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed_parts.parts().len(), 2);
    let complete = |full: String| {
        client
            .complete_multipart_upload()
            .bucket(TARGET_BUCKET)
            .key("big.bin")
            .upload_id(&upload_id)
            .checksum_crc64_nvme(full)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed.clone()))
                    .build(),
            )
            .send()
    };
    let wrong = complete(crc64nvme_b64(b"not the object"))
        .await
        .unwrap_err();
    assert_eq!(
        (status(&wrong), code(&wrong)),
        (400, Some("BadDigest".into()))
    );
    let done = complete(crc64nvme_b64(&whole)).await.unwrap();
    assert_eq!(
        done.e_tag(),
        Some(format!("\"{}-2\"", md5_hex(&md5s)).as_str())
    );
    assert_eq!(
        done.checksum_crc64_nvme(),
        Some(crc64nvme_b64(&whole).as_str())
    );
    let again = complete(crc64nvme_b64(&whole)).await.unwrap_err();
    assert_eq!(
        (status(&again), code(&again)),
        (404, Some("NoSuchUpload".into()))
    );
}

#[tokio::test]
async fn a_source_refuses_writes() {
    let options = SyntheticOptions::source(Dataset::flat(10), "src", "k", "s");
    let source = SyntheticS3::start(options).await.unwrap();
    let credentials = Credentials::new("k", "s", None, None, "test");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(&source.endpoint)
        .force_path_style(true)
        .build();
    let client = Client::from_conf(config);
    let refused = client
        .put_object()
        .bucket("src")
        .key("events/part-00000001.parquet")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&refused), code(&refused)),
        (403, Some("AccessDenied".into()))
    );
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap())
        .collect()
}
