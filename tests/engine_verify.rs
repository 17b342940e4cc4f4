//! How each copy was verified, in words, on the faithful server and on stock s3s-fs
//! (`EmbeddedS3::start_plain`), whose multipart objects carry no full-object checksum: there a
//! multipart copy is reported not verified, with the reason, unless `verify = "md5"` lets the
//! engine check the target's ETag against the MD5s of the parts it sent.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use common::engine::{Rig, crc64nvme_base64};
use common::{MIB, seeded_bytes};

const MULTIPART: [&str; 2] = ["multipart_threshold = \"8MiB\"", "part_size = \"5MiB\""];

/// Sources: a small object (single route), a 12 MiB single-PUT object with a CRC64NVME, a
/// 12 MiB single-PUT object without any checksum (both copied in 5 MiB parts), and a 7 MiB
/// object uploaded in two parts without a checksum (copied with one GET and one PUT).
async fn sources(rig: &Rig) {
    let source = rig.source();
    source
        .put("single.bin", seeded_bytes(1, 0, MIB as usize))
        .await;
    let bytes = seeded_bytes(2, 0, 12 * MIB as usize);
    source
        .client
        .put_object()
        .bucket(&source.bucket)
        .key("multi-crc.bin")
        .checksum_crc64_nvme(crc64nvme_base64(&bytes))
        .body(ByteStream::from(bytes))
        .send()
        .await
        .expect("PUT with a CRC64NVME");
    source
        .put("multi-md5.bin", seeded_bytes(3, 0, 12 * MIB as usize))
        .await;
    source.put_seeded("parts-whole.bin", 7 * MIB, 4).await;
}

const SOURCE_CRC: &str = "crc64nvme of all bytes read matched the source's full-object checksum";
const SOURCE_MD5: &str = "MD5 of all bytes read matched the source ETag";
const SOURCE_MD5_IN_PARTS: &str = "not verifiable: its only fingerprint is a whole-object MD5 \
    ETag, which parallel ranged reads cannot recompute; every part was pinned to ETag";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faithful_server_verifies_single_and_multipart_copies() {
    let rig = Rig::start().await;
    sources(&rig).await;
    let (summary, events) = rig.run(&rig.settings(&MULTIPART)).await;
    assert_eq!(
        (summary.copied, summary.verified),
        (4, 2),
        "{}",
        events.describe()
    );
    rig.assert_all_copied().await;

    let single = events.verification("single.bin");
    assert!(single.verified);
    assert_eq!(single.source, SOURCE_MD5);
    let crc = events.verification("multi-crc.bin");
    assert!(crc.verified, "{crc:?}");
    assert_eq!(crc.source, SOURCE_CRC);
    assert_eq!(
        crc.target,
        "crc64nvme of the whole object matched the target's full-object checksum (HEAD after complete)"
    );
    let md5 = events.verification("multi-md5.bin");
    assert!(!md5.verified, "{md5:?}");
    assert!(md5.source.starts_with(SOURCE_MD5_IN_PARTS), "{md5:?}");
    // Read whole, not pinned by If-Match: the words must not claim parts were pinned.
    let whole = events.verification("parts-whole.bin");
    assert!(!whole.verified, "{whole:?}");
    assert_eq!(
        whole.source,
        "not verifiable: it has no checksum and a multipart ETag"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_s3s_fs_multipart_copies_are_not_verified_and_say_why() {
    let rig = Rig::start_plain().await;
    sources(&rig).await;
    let (summary, events) = rig.run(&rig.settings(&MULTIPART)).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (4, 0),
        "{}",
        events.describe()
    );
    rig.assert_all_copied().await;

    let single = events.verification("single.bin");
    assert!(single.verified, "{single:?}");
    assert_eq!(
        single.target,
        "crc64nvme matched the target's checksum of the bytes it stored (PutObject)"
    );
    let crc = events.verification("multi-crc.bin");
    assert!(!crc.verified, "{crc:?}");
    assert_eq!(crc.source, SOURCE_CRC);
    assert_eq!(crc.target, "size only: the target reports no checksum");
    assert_eq!(summary.verified, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_s3s_fs_multipart_copies_are_verified_by_etag_with_verify_md5() {
    let rig = Rig::start_plain().await;
    sources(&rig).await;
    let mut lines = MULTIPART.to_vec();
    lines.push("verify = \"md5\"");
    let (summary, events) = rig.run(&rig.settings(&lines)).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (4, 0),
        "{}",
        events.describe()
    );
    rig.assert_all_copied().await;

    let crc = events.verification("multi-crc.bin");
    assert!(crc.verified, "{crc:?}");
    assert_eq!(crc.source, SOURCE_CRC);
    assert_eq!(crc.target, "ETag matched the MD5s of the parts sent");
    // The target side is checked, but an MD5 ETag read in parts still proves nothing.
    let md5 = events.verification("multi-md5.bin");
    assert_eq!(md5.target, "ETag matched the MD5s of the parts sent");
    assert!(!md5.verified, "{md5:?}");
    assert!(md5.source.starts_with(SOURCE_MD5_IN_PARTS), "{md5:?}");
    assert_eq!(summary.verified, 2);
}
