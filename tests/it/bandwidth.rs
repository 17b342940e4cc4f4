//! The bandwidth cap against the two in-process servers: a capped run of several seconds moves
//! its bytes at the cap (a benchmark-style check: never more than 10% above it, and a generous
//! floor because the 2-core CI host is shared), the plan's ETA uses the cap, and bad rates are
//! clear errors.

use crate::common::*;

/// 20 MiB: one 15 MiB multipart object (3 parts) and five 1 MiB objects, all in flight at once.
async fn fixture(servers: &TwoServers) -> u64 {
    servers.source.put_seeded("in/big.bin", 15 * MIB, 1).await;
    for n in 0..5 {
        servers
            .source
            .put_seeded(&format!("in/small-{n}.bin"), MIB, 10 + n)
            .await;
    }
    20 * MIB
}

fn config(servers: &TwoServers, extra: &[&str]) -> std::path::PathBuf {
    let mut transfer = vec![
        "multipart_threshold = \"5MiB\"".to_string(),
        "part_size = \"5MiB\"".to_string(),
    ];
    transfer.extend(extra.iter().map(|s| s.to_string()));
    servers
        .config()
        .prefixes("in/", "out/")
        .transfer(&transfer)
        .write(&servers.sandbox)
}

/// `elapsed_ms` and `bytes_copied` of the run_finished line of `run --json`.
fn finished(stdout: &str) -> (u64, u64) {
    let lines = json_lines(stdout);
    let summary = run_summary(&lines);
    (
        summary["elapsed_ms"].as_u64().unwrap(),
        summary["bytes_copied"].as_u64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capped_run_moves_its_bytes_at_the_cap() {
    let servers = TwoServers::start().await;
    let total = fixture(&servers).await;
    let cap = 4 * MIB;
    let config = config(
        &servers,
        &[&format!("bandwidth_limit = \"{}MiB/s\"", cap / MIB)],
    );

    // The plan's ETA is at the cap, not at estimate_rate (100 MiB/s).
    let out = servers
        .airlock_with(&config, &["plan", "--summary"])
        .run()
        .await;
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("ETA 5s at 4 MiB/s (capped; bandwidth_limit)"),
        "{}",
        out.stdout
    );

    let out = servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;
    out.expect_code(0);
    let (elapsed_ms, bytes) = finished(&out.stdout);
    assert_eq!(bytes, total);
    let rate = bytes as f64 / (elapsed_ms as f64 / 1000.0);
    eprintln!(
        "capped run: {bytes} bytes in {elapsed_ms} ms = {:.2} MiB/s (cap {} MiB/s)",
        rate / MIB as f64,
        cap / MIB
    );
    // The bucket starts with a quarter second of tokens, so the whole run may be at most that
    // much ahead of the cap: 20 MiB at 4 MiB/s is >= 4.75 s, i.e. <= 1.053x the cap.
    assert!(
        rate <= cap as f64 * 1.10,
        "faster than the cap: {rate:.0} B/s"
    );
    // Floor: loaded CI hosts are slow, but a 20 MiB copy on loopback is far faster than 4 MiB/s.
    assert!(rate >= cap as f64 * 0.7, "far below the cap: {rate:.0} B/s");
    assert_eq!(servers.target.keys("out/").await.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flag_replaces_the_config_cap_and_bad_rates_are_errors() {
    let servers = TwoServers::start().await;
    let total = fixture(&servers).await;
    let config = config(&servers, &["bandwidth_limit = \"1KiB/s\""]);

    // 'off' removes the configured cap: at 1 KiB/s this run would take hours.
    let out = servers
        .airlock_with(&config, &["run", "--json", "--bandwidth-limit", "off"])
        .run()
        .await;
    out.expect_code(0);
    let (elapsed_ms, bytes) = finished(&out.stdout);
    assert_eq!(bytes, total);
    assert!(elapsed_ms < 30_000, "took {elapsed_ms} ms");

    let out = servers
        .airlock_with(
            &config,
            &["plan", "--summary", "--bandwidth-limit", "10MiB/s"],
        )
        .run()
        .await;
    out.expect_code(0);
    assert!(
        out.stdout.contains("at 10 MiB/s (capped; bandwidth_limit)"),
        "{}",
        out.stdout
    );

    for (rate, message) in [
        ("fast", "--bandwidth-limit 'fast' is not a rate"),
        ("100B/s", "--bandwidth-limit '100B/s' is too small"),
    ] {
        let out = servers
            .airlock_with(&config, &["plan", "--bandwidth-limit", rate])
            .run()
            .await;
        out.expect_code(2);
        assert!(out.stderr.contains(message), "{}", out.stderr);
    }
    let bad = servers
        .config()
        .transfer(&["bandwidth_limit = \"lots\""])
        .write(&servers.sandbox);
    let out = servers.airlock_with(&bad, &["plan"]).run().await;
    out.expect_code(2);
    assert!(
        out.stderr.contains("transfer.bandwidth_limit"),
        "{}",
        out.stderr
    );
}

/// The commented example in config.example.toml parses to the cap it shows.
#[test]
fn example_bandwidth_limit_parses() {
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"))
            .unwrap();
    let line = example
        .lines()
        .find_map(|l| l.strip_prefix("#   bandwidth_limit = "))
        .expect("example line");
    let text = example.replacen(
        "\n[transfer]\n",
        &format!("\n[transfer]\nbandwidth_limit = {line}\n"),
        1,
    );
    let settings = airlock_core::config::parse_settings(&text, "example").unwrap();
    assert_eq!(
        settings.transfer.bandwidth_limit,
        Some(airlock_core::config::ByteSize::mib(200))
    );
}
