//! The point-in-time checks that only read the shared fixture (`ls --versions`, a TUI selection
//! taken at the moment, clear refusals of bad moments and unversioned buckets), and S3's
//! `null` version replaced after planning.

use super::*;

/// Checks that only read the fixture share one moto server (each start costs seconds of CPU).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn listing_selection_and_refusals_on_one_fixture() {
    let f = fixture().await;
    ls_versions_shows_every_version_of_a_key(&f).await;
    a_tui_selection_is_taken_at_the_moment(&f).await;
    bad_moments_and_unversioned_buckets_are_clear_errors(&f).await;
}

async fn ls_versions_shows_every_version_of_a_key(f: &Fixture) {
    let config = f.config(VERSIONED_BUCKET).write(&f.sandbox);
    let config_arg = config.to_str().unwrap();
    let out = f
        .sandbox
        .airlock([
            "--config",
            config_arg,
            "ls",
            "source",
            "--versions",
            "in/deleted-after.txt",
        ])
        .run()
        .await;
    out.expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    assert!(lines[0].starts_with("VERSION ID"), "{}", out.stdout);
    // Newest first: the delete marker (latest), then the version written before the moment.
    assert!(lines[1].ends_with("latest delete-marker"), "{}", out.stdout);
    assert!(
        lines[2].starts_with(f.old_version("in/deleted-after.txt")),
        "{}",
        out.stdout
    );
    assert!(lines[2].contains("10 B"), "{}", out.stdout);
    assert!(
        !lines[2].contains("latest"),
        "an older version is not latest: {}",
        out.stdout
    );
    assert_eq!(
        lines[3],
        "1 versions of 'in/deleted-after.txt' in s3://versioned-source (1 delete markers)"
    );

    let out = f
        .sandbox
        .airlock([
            "--config",
            config_arg,
            "ls",
            "source",
            "--versions",
            "in/keep.txt",
            "--json",
        ])
        .run()
        .await;
    out.expect_code(0);
    let versions = json_lines(&out.stdout);
    assert_eq!(versions.len(), 2, "{}", out.stdout);
    assert_eq!(versions[0]["is_latest"], true);
    assert_eq!(versions[0]["size"], 16);
    assert_eq!(versions[1]["is_latest"], false);
    assert_eq!(versions[1]["size"], 8);
    assert_eq!(
        versions[1]["version_id"].as_str(),
        Some(f.old_version("in/keep.txt"))
    );
    assert_eq!(
        versions[1]["etag"].as_str(),
        Some(format!("{:x}", md5_of(b"old keep")).as_str())
    );
    // Its time is at or before the moment; the newer one's after.
    let at = |v: &serde_json::Value| v["last_modified"].as_str().unwrap().to_string();
    assert!(at(&versions[1]) <= f.moment && at(&versions[0]) > f.moment);
}

async fn bad_moments_and_unversioned_buckets_are_clear_errors(f: &Fixture) {
    let config = f.config(VERSIONED_BUCKET).write(&f.sandbox);
    let config_arg = config.to_str().unwrap();
    for (bad, why) in [
        ("yesterday", "is not an RFC 3339 time"),
        ("2026-11-20", "is not an RFC 3339 time"),
        ("2999-01-01T00:00:00Z", "is in the future"),
    ] {
        let out = f
            .sandbox
            .airlock(["--config", config_arg, "run", "--version-at", bad])
            .run()
            .await;
        out.expect_code(2);
        assert!(
            out.stderr.contains(&format!("--version-at '{bad}' {why}")),
            "{}",
            out.stderr
        );
    }
    let config = f
        .config(VERSIONED_BUCKET)
        .set_str("source", "version_at", "last tuesday")
        .write(&f.sandbox);
    let out = f
        .sandbox
        .airlock(["--config", config.to_str().unwrap(), "plan"])
        .run()
        .await;
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("source.version_at 'last tuesday' is not an RFC 3339 time"),
        "{}",
        out.stderr
    );

    // A bucket that never had versioning keeps no earlier versions: refused, not guessed.
    let config = f
        .config(PLAIN_BUCKET)
        .set_str("source", "version_at", &f.moment)
        .write(&f.sandbox);
    let out = f
        .sandbox
        .airlock(["--config", config.to_str().unwrap(), "run"])
        .run()
        .await;
    out.expect_code(2);
    assert!(
        out.stderr.contains(&format!(
            "version_at '{}': source bucket 'unversioned-source' has never had versioning enabled",
            f.moment
        )),
        "{}",
        out.stderr
    );
    assert!(f.target.keys("out/").await.is_empty());
}

fn md5_of(bytes: &[u8]) -> impl std::fmt::LowerHex {
    use md5::Digest;
    md5::Md5::digest(bytes)
}

/// S3's `null` version (written while versioning is suspended) is replaced in place by the next
/// write: a plan that pinned it must not copy the new bytes under the old version id. Every
/// pinned GET carries `If-Match` with the planned ETag, so the run fails that object instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn a_null_version_replaced_after_planning_is_not_copied() {
    let moto = Moto::start();
    let sandbox = Sandbox::new();
    let target = Account::start(
        &sandbox.path().join("target-s3"),
        TARGET_ACCESS_KEY,
        TARGET_SECRET_KEY,
        TARGET_BUCKET,
    )
    .await;
    let client = moto.s3_client();
    let bucket = "suspended-source";
    client
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create '{bucket}': {}", describe(&e)));
    let versioning = |status: BucketVersioningStatus| {
        client
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
    };
    versioning(BucketVersioningStatus::Enabled)
        .await
        .unwrap_or_else(|e| panic!("enable versioning: {}", describe(&e)));
    put(&client, bucket, "in/kept.txt", b"versioned".into()).await;
    versioning(BucketVersioningStatus::Suspended)
        .await
        .unwrap_or_else(|e| panic!("suspend versioning: {}", describe(&e)));
    let null_put = |body: &'static [u8]| {
        client
            .put_object()
            .bucket(bucket)
            .key("in/null.txt")
            .body(ByteStream::from_static(body))
            .send()
    };
    null_put(b"first null")
        .await
        .unwrap_or_else(|e| panic!("put null version: {}", describe(&e)));
    next_second().await;
    let moment = format_rfc3339(now_secs() * 1000);

    let config = moto_to_target(&moto, bucket, &target).write(&sandbox);
    let config_arg = config.to_str().unwrap();
    let plan_path = sandbox.path().join("plan.json");
    let out = sandbox
        .airlock([
            "--config",
            config_arg,
            "plan",
            "--version-at",
            &moment,
            "-o",
            plan_path.to_str().unwrap(),
        ])
        .run()
        .await;
    out.expect_code(0);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    let pinned: Vec<&str> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["source_version_id"].as_str().unwrap())
        .collect();
    assert_eq!(pinned.len(), 2, "{plan}");
    assert_eq!(pinned[1], "null", "in/null.txt was written while suspended");

    // Replaced in place (same version id 'null', other bytes) before the run.
    null_put(b"second null, other bytes")
        .await
        .unwrap_or_else(|e| panic!("overwrite null version: {}", describe(&e)));
    let out = sandbox
        .airlock([
            "--config",
            config_arg,
            "run",
            "--plan",
            plan_path.to_str().unwrap(),
        ])
        .run()
        .await;
    out.expect_code(1);
    assert_eq!(target.keys("out/").await, ["out/kept.txt"], "{}", out.all());
    assert_eq!(target.get("out/kept.txt").await, b"versioned");
    assert!(
        out.all().contains("in/null.txt") && out.all().contains("PreconditionFailed"),
        "{}",
        out.all()
    );
}

/// The TUI plans a selection from the browser's listing, which shows the latest versions: with
/// a moment, selected objects and folders are taken as they were then.
async fn a_tui_selection_is_taken_at_the_moment(f: &Fixture) {
    let config = f.config(VERSIONED_BUCKET).write(&f.sandbox);
    let mut settings = airlock_core::config::load_settings(Some(&config)).unwrap();
    settings.filter.version_at =
        Some(airlock_core::config::filter::parse_rfc3339_ms(&f.moment).unwrap());
    let sides = airlock_core::aws::connect(&settings).await.unwrap();
    // What the browser listed: the latest versions.
    let listed = |key: &str, size: u64| airlock_core::plan::ObjectInfo {
        key: key.into(),
        size,
        ..Default::default()
    };
    let gather = |scope| airlock_core::job::gather(&sides, &settings, scope, |_, _| {});
    let inventory = gather(airlock_core::job::Scope::Selection {
        folders: vec![],
        objects: vec![listed("in/keep.txt", 16), listed("in/later.txt", 13)],
    })
    .await
    .unwrap();
    let taken: Vec<(&str, u64, Option<&str>)> = inventory
        .source
        .iter()
        .map(|o| (o.key.as_str(), o.size, o.version_id.as_deref()))
        .collect();
    assert_eq!(
        taken,
        [("in/keep.txt", 8, Some(f.old_version("in/keep.txt")))],
        "in/later.txt did not exist at the moment"
    );

    let inventory = gather(airlock_core::job::Scope::Selection {
        folders: vec!["in/".into()],
        objects: vec![],
    })
    .await
    .unwrap();
    let keys: Vec<&str> = inventory.source.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, ["in/big.bin", "in/deleted-after.txt", "in/keep.txt"]);
    assert!(inventory.source.iter().all(|o| o.version_id.is_some()));
}
