//! `[target] checksum`: `md5` and `none` write plain bodies (no aws-chunked), so stores that
//! refuse the trailer mode (Ceph before 2025: the strict server's legacy flavour) or store its
//! framing (s3rver) get byte-identical copies; the words and `verified` flags say what each
//! mode checked. `trailer` into the legacy flavour fails clearly.

use crate::common::engine::{Rig, assert_seeded};
use crate::common::{MIB, seeded_bytes};

const MULTIPART: [&str; 2] = ["multipart_threshold = \"8MiB\"", "part_size = \"5MiB\""];

/// A small, an empty, a single just below the threshold and a multipart object.
async fn sources(rig: &Rig) {
    let source = rig.source();
    source.put("small.bin", seeded_bytes(1, 0, 1024)).await;
    source.put("empty.bin", Vec::new()).await;
    source
        .put("near.bin", seeded_bytes(2, 0, (8 * MIB - 1) as usize))
        .await;
    source.put_seeded("multi.bin", 12 * MIB, 3).await;
}

async fn assert_identical(rig: &Rig) {
    assert_eq!(
        rig.target().get("small.bin").await,
        seeded_bytes(1, 0, 1024)
    );
    assert!(rig.target().get("empty.bin").await.is_empty());
    assert_seeded(rig.target(), "near.bin", 8 * MIB - 1, 2).await;
    assert_seeded(rig.target(), "multi.bin", 12 * MIB, 3).await;
}

const MD5_SINGLE: &str =
    "MD5 of the bytes sent matched the target's ETag (PutObject, checksum = \"md5\")";
const MD5_PARTS: &str = "ETag matched the MD5s of the parts sent";

async fn md5_copy_and_rerun(rig: &Rig) {
    sources(rig).await;
    let settings = rig
        .config()
        .transfer(&MULTIPART)
        .set_str("target", "checksum", "md5")
        .settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (4, 0),
        "{}",
        events.describe()
    );
    assert_identical(rig).await;
    for key in ["small.bin", "empty.bin", "near.bin"] {
        let v = events.verification(key);
        assert_eq!(v.target, MD5_SINGLE, "{key}: {v:?}");
        assert!(v.verified, "{key}: {v:?}");
    }
    let multi = events.verification("multi.bin");
    assert_eq!(multi.target, MD5_PARTS, "{multi:?}");
    // Uploaded in 5 MiB parts without a checksum: copied in the same parts, the MD5s of the
    // parts read are checked against the source's multipart ETag.
    assert!(multi.verified, "{multi:?}");
    assert_eq!(
        multi.source,
        "MD5s of the 3 parts read (in the source's layout) matched the source's multipart ETag"
    );
    assert_eq!(summary.verified, 4);
    let (again, events) = rig.run(&settings).await;
    assert_eq!(
        (again.copied, again.skipped),
        (0, 4),
        "{}",
        events.describe()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md5_mode_copies_into_the_faithful_server_and_checks_etags() {
    md5_copy_and_rerun(&Rig::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md5_mode_copies_into_the_legacy_flavour() {
    let rig = Rig::start().await;
    rig.target().server.behaviours().set_legacy(true);
    md5_copy_and_rerun(&rig).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md5_mode_copies_into_the_s3rver_flavour() {
    let rig = Rig::start().await;
    rig.target().server.behaviours().set_s3rver(true);
    md5_copy_and_rerun(&rig).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn none_mode_checks_sizes_only_and_says_so() {
    let rig = Rig::start().await;
    sources(&rig).await;
    let settings = rig
        .config()
        .transfer(&MULTIPART)
        .set_str("target", "checksum", "none")
        .settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.verified, summary.failed),
        (4, 0, 0),
        "{}",
        events.describe()
    );
    assert_identical(&rig).await;
    for key in ["small.bin", "empty.bin", "near.bin", "multi.bin"] {
        let v = events.verification(key);
        assert_eq!(v.target, "size only (checksum = \"none\")", "{key}: {v:?}");
        assert!(!v.verified, "{key}: {v:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trailer_mode_into_the_legacy_flavour_fails_clearly() {
    let rig = Rig::start().await;
    rig.target().server.behaviours().set_legacy(true);
    rig.source()
        .put("small.bin", seeded_bytes(1, 0, 1024))
        .await;
    let settings = rig
        .config()
        .set_str("target", "checksum", "trailer")
        .transfer(&["max_retries = 1"])
        .settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(summary.failed, 1, "{}", events.describe());
    let (_, message) = &summary.failures[0];
    assert!(message.contains("XAmzContentSHA256Mismatch"), "{message}");
    assert!(rig.target().keys("").await.is_empty());
}

/// The `ChecksumMode` event of a run, if any.
fn announced(events: &crate::common::engine::Events) -> Option<(String, String)> {
    events.seen.iter().find_map(|e| match e {
        airlock_core::engine::Event::ChecksumMode { mode, reason } => {
            Some((mode.clone(), reason.clone()))
        }
        _ => None,
    })
}

/// Default settings (`auto`) into a store flavour: byte-identical copies, the probe's choice
/// announced, the words say what was checked, and a rerun skips every object.
async fn auto_copy_and_rerun(rig: &Rig, mode: &str, single_words: &str) -> String {
    sources(rig).await;
    let settings = rig
        .config()
        .unset("target", "checksum")
        .transfer(&MULTIPART)
        .settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (4, 0),
        "{}",
        events.describe()
    );
    assert_identical(rig).await;
    let (chosen, reason) = announced(&events).expect("the probe's choice is announced");
    assert_eq!(chosen, mode, "{reason}");
    assert_eq!(summary.writes.checksum_mode.as_deref(), Some(mode));
    for key in ["small.bin", "near.bin"] {
        let v = events.verification(key);
        assert_eq!(v.target, single_words, "{key}: {v:?}");
        assert!(v.verified, "{key}: {v:?}");
    }
    let left = rig.target().keys(".airlock/").await;
    assert!(
        left.is_empty(),
        "the probe object is not left behind: {left:?}"
    );
    let (again, events) = rig.run(&settings).await;
    assert_eq!(
        (again.copied, again.skipped),
        (0, 4),
        "{}",
        events.describe()
    );
    reason
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_keeps_trailers_on_a_store_that_checks_them() {
    let rig = Rig::start().await;
    let reason = auto_copy_and_rerun(
        &rig,
        "trailer",
        "crc64nvme matched the target's checksum of the bytes it stored (PutObject)",
    )
    .await;
    assert!(reason.contains("checks trailers"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_chooses_md5_for_the_legacy_flavour() {
    let rig = Rig::start().await;
    rig.target().server.behaviours().set_legacy(true);
    let reason = auto_copy_and_rerun(&rig, "md5", MD5_SINGLE).await;
    assert!(reason.contains("XAmzContentSHA256Mismatch"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_chooses_md5_for_the_s3rver_flavour_and_deletes_the_probe() {
    let rig = Rig::start().await;
    rig.target().server.behaviours().set_s3rver(true);
    let reason = auto_copy_and_rerun(&rig, "md5", MD5_SINGLE).await;
    assert!(reason.contains("does not check trailers"), "{reason}");
}

/// MinIO before 2025: trailers are checked, but a FULL_OBJECT multipart checksum answers
/// InvalidPart on Complete. `auto` keeps the parts' trailers and completes without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_keeps_part_trailers_on_a_store_that_refuses_full_object_checksums() {
    let rig = Rig::start().await;
    rig.target()
        .server
        .behaviours()
        .set_full_object_refused(true);
    let reason = auto_copy_and_rerun(
        &rig,
        "trailer-parts",
        "crc64nvme matched the target's checksum of the bytes it stored (PutObject)",
    )
    .await;
    assert!(reason.contains("checks trailers"), "{reason}");
    assert!(reason.contains("InvalidPart"), "{reason}");
    // The rerun skipped everything; a fresh copy shows what the multipart object's hop checked.
    let target = rig.target();
    target
        .client
        .delete_object()
        .bucket(&target.bucket)
        .key("multi.bin")
        .send()
        .await
        .expect("delete multi.bin at the target");
    let settings = rig
        .config()
        .unset("target", "checksum")
        .transfer(&MULTIPART)
        .settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (1, 0),
        "{}",
        events.describe()
    );
    assert_seeded(rig.target(), "multi.bin", 12 * MIB, 3).await;
    let multi = events.verification("multi.bin");
    assert!(
        multi.target.contains("parts checked by the target") && multi.target.contains(MD5_PARTS),
        "{multi:?}"
    );
    assert_eq!(
        summary.writes.checksum_mode.as_deref(),
        Some("trailer-parts")
    );
    let why = summary.writes.checksum_mode_reason.unwrap_or_default();
    assert!(why.contains("InvalidPart"), "the summary says why: {why}");
    assert!(
        rig.target().keys(".airlock/").await.is_empty(),
        "the probe leaves nothing behind"
    );
}
