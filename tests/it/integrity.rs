//! Nothing wrong left behind: an object whose check fails after airlock wrote it (the target
//! stored other bytes or another size) is deleted from the target when it is still the one this
//! run wrote, the failure event, the summary and the manifest say so, and a rerun copies it
//! again instead of planning `same`. An AbortMultipartUpload answered NoSuchUpload is not an
//! upload left.

use airlock_core::engine::Event;

use crate::common::engine::Rig;
use crate::common::seeded_bytes;

const MULTIPART: [&str; 2] = ["multipart_threshold = \"8MiB\"", "part_size = \"5MiB\""];

fn removed_flags(events: &crate::common::engine::Events, key: &str) -> Option<(bool, bool)> {
    events.seen.iter().find_map(|e| match e {
        Event::ObjectFailed {
            key: k,
            removed_after_failed_check,
            wrong_object_left,
            ..
        } if k == key => Some((*removed_after_failed_check, wrong_object_left.is_some())),
        _ => None,
    })
}

/// s3rver stores the aws-chunked framing as the object (1,075 bytes for 1,024): the HEAD after
/// the PUT finds the wrong size, the object is removed, and the rerun does not skip it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_put_stored_with_its_framing_is_removed_and_copied_again() {
    let rig = Rig::start().await;
    rig.source()
        .put("small.bin", seeded_bytes(1, 0, 1024))
        .await;
    rig.source().put("empty.bin", Vec::new()).await;
    rig.target().server.behaviours().set_s3rver(true);
    let settings = rig
        .config()
        .set_str("target", "checksum", "trailer")
        .settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(summary.failed, 2, "{}", events.describe());
    let mut removed = summary.writes.removed.clone();
    removed.sort();
    assert_eq!(removed, ["empty.bin", "small.bin"], "{summary:?}");
    assert!(summary.writes.wrong_left.is_empty(), "{summary:?}");
    assert_eq!(removed_flags(&events, "small.bin"), Some((true, false)));
    let (_, message) = summary
        .failures
        .iter()
        .find(|(k, _)| k == "small.bin")
        .expect("small.bin failed");
    assert!(message.contains("1075"), "{message}");
    assert!(message.contains("removed from the target"), "{message}");
    assert!(
        rig.target().keys("").await.is_empty(),
        "nothing wrong left at the target"
    );
    // The rerun plans both again (nothing there to call `same`) and fails them again.
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (
            summary.skipped,
            summary.failed,
            summary.writes.removed.len()
        ),
        (0, 2, 2),
        "{}",
        events.describe()
    );
}

/// A multipart copy into s3rver: every part is stored with its framing, so the completed
/// object has the wrong size; it is removed, and no upload is reported left (it was completed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_multipart_object_of_the_wrong_size_is_removed() {
    let rig = Rig::start().await;
    rig.source()
        .put_seeded("big.bin", 12 * crate::common::MIB, 3)
        .await;
    rig.target().server.behaviours().set_s3rver(true);
    let settings = rig
        .config()
        .transfer(&MULTIPART)
        .set_str("target", "checksum", "trailer")
        .settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(summary.failed, 1, "{}", events.describe());
    assert_eq!(summary.writes.removed, ["big.bin"], "{summary:?}");
    assert!(summary.uploads_left.is_empty(), "{summary:?}");
    assert_eq!(removed_flags(&events, "big.bin"), Some((true, false)));
    assert!(rig.target().keys("").await.is_empty());
    let (summary, _) = rig.run(&settings).await;
    assert_eq!((summary.skipped, summary.failed), (0, 1), "{summary:?}");
}

/// `uploads list` / `abort` against a store without ListMultipartUploads (s3rver: 501
/// NotImplemented): a clear message, exit 2, no "0 uploads".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_on_a_store_that_cannot_list_them_say_so() {
    let rig = Rig::start().await;
    rig.target().server.behaviours().set_s3rver(true);
    let config = rig.config().write(&rig.servers.sandbox);
    for args in [&["uploads", "list"][..], &["uploads", "abort", "--all"][..]] {
        let out = rig.servers.airlock_with(&config, args).run().await;
        out.expect_code(2);
        assert!(
            out.stderr.contains(
                "the target store does not list multipart uploads (ListMultipartUploads: 501 NotImplemented): use the store's own tools"
            ),
            "{args:?}: {}",
            out.all()
        );
        assert!(!out.stdout.contains("0 "), "{args:?}: {}", out.stdout);
    }
}

/// The Complete answer is lost (the upload is completed), its retry answers 404 NoSuchUpload,
/// and the HEAD that would recognise the object is refused: the object fails and its upload is
/// aborted; the abort's 404 NoSuchUpload is no upload left (nothing takes storage).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_answered_no_such_upload_is_no_upload_left() {
    use crate::common::proxy::{Fault, Op, Rule};
    let rig = Rig::start().await;
    rig.source()
        .put_seeded("big.bin", 12 * crate::common::MIB, 4)
        .await;
    rig.target_proxy.add_rule(
        Rule::new(Fault::ResetResponse { after_bytes: 0 })
            .on(Op::CompleteMultipartUpload)
            .times(1),
    );
    rig.target_proxy.add_rule(
        Rule::new(Fault::Status(403, "AccessDenied"))
            .on(Op::HeadObject)
            .times(1),
    );
    let settings = rig.config().transfer(&MULTIPART).settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(summary.failed, 1, "{}", events.describe());
    assert!(
        summary.uploads_left.is_empty(),
        "a completed upload is not left: {summary:?}"
    );
    assert!(
        !events
            .seen
            .iter()
            .any(|e| matches!(e, Event::UploadLeft { .. })),
        "{}",
        events.describe()
    );
    assert!(rig.target_uploads().await.is_empty());
}
