//! `airlock run --manifest` and `airlock verify --manifest` against the two in-process
//! servers: a record per object (copied, skipped) with what was checked, no secrets, CSV as
//! well as JSON lines, `verify` passing on an untouched target and failing (exit 1) once a
//! target object is overwritten or deleted, and a manifest fed back as `--from-list`.

use crate::common::*;

async fn fixture(servers: &TwoServers) {
    servers.source.put("in/a.txt", b"alpha".to_vec()).await;
    servers
        .source
        .put("in/sub/b.txt", b"bravo bravo".to_vec())
        .await;
    // 12 MiB at a 5 MiB threshold: multipart, 3 parts.
    servers.source.put_seeded("in/big.bin", 12 * MIB, 7).await;
    // Already identical at the target: skipped, still recorded.
    servers.source.put("in/same.txt", b"same".to_vec()).await;
    servers.target.put("out/same.txt", b"same".to_vec()).await;
}

fn config(servers: &TwoServers) -> std::path::PathBuf {
    servers
        .config()
        .prefixes("in/", "out/")
        .transfer(&["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""])
        .write(&servers.sandbox)
}

fn by_key<'a>(records: &'a [serde_json::Value], key: &str) -> &'a serde_json::Value {
    records
        .iter()
        .find(|r| r["source_key"] == key)
        .unwrap_or_else(|| panic!("no record for '{key}'"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_records_every_object_and_verify_catches_a_changed_target() {
    let servers = TwoServers::start().await;
    fixture(&servers).await;
    let config = config(&servers);
    let manifest = servers.sandbox.path().join("audit").join("run.jsonl");

    let out = servers
        .airlock_with(&config, &["run", "--manifest"])
        .arg(&manifest)
        .run()
        .await;
    out.expect_code(0);
    assert!(
        out.stderr.contains("manifest: 4 objects written to"),
        "{}",
        out.stderr
    );

    let text = std::fs::read_to_string(&manifest).expect("manifest written");
    for secret in [SOURCE_SECRET_KEY, TARGET_SECRET_KEY] {
        assert!(!text.contains(secret), "the manifest holds a secret");
    }
    let (header, records) = read_manifest(&manifest);
    assert_eq!(header["manifest"], 1);
    assert_eq!(header["source"]["bucket"], SOURCE_BUCKET);
    assert_eq!(header["target"]["prefix"], "out/");
    assert_eq!(records.len(), 4);

    let big = by_key(&records, "in/big.bin");
    assert_eq!(big["target_key"], "out/big.bin");
    assert_eq!(big["route"], "multipart");
    assert_eq!(big["outcome"], "copied");
    assert_eq!(big["size"], 12 * MIB);
    assert_eq!(big["bytes"], 12 * MIB);
    assert_eq!(big["target_size"], 12 * MIB);
    assert_eq!(big["attempts"], 1);
    assert!(big["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(big["finished_at"].as_str().unwrap() >= big["started_at"].as_str().unwrap());
    assert!(big["source_check"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(big["target_check"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        big["target_etag"].is_string() || big["target_checksum"].is_string(),
        "something to verify later: {big}"
    );

    let a = by_key(&records, "in/a.txt");
    assert_eq!(
        (a["route"].as_str(), a["outcome"].as_str()),
        (Some("single"), Some("copied"))
    );
    assert_eq!(a["bytes"], 5);
    let same = by_key(&records, "in/same.txt");
    assert_eq!(same["outcome"], "skipped");
    assert_eq!(same["bytes"], 0);
    assert_eq!(same["target_size"], 4);

    // Untouched target: everything matches.
    let out = servers
        .airlock_with(&config, &["verify", "--manifest"])
        .arg(&manifest)
        .run()
        .await;
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("verify: 4 objects checked at the target: 4 match, 0 differ or are missing"),
        "{}",
        out.stdout
    );

    // Same size, different bytes at one key; another key deleted.
    servers.target.put("out/a.txt", b"ALPHA".to_vec()).await;
    servers
        .target
        .client
        .delete_object()
        .bucket(TARGET_BUCKET)
        .key("out/sub/b.txt")
        .send()
        .await
        .expect("delete");
    let out = servers
        .airlock_with(&config, &["verify", "--manifest"])
        .arg(&manifest)
        .run()
        .await;
    out.expect_code(1);
    let mismatches = lines_with(&out.stdout, "MISMATCH");
    assert_eq!(mismatches.len(), 2, "{}", out.stdout);
    assert!(
        out.stdout.contains("MISMATCH out/a.txt: ") && !out.stdout.contains("out/a.txt: size"),
        "same size, other content: {}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("MISMATCH out/sub/b.txt: missing at the target"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("2 match, 2 differ or are missing"));

    // The manifest names objects: fed back as --from-list it re-plans exactly them.
    let out = servers
        .airlock_with(&config, &["plan", "--from-list"])
        .arg(&manifest)
        .run()
        .await;
    out.expect_code(0);
    assert!(
        out.stdout.contains("    from_list               0 objects"),
        "{}",
        out.stdout
    );
    assert!(
        lines_with(&out.stdout, "in/a.txt  (differs").len() == 1,
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_manifest_and_unreadable_manifests() {
    let servers = TwoServers::start().await;
    fixture(&servers).await;
    let config = config(&servers);
    let manifest = servers.sandbox.path().join("run.csv");

    servers
        .airlock_with(&config, &["run", "--manifest"])
        .arg(&manifest)
        .run()
        .await
        .expect_code(0);
    let mut reader = csv::Reader::from_path(&manifest).expect("CSV manifest");
    let headers = reader.headers().unwrap().clone();
    for column in [
        "source_key",
        "version_id",
        "source_etag",
        "size",
        "target_key",
        "route",
        "outcome",
        "bytes",
        "attempts",
        "started_at",
        "finished_at",
        "verified",
        "source_check",
        "target_check",
        "target_checksum",
    ] {
        assert!(headers.iter().any(|h| h == column), "no column '{column}'");
    }
    let outcome = headers.iter().position(|h| h == "outcome").unwrap();
    let mut outcomes: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[outcome].to_string())
        .collect();
    outcomes.sort();
    assert_eq!(outcomes, ["copied", "copied", "copied", "skipped"]);

    servers
        .airlock_with(&config, &["verify", "--manifest"])
        .arg(&manifest)
        .run()
        .await
        .expect_code(0);
    servers.target.put("out/big.bin", b"short".to_vec()).await;
    let out = servers
        .airlock_with(&config, &["verify", "--manifest"])
        .arg(&manifest)
        .run()
        .await;
    out.expect_code(1);
    assert!(
        out.stdout.contains(&format!(
            "MISMATCH out/big.bin: size {} at copy, 5 now",
            12 * MIB
        )),
        "{}",
        out.stdout
    );

    // Not a manifest, and a missing file: exit 2 with the path named.
    let junk = servers.sandbox.path().join("junk.jsonl");
    std::fs::write(&junk, "hello\n").unwrap();
    for path in [junk, servers.sandbox.path().join("none.jsonl")] {
        let out = servers
            .airlock_with(&config, &["verify", "--manifest"])
            .arg(&path)
            .run()
            .await;
        out.expect_code(2);
        assert!(
            out.stderr.contains(path.to_str().unwrap()),
            "{}",
            out.stderr
        );
    }
}
