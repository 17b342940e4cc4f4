//! Reliability suites of issue #6 run through the headless binary (`airlock run --json`) with
//! the fault proxy in front of both servers: mixed faults on both hops, one object that always
//! fails, the process killed mid-copy and restarted, a source overwritten while a single GET
//! streams, stalled connections on the target, and the target refusing writes mid-run. Each
//! asserts the bytes at the target and that no multipart upload is left behind.
//!
//! Covered elsewhere: a source overwritten during a multipart copy (`engine_resume.rs`), the
//! SlowDown storm (`engine_faults.rs`), a killed run resumed (`run_cli.rs`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::common::engine::{Rig, put_seeded_crc};
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::{MIB, Output, json_lines, run_summary, seeded_bytes};

async fn run_json(rig: &Rig, transfer: &[&str]) -> Output {
    let config = rig.config().transfer(transfer).write(&rig.servers.sandbox);
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
    let lines = json_lines(&output.stdout);
    let summary = run_summary(&lines);
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
    let lines = json_lines(&output.stdout);
    let summary = run_summary(&lines);
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
        .config()
        .transfer(&["max_retries = 2"])
        .write(&rig.servers.sandbox);
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
    let lines = json_lines(&output.stdout);
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
    let summary = run_summary(&json_lines(&output.stdout)).clone();
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

/// A small seeded generator (splitmix64) for the crash points.
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

fn output_of(output: std::process::Output) -> Output {
    Output {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

/// Suite 3: the headless run is killed with SIGKILL at six seeded points while the parts of a
/// multipart copy stream to the target, and started again each time. It completes with the
/// same bytes and one upload, and each crash costs at most concurrency x part size of
/// UploadPart bytes sent again (measured at the proxy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_six_times_mid_copy_it_completes_resending_at_most_concurrency_parts_per_crash() {
    const SIZE: u64 = 60 * MIB;
    const PART: u64 = 5 * MIB;
    const CONCURRENCY: u64 = 2;
    const CRASHES: usize = 6;
    let rig = Rig::start().await;
    rig.source().put_seeded("crash.bin", SIZE, 21).await;
    let config = rig
        .config()
        .transfer(&PARTS_OF_5_MIB)
        .transfer(&["concurrency = 2"])
        .write(&rig.servers.sandbox);
    // 8 MiB/s per part, so a kill lands while parts are streaming, not after the copy.
    rig.target_proxy
        .add_rule(Rule::new(Fault::Bandwidth(8 * MIB)).on(Op::UploadPart));
    let mut rng = Seeded(0xC0FFEE);
    // Per run: (part, bytes sent, status) of every UploadPart, in order.
    let mut runs: Vec<Vec<(u32, u64, Option<u16>)>> = Vec::new();
    let uploads = |rig: &Rig| -> Vec<(u32, u64, Option<u16>)> {
        rig.target_proxy
            .exchanges()
            .into_iter()
            .filter(|e| e.op == Op::UploadPart)
            .map(|e| (e.part.unwrap(), e.request_bytes, e.status))
            .collect()
    };
    let started = Instant::now();
    let mut creates = 0;
    for crash in 0..CRASHES {
        // Kill after 1 to 21 MiB of parts in this run, but before the run could have sent
        // what is left (parts answered 200 so far are taken as done, so this never overshoots).
        let done: std::collections::BTreeSet<u32> = runs
            .iter()
            .flatten()
            .filter(|s| s.2 == Some(200))
            .map(|s| s.0)
            .collect();
        let left = SIZE - PART * done.len() as u64;
        let kill_at = MIB + rng.below((20 * MIB).min(left - 2 * MIB));
        let mut child = rig
            .servers
            .airlock_with(&config, &["run", "--json"])
            .spawn();
        let deadline = Instant::now() + Duration::from_secs(20);
        while rig.target_proxy.request_bytes(Op::UploadPart) < kill_at {
            if let Some(status) = child.try_wait().unwrap() {
                let output = output_of(child.wait_with_output().await.unwrap());
                panic!("run {crash} ended ({status}) before {kill_at} bytes: {output:?}");
            }
            assert!(
                Instant::now() < deadline,
                "run {crash} reached {kill_at} bytes"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().await.expect("kill -9 the run");
        let output = output_of(child.wait_with_output().await.unwrap());
        output.assert_never_prints("panicked");
        // Let the proxy see the last bytes and the end of the dropped connections.
        tokio::time::sleep(Duration::from_millis(100)).await;
        creates += rig.target_proxy.count(Op::CreateMultipartUpload);
        runs.push(uploads(&rig));
        rig.target_proxy.reset_stats();
    }
    let output = rig
        .servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;
    output.expect_code(0);
    output.assert_never_prints("panicked");
    let lines = json_lines(&output.stdout);
    let resumed = lines
        .iter()
        .find(|l| l["event"] == "object_started")
        .map(|l| l["resumed_parts"].as_u64().unwrap());
    creates += rig.target_proxy.count(Op::CreateMultipartUpload);
    runs.push(uploads(&rig));
    let elapsed = started.elapsed();
    rig.assert_all_copied().await;
    assert!(rig.target_uploads().await.is_empty(), "no upload left");
    assert!(rig.journal_files().is_empty(), "no journal left");
    assert_eq!(creates, 1, "every restart went on with the same upload");

    // A part's useful send is its last one answered 200; every other byte was sent again.
    let mut useful: BTreeMap<u32, (usize, u64)> = BTreeMap::new();
    for (run, sends) in runs.iter().enumerate() {
        for &(part, bytes, status) in sends {
            if status == Some(200) {
                useful.insert(part, (run, bytes));
            }
        }
    }
    assert_eq!(useful.len() as u64, SIZE / PART, "{useful:?}");
    // Request bodies carry the aws-chunked framing (chunk sizes, checksum trailer) too.
    let framing = useful.values().map(|(_, b)| b - PART).max().unwrap();
    assert!(framing < 16 * 1024, "{framing} bytes of framing per part");
    let bound = CONCURRENCY * (PART + framing);
    let kept_before = useful.values().filter(|(r, _)| *r < CRASHES).count() as u64;
    assert!(
        kept_before >= 4,
        "parts finished between crashes: {useful:?}"
    );
    assert_eq!(
        resumed,
        Some(kept_before),
        "the last run resumes exactly the parts that were kept"
    );
    let mut resent = Vec::new();
    for (run, sends) in runs.iter().enumerate() {
        let sent: u64 = sends.iter().map(|s| s.1).sum();
        let kept: u64 = useful
            .values()
            .filter(|(r, _)| *r == run)
            .map(|(_, b)| b)
            .sum();
        resent.push(sent - kept);
    }
    eprintln!(
        "UploadPart bytes sent again per crash: {resent:?} (bound {bound}), took {elapsed:?}"
    );
    for (crash, &bytes) in resent[..CRASHES].iter().enumerate() {
        assert!(
            bytes <= bound,
            "crash {crash} cost {bytes} bytes sent again: {:?}",
            runs[crash]
        );
    }
    assert_eq!(resent[CRASHES], 0, "the last run sends each part once");
    assert!(
        resent[..CRASHES].iter().filter(|&&b| b > 0).count() >= CRASHES - 1,
        "the kills landed mid-part: {resent:?}"
    );
}

/// Suite 6: while a run copies, the target starts refusing every request with 403
/// AccessDenied (its permission revoked). Every object not yet at the target fails with an
/// error naming AccessDenied, the run ends with exit code 1 within 20 s of the revocation,
/// without a panic, and what it did copy is intact. Failed objects are not at the target
/// (or, when their PUT landed before the check was refused, whole); an upload whose abort
/// was refused is named in the log with the command that removes it, and that command does.
/// 30 small objects and two of three parts, copied with slow target writes by a headless run
/// that is stopped once a few objects and a part reached the target: returns the running
/// child and its config.
async fn run_until_under_way(rig: &Rig) -> (tokio::process::Child, std::path::PathBuf) {
    let source = rig.source();
    for i in 0..30u64 {
        source
            .put(&format!("small/{i:02}"), seeded_bytes(i, 0, 300_000))
            .await;
    }
    source.put_seeded("big/a.bin", 15 * MIB, 1).await;
    source.put_seeded("big/b.bin", 15 * MIB, 2).await;
    // Slow writes, so what the test breaks breaks while objects are on their way.
    for op in [Op::PutObject, Op::UploadPart] {
        rig.target_proxy
            .add_rule(Rule::new(Fault::Bandwidth(4 * MIB)).on(op));
    }
    let config = rig
        .config()
        .transfer(&PARTS_OF_5_MIB)
        .transfer(&["concurrency = 4", "max_retries = 3"])
        .write(&rig.servers.sandbox);
    let child = rig
        .servers
        .airlock_with(&config, &["run", "--json"])
        .spawn();
    rig.target_proxy
        .wait_for("a few objects copied and a part under way", |p| {
            let e = p.exchanges();
            // The uploads' state objects under `.airlock/` are PUTs too, not copies.
            let ok = |op| {
                e.iter()
                    .filter(|x| x.op == op && x.status == Some(200))
                    .filter(|x| !x.key.starts_with(".airlock/"))
                    .count()
            };
            ok(Op::PutObject) >= 3 && e.iter().any(|x| x.op == Op::UploadPart)
        })
        .await;
    (child, config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_revoked_mid_run_fails_each_object_with_access_denied_and_ends() {
    let rig = Rig::start().await;
    let (child, config) = run_until_under_way(&rig).await;
    rig.target_proxy
        .add_rule(Rule::new(Fault::Status(403, "AccessDenied")));
    let revoked = Instant::now();
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the run ends")
        .unwrap();
    let elapsed = revoked.elapsed();
    let output = output_of(output);
    output.expect_code(1);
    output.assert_never_prints("panicked");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    let lines = json_lines(&output.stdout);
    let summary = run_summary(&lines);
    let (copied, failed) = (
        summary["copied"].as_u64().unwrap(),
        summary["failed"].as_u64().unwrap(),
    );
    assert_eq!(copied + failed, 32, "{summary}");
    assert!(copied >= 3 && failed >= 2, "{summary}");
    let failures: Vec<_> = lines
        .iter()
        .filter(|l| l["event"] == "object_failed")
        .collect();
    assert_eq!(failures.len() as u64, failed);
    for failure in &failures {
        let error = failure["error"].as_str().unwrap();
        assert!(error.contains("AccessDenied"), "{failure}");
        // A PUT already forwarded may have landed before its check was refused: then whole.
        let key = failure["key"].as_str().unwrap();
        if !rig.target().keys(key).await.is_empty() {
            rig.assert_copied(key).await;
        }
    }
    let failed_keys: Vec<_> = failures
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert!(failed_keys.contains(&"big/a.bin") || failed_keys.contains(&"big/b.bin"));
    for done in lines.iter().filter(|l| l["event"] == "object_done") {
        rig.assert_copied(done["key"].as_str().unwrap()).await;
    }
    // The abort of a failed object's upload is refused too: the upload stays, and the log says
    // so and how to remove it. Once writes are allowed again, that removes it.
    rig.target_proxy.clear_rules();
    let left = rig.target_uploads().await;
    if !left.is_empty() {
        let log = std::fs::read_to_string(rig.servers.sandbox.log_file()).unwrap();
        for (key, _) in &left {
            assert!(
                log.lines().any(|l| l.contains("could not abort")
                    && l.contains(key.as_str())
                    && l.contains("airlock uploads abort")),
                "the log names the upload left for {key}:\n{log}"
            );
        }
        rig.servers
            .airlock_with(&config, &["uploads", "abort", "--all"])
            .run()
            .await
            .expect_code(0);
    }
    assert!(rig.target_uploads().await.is_empty());
}

/// Suite 6 (bucket removed): the target answers 404 NoSuchBucket to everything while the
/// run copies. Every object not yet at the target fails with an error naming the missing
/// bucket, the run ends with exit code 1 within 20 s, without a panic. (Uploads are not
/// checked: the bucket is gone only as far as the proxy says, and with it S3 drops them.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_bucket_removed_mid_run_fails_each_object_naming_it_and_ends() {
    let rig = Rig::start().await;
    let (child, _) = run_until_under_way(&rig).await;
    // Deleting the bucket's directory does not do it: s3s-fs creates it again on the next PUT.
    // So the proxy answers what S3 does for a deleted bucket.
    rig.target_proxy
        .add_rule(Rule::new(Fault::Status(404, "NoSuchBucket")));
    let removed = Instant::now();
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the run ends")
        .unwrap();
    let elapsed = removed.elapsed();
    let output = output_of(output);
    output.expect_code(1);
    output.assert_never_prints("panicked");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    let lines = json_lines(&output.stdout);
    let summary = run_summary(&lines);
    let (copied, failed) = (
        summary["copied"].as_u64().unwrap(),
        summary["failed"].as_u64().unwrap(),
    );
    assert_eq!(copied + failed, 32, "{summary}");
    assert!(copied >= 3 && failed >= 2, "{summary}");
    let failures: Vec<_> = lines
        .iter()
        .filter(|l| l["event"] == "object_failed")
        .collect();
    assert_eq!(failures.len() as u64, failed);
    for failure in &failures {
        // A PUT answers NoSuchBucket; a HEAD (no body) only finds the object missing.
        let error = failure["error"].as_str().unwrap();
        assert!(
            error.contains("NoSuchBucket") || error.contains("target bucket removed"),
            "{failure}"
        );
    }
    for done in lines.iter().filter(|l| l["event"] == "object_done") {
        rig.assert_copied(done["key"].as_str().unwrap()).await;
    }
}
