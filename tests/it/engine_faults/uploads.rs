//! Uploads that cannot finish: an object that always fails fails alone and its upload is
//! aborted (or kept and resumed by the next run), and an upload whose abort the target refuses
//! is named in the events and the summary.

use super::*;

/// A multipart object whose part 3 fails every time (500), next to objects that copy fine.
async fn doomed_run(rig: &Rig, keep: bool) -> (airlock_core::engine::RunSummary, String) {
    let source = rig.source();
    source.put_seeded("doomed.bin", 12 * MIB, 5).await;
    source.put("fine-1.txt", b"fine".to_vec()).await;
    source.put_seeded("fine-2.bin", 11 * MIB, 6).await;
    let rule = Rule::new(Fault::InternalError)
        .on(Op::UploadPart)
        .key("doomed")
        .part(3);
    rig.target_proxy.add_rule(rule);
    let keep_line = format!("keep_failed_uploads = {keep}");
    let mut lines = SMALL_PARTS[..2].to_vec();
    // One unit at a time: parts 1 and 2 are at the target before part 3 fails.
    lines.extend(["max_retries = 2", "concurrency = 1", &keep_line]);
    let (summary, events) = rig.run(&rig.config().transfer(&lines).settings()).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (2, 1),
        "{}",
        events.describe()
    );
    let (key, reason) = &summary.failures[0];
    assert_eq!(key, "doomed.bin");
    assert!(
        reason.contains("UploadPart") && reason.contains("InternalError"),
        "{reason}"
    );
    let attempts = rig
        .target_proxy
        .exchanges()
        .iter()
        .filter(|e| e.key == "doomed.bin" && e.part == Some(3))
        .count();
    assert_eq!(attempts, 3, "one attempt and max_retries = 2 retries");
    let kept = events.seen.iter().find_map(|e| match e {
        Event::ObjectFailed { kept_upload, .. } => Some(kept_upload.clone()),
        _ => None,
    });
    assert_eq!(
        kept.clone().unwrap().is_some(),
        keep,
        "{}",
        events.describe()
    );
    assert!(rig.target().keys("doomed").await.is_empty());
    rig.assert_copied("fine-1.txt").await;
    rig.assert_copied("fine-2.bin").await;
    (summary, kept.flatten().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_that_always_fails_fails_alone_and_its_upload_is_aborted() {
    let rig = Rig::start().await;
    doomed_run(&rig, false).await;
    assert!(rig.target_uploads().await.is_empty(), "upload aborted");
    assert!(rig.journal_files().is_empty(), "journal entry removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_failed_upload_is_resumed_by_the_next_run() {
    let rig = Rig::start().await;
    let (_, upload_id) = doomed_run(&rig, true).await;
    assert_eq!(
        rig.target_uploads().await,
        [("doomed.bin".to_string(), upload_id)]
    );
    assert_eq!(rig.journal_files().len(), 1);

    rig.target_proxy.clear_rules();
    let (summary, events) = rig
        .run(&rig.config().transfer(&SMALL_PARTS).settings())
        .await;
    assert_eq!(
        (summary.copied, summary.failed, summary.skipped),
        (1, 0, 2),
        "{}",
        events.describe()
    );
    assert_eq!(events.resumed_parts("doomed.bin"), [2]);
    assert_eq!(
        rig.target_proxy
            .upload_part_bytes()
            .keys()
            .collect::<Vec<_>>(),
        [&3]
    );
    assert_eq!(rig.source_proxy.count(Op::GetObjectRange), 1);
    rig.assert_all_copied().await;
    assert!(rig.target_uploads().await.is_empty());
    assert!(rig.journal_files().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_whose_abort_is_refused_is_named_in_the_events_and_the_summary() {
    let rig = Rig::start().await;
    let refuse = rig
        .target_proxy
        .add_rule(Rule::new(Fault::Status(403, "AccessDenied")).on(Op::AbortMultipartUpload));
    let (summary, _) = doomed_run(&rig, false).await;
    assert_eq!(rig.target_proxy.fired(refuse), 1);
    let left = rig.target_uploads().await;
    assert_eq!(left.len(), 1, "the refused abort leaves the upload");
    let (key, upload_id) = &left[0];
    assert_eq!(key, "doomed.bin");
    assert_eq!(summary.uploads_left.len(), 1, "{summary:?}");
    let named = &summary.uploads_left[0];
    assert_eq!((&named.key, &named.upload_id), (key, upload_id));
    assert!(
        named.error.contains("AbortMultipartUpload") && named.error.contains("AccessDenied"),
        "{}",
        named.error
    );
    // The same in the JSON summary a scheduler's log gets.
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["uploads_left"][0]["upload_id"], upload_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_left_event_names_key_and_upload_id() {
    let rig = Rig::start().await;
    rig.target_proxy
        .add_rule(Rule::new(Fault::Status(403, "AccessDenied")).on(Op::AbortMultipartUpload));
    rig.source().put_seeded("doomed.bin", 12 * MIB, 5).await;
    rig.target_proxy.add_rule(
        Rule::new(Fault::InternalError)
            .on(Op::UploadPart)
            .key("doomed")
            .part(2),
    );
    let mut lines = SMALL_PARTS[..2].to_vec();
    lines.extend(["max_retries = 0", "concurrency = 1"]);
    let (summary, events) = rig.run(&rig.config().transfer(&lines).settings()).await;
    assert_eq!(summary.failed, 1, "{}", events.describe());
    let left: Vec<serde_json::Value> = events
        .seen
        .iter()
        .filter(|e| matches!(e, Event::UploadLeft { .. }))
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    assert_eq!(left.len(), 1, "{}", events.describe());
    assert_eq!(left[0]["event"], "upload_left");
    assert_eq!(left[0]["key"], "doomed.bin");
    let uploads = rig.target_uploads().await;
    assert_eq!(left[0]["upload_id"], uploads[0].1.as_str());
    // The run finished after the refused abort was known: the summary names it too.
    let finished = events.seen.iter().find_map(|e| match e {
        Event::RunFinished { summary } => Some(summary.uploads_left.clone()),
        _ => None,
    });
    assert_eq!(finished.unwrap().len(), 1, "{}", events.describe());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journaled_upload_of_a_changed_source_whose_abort_is_refused_is_named() {
    let rig = Rig::start().await;
    let (_, upload_id) = doomed_run(&rig, true).await;
    rig.target_proxy.clear_rules();
    // The source changes: the journaled upload cannot be resumed, and its abort is refused.
    rig.source().put_seeded("doomed.bin", 12 * MIB, 99).await;
    rig.target_proxy
        .add_rule(Rule::new(Fault::Status(403, "AccessDenied")).on(Op::AbortMultipartUpload));
    let (summary, events) = rig
        .run(&rig.config().transfer(&SMALL_PARTS).settings())
        .await;
    assert_eq!(
        (summary.copied, summary.failed),
        (1, 0),
        "{}",
        events.describe()
    );
    assert_eq!(summary.uploads_left.len(), 1, "{summary:?}");
    assert_eq!(summary.uploads_left[0].key, "doomed.bin");
    assert_eq!(summary.uploads_left[0].upload_id, upload_id);
    assert!(
        events.seen.iter().any(|e| matches!(
            e,
            Event::UploadLeft { upload_id: u, .. } if *u == upload_id
        )),
        "{}",
        events.describe()
    );
    assert!(
        rig.target_uploads()
            .await
            .iter()
            .any(|(_, u)| *u == upload_id),
        "the refused abort left the old upload"
    );
    rig.assert_copied("doomed.bin").await;
}
