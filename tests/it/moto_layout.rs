//! Multipart sources in moto's S3 (issue #19 against an S3 we did not write): objects uploaded
//! the AWS-CLI way with a COMPOSITE CRC32, a COMPOSITE CRC32C, and no checksum (multipart ETag
//! only), copied by the engine into a second moto bucket. Asserts what moto lets airlock learn
//! and check: each plan item's `source_layout`, the run's verification words, the bytes, and
//! a rerun that skips all three. A composite below the multipart threshold is learnt too (moto
//! lists ETags, so its `-N` is seen).
//!
//! Ignored without `AIRLOCK_MOTO` at build time (run, and failing, under `CI=true`): see
//! `common::moto`.

use airlock_core::plan::{ChecksumAlgorithm, Route, SourceHop};
use aws_sdk_s3::types::{ChecksumAlgorithm as SdkAlgorithm, ChecksumMode, ObjectAttributes};

use crate::common::engine::{plan_and_run, plan_of};
use crate::common::moto::Moto;
use crate::common::multipart_upload::{Upload, upload_in_parts};
use crate::common::*;

const SOURCE: &str = "moto-layout-source";
const TARGET: &str = "moto-layout-target";

/// (key, seed, part sizes, how it was uploaded)
fn sources() -> [(&'static str, u64, [u64; 3], Upload); 3] {
    [
        (
            "crc32.bin",
            11,
            [5 * MIB, 5 * MIB, 2 * MIB],
            Upload::Composite(SdkAlgorithm::Crc32),
        ),
        (
            "crc32c.bin",
            12,
            [6 * MIB, 6 * MIB, MIB],
            Upload::Composite(SdkAlgorithm::Crc32C),
        ),
        (
            "etag.bin",
            13,
            [7 * MIB, 7 * MIB, 3 * MIB],
            Upload::EtagOnly,
        ),
    ]
}

/// Base64 of the COMPOSITE `algorithm` checksum of `parts` (the checksum of the parts'
/// big-endian checksums), without S3's `-N`.
fn composite(algorithm: crc_fast::CrcAlgorithm, parts: &[Vec<u8>]) -> String {
    use base64::Engine as _;
    let mut joined = Vec::new();
    for part in parts {
        let crc = crc_fast::checksum(algorithm, part) as u32;
        joined.extend_from_slice(&crc.to_be_bytes());
    }
    let crc = crc_fast::checksum(algorithm, &joined) as u32;
    base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes())
}

/// What moto answers about `key`'s parts, asserted so that a moto upgrade that changes it is
/// noticed: GetObjectAttributes lists no `ObjectParts`; HEAD `partNumber=1` gives part 1's
/// size, the part count and the PART's MD5 as ETag, so `If-Match: <object ETag>` gets 412.
async fn moto_reports(client: &aws_sdk_s3::Client, key: &str, first_part: u64) -> String {
    let head = client.head_object().bucket(SOURCE).key(key);
    let head = head.checksum_mode(ChecksumMode::Enabled).send().await;
    let head = head.unwrap_or_else(|e| panic!("HEAD '{key}': {}", describe(&e)));
    let etag = head.e_tag().expect("an ETag").trim_matches('"').to_string();
    assert!(etag.ends_with("-3"), "'{key}': a multipart ETag: {etag}");
    assert_eq!(head.checksum_type(), None, "'{key}': moto sends no type");
    let attributes = client
        .get_object_attributes()
        .bucket(SOURCE)
        .key(key)
        .object_attributes(ObjectAttributes::ObjectParts)
        .object_attributes(ObjectAttributes::Etag)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetObjectAttributes '{key}': {}", describe(&e)));
    assert!(attributes.object_parts().is_none(), "{attributes:?}");
    let part = client.head_object().bucket(SOURCE).key(key).part_number(1);
    let part = part.send().await.expect("HEAD partNumber=1");
    assert_eq!(part.content_length(), Some(first_part as i64), "'{key}'");
    assert_eq!(part.parts_count(), Some(3), "'{key}'");
    let part_etag = part.e_tag().expect("a part ETag").trim_matches('"');
    assert!(part_etag != etag && !part_etag.contains('-'), "{part_etag}");
    let pinned = client.head_object().bucket(SOURCE).key(key).part_number(1);
    let pinned = pinned.if_match(&etag).send().await.expect_err("moto: 412");
    assert_eq!(
        pinned.raw_response().map(|r| r.status().as_u16()),
        Some(412)
    );
    etag
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn multipart_sources_in_moto_are_copied_and_checked_as_moto_allows() {
    let moto = Moto::start();
    let sandbox = Sandbox::new();
    let client = moto.s3_with_buckets(&[SOURCE, TARGET]).await;
    let mut bodies = Vec::new();
    for (key, seed, sizes, kind) in sources() {
        upload_in_parts(&client, SOURCE, key, seed, &sizes, kind).await;
        let etag = moto_reports(&client, key, sizes[0]).await;
        let (mut parts, mut offset) = (Vec::new(), 0u64);
        for size in sizes {
            parts.push(seeded_bytes(seed, offset, size as usize));
            offset += size;
        }
        bodies.push((key, etag, parts));
    }
    // moto's CRC32 is the true composite; its "CRC32C" is the composite CRC32 (moto computes
    // CRC32 when the Python `crc32c` package is missing, as in .ci/moto-requirements.txt).
    let head = |key: &'static str| client.head_object().bucket(SOURCE).key(key);
    let crc32 = head("crc32.bin").checksum_mode(ChecksumMode::Enabled);
    let crc32 = crc32.send().await.unwrap();
    assert_eq!(
        crc32.checksum_crc32(),
        Some(composite(crc_fast::CrcAlgorithm::Crc32IsoHdlc, &bodies[0].2).as_str())
    );
    let crc32c = head("crc32c.bin").checksum_mode(ChecksumMode::Enabled);
    let crc32c = crc32c.send().await.unwrap();
    let wrong = composite(crc_fast::CrcAlgorithm::Crc32IsoHdlc, &bodies[1].2);
    assert_eq!(
        crc32c.checksum_crc32_c(),
        Some(wrong.as_str()),
        "moto now computes CRC32C (true value {}): crc32c.bin should then be verified",
        composite(crc_fast::CrcAlgorithm::Crc32Iscsi, &bodies[1].2)
    );

    let settings = moto
        .config(SOURCE, TARGET)
        .unset("target", "checksum")
        .transfer(&["multipart_threshold = \"8MiB\"", "part_size = \"8MiB\""])
        .settings();

    // The plan learns every layout by HEAD partNumber=1 and =3 (moto lists no ObjectParts).
    let planned = plan_of(&settings).await.0;
    let checks = [
        SourceHop::Composite {
            algorithm: ChecksumAlgorithm::Crc32,
        },
        SourceHop::Composite {
            algorithm: ChecksumAlgorithm::Crc32c,
        },
        SourceHop::MultipartEtag,
    ];
    for ((key, _, sizes, _), check) in sources().into_iter().zip(checks) {
        let item = planned.items.iter().find(|i| i.source_key == key);
        let item = item.unwrap_or_else(|| panic!("'{key}' is not in the plan"));
        assert_eq!(
            (item.route, item.part_size, item.parts),
            (Route::Multipart, sizes[0], 3),
            "{item:?}"
        );
        let layout = item.source_layout.as_ref().expect("a source layout");
        assert_eq!(
            (layout.part_size, layout.parts, &layout.check),
            (Some(sizes[0]), 3, &check),
            "{item:?}"
        );
    }

    let (summary, events) = plan_and_run(&settings, &sandbox).await;
    assert_eq!(
        (summary.copied, summary.verified, summary.failed),
        (2, 2, 1),
        "{}",
        events.describe()
    );
    // moto's wrong "CRC32C" fails its object before Complete: nothing at the target.
    let (failed, why) = &summary.failures[0];
    assert_eq!(failed, "crc32c.bin");
    assert!(
        why.contains("ChecksumMismatch") && why.contains(&format!("source says {wrong}-3")),
        "{why}"
    );
    assert!(why.contains("not completed"), "{why}");
    let missing = client.head_object().bucket(TARGET).key("crc32c.bin");
    assert!(
        missing.send().await.is_err(),
        "crc32c.bin is not at the target"
    );
    let uploads = client.list_multipart_uploads().bucket(TARGET).send().await;
    assert!(
        uploads.unwrap().uploads().is_empty(),
        "its upload was aborted"
    );

    let words = [
        "composite crc32 of the 3 parts read (in the source's layout) matched the source's",
        "",
        "MD5s of the 3 parts read (in the source's layout) matched the source's multipart ETag",
    ];
    for ((key, etag, parts), words) in bodies.iter().zip(words) {
        if *key == "crc32c.bin" {
            continue;
        }
        let verification = events.verification(key);
        assert!(verification.verified, "{key}: {verification:?}");
        assert_eq!(verification.source, words, "{key}");
        assert_eq!(
            verification.target, "ETag matched the MD5s of the parts sent",
            "{key}"
        );
        let got = client.get_object().bucket(TARGET).key(*key).send().await;
        let got = got.unwrap_or_else(|e| panic!("get '{key}': {}", describe(&e)));
        let target_etag = got.e_tag().map(|e| e.trim_matches('"').to_string());
        assert_eq!(
            target_etag.as_ref(),
            Some(etag),
            "{key}: same parts, same ETag"
        );
        let bytes = got.body.collect().await.unwrap().into_bytes();
        assert!(
            bytes.as_ref() == parts.concat().as_slice(),
            "'{key}' differs"
        );
    }

    // A rerun skips the two verified objects and copies the failed one again.
    let again = plan_of(&settings).await.0;
    let routes: Vec<(&str, Route)> = again
        .items
        .iter()
        .map(|i| (i.source_key.as_str(), i.route))
        .collect();
    assert_eq!(
        routes,
        [
            ("crc32.bin", Route::Skip),
            ("crc32c.bin", Route::Multipart),
            ("etag.bin", Route::Skip)
        ]
    );
}

/// An uneven layout (6 + 5 + 2 MiB, as some tools upload) that HEAD `partNumber=1` and `=3`
/// give away: the source's layout is refused with the reason, the copy uses airlock's own
/// parts, and the source hop is size only (not `verified`); the bytes still arrive whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn an_uneven_moto_layout_falls_back_to_size_only_and_says_why() {
    let moto = Moto::start();
    let sandbox = Sandbox::new();
    let client = moto.s3_with_buckets(&[SOURCE, TARGET]).await;
    let sizes = [6 * MIB, 5 * MIB, 2 * MIB];
    upload_in_parts(&client, SOURCE, "uneven.bin", 21, &sizes, Upload::EtagOnly).await;
    let settings = moto
        .config(SOURCE, TARGET)
        .unset("target", "checksum")
        .transfer(&["multipart_threshold = \"8MiB\"", "part_size = \"8MiB\""])
        .settings();

    let planned = plan_of(&settings).await.0;
    let item = &planned.items[0];
    assert_eq!((item.part_size, item.parts), (8 * MIB, 2), "{item:?}");
    let layout = item.source_layout.as_ref().expect("a source layout");
    let reason = "its part layout cannot be used (part 3 has 2097152 bytes, not the 1048576 \
                  that parts of 6291456 bytes leave)";
    assert_eq!(
        (layout.part_size, layout.parts, &layout.check),
        (
            None,
            3,
            &SourceHop::SizeOnly {
                reason: reason.into()
            }
        )
    );

    let (summary, events) = plan_and_run(&settings, &sandbox).await;
    assert_eq!(
        (summary.copied, summary.verified, summary.failed),
        (1, 0, 0),
        "{}",
        events.describe()
    );
    let verification = events.verification("uneven.bin");
    assert!(!verification.verified, "{verification:?}");
    assert!(
        verification
            .source
            .starts_with(&format!("size only: {reason}; every part was pinned")),
        "{verification:?}"
    );
    let got = client.get_object().bucket(TARGET).key("uneven.bin").send();
    let bytes = got
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert!(bytes.as_ref() == seeded_bytes(21, 0, 13 * MIB as usize).as_slice());
}

/// A composite source below the multipart threshold (the AWS CLI's most common case): moto
/// lists ETags as S3 does, so the plan sees its `-3` and learns its layout (HEAD partNumber);
/// it is copied as multipart in the source's parts instead of one GET checked by size only,
/// verified by its composite, and the target's ETag is the source's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn a_moto_composite_below_the_threshold_is_copied_in_its_parts_and_verified() {
    let moto = Moto::start();
    let sandbox = Sandbox::new();
    let client = moto.s3_with_buckets(&[SOURCE, TARGET]).await;
    let sizes = [5 * MIB, 5 * MIB, 2 * MIB];
    let crc32 = Upload::Composite(SdkAlgorithm::Crc32);
    upload_in_parts(&client, SOURCE, "small.bin", 31, &sizes, crc32).await;
    let etag = moto_reports(&client, "small.bin", sizes[0]).await;
    let settings = moto
        .config(SOURCE, TARGET)
        .unset("target", "checksum")
        .transfer(&["multipart_threshold = \"64MiB\""])
        .settings();

    let planned = plan_of(&settings).await.0;
    let item = &planned.items[0];
    assert_eq!(
        (item.route, item.part_size, item.parts),
        (Route::Multipart, 5 * MIB, 3),
        "{item:?}"
    );
    let (summary, events) = plan_and_run(&settings, &sandbox).await;
    assert_eq!(
        (summary.copied, summary.verified),
        (1, 1),
        "{}",
        events.describe()
    );
    assert_eq!(
        events.verification("small.bin").source,
        "composite crc32 of the 3 parts read (in the source's layout) matched the source's"
    );
    let got = client.head_object().bucket(TARGET).key("small.bin").send();
    let got = got.await.unwrap();
    assert_eq!(
        got.e_tag().map(|e| e.trim_matches('"')),
        Some(etag.as_str())
    );
}
