//! Multipart source objects made the way the AWS CLI and SDKs upload them (composite CRC32,
//! CRC32C, SHA-1 or SHA-256 parts, a full-object CRC64NVME, or no checksum at all), for the tests of copies in
//! the source's own part layout (`source_layout`, `moto_layout`, `tui_flow`).

use aws_sdk_s3::types::{
    ChecksumAlgorithm as SdkAlgorithm, ChecksumType, CompletedMultipartUpload, CompletedPart,
};

use super::engine::crc64nvme_base64;
use super::{Account, seeded_bytes};

/// How a test source was uploaded.
#[derive(Clone)]
pub(crate) enum Upload {
    Composite(SdkAlgorithm),
    FullCrc64,
    EtagOnly,
}

/// Upload `sizes` (one part each) of seeded bytes at `key` the way the AWS CLI and SDKs do.
pub(crate) async fn put_in_parts(
    account: &Account,
    key: &str,
    seed: u64,
    sizes: &[u64],
    kind: Upload,
) {
    upload_in_parts(&account.client, &account.bucket, key, seed, sizes, kind).await;
}

/// [`put_in_parts`] with any client and bucket (moto's too).
pub(crate) async fn upload_in_parts(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    seed: u64,
    sizes: &[u64],
    kind: Upload,
) {
    let kind = &kind;
    let mut create = client.create_multipart_upload().bucket(bucket).key(key);
    match kind {
        Upload::Composite(alg) => create = create.checksum_algorithm(alg.clone()),
        Upload::FullCrc64 => {
            create = create
                .checksum_algorithm(SdkAlgorithm::Crc64Nvme)
                .checksum_type(ChecksumType::FullObject)
        }
        Upload::EtagOnly => {}
    }
    let upload = create.send().await.expect("CreateMultipartUpload");
    let upload_id = upload.upload_id().expect("upload id").to_string();
    let (mut parts, mut offset) = (Vec::new(), 0u64);
    for (i, size) in sizes.iter().enumerate() {
        let number = i as i32 + 1;
        let bytes = seeded_bytes(seed, offset, *size as usize);
        let mut request = client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .part_number(number);
        match kind {
            Upload::Composite(alg) => request = request.checksum_algorithm(alg.clone()),
            Upload::FullCrc64 => request = request.checksum_crc64_nvme(crc64nvme_base64(&bytes)),
            Upload::EtagOnly => {}
        }
        let part = request
            .body(bytes.into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("UploadPart {number} of '{key}': {e:?}"));
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(part.e_tag().map(str::to_string))
                .set_checksum_crc32(part.checksum_crc32().map(str::to_string))
                .set_checksum_crc32_c(part.checksum_crc32_c().map(str::to_string))
                .set_checksum_sha1(part.checksum_sha1().map(str::to_string))
                .set_checksum_sha256(part.checksum_sha256().map(str::to_string))
                .build(),
        );
        offset += size;
    }
    client
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("CompleteMultipartUpload '{key}': {e:?}"));
}
