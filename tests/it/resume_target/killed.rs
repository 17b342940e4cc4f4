//! Killed runs resume: with the journal on this machine (only the unfinished parts are sent),
//! and with the data dir deleted (the target's state record and ListParts say what is there).

use crate::common::engine::Rig;
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::{MIB, events_named, json_lines};

/// Lines in the journal files the binary left (header + one per finished part, per upload).
fn journal_lines(rig: &Rig) -> usize {
    rig.journal_files()
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .count()
        })
        .sum()
}

/// A 60 MiB object copied in 5 MiB parts at concurrency 2: five parts reach the target (and
/// the journal), then every UploadPart hangs and the run is killed (-9). Returns its config.
async fn killed_after_five_parts(rig: &Rig) -> std::path::PathBuf {
    rig.source().put_seeded("resume.bin", 60 * MIB, 11).await;
    let transfer = [
        "multipart_threshold = \"5MiB\"",
        "part_size = \"5MiB\"",
        "concurrency = 2",
    ];
    let config = rig.config().transfer(&transfer).write(&rig.servers.sandbox);
    rig.target_proxy
        .add_rule(Rule::new(Fault::Stall).on(Op::UploadPart).skip(5));
    let mut child = rig
        .servers
        .airlock_with(&config, &["run", "--json"])
        .spawn();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while journal_lines(rig) < 1 + 5 || rig.target_proxy.count(Op::UploadPart) < 7 {
        assert!(
            std::time::Instant::now() < deadline,
            "five parts journaled and two stalled in time ({} lines)",
            journal_lines(rig)
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().await.expect("kill -9 the run");
    config
}

/// With the faults cleared and the proxies' counts reset, run again to the end: one object
/// starts, resuming the five parts the killed run left. Its JSON lines.
async fn rerun_resuming_five(rig: &Rig, config: &std::path::Path) -> Vec<serde_json::Value> {
    rig.target_proxy.clear_rules();
    rig.source_proxy.reset_stats();
    rig.target_proxy.reset_stats();
    let output = rig
        .servers
        .airlock_with(config, &["run", "--json"])
        .run()
        .await;
    output.expect_code(0);
    let lines = json_lines(&output.stdout);
    let started = events_named(&lines, "object_started");
    assert_eq!(started.len(), 1);
    assert_eq!(started[0]["resumed_parts"], 5);
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_resumes_and_sends_only_the_unfinished_parts() {
    let rig = Rig::start().await;
    let config = killed_after_five_parts(&rig).await;
    assert_eq!(journal_lines(&rig), 6, "the header and five parts");
    assert_eq!(rig.target_uploads().await.len(), 1, "the upload is left");
    let sent_before: std::collections::BTreeSet<u32> = rig
        .target_proxy
        .exchanges()
        .iter()
        .filter(|e| e.op == Op::UploadPart && e.status == Some(200))
        .filter_map(|e| e.part)
        .collect();
    assert_eq!(sent_before.len(), 5, "{sent_before:?}");

    let lines = rerun_resuming_five(&rig, &config).await;
    let resent: std::collections::BTreeSet<u32> =
        rig.target_proxy.upload_part_bytes().into_keys().collect();
    let missing: std::collections::BTreeSet<u32> =
        (1..=12).filter(|p| !sent_before.contains(p)).collect();
    assert_eq!(resent, missing, "only the unfinished parts are sent again");
    assert_eq!(rig.target_proxy.count(Op::UploadPart), 7, "each once");
    assert_eq!(rig.source_proxy.count(Op::GetObjectRange), 7);
    assert_eq!(rig.target_proxy.count(Op::CreateMultipartUpload), 0);
    // Progress lines after the object started count the resumed parts as already at the target.
    let after_start = lines
        .iter()
        .skip_while(|l| l["event"] != "object_started")
        .filter(|l| l["event"] == "progress");
    for line in after_start {
        assert!(line["put_bytes"].as_u64().unwrap() >= 25 * MIB, "{line}");
    }
    rig.assert_all_copied().await;
    assert!(rig.target_uploads().await.is_empty());
    assert!(rig.journal_files().is_empty());
}

/// The retry runs on another machine: kill -9 mid multipart copy, the data dir (journal) is
/// deleted, and the next run finds the upload through the state object at the target, lists its
/// parts and sends only the missing ones into the same upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_resumes_from_the_target_with_the_data_dir_deleted() {
    let rig = Rig::start().await;
    let config = killed_after_five_parts(&rig).await;
    let uploads = rig.target_uploads().await;
    assert_eq!(uploads.len(), 1, "the upload is left");
    let sent_before: std::collections::BTreeSet<u32> = rig
        .target_proxy
        .exchanges()
        .iter()
        .filter(|e| e.op == Op::UploadPart && e.status == Some(200))
        .filter_map(|e| e.part)
        .collect();
    assert_eq!(sent_before.len(), 5, "{sent_before:?}");
    let state = rig.target().keys(".airlock/uploads/").await;
    assert_eq!(state.len(), 1, "the upload's state object: {state:?}");
    // A new machine: nothing of the first run's data dir survives.
    std::fs::remove_dir_all(rig.servers.sandbox.data_dir()).expect("delete the data dir");
    assert!(rig.journal_files().is_empty());
    let listed = rig
        .servers
        .airlock_with(&config, &["uploads", "list"])
        .run()
        .await;
    listed.expect_code(0);
    assert!(
        listed.stdout.contains(&format!(
            "upload {}  (resumable: recorded at the target)",
            uploads[0].1
        )),
        "{}",
        listed.stdout
    );

    let lines = rerun_resuming_five(&rig, &config).await;
    let resent = rig.target_proxy.upload_part_bytes();
    let missing: std::collections::BTreeSet<u32> =
        (1..=12).filter(|p| !sent_before.contains(p)).collect();
    assert_eq!(
        resent
            .keys()
            .copied()
            .collect::<std::collections::BTreeSet<u32>>(),
        missing,
        "only the unfinished parts are sent again"
    );
    let ok_parts = rig
        .target_proxy
        .exchanges()
        .iter()
        .filter(|e| e.op == Op::UploadPart && e.status == Some(200))
        .count();
    assert_eq!(ok_parts, 7, "each missing part once");
    assert_eq!(rig.target_proxy.count(Op::UploadPart), 7);
    assert_eq!(rig.source_proxy.count(Op::GetObjectRange), 7);
    assert_eq!(
        rig.source_proxy.response_bytes(Op::GetObjectRange),
        7 * 5 * MIB
    );
    assert_eq!(
        rig.target_proxy.count(Op::CreateMultipartUpload),
        0,
        "one upload in all"
    );
    assert_eq!(rig.target_proxy.count(Op::ListParts), 1);
    let done = events_named(&lines, "object_done");
    eprintln!(
        "resumed from the target: parts sent before the kill {}, after {}, bytes after {} of {}; {}",
        sent_before.len(),
        ok_parts,
        resent.values().sum::<u64>(),
        60 * MIB,
        done.first().map(|d| d.to_string()).unwrap_or_default()
    );
    rig.assert_all_copied().await;
    assert!(rig.target_uploads().await.is_empty(), "no orphan upload");
}
