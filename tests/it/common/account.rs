//! One embedded S3 server standing in for one account, with an SDK client signed with its
//! keys, and helpers to put, get and list objects. Object contents come from a seekable
//! pseudo-random stream, so big objects are uploaded part by part without big allocations.

use std::path::Path;

use airlock_s3server::EmbeddedS3;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use futures::{StreamExt, TryStreamExt};

use super::describe;

/// Part size the helpers use to upload big objects (S3's minimum, so memory stays small).
pub(crate) const UPLOAD_PART_SIZE: usize = 5 * 1024 * 1024;

/// One S3 server standing in for one account, with a client signed with its keys.
#[derive(Debug)]
pub(crate) struct Account {
    pub server: EmbeddedS3,
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
}

/// An S3 client for `endpoint` signed with the given keys (path style, no extra checksums).
pub(crate) fn s3_client(endpoint: &str, access_key: &str, secret_key: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            access_key,
            secret_key,
            None,
            None,
            "airlock-tests",
        ))
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

impl Account {
    /// Start a server serving `root` for one key pair and create `bucket` on it.
    pub(crate) async fn start(
        root: &Path,
        access_key: &str,
        secret_key: &str,
        bucket: &str,
    ) -> Self {
        let server = EmbeddedS3::start(root, access_key, secret_key)
            .await
            .expect("start embedded S3 server");
        server.create_bucket(bucket).expect("create bucket");
        let client = s3_client(&server.endpoint, access_key, secret_key);
        Account {
            server,
            client,
            bucket: bucket.to_string(),
        }
    }

    /// PUT `bytes` at `key`.
    pub(crate) async fn put(&self, key: &str, bytes: impl Into<Vec<u8>>) {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes.into()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PUT '{key}': {}", describe(&e)));
    }

    /// PUT `size` pseudo-random bytes from `seed` at `key`. Objects above one part are sent as
    /// a multipart upload generated part by part, so memory stays at one part.
    pub(crate) async fn put_seeded(&self, key: &str, size: u64, seed: u64) {
        if size <= UPLOAD_PART_SIZE as u64 {
            self.put(key, seeded_bytes(seed, 0, size as usize)).await;
            return;
        }
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateMultipartUpload '{key}': {}", describe(&e)));
        let upload_id = upload.upload_id().expect("upload id").to_string();
        let mut parts = Vec::new();
        let mut offset = 0u64;
        let mut number = 1;
        while offset < size {
            let len = (size - offset).min(UPLOAD_PART_SIZE as u64) as usize;
            let part = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .part_number(number)
                .body(ByteStream::from(seeded_bytes(seed, offset, len)))
                .send()
                .await
                .unwrap_or_else(|e| panic!("UploadPart {number} of '{key}': {}", describe(&e)));
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(part.e_tag().map(str::to_string))
                    .build(),
            );
            offset += len as u64;
            number += 1;
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("CompleteMultipartUpload '{key}': {}", describe(&e)));
    }

    /// PUT many small objects, `parallel` at a time. Each `(key, bytes)`.
    pub(crate) async fn put_many(&self, objects: Vec<(String, Vec<u8>)>, parallel: usize) {
        futures::stream::iter(objects)
            .map(|(key, bytes)| async move {
                self.put(&key, bytes).await;
                Ok::<(), ()>(())
            })
            .buffer_unordered(parallel)
            .try_collect::<Vec<()>>()
            .await
            .expect("put_many");
    }

    /// The whole object's bytes.
    pub(crate) async fn get(&self, key: &str) -> Vec<u8> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET '{key}': {}", describe(&e)));
        output
            .body
            .collect()
            .await
            .unwrap_or_else(|e| panic!("GET '{key}' body: {e}"))
            .into_bytes()
            .to_vec()
    }

    /// Every key under `prefix`, in listing order, across all pages.
    pub(crate) async fn keys(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.unwrap_or_else(|e| panic!("list '{prefix}': {}", describe(&e)));
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
        }
        keys
    }
}

/// `len` bytes of the deterministic stream for `seed`, starting at `offset`. Any slice of the
/// stream can be produced alone, so big objects are generated one part at a time and checked
/// against any range.
pub(crate) fn seeded_bytes(seed: u64, offset: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut position = offset;
    let end = offset + len as u64;
    while position < end {
        let word = splitmix64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (position / 8));
        let bytes = word.to_le_bytes();
        let from = (position % 8) as usize;
        let take = (8 - from).min((end - position) as usize);
        out.extend_from_slice(&bytes[from..from + take]);
        position += take as u64;
    }
    out
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
