//! Reliability suites of issue #6 run through the headless binary (`airlock run --json`) with
//! the fault proxy in front of both servers: mixed faults on both hops, one object that always
//! fails, a source overwritten while a single GET streams, and stalled connections on the
//! target. Each asserts the bytes at the target and that no multipart upload is left behind.
//!
//! Covered elsewhere: a source overwritten during a multipart copy (`engine_resume.rs`), the
//! SlowDown storm (`engine_faults.rs`), a killed run resumed (`run_cli.rs`).

mod common;

use std::time::{Duration, Instant};

use common::engine::{Rig, put_seeded_crc};
use common::proxy::{Fault, Op, Rule};
use common::{MIB, Output, seeded_bytes};

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    output
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn summary_of(lines: &[serde_json::Value]) -> &serde_json::Value {
    let finished: Vec<_> = lines
        .iter()
        .filter(|l| l["event"] == "run_finished")
        .collect();
    assert_eq!(finished.len(), 1, "one run_finished line");
    &finished[0]["summary"]
}

async fn run_json(rig: &Rig, transfer: &[&str]) -> Output {
    let config = rig
        .servers
        .sandbox
        .write_config(&rig.config_text(&[], transfer));
    rig.servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await
}

const PARTS_OF_5_MIB: [&str; 2] = ["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""];

/// Suite 1: about 5% of data requests on both hops fail in mixed ways (500, 503, resets
/// mid-body either way, truncated bodies); every object still arrives verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_percent_mixed_faults_on_both_hops_and_everything_is_verified() {
    let rig = Rig::start().await;
    let objects = (0..500u64)
        .map(|i| {
            let size = 1000 + (i * 7919) % 20_000;
            (format!("many/{i:03}"), seeded_bytes(i, 0, size as usize))
        })
        .collect();
    rig.source().put_many(objects, 16).await;
    // Full-object checksums at the source make the multipart copies verifiable too.
    put_seeded_crc(rig.source(), "big/a.bin", 16 * MIB, 1, 8 * MIB).await;
    put_seeded_crc(rig.source(), "big/b.bin", 12 * MIB + 7, 2, 8 * MIB).await;

    let reads = [Op::GetObject, Op::GetObjectRange];
    let writes = [Op::PutObject, Op::UploadPart];
    let mut rules = Vec::new();
    for op in reads {
        for (fault, rate) in [
            (Fault::InternalError, 0.015),
            (Fault::SlowDown, 0.01),
            (Fault::ResetResponse { after_bytes: 500 }, 0.0125),
            (Fault::Truncate { after_bytes: 500 }, 0.0125),
        ] {
            rules.push((
                &rig.source_proxy,
                rig.source_proxy
                    .add_rule(Rule::new(fault).on(op).rate(rate)),
            ));
        }
    }
    for op in writes {
        for (fault, rate) in [
            (Fault::InternalError, 0.02),
            (Fault::SlowDown, 0.01),
            (Fault::ResetRequest { after_bytes: 500 }, 0.02),
        ] {
            rules.push((
                &rig.target_proxy,
                rig.target_proxy
                    .add_rule(Rule::new(fault).on(op).rate(rate)),
            ));
        }
    }
    let output = run_json(
        &rig,
        &[
            &PARTS_OF_5_MIB[..],
            &["concurrency = 16", "max_retries = 8"],
        ]
        .concat(),
    )
    .await;
    output.expect_code(0);
    let lines = json_lines(&output);
    let summary = summary_of(&lines);
    assert_eq!(summary["copied"], 502, "{summary}");
    assert_eq!(summary["verified"], 502, "{summary}");
    assert_eq!(summary["failed"], 0);
    let fired: u64 = rules.iter().map(|(proxy, id)| proxy.fired(*id)).sum();
    let retries = summary["retries"].as_u64().unwrap();
    let retry_lines = lines.iter().filter(|l| l["event"] == "part_retry").count() as u64;
    assert_eq!(
        retries, retry_lines,
        "the summary counts every retry reported"
    );
    // A fault on each hop of the same attempt costs one retry, so retries <= faults.
    assert!(fired >= 15, "about 5% of ~530 data requests: {fired}");
    assert!(
        (fired / 2..=fired).contains(&retries),
        "{retries} retries for {fired} faults"
    );
    rig.assert_all_copied().await;
    assert!(rig.target_uploads().await.is_empty());
}

/// Suite 2: one multipart object fails every time; it is reported with its reason, every
/// other object is copied, the exit code is 1 and its upload is aborted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_object_that_always_fails_fails_alone_with_exit_code_1() {
    let rig = Rig::start().await;
    let source = rig.source();
    source.put_seeded("doomed.bin", 12 * MIB, 1).await;
    source.put_seeded("fine.bin", 11 * MIB, 2).await;
    for i in 0..20u64 {
        source
            .put(&format!("small/{i}"), seeded_bytes(i, 0, 3000))
            .await;
    }
    rig.target_proxy.add_rule(
        Rule::new(Fault::InternalError)
            .on(Op::UploadPart)
            .key("doomed")
            .part(2),
    );
    let output = run_json(&rig, &[&PARTS_OF_5_MIB[..], &["max_retries = 2"]].concat()).await;
    output.expect_code(1);
    let lines = json_lines(&output);
    let summary = summary_of(&lines);
    assert_eq!(
        (summary["copied"].as_u64(), summary["failed"].as_u64()),
        (Some(21), Some(1))
    );
    let failures = summary["failures"].as_array().unwrap();
    assert_eq!(failures[0][0], "doomed.bin");
    let reason = failures[0][1].as_str().unwrap();
    assert!(
        reason.contains("UploadPart") && reason.contains("InternalError"),
        "{reason}"
    );
    let failed: Vec<_> = lines
        .iter()
        .filter(|l| l["event"] == "object_failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["kept_upload"], serde_json::Value::Null);
    assert!(rig.target().keys("doomed").await.is_empty());
    assert!(
        rig.target_uploads().await.is_empty(),
        "its upload was aborted"
    );
    assert_eq!(rig.target_proxy.count(Op::AbortMultipartUpload), 1);
    rig.assert_copied("fine.bin").await;
    for i in 0..20 {
        rig.assert_copied(&format!("small/{i}")).await;
    }
}

/// Suite 4 (single route): the source is overwritten while its GET is half streamed. The
/// target ends up with one whole version, never a mix, and says it was verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_overwritten_while_its_get_streams_is_never_mixed_at_the_target() {
    let rig = Rig::start().await;
    let old = seeded_bytes(1, 0, 3 * MIB as usize);
    let new = seeded_bytes(2, 0, 3 * MIB as usize);
    rig.source().put("changing.bin", old.clone()).await;
    rig.source_proxy.add_rule(
        Rule::new(Fault::HoldBody { after_bytes: MIB })
            .on(Op::GetObject)
            .times(1),
    );
    let config = rig
        .servers
        .sandbox
        .write_config(&rig.config_text(&[], &["max_retries = 2"]));
    let child = rig
        .servers
        .airlock_with(&config, &["run", "--json"])
        .spawn();
    rig.source_proxy
        .wait_for("the GET paused after 1 MiB", |p| p.held() == 1)
        .await;
    rig.source().put("changing.bin", new.clone()).await;
    rig.source_proxy.release_held();
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("run ends")
        .unwrap();
    let output = Output {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    };
    output.expect_code(0);
    let at_target = rig.target().get("changing.bin").await;
    assert!(
        at_target == old || at_target == new,
        "the target holds a mix of versions"
    );
    let lines = json_lines(&output);
    let done: Vec<_> = lines
        .iter()
        .filter(|l| l["event"] == "object_done")
        .collect();
    assert_eq!(done[0]["verification"]["verified"], true, "{}", done[0]);
}

/// Suite 5: requests to the target that are never answered, and bodies that stop halfway, are
/// cut by the read timeout and retried; the run finishes within the stated bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connections_on_both_hops_are_cut_and_the_run_ends_in_bounded_time() {
    let rig = Rig::start().await;
    let source = rig.source();
    source.put_seeded("multi.bin", 12 * MIB, 1).await;
    for i in 0..10u64 {
        source
            .put(&format!("small/{i}"), seeded_bytes(i, 0, 200_000))
            .await;
    }
    let mut rules = Vec::new();
    for op in [Op::PutObject, Op::UploadPart] {
        let id = rig
            .target_proxy
            .add_rule(Rule::new(Fault::Stall).on(op).times(2));
        rules.push((&rig.target_proxy, id));
    }
    for op in [Op::GetObject, Op::GetObjectRange] {
        let id = rig.source_proxy.add_rule(
            Rule::new(Fault::StallBody {
                after_bytes: 100_000,
            })
            .on(op)
            .times(2),
        );
        rules.push((&rig.source_proxy, id));
    }
    let started = Instant::now();
    let output = run_json(
        &rig,
        &[
            &PARTS_OF_5_MIB[..],
            &["read_timeout = \"1s\"", "max_retries = 3"],
        ]
        .concat(),
    )
    .await;
    let elapsed = started.elapsed();
    output.expect_code(0);
    let summary = summary_of(&json_lines(&output)).clone();
    assert_eq!(summary["copied"], 11, "{summary}");
    let fired: u64 = rules.iter().map(|(proxy, id)| proxy.fired(*id)).sum();
    assert_eq!(fired, 8, "every stall happened");
    // A stalled GET may feed a PUT that is stalled too: one attempt, two stalls.
    let retries = summary["retries"].as_u64().unwrap();
    assert!((4..=8).contains(&retries), "{retries} retries: {summary}");
    // 8 stalls of ~1 s each, at most a few at once, plus the copy itself.
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
    rig.assert_all_copied().await;
    assert!(rig.target_uploads().await.is_empty());
}
