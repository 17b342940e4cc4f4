//! A run that restarts on another machine (Spot interruption, pod eviction): the data dir is
//! gone, so the resume comes from the target alone (the state object and ListParts). kill -9 at
//! several points of one multipart copy, SIGTERM followed by a run on an empty data dir, a
//! split shard restarted mid-range, and an upload another tool opened at the same key (named,
//! left alone). Everything runs the built binary against the in-process servers through the
//! fault proxies, which count what was sent.

mod foreign;
mod killed;
mod split;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::engine::{Rig, put_seeded_crc};
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::{MIB, events_named, json_lines, run_summary};

/// Parts answered 200 by the target, per part number (all keys, since the last reset).
pub(crate) fn parts_at_target(rig: &Rig) -> BTreeMap<u32, usize> {
    let mut parts = BTreeMap::new();
    for e in rig.target_proxy.exchanges() {
        if let (Op::UploadPart, Some(200), Some(part)) = (e.op, e.status, e.part) {
            *parts.entry(part).or_default() += 1;
        }
    }
    parts
}

/// Delete the data dir (journal, logs): the next run is on a new machine.
pub(crate) fn new_machine(rig: &Rig) {
    let dir = rig.servers.sandbox.data_dir();
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("delete the data dir");
    }
    assert!(rig.journal_files().is_empty());
}

/// Run `airlock run --json` until `parts` more parts are at the target and `in_flight` more
/// UploadParts are each at least `MID_PART` bytes into their body (every UploadPart after those
/// `parts` is slowed to 1 MiB/s and never lands), then kill it (-9) mid-part. Returns what it printed on stdout
/// before it died.
pub(crate) async fn run_killed_after(
    rig: &Rig,
    config: &Path,
    parts: usize,
    in_flight: usize,
) -> String {
    const MID_PART: u64 = MIB;
    let ok_before: usize = parts_at_target(rig).values().sum();
    let sent_before = rig.target_proxy.count(Op::UploadPart);
    rig.target_proxy.add_rule(
        Rule::new(Fault::Bandwidth(MIB))
            .on(Op::UploadPart)
            .skip(parts as u64),
    );
    // What the killed run had pushed into its sockets still drains into the target after the
    // kill; a flipped byte past `MID_PART` makes the target refuse such a part (CRC64NVME
    // trailer), as a part cut off by the kill would be, so no in-flight part lands late.
    rig.target_proxy.add_rule(
        Rule::new(Fault::CorruptRequest {
            at_byte: MID_PART + MIB,
        })
        .on(Op::UploadPart)
        .skip(parts as u64),
    );
    let mut child = rig.servers.airlock_with(config, &["run", "--json"]).spawn();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ok: usize = parts_at_target(rig).values().sum::<usize>() - ok_before;
        let sending: Vec<u64> = (rig.target_proxy.exchanges().iter())
            .filter(|e| e.op == Op::UploadPart)
            .skip(sent_before)
            .filter(|e| e.status.is_none())
            .map(|e| e.request_bytes)
            .collect();
        if ok >= parts && sending.len() >= in_flight && sending.iter().all(|&b| b >= MID_PART) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{parts} parts at the target and {in_flight} mid-part in time ({ok} at the target, sending {sending:?})"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().await.expect("kill -9 the run");
    rig.target_proxy.clear_rules();
    // What the run wrote into its sockets before it died still drains through the proxy (at
    // 1 MiB/s, a body frame at a time): count it for this run.
    let mut drained = rig.target_proxy.request_bytes(Op::UploadPart);
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = rig.target_proxy.request_bytes(Op::UploadPart);
        if now == drained {
            break;
        }
        drained = now;
    }
    let output = child
        .wait_with_output()
        .await
        .expect("the killed run's output");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `resumed_parts` of the run's one `object_started` event.
pub(crate) fn resumed_parts(stdout: &str) -> u64 {
    let lines = json_lines(stdout);
    let started = events_named(&lines, "object_started");
    assert_eq!(started.len(), 1, "{stdout}");
    started[0]["resumed_parts"].as_u64().unwrap()
}

/// 70 MiB in 5 MiB parts (14) at concurrency 2: killed (-9) after 2 parts, after 6 more, after
/// 3 more, the data dir deleted before every restart; the fourth run completes. One upload in
/// all, each part at the target once, and the bytes PUT stay within size + kills x concurrency
/// x part size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_three_points_with_the_data_dir_deleted_each_time_uses_one_upload() {
    const SIZE: u64 = 70 * MIB;
    const PART: u64 = 5 * MIB;
    const CONCURRENCY: u64 = 2;
    let rig = Rig::start().await;
    put_seeded_crc(rig.source(), "spot.bin", SIZE, 20, 8 * MIB).await;
    let config = rig
        .config()
        .transfer(&[
            "multipart_threshold = \"5MiB\"",
            "part_size = \"5MiB\"",
            "concurrency = 2",
        ])
        .write(&rig.servers.sandbox);

    let mut put_per_run = Vec::new();
    let mut put_so_far = 0;
    let mut resumed = Vec::new();
    for parts in [2, 6, 3] {
        let stdout = run_killed_after(&rig, &config, parts, CONCURRENCY as usize).await;
        resumed.push(resumed_parts(&stdout));
        let put = rig.target_proxy.request_bytes(Op::UploadPart);
        put_per_run.push(put - put_so_far);
        put_so_far = put;
        assert_eq!(rig.target_uploads().await.len(), 1, "the upload stays open");
        new_machine(&rig);
    }
    assert_eq!(
        resumed,
        [0, 2, 8],
        "each restart resumed what the target held"
    );
    let output = rig
        .servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;
    output.expect_code(0);
    assert_eq!(resumed_parts(&output.stdout), 11);
    let put = rig.target_proxy.request_bytes(Op::UploadPart);
    put_per_run.push(put - put_so_far);

    let lines = json_lines(&output.stdout);
    let done = events_named(&lines, "object_done");
    assert_eq!(done.len(), 1, "{}", output.stdout);
    assert_eq!(done[0]["verification"]["verified"], true, "{}", done[0]);
    assert_eq!(run_summary(&lines)["verified"], 1);
    rig.assert_all_copied().await;
    let at_target = parts_at_target(&rig);
    assert_eq!(
        at_target,
        (1..=14).map(|p| (p, 1)).collect::<BTreeMap<u32, usize>>(),
        "every part reached the target exactly once"
    );
    assert_eq!(
        rig.target_proxy.count(Op::CreateMultipartUpload),
        1,
        "one upload in all runs"
    );
    assert_eq!(rig.target_proxy.count(Op::AbortMultipartUpload), 0);
    assert!(rig.target_uploads().await.is_empty(), "no upload left");
    assert!(
        rig.target().keys(".airlock/").await.is_empty(),
        "no state record left"
    );
    let kills = 3;
    let bound = SIZE + kills * CONCURRENCY * PART;
    // The proxy counts request bodies as sent: aws-chunked framing and the CRC64NVME trailer
    // add ~764 bytes to a 5 MiB part; allow 1 KiB per UploadPart request for it.
    let requests = rig.target_proxy.count(Op::UploadPart) as u64;
    let framing = requests * 1024;
    let mib = |b: u64| format!("{:.1}", b as f64 / MIB as f64);
    eprintln!(
        "kill -9 x{kills}, {} MiB object, {} MiB parts, concurrency {CONCURRENCY}: UploadPart body bytes per run {put_per_run:?} (MiB {:?}), total {put} ({} MiB) in {requests} requests, bound {bound} ({} MiB) + framing {framing}",
        SIZE / MIB,
        PART / MIB,
        put_per_run.iter().map(|&b| mib(b)).collect::<Vec<_>>(),
        mib(put),
        bound / MIB
    );
    assert!(
        put <= bound + framing,
        "{put} bytes PUT, bound {bound} + {framing}"
    );
}

/// SIGTERM while two parts are in flight: they finish, the run exits 143 saying it was
/// interrupted, the upload stays open. Then the data dir is deleted and the next run completes
/// the object without sending any part the first run finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_then_a_run_on_an_empty_data_dir_resends_no_finished_part() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

    let rig = Rig::start().await;
    put_seeded_crc(rig.source(), "evicted.bin", 40 * MIB, 21, 8 * MIB).await;
    let config = rig
        .config()
        .transfer(&[
            "multipart_threshold = \"5MiB\"",
            "part_size = \"5MiB\"",
            "concurrency = 2",
        ])
        .write(&rig.servers.sandbox);
    // Two parts reach the target, the next two are held in flight.
    rig.target_proxy
        .add_rule(Rule::new(Fault::Hold).on(Op::UploadPart).skip(2));
    let mut child = rig
        .servers
        .airlock_with(&config, &["run", "--json", "--grace", "60s"])
        .spawn();
    rig.target_proxy
        .wait_for("2 parts held", |p| p.held() == 2)
        .await;
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    while !seen.contains("SIGTERM: stopping") {
        let line = tokio::time::timeout(Duration::from_secs(30), stderr.next_line())
            .await
            .expect("stderr in time")
            .expect("read stderr")
            .unwrap_or_else(|| panic!("stderr ended: {seen}"));
        seen.push_str(&line);
        seen.push('\n');
    }
    rig.target_proxy.clear_rules();
    rig.target_proxy.release_held();
    let released = Instant::now();
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
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits in time")
        .unwrap();
    assert_eq!(status.code(), Some(143), "{seen}");
    assert!(
        released.elapsed() < Duration::from_secs(60),
        "within the grace"
    );
    let lines = json_lines(&stdout);
    assert_eq!(run_summary(&lines)["interrupted"], true, "{stdout}");
    let first = parts_at_target(&rig);
    assert_eq!(first.len(), 4, "the two held parts finished: {first:?}");
    assert_eq!(
        rig.target_proxy.count(Op::UploadPart),
        4,
        "nothing started after the SIGTERM"
    );
    assert_eq!(rig.target_uploads().await.len(), 1, "the upload stays open");

    new_machine(&rig);
    rig.target_proxy.reset_stats();
    let output = rig
        .servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;
    output.expect_code(0);
    assert_eq!(resumed_parts(&output.stdout), 4);
    let second = parts_at_target(&rig);
    let sent_again: Vec<u32> = second
        .keys()
        .filter(|p| first.contains_key(p))
        .copied()
        .collect();
    assert!(
        sent_again.is_empty(),
        "finished parts sent again: {sent_again:?}"
    );
    assert_eq!(second.len(), 4, "{second:?}");
    assert!(second.values().all(|&n| n == 1), "{second:?}");
    assert_eq!(rig.target_proxy.count(Op::UploadPart), 4);
    assert_eq!(rig.target_proxy.count(Op::CreateMultipartUpload), 0);
    let lines = json_lines(&output.stdout);
    assert_eq!(run_summary(&lines)["verified"], 1, "{}", output.stdout);
    eprintln!(
        "SIGTERM: parts finished before the stop {:?}, sent by the run on an empty data dir {:?}",
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    rig.assert_all_copied().await;
    assert!(rig.target_uploads().await.is_empty());
    assert!(rig.target().keys(".airlock/").await.is_empty());
}
