//! How each copy was verified, in words, on the faithful server and on stock s3s-fs
//! (`EmbeddedS3::start_plain`), whose multipart objects carry no full-object checksum: there a
//! multipart copy is reported not verified, with the reason, unless `verify = "md5"` lets the
//! engine check the target's ETag against the MD5s of the parts it sent.

use crate::common::engine::{Rig, crc64nvme_base64};
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::{MIB, seeded_bytes};
use aws_sdk_s3::primitives::ByteStream;

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
    let (summary, events) = rig.run(&rig.config().transfer(&MULTIPART).settings()).await;
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
    let (summary, events) = rig.run(&rig.config().transfer(&MULTIPART).settings()).await;
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
    let (summary, events) = rig.run(&rig.config().transfer(&lines).settings()).await;
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

/// Base64 of a CRC as S3 writes it (big-endian; 4 bytes for the CRC32s, 8 for CRC64NVME).
fn crc_base64(algorithm: crc_fast::CrcAlgorithm, bytes: &[u8]) -> String {
    use base64::Engine as _;
    let crc = crc_fast::checksum(algorithm, bytes);
    let wide = crc.to_be_bytes();
    let raw = match algorithm {
        crc_fast::CrcAlgorithm::Crc64Nvme => &wide[..],
        _ => &wide[4..],
    };
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// Single sources, each with a full-object checksum of another CRC (one of them empty), and one
/// with none.
/// Returns (key, header name, the source's value) for the ones with a checksum.
async fn single_sources_with_crcs(rig: &Rig) -> Vec<(&'static str, &'static str, String)> {
    use crc_fast::CrcAlgorithm::{Crc32Iscsi, Crc32IsoHdlc, Crc64Nvme};
    let source = rig.source();
    let mut out = Vec::new();
    for (key, algorithm, header, size, seed) in [
        ("crc32.bin", Crc32IsoHdlc, "x-amz-checksum-crc32", MIB, 11),
        (
            "crc32c.bin",
            Crc32Iscsi,
            "x-amz-checksum-crc32c",
            100 * 1024,
            12,
        ),
        (
            "crc64.bin",
            Crc64Nvme,
            "x-amz-checksum-crc64nvme",
            3 * MIB + 7,
            13,
        ),
        ("empty.bin", Crc32IsoHdlc, "x-amz-checksum-crc32", 0, 15),
    ] {
        let bytes = seeded_bytes(seed, 0, size as usize);
        let value = crc_base64(algorithm, &bytes);
        let request = source
            .client
            .put_object()
            .bucket(&source.bucket)
            .key(key)
            .body(ByteStream::from(bytes));
        let request = match algorithm {
            Crc32IsoHdlc => request.checksum_crc32(&value),
            Crc32Iscsi => request.checksum_crc32_c(&value),
            _ => request.checksum_crc64_nvme(&value),
        };
        request.send().await.expect("PUT with a checksum");
        out.push((key, header, value));
    }
    source
        .put("no-crc.bin", seeded_bytes(14, 0, 200 * 1024))
        .await;
    out
}

/// A source's full-object CRC is known before its first byte is read, so the single PUT sends
/// the body plain with that value as a header: the target checks the bytes it received against
/// the source's own checksum and stores it. Without one, the body goes aws-chunked with our
/// CRC64NVME trailer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_copies_send_the_sources_own_checksum_for_the_target_to_check() {
    let rig = Rig::start().await;
    let sources = single_sources_with_crcs(&rig).await;
    let (summary, events) = rig.run(&rig.config().settings()).await;
    assert_eq!(
        (summary.copied, summary.verified, summary.failed),
        (5, 5, 0),
        "{}",
        events.describe()
    );
    rig.assert_all_copied().await;

    let puts = rig.target_proxy.exchanges();
    let put_of = |key: &str| {
        puts.iter()
            .find(|e| e.op == Op::PutObject && e.key.ends_with(key))
            .unwrap_or_else(|| panic!("no PutObject of {key}"))
    };
    let target = rig.target();
    for (key, header, value) in &sources {
        let put = put_of(key);
        assert_eq!(put.headers.get(*header).unwrap(), value.as_str(), "{key}");
        assert!(put.headers.get("content-encoding").is_none(), "{key}");
        assert_eq!(
            put.request_bytes,
            target.get(key).await.len() as u64,
            "{key}: a plain body, no framing"
        );
        let verification = events.verification(key);
        let name = header.trim_start_matches("x-amz-checksum-");
        assert_eq!(
            verification.target,
            format!(
                "{name} of the bytes the target received matched the source's full-object checksum (checked by the target on PutObject)"
            )
        );
        assert_eq!(
            verification.source,
            format!("{name} of all bytes read matched the source's full-object checksum")
        );
        // The target stores the source's checksum: a later plan can compare the two directly.
        let head = target
            .client
            .head_object()
            .bucket(&target.bucket)
            .key(*key)
            .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
            .send()
            .await
            .expect("HEAD target");
        let stored = match name {
            "crc32" => head.checksum_crc32(),
            "crc32c" => head.checksum_crc32_c(),
            _ => head.checksum_crc64_nvme(),
        };
        assert_eq!(stored, Some(value.as_str()), "{key}");
    }
    let framed = put_of("no-crc.bin");
    assert_eq!(
        framed.headers.get("content-encoding").unwrap(),
        "aws-chunked"
    );
    assert_eq!(
        events.verification("no-crc.bin").target,
        "crc64nvme matched the target's checksum of the bytes it stored (PutObject)"
    );
}

/// A target that accepts the checksum header but does not echo it: the engine reads back what
/// it stored instead of taking the write on trust.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_does_not_echo_the_checksum_is_checked_by_head() {
    let rig = Rig::start().await;
    let sources = single_sources_with_crcs(&rig).await;
    let dropped = rig.target_proxy.add_rule(
        Rule::new(Fault::DropResponseHeaders("x-amz-checksum-"))
            .on(Op::PutObject)
            .every_time(),
    );
    let (summary, events) = rig.run(&rig.config().settings()).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (5, 0),
        "{}",
        events.describe()
    );
    assert_eq!(rig.target_proxy.fired(dropped), 5);
    for (key, header, _) in &sources {
        let verification = events.verification(key);
        assert!(verification.verified, "{verification:?}");
        let name = header.trim_start_matches("x-amz-checksum-");
        assert_eq!(
            verification.target,
            format!("{name} matched the source's full-object checksum (HEAD after PutObject)")
        );
    }
    // Without a checksum header sent, and none reported back, only the size is known.
    let framed = events.verification("no-crc.bin");
    assert!(!framed.verified);
    assert_eq!(framed.target, "size only: the target reports no checksum");
}

/// A byte flipped on the way to the target: the target refuses the write (BadDigest against
/// the source's own checksum). A byte flipped on the way from the source: the relay refuses the
/// last chunk, so the target never gets a whole body. The engine retries both, and the copies
/// end verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_put_corrupted_on_either_hop_is_refused_and_retried() {
    let rig = Rig::start().await;
    single_sources_with_crcs(&rig).await;
    let source_flip = rig.source_proxy.add_rule(
        Rule::new(Fault::CorruptResponse { at_byte: 77_777 })
            .on(Op::GetObject)
            .key("crc64.bin")
            .times(1),
    );
    let flip = rig.target_proxy.add_rule(
        Rule::new(Fault::CorruptRequest { at_byte: 54_321 })
            .on(Op::PutObject)
            .key("crc32.bin")
            .times(1),
    );
    let (summary, events) = rig.run(&rig.config().settings()).await;
    assert_eq!(
        (summary.copied, summary.failed, summary.retries),
        (5, 0, 2),
        "{}",
        events.describe()
    );
    assert_eq!(rig.target_proxy.fired(flip), 1);
    assert_eq!(rig.source_proxy.fired(source_flip), 1);
    let put_statuses = |key: &str| {
        rig.target_proxy
            .exchanges()
            .into_iter()
            .filter(|e| e.op == Op::PutObject && e.key.ends_with(key))
            .map(|e| e.status)
            .collect::<Vec<_>>()
    };
    let cut = put_statuses("crc64.bin");
    assert_eq!(cut.len(), 2, "{cut:?}");
    assert_ne!(
        cut[0],
        Some(200),
        "the first PUT of crc64.bin must not succeed"
    );
    assert_eq!(put_statuses("crc32.bin"), [Some(400), Some(200)]);
    rig.assert_all_copied().await;
    assert!(events.verification("crc32.bin").verified);
    assert!(events.verification("crc64.bin").verified);
}
