//! The headless binary: `airlock run --json` exits 0 when everything is copied, 1 naming the
//! failures in its summary, 2 on a bad config; `airlock uploads list|abort` see and remove the
//! uploads a dropped run left, after which a run copies everything. The binary talks to the
//! in-process servers through the proxies, like any client.

use crate::common::engine::Rig;
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::{MIB, Output, events_named, json_lines, run_summary, seeded_bytes};
use airlock_core::engine::Event;

async fn run_json(rig: &Rig, transfer: &[&str]) -> Output {
    let config = rig.config().transfer(transfer).write(&rig.servers.sandbox);
    rig.servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await
}

async fn some_objects(rig: &Rig) {
    let source = rig.source();
    for i in 0..10u64 {
        let key = format!("data/part-{i}.csv");
        source
            .put(&key, seeded_bytes(i, 0, 10_000 * i as usize))
            .await;
    }
    source.put_seeded("data/big.bin", 11 * MIB, 7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_json_exits_0_when_everything_is_copied() {
    let rig = Rig::start().await;
    some_objects(&rig).await;
    let output = run_json(
        &rig,
        &["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""],
    )
    .await;
    output.expect_code(0);
    let lines = json_lines(&output.stdout);
    assert_eq!(events_named(&lines, "object_done").len(), 11);
    let finished = events_named(&lines, "run_finished");
    assert_eq!(finished.len(), 1, "{}", output.stdout);
    let summary = &finished[0]["summary"];
    assert_eq!(summary["copied"], 11);
    assert_eq!(summary["failed"], 0);
    assert_eq!(
        summary["verified"], 11,
        "the 3-part object without a checksum is checked by its multipart ETag"
    );
    // The line before run_finished is the final progress: every copied byte is counted.
    let last = &lines[lines.len() - 2];
    assert_eq!(last["event"], "progress", "{}", output.stdout);
    assert_eq!(
        last["put_bytes"], summary["bytes_copied"],
        "{}",
        output.stdout
    );
    rig.assert_all_copied().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_json_exits_1_and_names_the_failures() {
    let rig = Rig::start().await;
    some_objects(&rig).await;
    rig.source()
        .put("data/broken.csv", b"never arrives".to_vec())
        .await;
    rig.source_proxy.add_rule(
        Rule::new(Fault::InternalError)
            .on(Op::GetObject)
            .key("broken"),
    );
    let output = run_json(&rig, &["max_retries = 1"]).await;
    output.expect_code(1);
    let lines = json_lines(&output.stdout);
    let failed = events_named(&lines, "object_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["key"], "data/broken.csv");
    assert_eq!(failed[0]["class"], "retryable");
    let summary = run_summary(&lines);
    assert_eq!(
        (summary["copied"].as_u64(), summary["failed"].as_u64()),
        (Some(11), Some(1))
    );
    let failures = summary["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0][0], "data/broken.csv");
    let reason = failures[0][1].as_str().unwrap();
    assert!(reason.contains("InternalError (HTTP 500)"), "{reason}");
    assert_eq!(
        rig.source_proxy.count(Op::GetObject),
        13,
        "11 objects once, broken.csv twice"
    );
    assert!(rig.target().keys("data/broken").await.is_empty());
    for i in 0..10 {
        rig.assert_copied(&format!("data/part-{i}.csv")).await;
    }
    rig.assert_copied("data/big.bin").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_exits_2_on_a_bad_config_and_copies_nothing() {
    let rig = Rig::start().await;
    some_objects(&rig).await;
    for (line, named) in [
        ("concurency = 4", "concurency"),
        ("part_size = \"1MiB\"", "part_size"),
        ("concurrency = 0", "concurrency"),
        ("on_source_change = \"ignore\"", "on_source_change"),
    ] {
        let output = run_json(&rig, &[line]).await;
        output.expect_code(2);
        assert!(output.stderr.contains(named), "{line}: {}", output.stderr);
        assert!(output.stdout.is_empty(), "no run: {}", output.stdout);
    }
    assert!(rig.target().keys("").await.is_empty());
    assert_eq!(rig.source_proxy.count(Op::GetObject), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_abort_removes_what_a_dropped_run_left_and_a_run_then_copies_all() {
    let rig = Rig::start().await;
    rig.source().put_seeded("left/a.bin", 12 * MIB, 1).await;
    rig.source().put_seeded("left/b.bin", 12 * MIB, 2).await;
    let transfer = ["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""];
    // A run dropped while both uploads are open, each with a part or more at the target.
    rig.target_proxy
        .add_rule(Rule::new(Fault::Stall).on(Op::UploadPart).skip(2));
    let (handle, mut events) = rig
        .start_engine(&rig.config().transfer(&transfer).settings())
        .await;
    events
        .wait_count("two parts", 2, |e| matches!(e, Event::PartDone { .. }))
        .await;
    // Both uploads are open and known to the engine (ObjectStarted follows the create).
    events
        .wait_count("both objects started", 2, |e| {
            matches!(e, Event::ObjectStarted { parts: 3, .. })
        })
        .await;
    drop(handle);
    rig.target_proxy.clear_rules();
    assert_eq!(rig.target_uploads().await.len(), 2);

    let config = rig.config().transfer(&transfer).write(&rig.servers.sandbox);
    let listed = rig
        .servers
        .airlock_with(&config, &["uploads", "list"])
        .run()
        .await;
    listed.expect_code(0);
    assert_eq!(
        listed.stdout.matches("(resumable: journaled)").count(),
        2,
        "{}",
        listed.stdout
    );
    assert!(
        listed.stdout.contains("2 in-progress uploads"),
        "{}",
        listed.stdout
    );

    let aborted = rig
        .servers
        .airlock_with(&config, &["uploads", "abort", "--all"])
        .run()
        .await;
    aborted.expect_code(0);
    assert!(
        aborted.stdout.contains("2 uploads aborted"),
        "{}",
        aborted.stdout
    );
    assert!(rig.target_uploads().await.is_empty(), "none left");
    assert!(
        rig.journal_files().is_empty(),
        "journal entries removed with them"
    );
    let listed = rig
        .servers
        .airlock_with(&config, &["uploads", "list"])
        .run()
        .await;
    assert!(
        listed.stdout.contains("0 in-progress uploads"),
        "{}",
        listed.stdout
    );

    let run = rig
        .servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;
    run.expect_code(0);
    rig.assert_all_copied().await;
    assert!(rig.target_uploads().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_lets_in_flight_copies_finish_exits_130_and_says_how_to_resume() {
    stop_mid_run("-INT", &[], "stopping:", 130).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_copies_finish_within_the_grace_and_exits_143() {
    stop_mid_run("-TERM", &["--grace", "60s"], "SIGTERM: stopping", 143).await;
}

/// Two GETs are held when `signal` reaches the run; once the run has said `stopping`, they are
/// released: the two copies finish, nothing else starts, the run exits with `code`, and the
/// next run copies the other eight.
async fn stop_mid_run(signal: &str, flags: &[&str], stopping: &str, code: i32) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

    let rig = Rig::start().await;
    let objects = (0..10u64)
        .map(|i| (format!("obj/{i}"), seeded_bytes(i, 0, 5000)))
        .collect();
    rig.source().put_many(objects, 8).await;
    rig.source_proxy
        .add_rule(Rule::new(Fault::Hold).on(Op::GetObject));
    let config = rig
        .config()
        .transfer(&["concurrency = 2"])
        .write(&rig.servers.sandbox);
    let mut args = vec!["run", "--json"];
    args.extend_from_slice(flags);
    let mut child = rig.servers.airlock_with(&config, &args).spawn();
    rig.source_proxy
        .wait_for("2 GETs held", |p| p.held() == 2)
        .await;
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    while !seen.contains(stopping) {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), stderr.next_line())
            .await
            .expect("stderr in time")
            .expect("read stderr")
            .unwrap_or_else(|| panic!("stderr ended: {seen}"));
        seen.push_str(&line);
        seen.push('\n');
    }
    rig.source_proxy.clear_rules();
    rig.source_proxy.release_held();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    while let Some(line) = stderr.next_line().await.unwrap() {
        seen.push_str(&line);
        seen.push('\n');
    }
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("exits in time")
        .unwrap();
    assert_eq!(status.code(), Some(code), "{seen}");
    assert!(seen.contains("run 'airlock run' again to resume"), "{seen}");
    let lines = json_lines(&stdout);
    let summary = run_summary(&lines);
    assert_eq!(summary["copied"], 2, "the two in flight finished");
    assert_eq!(summary["not_started"], 8);
    assert_eq!(summary["interrupted"], true);
    assert_eq!(rig.source_proxy.count(Op::GetObject), 2);

    let again = run_json(&rig, &["concurrency = 2"]).await;
    again.expect_code(0);
    let lines = json_lines(&again.stdout);
    let summary = run_summary(&lines);
    assert_eq!(
        (summary["copied"].as_u64(), summary["skipped"].as_u64()),
        (Some(8), Some(2))
    );
    rig.assert_all_copied().await;
}

/// A SIGTERM whose grace runs out while parts are still in flight: the run leaves with 143 at
/// the end of the grace (before a scheduler's SIGKILL), the multipart upload stays open, and
/// the next run resumes it and completes the object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_leaves_with_143_when_the_grace_runs_out_and_the_next_run_resumes() {
    let rig = Rig::start().await;
    rig.source().put_seeded("big.bin", 40 * MIB, 7).await;
    let transfer = [
        "concurrency = 2",
        "multipart_threshold = \"8MiB\"",
        "part_size = \"5MiB\"",
    ];
    let config = rig.config().transfer(&transfer).write(&rig.servers.sandbox);
    // Two parts reach the target, then every UploadPart is held.
    rig.target_proxy
        .add_rule(Rule::new(Fault::Hold).on(Op::UploadPart).skip(2));
    let child = rig
        .servers
        .airlock_with(&config, &["run", "--json", "--grace", "2s"])
        .spawn();
    rig.target_proxy
        .wait_for("2 parts held", |p| p.held() == 2)
        .await;
    let pid = child.id().expect("running").to_string();
    let signalled = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let output = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("exits in time")
        .unwrap();
    let waited = signalled.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(
        waited >= std::time::Duration::from_secs(2),
        "left before the grace ran out: {waited:?}"
    );
    assert!(
        stderr.contains("grace period of 2s is over: leaving now; run again to resume"),
        "{stderr}"
    );
    assert_eq!(rig.target_uploads().await.len(), 1, "the upload stays open");

    rig.target_proxy.clear_rules();
    rig.target_proxy.release_held();
    let again = run_json(&rig, &transfer).await;
    again.expect_code(0);
    rig.assert_all_copied().await;
    assert!(rig.target_uploads().await.is_empty());
}
