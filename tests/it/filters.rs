//! Choosing what moves, against the two in-process servers: `[filter]` globs, sizes and
//! modification times, the flags that replace them, `--from-list` with a missing key, the
//! counts the plan shows per filter, and clear errors for bad filter values.

use std::time::{Duration, SystemTime};

use crate::common::*;

/// Set a source object's modification time on the server's disk (s3s-fs lists the file's
/// mtime as LastModified), so time filters can be tested without waiting.
fn age_source_object(servers: &TwoServers, key: &str, age: Duration) {
    let path = servers
        .sandbox
        .path()
        .join("source-s3")
        .join(SOURCE_BUCKET)
        .join(key);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("open '{}': {e}", path.display()));
    file.set_modified(SystemTime::now() - age)
        .expect("set mtime");
}

async fn fixture(servers: &TwoServers) {
    for (key, body) in [
        ("in/a.parquet", vec![b'a'; 3]),
        ("in/deep/er/b.parquet", vec![b'b'; 2048]),
        ("in/_tmp/c.parquet", vec![b'c'; 5]),
        ("in/c.csv", vec![b'd'; 4096]),
        ("in/clients/acme/daily/2026-11-03/x.csv", vec![b'x'; 7]),
        ("in/clients/acme/daily/2026-10-03/y.csv", vec![b'y'; 9]),
        ("in/old.parquet", vec![b'o'; 11]),
        ("outside.parquet", vec![b'z'; 1]),
    ] {
        servers.source.put(key, body).await;
    }
    age_source_object(servers, "in/old.parquet", Duration::from_secs(30 * 86_400));
}

/// A config for the servers, `in/` to `out/`, with a `[filter]` table of `lines`.
fn config_with_filter(servers: &TwoServers, lines: &[&str]) -> std::path::PathBuf {
    servers
        .config()
        .prefixes("in/", "out/")
        .lines("filter", lines)
        .write(&servers.sandbox)
}

/// Source keys of the plan's object lines (`ROUTE SIZE PARTS  KEY  (reason)`).
fn planned_keys(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.starts_with("single") || l.starts_with("multipart") || l.starts_with("skip "))
        .filter_map(|l| l.split("  ").map(str::trim).find(|s| s.starts_with("in/")))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_filters_and_flags_combine_with_the_documented_precedence() {
    let servers = TwoServers::start().await;
    fixture(&servers).await;
    let config = config_with_filter(
        &servers,
        &[
            r#"include = ["**/*.parquet", "clients/*/daily/2026-11-*/**"]"#,
            r#"exclude = ["**/_tmp/**"]"#,
            r#"modified_after = "7d""#,
        ],
    );

    // Config only: include, then exclude (which beats include), then the time bound.
    let out = servers.airlock_with(&config, &["plan"]).run().await;
    out.expect_code(0);
    assert_eq!(
        planned_keys(&out.stdout),
        [
            "in/a.parquet",
            "in/clients/acme/daily/2026-11-03/x.csv",
            "in/deep/er/b.parquet"
        ],
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  filters    4 of 7 listed objects left out\n"),
        "{}",
        out.stdout
    );
    let include_line = lines_with(&out.stdout, "    include ");
    assert_eq!(include_line.len(), 1, "{}", out.stdout);
    assert!(
        words(include_line[0]).contains("include 2 objects 4.0 KiB"),
        "c.csv and the October y.csv: {}",
        include_line[0]
    );
    assert!(
        lines_with(&out.stdout, "    exclude ")[0].contains("       1 objects         5 B"),
        "{}",
        out.stdout
    );
    assert!(
        lines_with(&out.stdout, "    modified_after ")[0].contains("       1 objects        11 B"),
        "{}",
        out.stdout
    );

    // Flags replace the config key of the same name; the other keys stay. --include '**/*.csv'
    // replaces the include list, --min-size is added, exclude and modified_after remain.
    let out = servers
        .airlock_with(
            &config,
            &["plan", "--include", "**/*.csv", "--min-size", "8B", "-o"],
        )
        .arg(servers.sandbox.path().join("plan.json"))
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        planned_keys(&out.stdout),
        ["in/c.csv", "in/clients/acme/daily/2026-10-03/y.csv"],
        "{}",
        out.stdout
    );
    // The saved plan carries the counts, in precedence order, with the rule each applied.
    let plan: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(servers.sandbox.path().join("plan.json")).unwrap(),
    )
    .unwrap();
    let selection = &plan["selection"];
    assert_eq!(selection["listed"], 7);
    let counts: Vec<(String, u64)> = selection["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["filter"].as_str().unwrap().to_string(),
                e["objects"].as_u64().unwrap(),
            )
        })
        .collect();
    // 4 .parquet files fail include; x.csv (7 B) fails min_size; nothing is left for the
    // others to exclude, and they are still listed so the plan shows they were applied.
    assert_eq!(
        counts,
        [
            ("include".to_string(), 4),
            ("exclude".to_string(), 0),
            ("min_size".to_string(), 1),
            ("modified_after".to_string(), 0),
        ]
    );
    assert_eq!(selection["excluded"][0]["rule"], "'**/*.csv'");

    // The run copies exactly what the plan shows, nothing outside it.
    let out = servers
        .airlock_with(
            &config,
            &["run", "--include", "**/*.csv", "--min-size", "8B"],
        )
        .run()
        .await;
    out.expect_code(0);
    let mut copied = servers.target.keys("").await;
    copied.sort();
    assert_eq!(
        copied,
        ["out/c.csv", "out/clients/acme/daily/2026-10-03/y.csv"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_list_copies_only_named_keys_and_reports_missing_ones() {
    let servers = TwoServers::start().await;
    fixture(&servers).await;
    let config = servers
        .config()
        .prefixes("in/", "out/")
        .write(&servers.sandbox);
    // A CSV with a header, a key with a comma, and a key that is not at the source.
    servers
        .source
        .put("in/with,comma.txt", b"comma".to_vec())
        .await;
    let list = servers.sandbox.path().join("keys.csv");
    std::fs::write(
        &list,
        "reason,key\nbad row,in/c.csv\nbad row,\"in/with,comma.txt\"\nbad row,in/gone.csv\n",
    )
    .unwrap();

    let out = servers
        .airlock_with(&config, &["plan", "--from-list"])
        .arg(&list)
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        planned_keys(&out.stdout),
        ["in/c.csv", "in/with,comma.txt"],
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("missing: 1 key from --from-list not found at the source:\n  in/gone.csv\n"),
        "{}",
        out.stdout
    );
    assert!(
        lines_with(&out.stdout, "    from_list ")[0].contains("       6 objects"),
        "{}",
        out.stdout
    );

    // The run copies the two it found, names the missing key, and exits 1.
    let out = servers
        .airlock_with(&config, &["run", "--from-list"])
        .arg(&list)
        .run()
        .await;
    out.expect_code(1);
    assert!(out.stderr.contains("in/gone.csv"), "{}", out.stderr);
    let mut copied = servers.target.keys("").await;
    copied.sort();
    assert_eq!(copied, ["out/c.csv", "out/with,comma.txt"]);

    // A plain list where every key exists: exit 0.
    let list = servers.sandbox.path().join("keys.txt");
    std::fs::write(&list, "in/a.parquet\n\nin/old.parquet\n").unwrap();
    let out = servers
        .airlock_with(&config, &["run", "--from-list"])
        .arg(&list)
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(servers.target.keys("").await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_filter_values_are_clear_errors() {
    let servers = TwoServers::start().await;
    let config = servers
        .config()
        .prefixes("in/", "out/")
        .write(&servers.sandbox);
    let cases: [(&[&str], &str); 5] = [
        (
            &["plan", "--include", "a/[b"],
            "--include 'a/[b' is not a glob",
        ),
        (
            &["plan", "--modified-after", "yesterday"],
            "--modified-after 'yesterday' is not a time",
        ),
        (
            &["plan", "--min-size", "2MiB", "--max-size", "1MiB"],
            "--min-size '2 MiB' is larger than --max-size '1 MiB'",
        ),
        (
            &["run", "--plan", "p.json", "--exclude", "*.tmp"],
            "filters are part of the plan",
        ),
        (
            &["plan", "--from-list", "/nonexistent/keys.txt"],
            "/nonexistent/keys.txt",
        ),
    ];
    for (args, message) in cases {
        let out = servers.airlock_with(&config, args).run().await;
        out.expect_code(2);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }

    let bad = config_with_filter(&servers, &[r#"modified_before = "noon""#]);
    let out = servers.airlock_with(&bad, &["plan"]).run().await;
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("filter.modified_before 'noon' is not a time"),
        "{}",
        out.stderr
    );
    let typo = config_with_filter(&servers, &[r#"includes = ["*"]"#]);
    let out = servers.airlock_with(&typo, &["plan"]).run().await;
    out.expect_code(2);
    assert!(
        out.stderr.contains("unknown key 'includes'"),
        "{}",
        out.stderr
    );
}

/// The commented examples in config.example.toml's [filter] table parse as shown.
#[test]
fn example_filter_lines_parse() {
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"))
            .unwrap();
    let (_, filter_part) = example.split_once("\n[filter]\n").expect("[filter] table");
    let examples: Vec<&str> = filter_part
        .lines()
        .filter_map(|l| l.strip_prefix("#   "))
        .filter(|l| l.contains(" = "))
        .collect();
    assert_eq!(examples.len(), 6, "{examples:?}");
    let base = example.split_once("\n[filter]\n").unwrap().0;
    // min and max in one table, times in another (7d ago is after 2026-11-20 only sometimes).
    for group in [&examples[..4], &examples[4..5], &examples[5..]] {
        let text = format!("{base}\n[filter]\n{}\n", group.join("\n"));
        let settings = airlock_core::config::parse_settings(&text, "example")
            .unwrap_or_else(|e| panic!("{group:?}: {e}"));
        assert!(!settings.filter.is_empty());
    }
}

/// The line with runs of spaces collapsed, so column widths don't matter.
fn words(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}
