//! The inventory bench (`bench/inventory.sh`; ignored in the test suite): an S3 Inventory of
//! `AIRLOCK_BENCH_INVENTORY_ROWS` rows (default 1,000,000; 4 gzip CSV data files) is written
//! into the target server's bucket, and `airlock plan --summary` and `plan -o plan.jsonl.zst`
//! read it (with the target's credentials) under `/usr/bin/time -v`: wall, CPU and peak RSS
//! are printed. `AIRLOCK_BENCH_INVENTORY_SORT=1` adds the same with the data files in reverse
//! order and `inventory_sort = true`.

use std::time::Instant;

use crate::common::*;
use crate::s3_inventory::{INVENTORY_BUCKET, Inventory};

/// Rows of `count` synthetic keys `events/part-NNNNNNNNN.parquet` (1-16 KiB), in key order.
fn rows(first: u64, count: u64) -> Vec<Vec<String>> {
    (first..first + count)
        .map(|i| {
            vec![
                SOURCE_BUCKET.to_string(),
                format!("events/part-{i:09}.parquet"),
                (1024 + (i * 7_919) % (15 * 1024)).to_string(),
                "2026-12-04T10:11:12.000Z".to_string(),
                format!("{:032x}", i * 0x9e37_79b9),
                "STANDARD".to_string(),
            ]
        })
        .collect()
}

/// `airlock ARGS` under `/usr/bin/time -v`: (exit code, stdout, "wall s, CPU s, peak RSS").
fn timed(
    config: &std::path::Path,
    data_dir: &std::path::Path,
    args: &[&str],
) -> (i32, String, String) {
    let out = std::process::Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_airlock"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("AIRLOCK_DATA_DIR", data_dir)
        .output()
        .expect("run /usr/bin/time");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| {
        stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string()))
            .unwrap_or_default()
    };
    let cpu = field("User time (seconds):").parse::<f64>().unwrap_or(0.0)
        + field("System time (seconds):")
            .parse::<f64>()
            .unwrap_or(0.0);
    let rss_kib = field("Maximum resident set size (kbytes):")
        .parse::<u64>()
        .unwrap_or(0);
    let figures = format!(
        "wall {}, CPU {cpu:.1} s, peak RSS {} MiB",
        field("Elapsed (wall clock) time (h:mm:ss or m:ss):"),
        rss_kib / 1024
    );
    let code = out.status.code().unwrap_or(-1);
    if code != 0 {
        eprintln!("{stderr}");
    }
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        figures,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a bench: run by bench/inventory.sh"]
async fn bench_plan_from_an_inventory() {
    let total: u64 = std::env::var("AIRLOCK_BENCH_INVENTORY_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let servers = TwoServers::start().await;
    let started = Instant::now();
    let per_file = total.div_ceil(4);
    let files: Vec<_> = (0..4)
        .map(|n| {
            rows(
                n * per_file,
                per_file.min(total.saturating_sub(n * per_file)),
            )
        })
        .collect();
    let mut inventories = vec![("in order", Inventory::csv(files.clone()), false)];
    if std::env::var("AIRLOCK_BENCH_INVENTORY_SORT").is_ok_and(|v| v == "1") {
        let mut reversed = files;
        reversed.reverse();
        inventories.push((
            "files reversed, inventory_sort",
            Inventory::csv(reversed),
            true,
        ));
    }
    for (n, (name, inventory, sort)) in inventories.into_iter().enumerate() {
        let bucket = format!("{INVENTORY_BUCKET}-{n}");
        let manifest = inventory.put(&servers.target, &bucket).await;
        eprintln!(
            "inventory '{name}' of {total} rows written in {:?}",
            started.elapsed()
        );
        let config = servers
            .config()
            .prefixes("events/", "copy/")
            .set_str("source", "inventory", &manifest)
            .set_str("source", "inventory_credentials", "target")
            .set(
                "source",
                "inventory_sort",
                if sort { "true" } else { "false" },
            )
            .write(&servers.sandbox);
        let data_dir = servers.sandbox.data_dir();
        let (code, stdout, figures) = timed(&config, &data_dir, &["plan", "--summary"]);
        assert_eq!(code, 0, "{stdout}");
        let summary = lines_with(&stdout, "S3 Inventory");
        println!(
            "{name}: plan --summary of {total} rows: {figures}\n  {}",
            summary.join("")
        );
        let plan = servers.sandbox.path().join(format!("plan-{n}.jsonl.zst"));
        let (code, stdout, figures) = timed(
            &config,
            &data_dir,
            &["plan", "--summary", "-o", plan.to_str().unwrap()],
        );
        assert_eq!(code, 0, "{stdout}");
        let bytes = std::fs::metadata(&plan).unwrap().len();
        println!(
            "{name}: plan -o plan.jsonl.zst of {total} rows: {figures}, {bytes} bytes ({:.1} B/object)",
            bytes as f64 / total as f64
        );
    }
}
