//! What the plan gets wrong on real S3 and how the strict server (`server.behaviours()`) shows
//! it: a target whose checksum disagrees with the source although airlock's provenance
//! metadata says it was copied from it, KMS-encrypted objects whose ETags are not MD5s,
//! archived storage classes and folder markers. Each test plans (and runs) the built binary
//! against the two embedded servers and reads the saved plan.

use aws_sdk_s3::primitives::ByteStream;
use serde_json::Value;

use crate::common::engine::crc64nvme_base64;
use crate::common::*;

/// `airlock plan -o` with `config`: the saved plan's JSON.
pub(crate) async fn saved_plan(servers: &TwoServers, config: &std::path::Path) -> Value {
    let path = servers.sandbox.path().join("plan-under-test.json");
    let out = servers
        .airlock_with(config, &["plan", "-o", path.to_str().unwrap()])
        .run()
        .await;
    out.expect_code(0);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("plan saved")).expect("JSON")
}

/// `(source_key, route, reason)` of every item of a saved plan.
pub(crate) fn routes(plan: &Value) -> Vec<(String, String, String)> {
    plan["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            (
                item["source_key"].as_str().unwrap().to_string(),
                item["route"].as_str().unwrap().to_string(),
                item["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// PUT `bytes` at `key` with a CRC64NVME checksum (and `metadata`), as a careful client does.
async fn put_with_crc64(account: &Account, key: &str, bytes: Vec<u8>, metadata: &[(&str, &str)]) {
    let mut request = account
        .client
        .put_object()
        .bucket(&account.bucket)
        .key(key)
        .checksum_crc64_nvme(crc64nvme_base64(&bytes))
        .body(ByteStream::from(bytes));
    for (name, value) in metadata {
        request = request.metadata(*name, *value);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT '{key}': {}", describe(&e)));
}

/// The ETag of `key` (unquoted), by HEAD.
async fn etag_of(account: &Account, key: &str) -> String {
    let head = account
        .client
        .head_object()
        .bucket(&account.bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("HEAD '{key}': {}", describe(&e)));
    head.e_tag().unwrap().trim_matches('"').to_string()
}

/// A target object that carries airlock's provenance (`airlock-source-etag` equal to the
/// source's ETag) and the source's size, but other bytes and so another checksum, is `diff`:
/// the checksums decide before the provenance does. This is the state a failed verification
/// can leave behind; a rerun must copy it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checksum_mismatch_beats_a_provenance_match() {
    let servers = TwoServers::start().await;
    put_with_crc64(&servers.source, "a.bin", seeded_bytes(1, 0, 1000), &[]).await;
    put_with_crc64(&servers.source, "b.bin", seeded_bytes(2, 0, 1000), &[]).await;
    let config = servers.config().write(&servers.sandbox);
    servers
        .airlock_with(&config, &["run"])
        .run()
        .await
        .expect_code(0);

    // Same size, same provenance, other bytes.
    let source_etag = etag_of(&servers.source, "a.bin").await;
    put_with_crc64(
        &servers.target,
        "a.bin",
        seeded_bytes(3, 0, 1000),
        &[("airlock-source-etag", &source_etag)],
    )
    .await;

    let plan = saved_plan(&servers, &config).await;
    let routes = routes(&plan);
    assert_eq!(routes.len(), 2, "{routes:?}");
    assert_eq!(routes[0].0, "a.bin");
    assert_eq!(routes[0].1, "single", "{routes:?}");
    assert_eq!(routes[0].2, "differs: crc64nvme checksum");
    assert_eq!(
        (routes[1].1.as_str(), routes[1].2.as_str()),
        ("skip", "same size and crc64nvme checksum")
    );

    // The rerun copies it again, and the target then holds the source's bytes.
    servers
        .airlock_with(&config, &["run"])
        .run()
        .await
        .expect_code(0);
    assert_eq!(servers.target.get("a.bin").await, seeded_bytes(1, 0, 1000));
}

/// `airlock ARGS --json` with `config`: exit code 0 and the run summary.
pub(crate) async fn run_json(
    servers: &TwoServers,
    config: &std::path::Path,
    args: &[&str],
) -> Value {
    let mut all = vec!["run", "--json"];
    all.extend(args);
    let out = servers.airlock_with(config, &all).run().await;
    out.expect_code(0);
    run_summary(&json_lines(&out.stdout)).clone()
}

/// Both buckets encrypt every object with SSE-KMS (S3's bucket default encryption): every
/// ETag is opaque, so two different ETags prove nothing. A copy is followed by a plan, a
/// rerun, a saved-plan rerun and a shard run that all skip every object (today's code copies
/// them all again, each time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_encrypted_objects_are_copied_once_then_skipped() {
    let servers = TwoServers::start().await;
    for account in [&servers.source, &servers.target] {
        let behaviours = account.server.behaviours();
        behaviours.set_sse_etags(true);
        behaviours.set_default_encryption(Some(airlock_s3server::DefaultEncryption::Kms {
            key_id: None,
        }));
    }
    for (key, seed) in [("a.txt", 1), ("b.txt", 2), ("c/d.txt", 3)] {
        servers.source.put(key, seeded_bytes(seed, 0, 3000)).await;
    }
    servers.source.put_seeded("big.bin", 6 * MIB, 4).await;
    let config = servers
        .config()
        .transfer(&["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""])
        .write(&servers.sandbox);
    // A plan saved before the copy, run after it: its recheck must find every object there.
    let path = servers.sandbox.path().join("before.json");
    servers
        .airlock_with(&config, &["plan", "-o", path.to_str().unwrap()])
        .run()
        .await
        .expect_code(0);
    let first = run_json(&servers, &config, &[]).await;
    assert_eq!(first["copied"], 4, "{first}");

    let plan = saved_plan(&servers, &config).await;
    for (key, route, reason) in routes(&plan) {
        assert_eq!(route, "skip", "'{key}' planned again: {reason}");
    }
    let rerun = run_json(&servers, &config, &[]).await;
    assert_eq!(
        (rerun["copied"].as_u64(), rerun["failed"].as_u64()),
        (Some(0), Some(0)),
        "{rerun}"
    );

    let plan_arg = path.to_str().unwrap();
    let rechecked = run_json(&servers, &config, &["--plan", plan_arg]).await;
    assert_eq!(rechecked["copied"], 0, "{rechecked}");
    for shard in ["0/2", "1/2"] {
        let sharded = run_json(&servers, &config, &["--plan", plan_arg, "--shard", shard]).await;
        assert_eq!(sharded["copied"], 0, "shard {shard}: {sharded}");
    }
}

/// A DSSE-KMS source object without a checksum: its ETag is not an MD5, so the copy must not
/// check the bytes against it (today: re-read 9 times, then failed as 'source corrupt').
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsse_source_without_checksum_is_not_failed_as_corrupt() {
    let servers = TwoServers::start().await;
    let behaviours = servers.source.server.behaviours();
    behaviours.set_sse_etags(true);
    behaviours.set_default_encryption(Some(airlock_s3server::DefaultEncryption::DsseKms {
        key_id: None,
    }));
    servers.source.put("x.bin", seeded_bytes(5, 0, 4096)).await;
    let config = servers.config().write(&servers.sandbox);
    let summary = run_json(&servers, &config, &[]).await;
    assert_eq!(
        (summary["copied"].as_u64(), summary["failed"].as_u64()),
        (Some(1), Some(0)),
        "{summary}"
    );
    assert_eq!(servers.target.get("x.bin").await, seeded_bytes(5, 0, 4096));
    let plan = saved_plan(&servers, &config).await;
    assert_eq!(routes(&plan)[0].1, "skip", "{:?}", routes(&plan));
}

/// PUT `bytes` at `key` in a storage class.
async fn put_in_class(account: &Account, key: &str, bytes: Vec<u8>, class: &str) {
    account
        .client
        .put_object()
        .bucket(&account.bucket)
        .key(key)
        .storage_class(aws_sdk_s3::types::StorageClass::from(class))
        .body(ByteStream::from(bytes))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT '{key}' in {class}: {}", describe(&e)));
}

/// GLACIER and DEEP_ARCHIVE objects that are not restored are held back by the plan (their own
/// skip reason and count, not in the bytes to copy); a restored one is copied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_objects_are_held_back_until_restored() {
    let servers = TwoServers::start().await;
    servers
        .source
        .server
        .behaviours()
        .set_archived_storage_classes(true);
    put_in_class(
        &servers.source,
        "cold.bin",
        seeded_bytes(1, 0, 100),
        "GLACIER",
    )
    .await;
    put_in_class(
        &servers.source,
        "colder.bin",
        seeded_bytes(2, 0, 200),
        "DEEP_ARCHIVE",
    )
    .await;
    put_in_class(
        &servers.source,
        "thawed.bin",
        seeded_bytes(3, 0, 300),
        "GLACIER",
    )
    .await;
    servers
        .source
        .put("warm.bin", seeded_bytes(4, 0, 400))
        .await;
    servers
        .source
        .client
        .restore_object()
        .bucket(SOURCE_BUCKET)
        .key("thawed.bin")
        .restore_request(aws_sdk_s3::types::RestoreRequest::builder().days(1).build())
        .send()
        .await
        .unwrap_or_else(|e| panic!("RestoreObject: {}", describe(&e)));
    let config = servers.config().write(&servers.sandbox);

    let plan = saved_plan(&servers, &config).await;
    assert_eq!(
        routes(&plan),
        [
            (
                "cold.bin".to_string(),
                "skip".to_string(),
                "archived (GLACIER): restore it first".to_string()
            ),
            (
                "colder.bin".into(),
                "skip".into(),
                "archived (DEEP_ARCHIVE): restore it first".into()
            ),
            ("thawed.bin".into(), "single".into(), "new".into()),
            ("warm.bin".into(), "single".into(), "new".into()),
        ]
    );
    assert_eq!(plan["summary"]["held_back"]["archived"], 2);
    assert_eq!(plan["summary"]["single"]["bytes"], 700);
    let out = servers.airlock_with(&config, &["plan"]).run().await;
    out.expect_code(0);
    assert_eq!(
        lines_with(&out.stdout, "archived          2 objects held back").len(),
        1,
        "{}",
        out.stdout
    );

    let summary = run_json(&servers, &config, &[]).await;
    assert_eq!(
        (summary["copied"].as_u64(), summary["failed"].as_u64()),
        (Some(2), Some(0)),
        "{summary}"
    );
    assert_eq!(
        servers.target.get("thawed.bin").await,
        seeded_bytes(3, 0, 300)
    );
    assert!(servers.target.keys("cold").await.is_empty());
}

/// Intelligent-Tiering archive tiers show only on HEAD/GET: the copy fails such an object at
/// once with 'restore it first' (not a credentials hint, not retried), and a multipart one
/// opens no target upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intelligent_tiering_archive_fails_at_once_saying_restore_it_first() {
    let servers = TwoServers::start().await;
    let behaviours = servers.source.server.behaviours();
    behaviours.set_archived_storage_classes(true);
    put_in_class(
        &servers.source,
        "small.bin",
        seeded_bytes(1, 0, 1000),
        "INTELLIGENT_TIERING",
    )
    .await;
    // 6 MiB at a 5 MiB threshold: multipart.
    put_in_class(
        &servers.source,
        "big.bin",
        seeded_bytes(2, 0, 6 * MIB as usize),
        "INTELLIGENT_TIERING",
    )
    .await;
    behaviours.set_intelligent_tiering_archive(Some(airlock_s3server::ArchiveTier::ArchiveAccess));
    let config = servers
        .config()
        .transfer(&["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""])
        .write(&servers.sandbox);

    let out = servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;
    out.expect_code(1);
    let lines = json_lines(&out.stdout);
    let failed = events_named(&lines, "object_failed");
    assert_eq!(failed.len(), 2, "{failed:#?}");
    for event in &failed {
        let error = event["error"].as_str().unwrap();
        assert!(error.contains("restore it first"), "{error}");
        assert!(!error.contains("credentials"), "{error}");
    }
    assert!(events_named(&lines, "retry").is_empty(), "{lines:#?}");
    let uploads = servers
        .target
        .client
        .list_multipart_uploads()
        .bucket(TARGET_BUCKET)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListMultipartUploads: {}", describe(&e)));
    assert!(uploads.uploads().is_empty(), "{uploads:?}");
    assert!(servers.target.keys("").await.is_empty());
}

/// Folder markers (`x/`, 0 bytes): the one equal to `source.prefix` would map to an empty
/// target key when `target.prefix` is empty: held back with a count. Other markers are
/// copied as markers, and the rerun skips them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_markers_are_copied_except_the_source_prefix_one_into_an_empty_prefix() {
    let servers = TwoServers::start().await;
    for account in [&servers.source, &servers.target] {
        account.server.behaviours().set_folder_markers(true);
    }
    servers.source.put("in/", Vec::new()).await;
    servers.source.put("in/sub/", Vec::new()).await;
    servers.source.put("in/sub/x.txt", b"x".to_vec()).await;

    let config = servers.config().prefixes("in/", "").write(&servers.sandbox);
    let plan = saved_plan(&servers, &config).await;
    let held = "folder marker of the source prefix (its target key would be empty)";
    assert_eq!(
        routes(&plan),
        [
            ("in/".to_string(), "skip".to_string(), held.to_string()),
            ("in/sub/".into(), "single".into(), "new".into()),
            ("in/sub/x.txt".into(), "single".into(), "new".into()),
        ]
    );
    assert_eq!(plan["summary"]["held_back"]["source_prefix_markers"], 1);
    let summary = run_json(&servers, &config, &[]).await;
    assert_eq!(
        (summary["copied"].as_u64(), summary["failed"].as_u64()),
        (Some(2), Some(0)),
        "{summary}"
    );
    assert_eq!(servers.target.get("sub/").await, Vec::<u8>::new());
    let rerun = run_json(&servers, &config, &[]).await;
    assert_eq!(
        (rerun["copied"].as_u64(), rerun["failed"].as_u64()),
        (Some(0), Some(0)),
        "{rerun}"
    );

    // Into a non-empty prefix, the source prefix's marker is a marker like the others.
    let config = servers
        .config()
        .prefixes("in/", "out/")
        .write(&servers.sandbox);
    let summary = run_json(&servers, &config, &[]).await;
    assert_eq!(
        (summary["copied"].as_u64(), summary["failed"].as_u64()),
        (Some(3), Some(0)),
        "{summary}"
    );
    assert_eq!(servers.target.get("out/").await, Vec::<u8>::new());
    assert_eq!(servers.target.get("out/sub/").await, Vec::<u8>::new());
}
