//! Shard reports on the streamed run path (#17): `run --plan X.jsonl --shard I/N --report DIR`
//! starts copying before the plan is read to the end (the scale-out case: every child of an
//! AWS Batch array or a Kubernetes indexed Job writes its report), `airlock report` merges the
//! shards' reports right, and a report lists a bounded number of objects however many the run
//! copied.

use std::path::Path;

use serde_json::Value;

use crate::common::fifo::{object_started, through_fifo};
use crate::common::*;

fn read_json(path: &Path) -> Value {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("read '{}': {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("parse '{}': {e}", path.display()))
}

/// The scale-out case: shard 0 of 2 with `--report` streams its plan (first copy before the
/// plan's tail is written), shard 1 runs from the file, and the merged report adds up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sharded_run_with_a_report_streams_and_the_merged_report_is_right() {
    let servers = TwoServers::start().await;
    const OBJECTS: usize = 8;
    for i in 0..OBJECTS {
        servers
            .source
            .put(&format!("rep/obj-{i}.txt"), format!("report object {i}"))
            .await;
    }
    let config = servers.config().write(&servers.sandbox);
    let dir = servers.sandbox.path();
    let plan = servers.save_plan(&config, "saved.jsonl").await;
    let reports = dir.join("reports");
    let reports_arg = format!("{}/", reports.display());

    // Header and two items: shard 0's first item is in them.
    let run = through_fifo(
        &servers,
        &config,
        &plan,
        3,
        &["run", "--json"],
        &["--shard", "0/2", "--report", &reports_arg],
        object_started,
    )
    .await;
    assert!(
        run.early,
        "no object started before the plan's tail was written:\n{}",
        run.seen.join("\n")
    );
    assert_eq!(run.code, Some(0), "{}", run.seen.join("\n"));
    let other = servers
        .airlock_with(
            &config,
            &[
                "run",
                "--json",
                "--plan",
                plan.to_str().unwrap(),
                "--shard",
                "1/2",
                "--report",
                &reports_arg,
            ],
        )
        .run()
        .await;
    other.expect_code(0);
    assert_eq!(servers.target.keys("rep/").await.len(), OBJECTS);

    let mut listed = Vec::new();
    let mut ids = Vec::new();
    for index in 0..2 {
        let report = read_json(&reports.join(format!("shard-{index:05}-of-00002.json")));
        assert_eq!(report["format"], 2, "{report}");
        assert_eq!(report["shard"]["index"], index);
        let objects = report["objects"].as_array().unwrap();
        assert_eq!(
            objects.len() as u64,
            report["summary"]["copied"].as_u64().unwrap(),
            "{report}"
        );
        assert!(objects.len() >= 2, "a byte-balanced half: {report}");
        for object in objects {
            assert_eq!(object["outcome"], "copied", "{object}");
            assert_eq!(object["verified"], true, "{object}");
            assert!(object["requests"].as_u64().unwrap() >= 1, "{object}");
            listed.push(object["target_key"].as_str().unwrap().to_string());
        }
        ids.push(report["plan_id"].as_str().unwrap().to_string());
    }
    assert_eq!(
        ids[0], ids[1],
        "one plan, one id, whichever way it was read"
    );
    assert!(ids[0].len() == 16, "a fingerprint, not '{}'", ids[0]);
    listed.sort();
    let expected: Vec<String> = (0..OBJECTS).map(|i| format!("rep/obj-{i}.txt")).collect();
    assert_eq!(
        listed, expected,
        "each object in exactly one shard's report"
    );

    let merged = servers
        .airlock(["report", "--json", reports.to_str().unwrap()])
        .run()
        .await;
    merged.expect_code(0);
    let merged: Value = serde_json::from_str(&merged.stdout).expect("report --json");
    assert_eq!(merged["shard_count"], 2);
    assert_eq!(merged["missing_shards"].as_array().unwrap().len(), 0);
    assert_eq!(merged["totals"]["copied"], OBJECTS);
    assert_eq!(merged["totals"]["verified"], OBJECTS);
    assert_eq!(merged["copied_twice"].as_array().unwrap().len(), 0);
    assert!(merged.get("copied_twice_unchecked").is_none(), "{merged}");
}

/// More objects than a report lists: the list holds the first ones, the summary counts all,
/// and `objects_left_out` the rest; the merge still adds up (and, the shard's range meeting no
/// other, has nothing it could not check).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_of_more_objects_than_it_lists_stays_bounded() {
    const LIMIT: usize = airlock_core::job::shard_report::REPORT_LIST_LIMIT;
    const OBJECTS: usize = LIMIT + 30;
    let servers = TwoServers::start().await;
    let objects = (0..OBJECTS)
        .map(|i| (format!("lots/obj-{i:05}.txt"), format!("o{i}").into_bytes()))
        .collect();
    servers.source.put_many(objects, 16).await;
    let config = servers
        .config()
        .transfer(&["concurrency = 16"])
        .write(&servers.sandbox);
    let reports = servers.sandbox.path().join("reports");
    let reports_arg = format!("{}/", reports.display());
    servers
        .airlock_with(&config, &["run", "--json", "--report", &reports_arg])
        .run()
        .await
        .expect_code(0);
    let report = read_json(&reports.join("shard-00000-of-00001.json"));
    assert_eq!(
        report["summary"]["copied"], OBJECTS,
        "{}",
        report["summary"]
    );
    assert_eq!(report["objects"].as_array().unwrap().len(), LIMIT);
    assert_eq!(report["objects_left_out"], OBJECTS - LIMIT);
    assert_eq!(
        report["copied_keys"],
        serde_json::json!([
            "lots/obj-00000.txt",
            format!("lots/obj-{:05}.txt", OBJECTS - 1)
        ])
    );
    let merged = servers
        .airlock(["report", "--json", reports.to_str().unwrap()])
        .run()
        .await;
    merged.expect_code(0);
    let merged: Value = serde_json::from_str(&merged.stdout).unwrap();
    assert_eq!(merged["totals"]["copied"], OBJECTS);
    assert!(merged.get("copied_twice_unchecked").is_none(), "{merged}");
}
