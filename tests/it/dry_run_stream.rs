//! `airlock run --dry-run` streamed (#17): it prints what a plan in memory prints (a fresh
//! plan, a format 5 plan file and a JSON plan, which is still read whole, give the same
//! lines, a mirror plan's deletions after its items), it prints the first item of a plan
//! file before the file's tail is written, and a dry run of 200,000 synthetic keys stays in
//! bounded memory (the child's peak RSS, VmHWM).

use std::time::Duration;

use airlock_s3server::Dataset;
use tokio::io::AsyncBufReadExt;

use crate::common::fifo::{six_objects_planned, through_fifo};
use crate::common::synthetic::SyntheticPair;
use crate::common::*;

/// A mirror of `in/` to `out/`: copies, a skip (already at the target) and deletions.
async fn mirror_servers() -> (TwoServers, std::path::PathBuf) {
    let servers = TwoServers::start().await;
    for i in 0..5 {
        servers
            .source
            .put(&format!("in/obj-{i:02}.txt"), format!("object {i}"))
            .await;
    }
    servers.target.put("out/obj-02.txt", "object 2").await;
    for key in ["out/a-orphan.txt", "out/zz-orphan.txt"] {
        servers.target.put(key, vec![b'o'; 9]).await;
    }
    let config = servers
        .config()
        .prefixes("in/", "out/")
        .transfer(&["mode = \"mirror\""])
        .write(&servers.sandbox);
    (servers, config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_dry_run_prints_what_the_plan_in_memory_prints() {
    let (servers, config) = mirror_servers().await;
    let dir = servers.sandbox.path();
    let (lines, json) = (dir.join("plan.jsonl"), dir.join("plan.json"));
    for path in [&lines, &json] {
        servers
            .airlock_with(&config, &["plan", "-o", path.to_str().unwrap()])
            .run()
            .await
            .expect_code(0);
    }
    let dry = async |extra: &[&str]| {
        let mut args = vec!["run", "--dry-run"];
        args.extend_from_slice(extra);
        let out = servers.airlock_with(&config, &args).run().await;
        out.expect_code(0);
        out.stdout
    };
    // A JSON plan is read whole (prepared in memory): the reference.
    let whole = dry(&["--plan", json.to_str().unwrap()]).await;
    let routes = |route: &str| whole.lines().filter(|l| l.starts_with(route)).count();
    assert_eq!(
        (routes("single"), routes("skip"), routes("delete")),
        (4, 1, 2),
        "{whole}"
    );
    assert!(
        whole.ends_with("dry run: nothing copied or deleted\n"),
        "{whole}"
    );
    let table: Vec<&str> = whole.lines().take(8).collect();
    assert!(
        table[6].starts_with("delete") && table[7].starts_with("delete"),
        "the deletions come after the items:\n{whole}"
    );
    assert_eq!(dry(&[]).await, whole, "a fresh dry run");
    assert_eq!(
        dry(&["--plan", lines.to_str().unwrap()]).await,
        whole,
        "a format 5 plan"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_of_a_shard_prints_that_shards_items() {
    let (servers, config) = mirror_servers().await;
    let plan = servers.sandbox.path().join("copy.jsonl");
    servers
        .airlock_with(
            &config,
            &["plan", "--mode", "copy", "-o", plan.to_str().unwrap()],
        )
        .run()
        .await
        .expect_code(0);
    let mut keys = Vec::new();
    for shard in ["0/2", "1/2"] {
        let out = servers
            .airlock_with(
                &config,
                &[
                    "run",
                    "--dry-run",
                    "--plan",
                    plan.to_str().unwrap(),
                    "--shard",
                    shard,
                ],
            )
            .run()
            .await;
        out.expect_code(0);
        assert!(
            out.stderr.contains(&format!("shard {shard}")),
            "{}",
            out.stderr
        );
        let items: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| l.starts_with("single") || l.starts_with("skip"))
            .collect();
        let copies = items.iter().filter(|l| l.starts_with("single")).count();
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with("  single") && l.contains(&format!(" {copies} objects"))),
            "the summary counts this shard's items:\n{}",
            out.stdout
        );
        keys.extend(
            items
                .iter()
                .map(|l| l.split_whitespace().nth(4).unwrap().to_string()),
        );
    }
    keys.sort();
    assert_eq!(keys.len(), 5, "every item in exactly one shard: {keys:?}");
    keys.dedup();
    assert_eq!(keys.len(), 5, "every item in exactly one shard: {keys:?}");
}

/// `airlock run --dry-run --plan FIFO.jsonl`: the plan's tail is written only once the dry run
/// printed an item, so a dry run that reads the whole plan first never prints before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_prints_before_the_plan_file_is_read_to_the_end() {
    let servers = TwoServers::start().await;
    let (config, saved) = six_objects_planned(&servers).await;

    // Header and two items; the rest only after the dry run printed an item.
    let run = through_fifo(
        &servers,
        &config,
        &saved,
        3,
        &["run", "--dry-run"],
        &[],
        |line| line.starts_with("single"),
    )
    .await;
    let seen = &run.seen;
    let all = seen.join("\n");
    assert!(
        run.early,
        "no item printed before the plan's tail was written:\n{all}"
    );
    assert_eq!(run.code, Some(0), "{all}");
    assert_eq!(
        seen.iter().filter(|l| l.starts_with("single")).count(),
        6,
        "{all}"
    );
    assert!(all.contains("dry run: nothing copied or deleted"), "{all}");
    assert!(
        servers.target.keys("fifo/").await.is_empty(),
        "a dry run copies nothing"
    );
}

/// Peak RSS of a dry run of 200,000 synthetic keys, KiB. Measured with the debug build: 35 MiB
/// streamed; 208 MiB before, with the plan in memory.
const PEAK_RSS_KIB: u64 = 100 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_of_200k_synthetic_keys_stays_in_bounded_memory() {
    const KEYS: u64 = 200_000;
    let dataset = Dataset::flat(KEYS);
    let servers = SyntheticPair::start(dataset.clone(), ("src", "dst"), dataset.prefix()).await;
    let sandbox = Sandbox::new();
    let config = sandbox.write_config(&servers.config);
    let mut child = sandbox
        .airlock(["--config", config.to_str().unwrap(), "run", "--dry-run"])
        .spawn();
    let pid = child.id().expect("the child runs");
    // VmHWM only grows: the last reading before the process ends is its peak (near enough).
    let sampler = std::thread::spawn(move || {
        let mut peak_kib = 0;
        while let Some(kib) = peak_rss_kib(pid) {
            peak_kib = kib;
            std::thread::sleep(Duration::from_millis(20));
        }
        peak_kib
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let mut out = tokio::io::BufReader::new(stdout).lines();
    let (mut items, mut last) = (0u64, String::new());
    let status = tokio::time::timeout(Duration::from_secs(300), async {
        while let Some(line) = out.next_line().await.unwrap() {
            if line.starts_with("single") || line.starts_with("skip") {
                items += 1;
            }
            last = line;
        }
        child.wait().await.unwrap()
    })
    .await
    .expect("the dry run ends");
    let peak_kib = sampler.join().unwrap();
    println!(
        "run --dry-run of {KEYS} synthetic keys: peak RSS {} MiB",
        peak_kib / 1024
    );
    assert_eq!(status.code(), Some(0));
    assert_eq!(items, KEYS);
    assert_eq!(last, "dry run: nothing copied or deleted");
    assert!(
        peak_kib > 0 && peak_kib < PEAK_RSS_KIB,
        "peak RSS {peak_kib} KiB (bound {PEAK_RSS_KIB} KiB)"
    );
}

/// Peak resident set of a live process, KiB (`VmHWM`); None once it ended (or is a zombie).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
