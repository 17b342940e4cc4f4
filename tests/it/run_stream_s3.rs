//! `run --plan s3://BUCKET/p.jsonl.gz` (#17) reads the plan from its GET body as it arrives,
//! decompressing on the fly: over a slow connection (the target server's per-connection
//! bandwidth cap) the first copy starts long before the download ends; a body that breaks
//! off mid-way halts the run with a clear error (exit 2) after copying only what came before.
//! (gzip decodes as bytes arrive; zstd a block, up to 128 KiB of plan lines, at a time, so the
//! plans here are gzip: a test-sized zstd plan is one block.)

use std::time::{Duration, Instant};

use airlock_s3server::ConnectionRate;
use tokio::io::AsyncBufReadExt;

use crate::common::engine::Rig;
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::*;

const PLAN: &str = "s3://target-bucket/plans/p.jsonl.gz";
const PLAN_KEY: &str = "plans/p.jsonl.gz";

/// The key of object `i`: in order, with a long tail that compresses badly, so the plan is
/// large next to the requests' own bytes (which the bandwidth cap slows too).
fn key(i: usize) -> String {
    let mut noise = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut tail = String::new();
    // 96 characters: the test server stores a key as a file name (255 bytes at most, with
    // its own suffixes).
    for _ in 0..6 {
        noise ^= noise >> 31;
        noise = noise.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        tail.push_str(&format!("{noise:016x}"));
    }
    format!("data/obj-{i:04}-{tail}.txt")
}

async fn put_objects(source: &Account, count: usize) {
    let objects = (0..count)
        .map(|i| (key(i), format!("o{i}").into_bytes()))
        .collect();
    source.put_many(objects, 16).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_plan_is_read_as_its_get_body_arrives() {
    const OBJECTS: usize = 600;
    let servers = TwoServers::start().await;
    put_objects(&servers.source, OBJECTS).await;
    let config = servers
        .config()
        .prefixes("data/", "data/")
        .transfer(&["concurrency = 16"])
        .write(&servers.sandbox);
    servers
        .airlock_with(&config, &["plan", "-o", PLAN])
        .run()
        .await
        .expect_code(0);
    let size = servers.target.get(PLAN_KEY).await.len() as u64;
    // Slow enough that downloading the plan takes about 8 s.
    let rate = (size / 8).max(256);
    let download = Duration::from_secs_f64(size as f64 / rate as f64);
    assert!(
        download >= Duration::from_secs(6) && rate >= 4096,
        "{size} B at {rate} B/s"
    );
    servers
        .target
        .server
        .behaviours()
        .set_connection_rate(ConnectionRate::bytes_per_second(rate));

    let began = Instant::now();
    let mut child = servers
        .airlock_with(&config, &["run", "--json", "--plan", PLAN])
        .spawn();
    let stdout = child.stdout.take().expect("piped stdout");
    let mut out = tokio::io::BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let mut first_start = None;
    let status = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = out.next_line().await.unwrap() {
            if first_start.is_none() && line.contains("\"event\":\"object_started\"") {
                first_start = Some(began.elapsed());
            }
            seen.push(line);
        }
        child.wait().await.unwrap()
    })
    .await
    .expect("the run ends");
    let ended = began.elapsed();
    servers.target.server.behaviours().set_connection_rate(None);
    let all = seen.join("\n");
    assert_eq!(status.code(), Some(0), "{all}");
    let first_start = first_start.expect("an object started");
    assert!(
        first_start < download / 2,
        "the first copy started after {first_start:?}; the plan's download takes {download:?} ({size} B at {rate} B/s):\n{}",
        seen.iter().take(8).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(
        ended >= download.mul_f64(0.8),
        "the run ended after {ended:?}, before the plan could have downloaded ({download:?})"
    );
    assert_eq!(servers.target.keys("data/").await.len(), OBJECTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_plan_whose_body_breaks_off_halts_the_run() {
    const OBJECTS: usize = 200;
    let rig = Rig::start().await;
    put_objects(rig.source(), OBJECTS).await;
    let config = rig
        .config()
        .prefixes("data/", "data/")
        .transfer(&["concurrency = 2"])
        .write(&rig.servers.sandbox);
    rig.servers
        .airlock_with(&config, &["plan", "-o", PLAN])
        .run()
        .await
        .expect_code(0);
    let size = rig.target().get(PLAN_KEY).await.len() as u64;
    rig.target_proxy.add_rule(
        Rule::new(Fault::Truncate {
            after_bytes: size / 2,
        })
        .on(Op::GetObject)
        .key(PLAN_KEY),
    );
    let out = rig
        .servers
        .airlock_with(&config, &["run", "--plan", PLAN])
        .run()
        .await;
    out.expect_code(2);
    let all = out.all();
    assert!(all.contains(PLAN), "the error names the plan:\n{all}");
    assert!(
        all.contains("the plan could not be read to the end"),
        "the run says it stopped reading the plan:\n{all}"
    );
    // What came before the break was copied; not the whole plan.
    let copied = rig.target().keys("data/").await.len();
    assert!(copied < OBJECTS, "{copied} of {OBJECTS} copied");
    assert!(
        copied > 0,
        "the plan's head arrived whole: its objects are copied"
    );
    let expected: Vec<String> = (0..copied).map(key).collect();
    assert_eq!(
        rig.target().keys("data/").await,
        expected,
        "only a head of the plan"
    );
}
