//! Point in time (`source.version_at`, `--version-at`) against moto's S3, the one test server
//! that keeps versions (s3s-fs has no versioning). The source is a versioned bucket on moto;
//! the target is an in-process s3s-fs server with its own keys.
//!
//! Timeline: objects are written, then the moment is taken, then some are overwritten (one of
//! them a multipart-size object, overwritten with other bytes of the same size), one is
//! deleted and one is created. A run at the moment must copy the old bytes of each key that
//! existed then, and nothing else; every GET (the single ones and each ranged GET of the
//! multipart object) names the version, or the overwritten bytes would leak in.
//!
//! moto lists LastModified in whole seconds, so the test waits past a second boundary on each
//! side of the moment. Ignored without `AIRLOCK_MOTO` at build time (run, and failing, under
//! `CI=true`): see `common::moto`.

mod fixture_reads;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::moto::Moto;
use crate::common::*;
use airlock_core::config::filter::format_rfc3339;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};

const VERSIONED_BUCKET: &str = "versioned-source";
const PLAIN_BUCKET: &str = "unversioned-source";
/// Above the 5 MiB multipart threshold: three 5 MiB ranged GETs (5 + 5 + 1 MiB).
const BIG_SIZE: u64 = 11 * MIB;

/// The whole seconds since the epoch now.
fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Sleep into the next whole second (plus a margin), so writes before and after a moment fall
/// in different seconds of moto's second-precision LastModified.
async fn next_second() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let to_next = Duration::from_millis(1000 - u64::from(now.subsec_millis()));
    tokio::time::sleep(to_next + Duration::from_millis(100)).await;
}

struct Fixture {
    moto: Moto,
    target: Account,
    sandbox: Sandbox,
    /// `version_at`, RFC 3339.
    moment: String,
    /// Version ids written before the moment, by key.
    old_versions: Vec<(&'static str, String)>,
}

async fn put(client: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) -> String {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put '{key}' on moto: {}", describe(&e)))
        .version_id()
        .unwrap_or_else(|| panic!("moto gave '{key}' no version id: is versioning on?"))
        .to_string()
}

async fn delete(client: &aws_sdk_s3::Client, key: &str) {
    client
        .delete_object()
        .bucket(VERSIONED_BUCKET)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete '{key}' on moto: {}", describe(&e)));
}

async fn fixture() -> Fixture {
    let moto = Moto::start();
    let sandbox = Sandbox::new();
    let target = Account::start(
        &sandbox.path().join("target-s3"),
        TARGET_ACCESS_KEY,
        TARGET_SECRET_KEY,
        TARGET_BUCKET,
    )
    .await;
    let client = moto
        .s3_with_buckets(&[VERSIONED_BUCKET, PLAIN_BUCKET])
        .await;
    client
        .put_bucket_versioning()
        .bucket(VERSIONED_BUCKET)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("enable versioning on moto: {}", describe(&e)));
    let b = VERSIONED_BUCKET;

    // Before the moment.
    let mut old_versions = Vec::new();
    old_versions.push((
        "in/keep.txt",
        put(&client, b, "in/keep.txt", b"old keep".into()).await,
    ));
    old_versions.push((
        "in/big.bin",
        put(
            &client,
            b,
            "in/big.bin",
            seeded_bytes(1, 0, BIG_SIZE as usize),
        )
        .await,
    ));
    old_versions.push((
        "in/deleted-after.txt",
        put(&client, b, "in/deleted-after.txt", b"gone later".into()).await,
    ));
    put(&client, b, "in/deleted-before.txt", b"gone early".into()).await;
    delete(&client, "in/deleted-before.txt").await;
    client
        .put_object()
        .bucket(PLAIN_BUCKET)
        .key("in/plain.txt")
        .body(ByteStream::from_static(b"plain"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put 'in/plain.txt' on moto: {}", describe(&e)));

    next_second().await;
    let moment = format_rfc3339(now_secs() * 1000);
    next_second().await;

    // After the moment.
    put(&client, b, "in/keep.txt", b"NEW KEEP, longer".into()).await;
    put(
        &client,
        b,
        "in/big.bin",
        seeded_bytes(2, 0, BIG_SIZE as usize),
    )
    .await;
    delete(&client, "in/deleted-after.txt").await;
    put(&client, b, "in/later.txt", b"created later".into()).await;

    Fixture {
        moto,
        target,
        sandbox,
        moment,
        old_versions,
    }
}

impl Fixture {
    /// A config from the versioned (or plain) moto bucket's `in/` to the target's `out/`, in
    /// 5 MiB parts.
    fn config(&self, bucket: &str) -> Config {
        moto_to_target(&self.moto, bucket, &self.target)
            .transfer(&["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""])
    }

    fn old_version(&self, key: &str) -> &str {
        &self.old_versions.iter().find(|(k, _)| *k == key).unwrap().1
    }
}

/// A config from moto's `bucket`, `in/`, to the target's `out/`.
fn moto_to_target(moto: &Moto, bucket: &str, target: &Account) -> Config {
    Config::endpoints(&moto.endpoint, &target.server.endpoint)
        .set_str("source", "bucket", bucket)
        .prefixes("in/", "out/")
        .keys("source", "moto-source-key", "moto-source-secret-0000")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn a_run_at_a_moment_copies_each_key_as_it_was_then() {
    let f = fixture().await;
    let config = f.config(VERSIONED_BUCKET).write(&f.sandbox);
    let config_arg = config.to_str().unwrap();

    // The plan names the moment and pins each version.
    let plan_path = f.sandbox.path().join("plan.json");
    let out = f
        .sandbox
        .airlock([
            "--config",
            config_arg,
            "plan",
            "--version-at",
            &f.moment,
            "-o",
            plan_path.to_str().unwrap(),
        ])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        lines_with(&out.stdout, &format!("version_at {}", f.moment)).len(),
        1,
        "{}",
        out.stdout
    );
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    assert_eq!(plan["version_at"].as_str(), Some(f.moment.as_str()));
    let pinned: Vec<(&str, &str)> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["source_key"].as_str().unwrap(),
                i["source_version_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pinned,
        [
            ("in/big.bin", f.old_version("in/big.bin")),
            (
                "in/deleted-after.txt",
                f.old_version("in/deleted-after.txt")
            ),
            ("in/keep.txt", f.old_version("in/keep.txt")),
        ]
    );

    // Running the saved plan copies the old bytes, the multipart object through pinned ranged
    // GETs (each also If-Match the old version's ETag; the latest has another).
    let manifest = f.sandbox.path().join("manifest.jsonl");
    let out = f
        .sandbox
        .airlock([
            "--config",
            config_arg,
            "run",
            "--plan",
            plan_path.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
        ])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        f.target.keys("out/").await,
        ["out/big.bin", "out/deleted-after.txt", "out/keep.txt"],
        "only keys that existed at the moment"
    );
    assert_eq!(f.target.get("out/keep.txt").await, b"old keep");
    assert_eq!(f.target.get("out/deleted-after.txt").await, b"gone later");
    let big = f.target.get("out/big.bin").await;
    assert_eq!(big.len() as u64, BIG_SIZE);
    assert!(
        big == seeded_bytes(1, 0, BIG_SIZE as usize),
        "out/big.bin holds other bytes than the version at the moment"
    );
    let records = read_manifest(&manifest).1;
    let recorded: Vec<(&str, &str, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["source_key"].as_str().unwrap(),
                r["version_id"].as_str().unwrap(),
                r["route"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        [
            (
                "in/big.bin",
                f.old_version("in/big.bin"),
                "multipart",
                "copied"
            ),
            (
                "in/deleted-after.txt",
                f.old_version("in/deleted-after.txt"),
                "single",
                "copied"
            ),
            (
                "in/keep.txt",
                f.old_version("in/keep.txt"),
                "single",
                "copied"
            ),
        ]
    );

    // Again, with the moment from the config: the target holds the pinned versions, so all
    // three are skips (compared with the old versions' sizes and ETags, not the latest).
    // `--version-at` on `run` is the same flag as on `plan` (tested for bad values below).
    let config = f
        .config(VERSIONED_BUCKET)
        .set_str("source", "version_at", &f.moment)
        .write(&f.sandbox);
    let again = f.sandbox.path().join("again.jsonl");
    let out = f
        .sandbox
        .airlock([
            "--config",
            config.to_str().unwrap(),
            "run",
            "--manifest",
            again.to_str().unwrap(),
        ])
        .run()
        .await;
    out.expect_code(0);
    let outcomes: Vec<String> = read_manifest(&again)
        .1
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["source_key"].as_str().unwrap(),
                r["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            "in/big.bin skipped",
            "in/deleted-after.txt skipped",
            "in/keep.txt skipped"
        ]
    );

    // Without a moment the latest versions differ: they are copied over the old ones.
    let out = f
        .sandbox
        .airlock(["--config", config_arg, "run"])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(f.target.get("out/keep.txt").await, b"NEW KEEP, longer");
    assert!(f.target.get("out/big.bin").await == seeded_bytes(2, 0, BIG_SIZE as usize));
    assert_eq!(
        f.target.keys("out/").await,
        [
            "out/big.bin",
            "out/deleted-after.txt",
            "out/keep.txt",
            "out/later.txt"
        ]
    );

    // A saved mirror plan at the moment: its deletions are rechecked at the same moment, so
    // the key created later (which the source holds now) is still deleted.
    let mirror_plan = f.sandbox.path().join("pinned-mirror.json");
    let out = f
        .sandbox
        .airlock([
            "--config",
            config_arg,
            "plan",
            "--mode",
            "mirror",
            "--version-at",
            &f.moment,
            "-o",
            mirror_plan.to_str().unwrap(),
        ])
        .run()
        .await;
    out.expect_code(0);
    let out = f
        .sandbox
        .airlock([
            "--config",
            config_arg,
            "run",
            "--plan",
            mirror_plan.to_str().unwrap(),
            "--confirm-delete",
        ])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        f.target.keys("out/").await,
        ["out/big.bin", "out/deleted-after.txt", "out/keep.txt"],
        "{}",
        out.all()
    );
    assert_eq!(f.target.get("out/keep.txt").await, b"old keep");

    // Back to the latest versions, then mirror at the moment directly: the same result.
    let out = f
        .sandbox
        .airlock(["--config", config_arg, "run"])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(f.target.keys("out/").await.len(), 4);
    let out = f
        .sandbox
        .airlock([
            "--config",
            config_arg,
            "run",
            "--mode",
            "mirror",
            "--version-at",
            &f.moment,
            "--confirm-delete",
        ])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        f.target.keys("out/").await,
        ["out/big.bin", "out/deleted-after.txt", "out/keep.txt"],
        "{}",
        out.all()
    );
    assert_eq!(f.target.get("out/keep.txt").await, b"old keep");
    assert!(f.target.get("out/big.bin").await == seeded_bytes(1, 0, BIG_SIZE as usize));
}
