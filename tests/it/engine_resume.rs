//! Resume and teardown: a run dropped mid-object leaves its upload and journal, and the next
//! run sends only the missing parts (counted at the proxy); `EngineHandle::abort()` aborts open
//! uploads and forgets them; a source overwritten mid-copy (412 on `If-Match`) fails the
//! object cleanly, or restarts it with `on_source_change = "restart"`.

use crate::common;

use std::collections::BTreeSet;

use crate::common::engine::Rig;
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::{MIB, seeded_bytes};
use airlock_core::engine::{Event, Verification};
use airlock_core::error::Class;

const PARTS_OF_5_MIB: [&str; 3] = [
    "multipart_threshold = \"5MiB\"",
    "part_size = \"5MiB\"",
    "concurrency = 4",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_run_resumes_sending_only_the_missing_parts() {
    let rig = Rig::start().await;
    rig.source().put_seeded("resume.bin", 60 * MIB, 11).await;
    let settings = rig.config().transfer(&PARTS_OF_5_MIB).settings();
    // The first five parts reach the target; every later UploadPart hangs.
    rig.target_proxy
        .add_rule(Rule::new(Fault::Stall).on(Op::UploadPart).skip(5));
    let (handle, mut events) = rig.start_engine(&settings).await;
    events
        .wait_count("five parts", 5, |e| matches!(e, Event::PartDone { .. }))
        .await;
    rig.target_proxy
        .wait_for("four stalled parts", |p| p.count(Op::UploadPart) == 9)
        .await;
    drop(handle);
    events.drain().await;
    let done_before: BTreeSet<u32> = events.parts_done(0).into_iter().collect();
    assert_eq!(done_before.len(), 5, "{}", events.describe());
    assert_eq!(
        rig.target_uploads().await.len(),
        1,
        "upload left for resume"
    );
    let journal = rig.journal_files();
    assert_eq!(journal.len(), 1);
    let lines = std::fs::read_to_string(&journal[0])
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, 1 + 5, "header and five finished parts");
    let text = std::fs::read_to_string(&journal[0]).unwrap();
    for secret in [common::SOURCE_SECRET_KEY, common::TARGET_SECRET_KEY] {
        assert!(!text.contains(secret), "the journal holds no secret");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&journal[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "journal file mode {mode:o}");
    }
    let at_target = rig.target().keys("").await;
    assert_eq!(
        at_target.len(),
        1,
        "only the upload's state object: {at_target:?}"
    );
    assert!(
        at_target[0].starts_with(".airlock/uploads/"),
        "{at_target:?}"
    );

    rig.target_proxy.clear_rules();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (1, 0),
        "{}",
        events.describe()
    );
    assert_eq!(events.resumed_parts("resume.bin"), [5]);
    // The resumed parts count as at the target: progress reaches the total, and the stats
    // aggregator's ETA is based on what is really left.
    let mut stats = airlock_core::progress::Stats::default();
    let mut puts = Vec::new();
    for event in &events.seen {
        stats.apply(event, std::time::Duration::ZERO);
        if let Event::Progress { put_bytes, .. } = event {
            puts.push(*put_bytes);
        }
    }
    assert_eq!(puts.last(), Some(&(60 * MIB)), "{puts:?}");
    assert_eq!((stats.put_bytes, stats.total_bytes), (60 * MIB, 60 * MIB));
    assert_eq!(stats.resumed_bytes, 5 * 5 * MIB);
    let resent: BTreeSet<u32> = rig.target_proxy.upload_part_bytes().into_keys().collect();
    let missing: BTreeSet<u32> = (1..=12).filter(|p| !done_before.contains(p)).collect();
    assert_eq!(resent, missing, "only the missing parts are sent again");
    assert_eq!(rig.target_proxy.count(Op::UploadPart), 7, "each once");
    assert_eq!(rig.source_proxy.count(Op::GetObjectRange), 7);
    assert_eq!(
        rig.source_proxy.response_bytes(Op::GetObjectRange),
        7 * 5 * MIB
    );
    assert_eq!(rig.target_proxy.count(Op::CreateMultipartUpload), 0);
    assert_eq!(rig.target_proxy.count(Op::ListParts), 1);
    rig.assert_all_copied().await;
    assert!(rig.target_uploads().await.is_empty());
    assert!(rig.journal_files().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_aborts_open_uploads_and_the_next_run_starts_over() {
    let rig = Rig::start().await;
    rig.source().put_seeded("a.bin", 12 * MIB, 1).await;
    rig.source().put_seeded("b.bin", 12 * MIB, 2).await;
    rig.source().put("c.txt", b"small".to_vec()).await;
    let settings = rig.config().transfer(&PARTS_OF_5_MIB).settings();
    rig.target_proxy
        .add_rule(Rule::new(Fault::Stall).on(Op::UploadPart).skip(2));
    let (handle, mut events) = rig.start_engine(&settings).await;
    events
        .wait_count("two parts", 2, |e| matches!(e, Event::PartDone { .. }))
        .await;
    // Both uploads are open and known to the engine (ObjectStarted follows the create).
    events
        .wait_count("both objects started", 2, |e| {
            matches!(e, Event::ObjectStarted { parts: 3, .. })
        })
        .await;
    let summary = handle.abort().await.unwrap();
    assert!(summary.interrupted, "{summary:?}");
    assert!(
        rig.target_uploads().await.is_empty(),
        "abort() aborted both uploads"
    );
    assert!(rig.journal_files().is_empty(), "and forgot them");
    assert_eq!(rig.target_proxy.count(Op::AbortMultipartUpload), 2);

    rig.target_proxy.clear_rules();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(summary.failed, 0, "{}", events.describe());
    assert_eq!(events.resumed_parts("a.bin"), [0]);
    assert_eq!(events.resumed_parts("b.bin"), [0]);
    assert_eq!(rig.target_proxy.count(Op::UploadPart), 6);
    rig.assert_all_copied().await;
}

/// A 3-part object whose ranged GETs are held at the proxy until the source has been
/// overwritten with other bytes of `new_size`; then they reach the server.
async fn overwrite_mid_copy(
    rig: &Rig,
    new_size: u64,
    transfer: &[&str],
) -> (airlock_core::engine::RunSummary, common::engine::Events) {
    let source = rig.source();
    source.put_seeded("changing.bin", 12 * MIB, 1).await;
    source.put("steady.txt", b"steady".to_vec()).await;
    let mut lines = PARTS_OF_5_MIB.to_vec();
    lines.extend_from_slice(transfer);
    let settings = rig.config().transfer(&lines).settings();
    rig.source_proxy.add_rule(
        Rule::new(Fault::Hold)
            .on(Op::GetObjectRange)
            .key("changing"),
    );
    let (handle, mut events) = rig.start_engine(&settings).await;
    rig.source_proxy
        .wait_for("part reads held", |p| p.held() == 3)
        .await;
    source
        .put("changing.bin", seeded_bytes(99, 0, new_size as usize))
        .await;
    rig.source_proxy.clear_rules();
    rig.source_proxy.release_held();
    let summary = handle.join().await.unwrap();
    events.drain().await;
    rig.assert_copied("steady.txt").await;
    (summary, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_changed_mid_copy_fails_and_leaves_nothing_at_the_target() {
    let rig = Rig::start().await;
    // Longer than before: every part's range is valid, and If-Match fails (412).
    let (summary, events) = overwrite_mid_copy(&rig, 13 * MIB, &[]).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (1, 1),
        "{}",
        events.describe()
    );
    let failed = events.seen.iter().find_map(|e| match e {
        Event::ObjectFailed {
            key, class, error, ..
        } => Some((key.clone(), *class, error.clone())),
        _ => None,
    });
    let (key, class, error) = failed.unwrap();
    assert_eq!(
        (key.as_str(), class),
        ("changing.bin", Class::SourceChanged)
    );
    assert!(error.starts_with("source changed during copy"), "{error}");
    assert!(error.contains("PreconditionFailed (HTTP 412)"), "{error}");
    assert!(events.retries().is_empty(), "a 412 is not retried");
    let statuses: Vec<Option<u16>> = rig
        .source_proxy
        .exchanges()
        .iter()
        .filter(|e| e.op == Op::GetObjectRange)
        .map(|e| e.status)
        .collect();
    assert!(statuses.contains(&Some(412)), "{statuses:?}");
    assert!(rig.target().keys("changing").await.is_empty(), "no object");
    assert!(rig.target_uploads().await.is_empty(), "no upload");
    assert!(rig.journal_files().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_changed_mid_copy_is_copied_again_with_restart() {
    let rig = Rig::start().await;
    // Shorter than before: part 3's range is past the new end, and s3s-fs checks the range
    // before If-Match (416): that too is a changed source.
    let restart = ["on_source_change = \"restart\""];
    let (summary, events) = overwrite_mid_copy(&rig, 7 * MIB, &restart).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (2, 0),
        "{}",
        events.describe()
    );
    let starts: Vec<u64> = events
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::ObjectStarted { key, size, .. } if key == "changing.bin" => Some(*size),
            _ => None,
        })
        .collect();
    assert_eq!(
        starts,
        [12 * MIB, 7 * MIB],
        "started over with the new version"
    );
    rig.assert_copied("changing.bin").await;
    assert!(
        rig.target_uploads().await.is_empty(),
        "the first upload was aborted"
    );
    // Once: the restart waits for the abort instead of racing it for the journal entry.
    assert_eq!(rig.target_proxy.count(Op::AbortMultipartUpload), 1);
    assert_eq!(rig.target_proxy.count(Op::CreateMultipartUpload), 2);
    assert!(rig.journal_files().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_changed_since_the_dropped_run_aborts_the_old_upload_and_starts_over() {
    let rig = Rig::start().await;
    rig.source().put_seeded("moving.bin", 12 * MIB, 1).await;
    let settings = rig.config().transfer(&PARTS_OF_5_MIB).settings();
    rig.target_proxy
        .add_rule(Rule::new(Fault::Stall).on(Op::UploadPart).skip(1));
    let (handle, mut events) = rig.start_engine(&settings).await;
    events
        .wait_count("one part", 1, |e| matches!(e, Event::PartDone { .. }))
        .await;
    drop(handle);
    let old_upload = rig.target_uploads().await;
    assert_eq!(old_upload.len(), 1);
    assert_eq!(rig.journal_files().len(), 1);

    // Another version of the same size: only the ETag tells them apart.
    rig.source().put_seeded("moving.bin", 12 * MIB, 2).await;
    rig.target_proxy.clear_rules();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (1, 0),
        "{}",
        events.describe()
    );
    assert_eq!(events.resumed_parts("moving.bin"), [0], "nothing reused");
    let aborted: Vec<String> = rig
        .target_proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.op == Op::AbortMultipartUpload)
        .map(|e| e.key)
        .collect();
    assert_eq!(aborted, ["moving.bin"], "the old upload was aborted");
    assert_eq!(rig.target_proxy.count(Op::CreateMultipartUpload), 1);
    assert_eq!(rig.target_proxy.count(Op::UploadPart), 3);
    rig.assert_copied("moving.bin").await;
    assert!(rig.target_uploads().await.is_empty());
    assert!(rig.journal_files().is_empty());
}

/// A state object at the target for an older source version (a dropped run, then the source
/// was overwritten, and the retry runs on a machine with an empty data dir): that upload is
/// aborted, not adopted, and the object is copied whole into a new upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_upload_for_another_source_version_is_aborted_not_adopted_on_a_new_machine() {
    let rig = Rig::start().await;
    rig.source().put_seeded("moving.bin", 12 * MIB, 1).await;
    let settings = rig.config().transfer(&PARTS_OF_5_MIB).settings();
    rig.target_proxy
        .add_rule(Rule::new(Fault::Stall).on(Op::UploadPart).skip(1));
    let (handle, mut events) = rig.start_engine(&settings).await;
    events
        .wait_count("one part", 1, |e| matches!(e, Event::PartDone { .. }))
        .await;
    drop(handle);
    let old_upload = rig.target_uploads().await;
    assert_eq!(old_upload.len(), 1);
    assert_eq!(rig.target().keys(".airlock/uploads/").await.len(), 1);
    std::fs::remove_dir_all(rig.servers.sandbox.data_dir()).expect("delete the data dir");

    rig.source().put_seeded("moving.bin", 12 * MIB, 2).await;
    rig.target_proxy.clear_rules();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (1, 0),
        "{}",
        events.describe()
    );
    assert_eq!(events.resumed_parts("moving.bin"), [0], "nothing adopted");
    let aborted: Vec<(String, Option<String>)> = rig
        .target_proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.op == Op::AbortMultipartUpload)
        .map(|e| (e.key, e.status.map(|s| s.to_string())))
        .collect();
    assert_eq!(aborted.len(), 1, "{aborted:?}");
    assert_eq!(aborted[0].0, "moving.bin", "the old upload was aborted");
    assert_eq!(rig.target_proxy.count(Op::CreateMultipartUpload), 1);
    assert_eq!(rig.target_proxy.count(Op::UploadPart), 3);
    rig.assert_all_copied().await;
    assert!(rig.target_uploads().await.is_empty(), "no orphan");
}

/// A 20 MiB single-PUT source with a full-object checksum (`header`: CRC64NVME or CRC32C): a
/// dropped run after two parts, the data dir deleted, a new run. Returns how the copy was
/// verified.
async fn resumed_on_a_new_machine(algorithm: crc_fast::CrcAlgorithm) -> Verification {
    use aws_sdk_s3::primitives::ByteStream;
    use base64::Engine as _;
    let rig = Rig::start().await;
    let bytes = seeded_bytes(5, 0, 20 * MIB as usize);
    let crc = crc_fast::checksum(algorithm, &bytes).to_be_bytes();
    let source = rig.source();
    let put = source
        .client
        .put_object()
        .bucket(&source.bucket)
        .key("crc.bin");
    let put = match algorithm {
        crc_fast::CrcAlgorithm::Crc64Nvme => {
            put.checksum_crc64_nvme(base64::engine::general_purpose::STANDARD.encode(crc))
        }
        _ => put.checksum_crc32_c(base64::engine::general_purpose::STANDARD.encode(&crc[4..])),
    };
    put.body(ByteStream::from(bytes))
        .send()
        .await
        .expect("PUT with a checksum");
    let settings = rig.config().transfer(&PARTS_OF_5_MIB).settings();
    rig.target_proxy
        .add_rule(Rule::new(Fault::Stall).on(Op::UploadPart).skip(2));
    let (handle, mut events) = rig.start_engine(&settings).await;
    events
        .wait_count("two parts", 2, |e| matches!(e, Event::PartDone { .. }))
        .await;
    drop(handle);
    std::fs::remove_dir_all(rig.servers.sandbox.data_dir()).expect("delete the data dir");
    rig.target_proxy.clear_rules();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(summary.copied, 1, "{}", events.describe());
    assert_eq!(events.resumed_parts("crc.bin"), [2]);
    assert_eq!(rig.target_proxy.count(Op::UploadPart), 2);
    rig.assert_all_copied().await;
    assert!(rig.target_uploads().await.is_empty());
    events.verification("crc.bin")
}

/// Parts adopted from the target carry the CRC64NVME the target lists: with a CRC64NVME source
/// the combined value is still checked against the source's checksum (verified); with a CRC32C
/// source nobody re-read the adopted parts in that algorithm, and the words say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_adopted_from_the_target_are_verified_only_where_a_check_ran() {
    let crc64 = resumed_on_a_new_machine(crc_fast::CrcAlgorithm::Crc64Nvme).await;
    assert!(crc64.verified, "{crc64:?}");
    assert_eq!(
        crc64.source,
        "crc64nvme of all bytes read matched the source's full-object checksum"
    );
    let crc32c = resumed_on_a_new_machine(crc_fast::CrcAlgorithm::Crc32Iscsi).await;
    assert!(!crc32c.verified, "{crc32c:?}");
    assert_eq!(
        crc32c.source,
        "not verifiable: some resumed parts have no source checksum recorded"
    );
}
