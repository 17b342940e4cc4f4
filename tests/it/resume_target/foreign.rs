//! An in-progress upload of a key airlock copies that another tool opened: named (event,
//! summary, manifest, headless summary, log), never adopted or aborted, and marked "not
//! airlock's" by `airlock uploads list`.

use super::{new_machine, run_killed_after};
use crate::common::engine::Rig;
use crate::common::proxy::Op;
use crate::common::{MIB, events_named, json_lines, read_manifest, run_summary};

/// Open a multipart upload at the target for `key` straight at the server (another tool), with
/// one 5 MiB part in it. Returns its id.
async fn foreign_upload(rig: &Rig, key: &str) -> String {
    let target = rig.target();
    let upload = target
        .client
        .create_multipart_upload()
        .bucket(&target.bucket)
        .key(key)
        .send()
        .await
        .expect("CreateMultipartUpload");
    let upload_id = upload.upload_id().expect("upload id").to_string();
    target
        .client
        .upload_part()
        .bucket(&target.bucket)
        .key(key)
        .upload_id(&upload_id)
        .part_number(1)
        .body(vec![7u8; 5 * MIB as usize].into())
        .send()
        .await
        .expect("UploadPart");
    upload_id
}

/// The line `airlock uploads list` prints for `upload_id`.
fn listed_line<'a>(listed: &'a str, upload_id: &str) -> &'a str {
    listed
        .lines()
        .find(|l| l.contains(&format!("upload {upload_id}")))
        .unwrap_or_else(|| panic!("upload '{upload_id}' not listed:\n{listed}"))
}

/// An in-progress upload of a key airlock copies, opened by another tool: no journal entry and
/// no state record name it, so the run names it (event, summary, manifest, headless summary,
/// log) and leaves it alone: not adopted (a new upload is created), not aborted. `uploads
/// list` marks it "not airlock's" beside airlock's own "resumable: recorded at the target".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_another_tool_opened_is_named_and_left_alone() {
    let rig = Rig::start().await;
    let transfer = [
        "multipart_threshold = \"5MiB\"",
        "part_size = \"5MiB\"",
        "concurrency = 2",
    ];
    let config = rig.config().transfer(&transfer).write(&rig.servers.sandbox);
    // airlock's own upload of ours.bin, left by a killed run (recorded at the target).
    rig.source().put_seeded("ours.bin", 20 * MIB, 1).await;
    run_killed_after(&rig, &config, 1, 2).await;
    new_machine(&rig);
    let ours = rig.target_uploads().await;
    assert_eq!(ours.len(), 1);
    // Another tool's upload of theirs.bin, a key this run copies.
    rig.source().put_seeded("theirs.bin", 12 * MIB, 2).await;
    let theirs = foreign_upload(&rig, "theirs.bin").await;

    let listed = rig
        .servers
        .airlock_with(&config, &["uploads", "list"])
        .run()
        .await;
    listed.expect_code(0);
    assert!(
        listed_line(&listed.stdout, &ours[0].1).contains("(resumable: recorded at the target)"),
        "{}",
        listed.stdout
    );
    assert!(
        listed_line(&listed.stdout, &theirs).contains("(not airlock's: no journal or state record"),
        "{}",
        listed.stdout
    );

    rig.target_proxy.reset_stats();
    let manifest = rig.servers.sandbox.path().join("manifest.jsonl");
    let output = rig
        .servers
        .airlock_with(
            &config,
            &["run", "--json", "--manifest", manifest.to_str().unwrap()],
        )
        .run()
        .await;
    output.expect_code(0);
    let warning = format!(
        "upload '{theirs}' of 'theirs.bin' was not opened by airlock (no state record): left alone"
    );
    let lines = json_lines(&output.stdout);
    let named = events_named(&lines, "foreign_upload");
    assert_eq!(named.len(), 1, "{}", output.stdout);
    assert_eq!(named[0]["key"], "theirs.bin");
    assert_eq!(named[0]["upload_id"], theirs.as_str());
    let summary = run_summary(&lines);
    assert_eq!(
        summary["foreign_uploads"],
        serde_json::json!([{"key": "theirs.bin", "upload_id": theirs}])
    );
    assert_eq!(summary["copied"], 2);
    let (header, _) = read_manifest(&manifest);
    let warnings = header["warnings"].as_array().expect("manifest warnings");
    assert_eq!(warnings.len(), 1, "{header}");
    assert!(
        warnings[0].as_str().unwrap().starts_with(&warning),
        "{header}"
    );
    let log = std::fs::read_to_string(rig.servers.sandbox.log_file()).unwrap_or_default();
    assert!(log.contains(&warning), "the log names it:\n{log}");
    // Left alone: ours was resumed, theirs got a new upload of airlock's; nothing was aborted.
    assert_eq!(rig.target_proxy.count(Op::AbortMultipartUpload), 0);
    assert_eq!(rig.target_proxy.count(Op::CreateMultipartUpload), 1);
    assert_eq!(
        rig.target_proxy.count(Op::ListMultipartUploads),
        1,
        "one listing, for the key with no state record"
    );
    assert_eq!(
        rig.target_uploads().await,
        [("theirs.bin".into(), theirs.clone())]
    );
    rig.assert_copied("ours.bin").await;
    rig.assert_copied("theirs.bin").await;

    // Headless (no --json): the closing summary names it.
    rig.source().put_seeded("later.bin", 12 * MIB, 3).await;
    let later = foreign_upload(&rig, "later.bin").await;
    let headless = rig.servers.airlock_with(&config, &["run"]).run().await;
    headless.expect_code(0);
    assert!(
        headless.all().contains(&format!(
            "upload '{later}' of 'later.bin' was not opened by airlock (no state record): left alone"
        )),
        "{}",
        headless.all()
    );
    let listed = rig
        .servers
        .airlock_with(&config, &["uploads", "list"])
        .run()
        .await;
    for id in [&theirs, &later] {
        assert!(
            listed_line(&listed.stdout, id).contains("not airlock's"),
            "{}",
            listed.stdout
        );
    }
    assert!(
        listed.stdout.contains("2 in-progress uploads"),
        "{}",
        listed.stdout
    );
}
