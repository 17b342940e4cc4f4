//! Mirror mode (`transfer.mode = "mirror"` / `--mode mirror`) against the two in-process
//! servers: the plan shows every deletion as a `delete` route (text and saved JSON), a run
//! deletes only after every copy succeeded and only with `--confirm-delete`, a failed copy
//! (a permanent fault from the proxy) deletes nothing, target objects the filters exclude
//! survive, deletions land in the JSON events, summary and manifest, and a plan that deletes
//! refuses `--shard`.

mod saved_plan;

use crate::common::engine::Rig;
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::*;
use std::path::{Path, PathBuf};

/// Source `in/` holds a and sub/b; target `out/` holds a stale a, two orphans, and an object
/// outside the target prefix that mirror must never touch.
async fn fixture(servers: &TwoServers) {
    servers.source.put("in/a.txt", b"new a".to_vec()).await;
    servers.source.put("in/sub/b.txt", b"bbbb".to_vec()).await;
    servers.target.put("out/a.txt", b"old".to_vec()).await;
    servers.target.put("out/old.txt", vec![b'o'; 7]).await;
    servers.target.put("out/sub/gone.txt", vec![b'g'; 5]).await;
    servers.target.put("elsewhere/x.txt", b"x".to_vec()).await;
}

fn config(servers: &TwoServers, transfer: &[&str], filter: &[&str]) -> std::path::PathBuf {
    let mut config = servers.config().prefixes("in/", "out/").transfer(transfer);
    if !filter.is_empty() {
        config = config.lines("filter", filter);
    }
    config.write(&servers.sandbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_shows_deletions_and_a_run_deletes_only_when_confirmed() {
    let servers = TwoServers::start().await;
    fixture(&servers).await;
    let config = config(&servers, &[], &[]);

    // Copy mode (the default) plans no deletion.
    let out = servers.airlock_with(&config, &["plan"]).run().await;
    out.expect_code(0);
    assert!(!out.stdout.contains("delete"), "{}", out.stdout);

    // Mirror: one `delete` line per orphan under the target prefix, and a total.
    let plan_file = servers.sandbox.path().join("mirror-plan.json");
    let out = servers
        .airlock_with(
            &config,
            &[
                "plan",
                "--mode",
                "mirror",
                "-o",
                plan_file.to_str().unwrap(),
            ],
        )
        .run()
        .await;
    out.expect_code(0);
    let deletes = lines_with(&out.stdout, "(no source counterpart)");
    assert_eq!(deletes.len(), 2, "{}", out.stdout);
    assert!(deletes[0].starts_with("delete ") && deletes[0].contains("out/old.txt"));
    assert!(deletes[1].starts_with("delete ") && deletes[1].contains("out/sub/gone.txt"));
    assert!(!out.stdout.contains("elsewhere"), "{}", out.stdout);
    let total = lines_with(&out.stdout, "  delete ");
    assert_eq!(total.len(), 1, "{}", out.stdout);
    assert!(
        total[0].contains("2 objects") && total[0].contains("12 B"),
        "{}",
        total[0]
    );

    // The saved plan: format 3, each deletion with route, key, size and reason.
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&plan_file).unwrap()).unwrap();
    assert_eq!(saved["format"], 3);
    assert_eq!(saved["settings"]["mode"], "mirror");
    let deletions = saved["deletions"].as_array().unwrap();
    let listed: Vec<(&str, &str, u64, &str)> = deletions
        .iter()
        .map(|d| {
            (
                d["route"].as_str().unwrap(),
                d["target_key"].as_str().unwrap(),
                d["size"].as_u64().unwrap(),
                d["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("delete", "out/old.txt", 7, "no source counterpart"),
            ("delete", "out/sub/gone.txt", 5, "no source counterpart"),
        ]
    );

    // Not confirmed: copies, deletes nothing, says so, exits 0.
    let out = servers
        .airlock_with(&config, &["run", "--mode", "mirror"])
        .run()
        .await;
    out.expect_code(0);
    assert!(
        out.stderr
            .contains("mirror: 2 deletions (12 B) skipped: deletion was not confirmed"),
        "{}",
        out.all()
    );
    assert_eq!(servers.target.get("out/a.txt").await, b"new a");
    assert_eq!(
        servers.target.keys("").await,
        [
            "elsewhere/x.txt",
            "out/a.txt",
            "out/old.txt",
            "out/sub/b.txt",
            "out/sub/gone.txt"
        ]
    );

    // A plan that deletes cannot be sharded.
    let out = servers
        .airlock_with(
            &config,
            &[
                "run",
                "--plan",
                plan_file.to_str().unwrap(),
                "--shard",
                "0/2",
            ],
        )
        .run()
        .await;
    out.expect_code(2);
    assert!(
        out.stderr.contains("deletions cannot be sharded"),
        "{}",
        out.stderr
    );

    // Confirmed, from the saved plan: the copies are already there (skips), then both
    // orphans go; JSON events, the summary and the manifest say so.
    let manifest = servers.sandbox.path().join("manifest.jsonl");
    let out = servers
        .airlock_with(
            &config,
            &[
                "run",
                "--plan",
                plan_file.to_str().unwrap(),
                "--confirm-delete",
                "--json",
                "--manifest",
                manifest.to_str().unwrap(),
            ],
        )
        .run()
        .await;
    out.expect_code(0);
    let lines = json_lines(&out.stdout);
    let started = events_named(&lines, "deletions_started");
    assert_eq!(started.len(), 1, "{}", out.stdout);
    assert_eq!(
        (started[0]["objects"].as_u64(), started[0]["bytes"].as_u64()),
        (Some(2), Some(12))
    );
    let deleted: Vec<&str> = events_named(&lines, "object_deleted")
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(deleted, ["out/old.txt", "out/sub/gone.txt"]);
    let summary = run_summary(&lines);
    assert_eq!(summary["deleted"], 2);
    assert_eq!(summary["bytes_deleted"], 12);
    assert_eq!(summary["delete_failed"], 0);
    assert!(summary["deletions_skipped"].is_null(), "{summary}");
    assert_eq!(
        servers.target.keys("").await,
        ["elsewhere/x.txt", "out/a.txt", "out/sub/b.txt"]
    );
    let (_, records) = read_manifest(&manifest);
    let outcomes: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["target_key"].as_str().unwrap(),
                r["route"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("out/a.txt", "skip", "skipped"),
            ("out/sub/b.txt", "skip", "skipped"),
            ("out/old.txt", "delete", "deleted"),
            ("out/sub/gone.txt", "delete", "deleted"),
        ]
    );

    // Mirrored now: a new mirror plan deletes nothing.
    let out = servers
        .airlock_with(&config, &["plan", "--mode", "mirror"])
        .run()
        .await;
    out.expect_code(0);
    assert!(
        out.stdout.contains("  delete            0 objects"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_copy_deletes_nothing_even_when_confirmed() {
    let rig = Rig::start().await;
    rig.source().put("keep/a.txt", b"a".to_vec()).await;
    rig.source().put("keep/broken.txt", b"never".to_vec()).await;
    rig.target().put("orphan.txt", b"orphan".to_vec()).await;
    // The target refuses this one object for good.
    rig.target_proxy.add_rule(
        Rule::new(Fault::Status(403, "AccessDenied"))
            .on(Op::PutObject)
            .key("broken"),
    );
    let config = rig
        .config()
        .transfer(&["mode = \"mirror\"", "max_retries = 1"])
        .write(&rig.servers.sandbox);
    let out = rig
        .servers
        .airlock_with(&config, &["run", "--confirm-delete", "--json"])
        .run()
        .await;
    out.expect_code(1);
    let lines = json_lines(&out.stdout);
    assert_eq!(
        events_named(&lines, "object_failed").len(),
        1,
        "{}",
        out.stdout
    );
    assert!(events_named(&lines, "object_deleted").is_empty());
    assert!(events_named(&lines, "deletions_started").is_empty());
    let skipped = events_named(&lines, "deletions_skipped");
    assert_eq!(skipped.len(), 1, "{}", out.stdout);
    assert_eq!(skipped[0]["objects"], 1);
    let reason = skipped[0]["reason"].as_str().unwrap();
    assert!(reason.contains("any failure deletes nothing"), "{reason}");
    assert!(
        out.stderr.contains("mirror: 1 deletions (6 B) skipped"),
        "{}",
        out.stderr
    );
    assert_eq!(rig.target().get("orphan.txt").await, b"orphan");
    rig.assert_copied("keep/a.txt").await;

    // With the fault gone, the same run copies the rest and then deletes.
    rig.target_proxy.clear_rules();
    let out = rig
        .servers
        .airlock_with(&config, &["run", "--confirm-delete"])
        .run()
        .await;
    out.expect_code(0);
    assert!(
        out.stderr
            .contains("mirror: deleted 1 target objects (6 B)"),
        "{}",
        out.all()
    );
    assert_eq!(
        rig.target().keys("").await,
        ["keep/a.txt", "keep/broken.txt"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_objects_the_filters_exclude_survive_a_mirror() {
    let servers = TwoServers::start().await;
    servers.source.put("in/keep.parquet", vec![b'k'; 20]).await;
    // The source still has this one, but min_size leaves it out: its copy is no orphan.
    servers.source.put("in/small.parquet", vec![b's'; 2]).await;
    servers.target.put("out/keep.parquet", vec![b'k'; 20]).await;
    servers.target.put("out/small.parquet", vec![b's'; 2]).await;
    servers.target.put("out/gone.parquet", vec![b'g'; 30]).await;
    servers.target.put("out/notes.csv", vec![b'n'; 30]).await;
    servers.target.put("out/tiny.parquet", vec![b't'; 1]).await;
    servers
        .target
        .put("out/_tmp/scratch.parquet", vec![b'x'; 30])
        .await;
    let config = config(
        &servers,
        &["mode = \"mirror\""],
        &[
            r#"include = ["**/*.parquet"]"#,
            r#"exclude = ["_tmp/**"]"#,
            r#"min_size = "10B""#,
        ],
    );
    let out = servers.airlock_with(&config, &["plan"]).run().await;
    out.expect_code(0);
    let deletes = lines_with(&out.stdout, "(no source counterpart)");
    assert_eq!(deletes.len(), 1, "{}", out.stdout);
    assert!(deletes[0].contains("out/gone.parquet"), "{}", deletes[0]);

    let out = servers
        .airlock_with(&config, &["run", "--confirm-delete"])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        servers.target.keys("").await,
        [
            "out/_tmp/scratch.parquet",
            "out/keep.parquet",
            "out/notes.csv",
            "out/small.parquet",
            "out/tiny.parquet"
        ],
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_mode_is_a_clear_error() {
    let servers = TwoServers::start().await;
    let config = config(&servers, &["mode = \"sync\""], &[]);
    let out = servers.airlock_with(&config, &["plan"]).run().await;
    out.expect_code(2);
    assert!(
        out.stderr.contains("transfer.mode 'sync' is not a mode"),
        "{}",
        out.stderr
    );
    let config = self::config(&servers, &[], &[]);
    let out = servers
        .airlock_with(&config, &["plan", "--mode", "delete"])
        .run()
        .await;
    out.expect_code(2);
    assert!(
        out.stderr.contains("--mode 'delete' is not a mode"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_go_in_batches_of_1000_and_a_refused_batch_is_reported_per_key() {
    let rig = Rig::start().await;
    rig.source().put("kept.txt", b"k".to_vec()).await;
    let orphans: Vec<(String, Vec<u8>)> = (0..1001)
        .map(|i| (format!("orphans/{i:04}"), vec![b'o'; 2]))
        .collect();
    rig.target().put_many(orphans, 16).await;
    let config = rig
        .config()
        .transfer(&["mode = \"mirror\""])
        .write(&rig.servers.sandbox);
    // The first DeleteObjects (the first 1,000 keys) is refused; the second (1 key) goes.
    rig.target_proxy.reset_stats();
    rig.target_proxy.add_rule(
        Rule::new(Fault::Status(403, "AccessDenied"))
            .on(Op::Other)
            .times(1),
    );
    let reports = rig.servers.sandbox.path().join("reports");
    let reports_arg = format!("{}/", reports.display());
    let out = rig
        .servers
        .airlock_with(
            &config,
            &[
                "run",
                "--confirm-delete",
                "--json",
                "--report",
                &reports_arg,
            ],
        )
        .run()
        .await;
    out.expect_code(1);
    assert_eq!(
        rig.target_proxy.count(Op::Other),
        2,
        "two DeleteObjects batches"
    );
    // The run's report carries the failed deletions: 'airlock report' exits 1 and names them.
    let merged = rig
        .servers
        .airlock(["report", reports.to_str().unwrap()])
        .run()
        .await;
    merged.expect_code(1);
    assert!(
        merged.stdout.contains("delete failed: orphans/0000: "),
        "{}",
        merged.all()
    );
    let lines = json_lines(&out.stdout);
    let failed = events_named(&lines, "delete_failed");
    assert_eq!(failed.len(), 1000);
    assert_eq!(failed[0]["key"], "orphans/0000");
    let error = failed[0]["error"].as_str().unwrap();
    assert!(error.contains("AccessDenied"), "{error}");
    let deleted = events_named(&lines, "object_deleted");
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["key"], "orphans/1000");
    let summary = run_summary(&lines);
    assert_eq!(
        (
            summary["deleted"].as_u64(),
            summary["delete_failed"].as_u64()
        ),
        (Some(1), Some(1000))
    );
    assert_eq!(rig.target().keys("orphans/").await.len(), 1000);

    // Run again: the 1,000 left go in one batch.
    rig.target_proxy.reset_stats();
    let out = rig
        .servers
        .airlock_with(&config, &["run", "--confirm-delete"])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(rig.target_proxy.count(Op::Other), 1);
    assert_eq!(rig.target().keys("").await, ["kept.txt"]);
}
