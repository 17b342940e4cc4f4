//! Scaling out: one plan, several `airlock run --shard` processes side by side against the two
//! in-process servers, a split object filled by parts from different processes, `finalize`, the
//! shards' JSON reports and `airlock report`.
//!
//! Each shard process gets its own data dir (journal, logs), as separate containers would.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::{MIB, Output, TwoServers, events_named, json_lines, seeded_bytes};
use serde_json::Value;

/// Small objects, two multipart ones below `split_above`, and one split object of 4 parts.
fn objects() -> Vec<(String, u64)> {
    let mut objects: Vec<(String, u64)> = (0..12)
        .map(|n| (format!("small/{n:02}.bin"), 1_000 + n * 37 * 1024))
        .collect();
    objects.push(("mid/a.bin".into(), 6 * MIB));
    objects.push(("mid/b.bin".into(), 7 * MIB + 5));
    // 5 + 5 + 5 + (1 MiB + 123): 4 parts of 5 MiB.
    objects.push((BIG.into(), 16 * MIB + 123));
    objects
}

/// Put [`objects`] at the source (seed = position) and return them.
async fn fill_source(servers: &TwoServers) -> Vec<(String, u64)> {
    let objects = objects();
    for (seed, (key, size)) in objects.iter().enumerate() {
        if *size > 5 * MIB {
            // Multipart-routed and split objects need a full-object CRC64NVME at the source
            // to be verified on the source hop (a multipart or MD5 ETag cannot be recomputed
            // from ranged reads); finalize compares the combined parts with it.
            common::engine::put_seeded_crc(&servers.source, key, *size, seed as u64, 5 * MIB).await;
        } else {
            servers.source.put_seeded(key, *size, seed as u64).await;
        }
    }
    objects
}

const BIG: &str = "big/huge.bin";
const SHARDS: u32 = 3;

fn transfer() -> Vec<String> {
    vec![
        "multipart_threshold = \"5MiB\"".into(),
        "part_size = \"5MiB\"".into(),
        "split_above = \"12MiB\"".into(),
        "concurrency = 4".into(),
    ]
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("read '{}': {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("parse '{}': {e}", path.display()))
}

fn report_file(dir: &Path, index: u32) -> PathBuf {
    dir.join(format!("shard-{index:05}-of-{SHARDS:05}.json"))
}

/// Run shard `index` the way each kind of scheduler would start it: `--shard`, an AWS Batch
/// array child, a Kubernetes indexed Job pod.
async fn run_shard(
    servers: &TwoServers,
    config: &Path,
    plan: &Path,
    reports: &Path,
    index: u32,
) -> Output {
    let data_dir = servers.sandbox.path().join(format!("shard-data-{index}"));
    let plan = plan.to_str().unwrap();
    let reports = format!("{}/", reports.display());
    let mut args = vec![
        "run",
        "--json",
        "--plan",
        plan,
        "--report",
        reports.as_str(),
    ];
    let shard = format!("{index}/{SHARDS}");
    if index == 0 {
        args.extend(["--shard", shard.as_str()]);
    }
    let mut cmd = servers
        .airlock_with(config, &args)
        .env("AIRLOCK_DATA_DIR", &data_dir);
    let index_text = index.to_string();
    let count_text = SHARDS.to_string();
    match index {
        0 => {}
        1 => {
            cmd = cmd
                .env("AWS_BATCH_JOB_ARRAY_INDEX", &index_text)
                .env("AWS_BATCH_JOB_ARRAY_SIZE", &count_text);
        }
        _ => {
            cmd = cmd
                .env("JOB_COMPLETION_INDEX", &index_text)
                .env("AIRLOCK_SHARDS", &count_text);
        }
    }
    cmd.run().await
}

async fn run_all_shards(
    servers: &TwoServers,
    config: &Path,
    plan: &Path,
    reports: &Path,
) -> Vec<Output> {
    let (a, b, c) = tokio::join!(
        run_shard(servers, config, plan, reports, 0),
        run_shard(servers, config, plan, reports, 1),
        run_shard(servers, config, plan, reports, 2),
    );
    vec![a, b, c]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_copy_a_plan_together_and_split_a_big_object() {
    let servers = TwoServers::start().await;
    let objects = fill_source(&servers).await;
    let config = servers
        .config()
        .transfer(&transfer())
        .write(&servers.sandbox);
    let plan = servers.sandbox.path().join("plan.json");
    let reports = servers.sandbox.path().join("reports");
    let plan_arg = plan.to_str().unwrap();

    servers
        .airlock_with(&config, &["plan", "--summary", "-o", plan_arg])
        .run()
        .await
        .expect_code(0);
    let prepared = servers
        .airlock_with(&config, &["prepare", "--plan", plan_arg])
        .run()
        .await;
    prepared.expect_code(0);
    assert!(
        prepared.stdout.contains("1 uploads opened"),
        "{}",
        prepared.stdout
    );
    let saved = read_json(&plan);
    let split_items: Vec<&Value> = saved["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i.get("split").is_some())
        .collect();
    assert_eq!(split_items.len(), 1, "only the 16 MiB object is split");
    assert_eq!(split_items[0]["source_key"], BIG);
    assert_eq!(split_items[0]["parts"], 4);
    // Preparing again opens nothing new: the recorded upload is kept.
    let upload_id = split_items[0]["split"]["upload_id"].clone();
    let again = servers
        .airlock_with(&config, &["prepare", "--plan", plan_arg])
        .run()
        .await;
    again.expect_code(0);
    assert!(
        again
            .stdout
            .contains("0 uploads opened, 1 already prepared"),
        "{}",
        again.stdout
    );
    assert_eq!(
        read_json(&plan)["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["source_key"] == BIG)
            .unwrap()["split"]["upload_id"],
        upload_id
    );

    let outputs = run_all_shards(&servers, &config, &plan, &reports).await;
    let sources = [
        "from --shard",
        "from AWS Batch array job",
        "from Kubernetes indexed Job",
    ];
    for (index, output) in outputs.iter().enumerate() {
        output.expect_code(0);
        assert!(
            output
                .stderr
                .contains(&format!("shard {index}/{SHARDS} ({}", sources[index])),
            "shard {index} does not say where its index came from:\n{}",
            output.stderr
        );
    }

    // No object is copied twice; the union of the shards is the plan.
    let mut copied_by: BTreeMap<String, usize> = BTreeMap::new();
    let mut big_parts: BTreeMap<u64, usize> = BTreeMap::new();
    let mut shard_bytes = Vec::new();
    for (index, output) in outputs.iter().enumerate() {
        let events = json_lines(&output.stdout);
        for done in events_named(&events, "object_done") {
            let key = done["key"].as_str().unwrap().to_string();
            assert_eq!(done["verification"]["verified"], true, "{done}");
            if let Some(other) = copied_by.insert(key.clone(), index) {
                panic!("'{key}' copied by shards {other} and {index}");
            }
        }
        let uploaded = events_named(&events, "parts_uploaded");
        assert_eq!(
            uploaded.len(),
            1,
            "shard {index} uploads a range of the split object"
        );
        let (first, last) = (
            uploaded[0]["first_part"].as_u64().unwrap(),
            uploaded[0]["last_part"].as_u64().unwrap(),
        );
        // The big object's id in this shard's plan: the one its ObjectStarted names.
        let big_id = events_named(&events, "object_started")
            .into_iter()
            .find(|e| e["key"] == BIG)
            .expect("the split object starts in every shard")["id"]
            .clone();
        for started in events_named(&events, "part_started") {
            if started["id"] == big_id {
                let part = started["part"].as_u64().unwrap();
                assert!(
                    (first..=last).contains(&part),
                    "shard {index} sent part {part} outside {first}..={last}"
                );
                if let Some(other) = big_parts.insert(part, index) {
                    panic!("part {part} of the split object sent by shards {other} and {index}");
                }
            }
        }
        let report = read_json(&report_file(&reports, index as u32));
        shard_bytes.push(report["summary"]["bytes_copied"].as_u64().unwrap());
    }
    let whole: BTreeSet<String> = objects
        .iter()
        .filter(|(k, _)| k != BIG)
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(copied_by.keys().cloned().collect::<BTreeSet<_>>(), whole);
    assert_eq!(
        big_parts.keys().copied().collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    let shards_with_big_parts: BTreeSet<usize> = big_parts.values().copied().collect();
    assert_eq!(
        shards_with_big_parts.len(),
        3,
        "every shard sends part of the split object"
    );
    // Balanced by bytes: ~33 MiB over 3 shards; none does more than half.
    let total: u64 = shard_bytes.iter().sum();
    assert_eq!(total, objects.iter().map(|(_, s)| s).sum::<u64>());
    assert!(
        shard_bytes.iter().all(|&b| b < total / 2),
        "unbalanced shards: {shard_bytes:?}"
    );

    // Before finalize the split object is not at the target; after, it is, byte for byte.
    assert!(!servers.target.keys("big/").await.contains(&BIG.to_string()));
    let finalized = servers
        .airlock_with(&config, &["finalize", "--plan", plan_arg])
        .run()
        .await;
    finalized.expect_code(0);
    assert!(
        finalized.stdout.contains(&format!("completed  {BIG}")),
        "{}",
        finalized.stdout
    );
    assert!(
        finalized.stdout.contains(
            "1 completed, 0 already complete, 0 complete but not fully verified, 0 failed"
        ),
        "{}",
        finalized.stdout
    );
    for (seed, (key, size)) in objects.iter().enumerate() {
        let bytes = servers.target.get(key).await;
        assert_eq!(bytes.len() as u64, *size, "'{key}' size");
        assert!(
            bytes == seeded_bytes(seed as u64, 0, *size as usize),
            "'{key}' bytes differ"
        );
    }
    // Finalize twice: nothing to do, still success.
    let twice = servers
        .airlock_with(&config, &["finalize", "--plan", plan_arg])
        .run()
        .await;
    twice.expect_code(0);
    assert!(
        twice.stdout.contains(&format!("already complete  {BIG}")),
        "{}",
        twice.stdout
    );

    // `report` merges the three reports.
    let merged = servers
        .airlock(["report", "--json", reports.to_str().unwrap()])
        .run()
        .await;
    merged.expect_code(0);
    let merged: Value = serde_json::from_str(&merged.stdout).expect("report --json");
    assert_eq!(merged["shard_count"], SHARDS);
    assert_eq!(merged["missing_shards"].as_array().unwrap().len(), 0);
    assert_eq!(merged["totals"]["copied"], whole.len());
    assert_eq!(merged["totals"]["verified"], whole.len());
    assert_eq!(merged["totals"]["split_ranges"], SHARDS);
    assert_eq!(merged["totals"]["failed"], 0);
    assert_eq!(merged["totals"]["bytes_copied"], total);

    // A rerun of a finished shard sends nothing: everything of it is at the target now.
    let rerun = run_shard(&servers, &config, &plan, &reports, 1).await;
    rerun.expect_code(0);
    let rerun_events = json_lines(&rerun.stdout);
    assert!(
        events_named(&rerun_events, "part_started").is_empty(),
        "rerun sent data:\n{}",
        rerun.stdout
    );
    let first_run = outputs[1]
        .stdout
        .matches("\"event\":\"object_done\"")
        .count();
    let report = read_json(&report_file(&reports, 1));
    assert_eq!(report["summary"]["copied"], 0);
    assert_eq!(report["summary"]["bytes_copied"], 0);
    // The rerun's report replaced the first one: the merge now counts its objects as skipped.
    let merged = servers
        .airlock(["report", "--json", reports.to_str().unwrap()])
        .run()
        .await;
    merged.expect_code(0);
    let merged: Value = serde_json::from_str(&merged.stdout).unwrap();
    assert_eq!(merged["totals"]["copied"], whole.len() - first_run);
    assert_eq!(merged["totals"]["split_ranges"], SHARDS - 1);
    assert_eq!(
        report["summary"]["skipped"].as_u64().unwrap(),
        first_run as u64 + 1,
        "the rerun skips its objects and the finished split object"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_fails_on_failed_objects_and_missing_shards_from_s3() {
    let servers = TwoServers::start().await;
    for n in 0..6u64 {
        servers
            .source
            .put_seeded(&format!("data/{n}.bin"), 10_000 + n * 1000, n)
            .await;
    }
    let config = servers
        .config()
        .prefixes("data/", "copy/")
        .write(&servers.sandbox);
    let plan = servers.sandbox.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    servers
        .airlock_with(&config, &["plan", "-o", plan_arg])
        .run()
        .await
        .expect_code(0);
    // Gone after planning: whichever shard owns it fails it.
    servers
        .source
        .client
        .delete_object()
        .bucket(&servers.source.bucket)
        .key("data/3.bin")
        .send()
        .await
        .unwrap();
    let reports = "s3://target-bucket/reports/run-1/";
    let shard = |index: u32| {
        let data_dir = servers.sandbox.path().join(format!("data-{index}"));
        let shard = format!("{index}/2");
        servers
            .airlock_with(
                &config,
                &[
                    "run",
                    "--plan",
                    plan_arg,
                    "--shard",
                    shard.as_str(),
                    "--report",
                    reports,
                ],
            )
            .env("AIRLOCK_DATA_DIR", data_dir)
            .run()
    };
    let (zero, one) = tokio::join!(shard(0), shard(1));
    let codes = [zero.code, one.code];
    assert!(
        codes.contains(&1) && codes.contains(&0),
        "one shard fails data/3.bin: {codes:?}\n{}\n{}",
        zero.all(),
        one.all()
    );
    let reports_listed = servers.target.keys("reports/run-1/").await;
    assert_eq!(
        reports_listed,
        vec![
            "reports/run-1/shard-00000-of-00002.json".to_string(),
            "reports/run-1/shard-00001-of-00002.json".to_string()
        ]
    );

    let merged = servers
        .airlock_with(&config, &["report", reports])
        .run()
        .await;
    merged.expect_code(1);
    assert!(merged.stdout.contains("data/3.bin"), "{}", merged.stdout);
    assert!(merged.stdout.contains("NOT OK"), "{}", merged.stdout);
    let merged = servers
        .airlock_with(&config, &["report", "--json", reports])
        .run()
        .await;
    merged.expect_code(1);
    let merged: Value = serde_json::from_str(&merged.stdout).unwrap();
    assert_eq!(merged["totals"]["copied"], 5);
    assert_eq!(merged["totals"]["failed"], 1);
    assert_eq!(merged["failures"][0][0], "data/3.bin");

    // With the source back, a rerun of the failed shard copies it; the merge is then clean.
    servers.source.put_seeded("data/3.bin", 13_000, 3).await;
    let failed_index = if zero.code == 1 { 0 } else { 1 };
    shard(failed_index).await.expect_code(0);
    let merged = servers
        .airlock_with(&config, &["report", reports])
        .run()
        .await;
    merged.expect_code(0);
    assert!(
        merged.stdout.contains("ok: every shard reported"),
        "{}",
        merged.stdout
    );

    // A shard that never reported makes the merge fail, naming it.
    servers
        .target
        .client
        .delete_object()
        .bucket(&servers.target.bucket)
        .key("reports/run-1/shard-00001-of-00002.json")
        .send()
        .await
        .unwrap();
    let merged = servers
        .airlock_with(&config, &["report", reports])
        .run()
        .await;
    merged.expect_code(1);
    assert!(
        merged.stdout.contains("no report from shard 1 of 2"),
        "{}",
        merged.stdout
    );
}

/// The plan kept in the target account instead of a shared disk: `plan -o s3://…` writes it,
/// `prepare` reads it and writes the split back, every shard reads it, `finalize` completes
/// the split object from it. A prefix or a missing key is refused before anything is copied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_kept_in_s3_is_prepared_run_by_every_shard_and_finalized() {
    let servers = TwoServers::start().await;
    let objects = fill_source(&servers).await;
    // Plans and reports outside the copied prefix: a mirror run would delete what the source
    // does not have.
    let config = servers
        .config()
        .set_str("target", "prefix", "copy/")
        .transfer(&transfer())
        .write(&servers.sandbox);
    let bucket = &servers.target.bucket;
    let plan = format!("s3://{bucket}/plans/backfill.json");

    for (bad, says) in [
        (
            format!("s3://{bucket}/plans/"),
            "names a prefix, not a plan",
        ),
        (
            format!("s3://{bucket}/plans/missing.json"),
            "cannot be read with the target's credentials",
        ),
    ] {
        let refused = servers
            .airlock_with(&config, &["run", "--plan", bad.as_str()])
            .run()
            .await;
        refused.expect_code(2);
        assert!(refused.stderr.contains(&bad), "{}", refused.all());
        assert!(refused.stderr.contains(says), "{}", refused.all());
    }
    let refused = servers
        .airlock_with(&config, &["plan", "-o", &format!("s3://{bucket}/plans/")])
        .run()
        .await;
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("names a prefix, not a plan"),
        "{}",
        refused.all()
    );
    assert!(servers.target.keys("").await.is_empty(), "nothing written");

    servers
        .airlock_with(&config, &["plan", "--summary", "-o", plan.as_str()])
        .run()
        .await
        .expect_code(0);
    assert_eq!(
        servers.target.keys("plans/").await,
        vec!["plans/backfill.json".to_string()]
    );
    servers
        .airlock_with(&config, &["prepare", "--plan", plan.as_str()])
        .run()
        .await
        .expect_code(0);
    let saved: Value = serde_json::from_slice(&servers.target.get("plans/backfill.json").await)
        .expect("the prepared plan is JSON");
    let split = saved["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i.get("split").is_some())
        .count();
    assert_eq!(split, 1, "prepare wrote the split object back to S3");

    let reports = servers.sandbox.path().join("reports-s3-plan");
    let outputs = run_all_shards(&servers, &config, Path::new(&plan), &reports).await;
    for output in &outputs {
        output.expect_code(0);
        assert_eq!(
            events_named(&json_lines(&output.stdout), "parts_uploaded").len(),
            1,
            "every shard read the prepared plan: {}",
            output.all()
        );
    }
    servers
        .airlock_with(&config, &["finalize", "--plan", plan.as_str()])
        .run()
        .await
        .expect_code(0);
    for (seed, (key, size)) in objects.iter().enumerate() {
        let bytes = servers.target.get(&format!("copy/{key}")).await;
        assert!(
            bytes == seeded_bytes(seed as u64, 0, *size as usize),
            "'{key}' differs at the target"
        );
    }
}
