//! S3 Inventory as the source listing, against real servers: the inventory's manifest.json and
//! gzip CSV data files are written into a bucket as AWS lays them out
//! (`SOURCE-BUCKET/CONFIG-ID/YYYY-MM-DDTHH-MMZ/manifest.json`, data files under `data/`), and
//! `plan` / `run` read them instead of listing the source. Checked here: what is planned and
//! copied is what the inventory lists (URL-encoded keys included), a key deleted since the
//! inventory is skipped with its reason, an inventory out of key order is refused (or, with
//! `inventory_sort`, sorted on disk and planned as if it were in order). Whose credentials read
//! it, and bad inventories: `s3_inventory_errors`.

use aws_sdk_s3::primitives::ByteStream;
use md5::{Digest, Md5};

use crate::common::*;

/// The inventories' creationTimestamp: 2026-12-05T00:00:00Z.
pub(crate) const CREATED_MS: i64 = 1_796_428_800_000;
pub(crate) const CREATED: &str = "2026-12-05T00:00:00Z";
pub(crate) const INVENTORY_BUCKET: &str = "inventory-bucket";
pub(crate) const SCHEMA: &str = "Bucket, Key, Size, LastModifiedDate, ETag, StorageClass";

/// An inventory to write: its manifest's fields and its data files' rows.
pub(crate) struct Inventory {
    pub source_bucket: String,
    pub format: String,
    pub schema: String,
    /// Rows per data file, each row its CSV fields.
    pub files: Vec<Vec<Vec<String>>>,
    /// Write this MD5checksum for every file instead of the right one.
    pub wrong_md5: Option<String>,
}

impl Inventory {
    /// A CSV inventory of the source bucket with these files.
    pub(crate) fn csv(files: Vec<Vec<Vec<String>>>) -> Self {
        Inventory {
            source_bucket: SOURCE_BUCKET.to_string(),
            format: "CSV".to_string(),
            schema: SCHEMA.to_string(),
            files,
            wrong_md5: None,
        }
    }

    /// Write it into `bucket` (created) of `account`; returns the manifest's s3:// location.
    pub(crate) async fn put(&self, account: &Account, bucket: &str) -> String {
        account.server.create_bucket(bucket).expect("create bucket");
        self.put_with(&account.client, bucket).await
    }

    /// [`Inventory::put`] into `bucket` (which exists) through `client`: another store's.
    pub(crate) async fn put_with(&self, client: &aws_sdk_s3::Client, bucket: &str) -> String {
        let base = format!("{}/daily", self.source_bucket);
        let mut files = Vec::new();
        for (n, rows) in self.files.iter().enumerate() {
            let gz = gz_csv(rows);
            let key = format!("{base}/data/{n:04}-5a1f.csv.gz");
            let md5: String = Md5::digest(&gz)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let md5 = self.wrong_md5.clone().unwrap_or(md5);
            files.push(format!(
                r#"{{"key": "{key}", "size": {}, "MD5checksum": "{md5}"}}"#,
                gz.len()
            ));
            put_in(client, bucket, &key, gz).await;
        }
        let manifest = format!(
            r#"{{
  "sourceBucket": "{}",
  "destinationBucket": "arn:aws:s3:::{bucket}",
  "version": "2016-11-30",
  "creationTimestamp": "{CREATED_MS}",
  "fileFormat": "{}",
  "fileSchema": "{}",
  "files": [{}]
}}"#,
            self.source_bucket,
            self.format,
            self.schema,
            files.join(", ")
        );
        let key = format!("{base}/2026-12-05T00-00Z/manifest.json");
        put_in(client, bucket, &key, manifest.into_bytes()).await;
        format!("s3://{bucket}/{key}")
    }
}

async fn put_in(client: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put '{key}': {}", describe(&e)));
}

/// Rows as a gzip CSV file (every field quoted, as AWS writes them).
pub(crate) fn gz_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut csv = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    for row in rows {
        csv.write_record(row).unwrap();
    }
    let text = csv.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &text).unwrap();
    gz.finish().unwrap()
}

/// A key URL-encoded the way CSV inventories write it (form encoding: a space is `+`).
pub(crate) fn encode_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The inventory row of each source key (HEADed for size, ETag and time), sorted by key.
pub(crate) async fn rows_of(account: &Account, keys: &[&str]) -> Vec<Vec<String>> {
    rows_in(&account.client, &account.bucket, keys).await
}

/// [`rows_of`] the objects of `bucket` through `client`: another store's.
pub(crate) async fn rows_in(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    keys: &[&str],
) -> Vec<Vec<String>> {
    let mut keys = keys.to_vec();
    keys.sort();
    let mut rows = Vec::new();
    for key in keys {
        let head = client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("head '{key}': {}", describe(&e)));
        let modified = head
            .last_modified()
            .unwrap()
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap();
        rows.push(vec![
            bucket.to_string(),
            encode_key(key),
            head.content_length().unwrap().to_string(),
            modified,
            head.e_tag().unwrap().trim_matches('"').to_string(),
            "STANDARD".to_string(),
        ]);
    }
    rows
}

/// Objects with the keys that need encoding, a multipart one, one the target holds already,
/// and one outside the prefix; returns the keys the inventory lists.
async fn fixture(servers: &TwoServers) -> Vec<&'static str> {
    let listed = vec![
        "in/a.txt",
        "in/with space.txt",
        "in/ünï cødé.txt",
        "in/plus+sign.txt",
        "in/per%cent.txt",
        "in/same.txt",
        "outside.txt",
    ];
    for key in &listed {
        servers.source.put(key, format!("body of {key}")).await;
    }
    servers.source.put_seeded("in/big.bin", 12 * MIB, 1).await;
    servers
        .target
        .put("out/same.txt", "body of in/same.txt")
        .await;
    let mut listed = listed;
    listed.push("in/big.bin");
    listed
}

pub(crate) fn config(servers: &TwoServers, target_prefix: &str, manifest: &str) -> Config {
    servers
        .config()
        .prefixes("in/", target_prefix)
        .transfer(&["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""])
        .set_str("source", "inventory", manifest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_run_copy_what_the_inventory_lists() {
    let servers = TwoServers::start().await;
    let listed = fixture(&servers).await;
    let rows = rows_of(&servers.source, &listed).await;
    let manifest = Inventory::csv(vec![rows])
        .put(&servers.source, INVENTORY_BUCKET)
        .await;
    // Written after the inventory: a listing would copy it, the inventory does not list it.
    servers.source.put("in/after.txt", "too late").await;
    let config = config(&servers, "out/", &manifest).write(&servers.sandbox);

    let plan = servers
        .airlock_with(&config, &["plan", "--summary"])
        .run()
        .await;
    plan.expect_code(0);
    assert!(
        plan.stdout.contains(&format!(
            "source: S3 Inventory of {CREATED} (8 rows, '{manifest}')"
        )),
        "{}",
        plan.stdout
    );
    let single = lines_with(&plan.stdout, "  single ");
    assert!(single[0].contains(" 5 objects "), "{}", plan.stdout);

    let run = servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;
    run.expect_code(0);
    assert!(
        run.stderr
            .contains(&format!("source: S3 Inventory of {CREATED} ('{manifest}')")),
        "{}",
        run.stderr
    );
    let summary = run_summary(&json_lines(&run.stdout)).clone();
    assert_eq!(summary["copied"], 6, "{summary}");
    assert_eq!(summary["verified"], 6, "{summary}");
    assert_eq!(summary["skipped"], 1, "{summary}");
    let mut copied = servers.target.keys("").await;
    copied.sort();
    let mut wanted: Vec<String> = listed
        .iter()
        .filter_map(|k| k.strip_prefix("in/"))
        .map(|k| format!("out/{k}"))
        .collect();
    wanted.sort();
    assert_eq!(
        copied, wanted,
        "exactly the inventory's keys under the prefix"
    );
    for key in &listed[..5] {
        let target_key = key.replacen("in/", "out/", 1);
        assert_eq!(
            servers.target.get(&target_key).await,
            servers.source.get(key).await,
            "{key}"
        );
    }
    assert_eq!(
        servers.target.get("out/big.bin").await,
        servers.source.get("in/big.bin").await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_deleted_since_the_inventory_is_skipped_with_its_reason() {
    let servers = TwoServers::start().await;
    for key in ["in/keep.txt", "in/gone.txt"] {
        servers.source.put(key, format!("body of {key}")).await;
    }
    servers
        .source
        .put_seeded("in/gone-big.bin", 12 * MIB, 2)
        .await;
    let rows = rows_of(
        &servers.source,
        &["in/keep.txt", "in/gone.txt", "in/gone-big.bin"],
    )
    .await;
    let manifest = Inventory::csv(vec![rows])
        .put(&servers.source, INVENTORY_BUCKET)
        .await;
    let dir = servers.sandbox.path().to_path_buf();
    let saved = config(&servers, "out/", &manifest).write(&servers.sandbox);
    let plan = servers.save_plan(&saved, "plan.jsonl").await;
    // The same objects planned from a listing: a 404 there stays a failure.
    let listed = servers
        .config()
        .prefixes("in/", "listed/")
        .transfer(&["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""])
        .write(&servers.sandbox);
    let listed_plan = servers.save_plan(&listed, "listed.jsonl").await;
    let text = std::fs::read_to_string(&plan).unwrap();
    assert!(
        text.contains(&format!("\"created\":\"{CREATED}\"")),
        "{text}"
    );
    assert_eq!(
        text.matches(&format!("\"inventory_of_ms\":{CREATED_MS}"))
            .count(),
        3
    );

    for key in ["in/gone.txt", "in/gone-big.bin"] {
        servers
            .source
            .client
            .delete_object()
            .bucket(SOURCE_BUCKET)
            .key(key)
            .send()
            .await
            .unwrap();
    }
    let reason = format!("gone since the inventory of {CREATED} (the source answered 404)");

    // A saved plan, then a fresh plan straight into the run: both skip the two.
    let manifest_file = dir.join("run.jsonl");
    let saved_run = servers
        .airlock_with(
            &saved,
            &[
                "run",
                "--json",
                "--plan",
                plan.to_str().unwrap(),
                "--manifest",
            ],
        )
        .arg(&manifest_file)
        .run()
        .await;
    let listed_run = servers
        .airlock_with(
            &listed,
            &["run", "--json", "--plan", listed_plan.to_str().unwrap()],
        )
        .run()
        .await;
    listed_run.expect_code(1);
    let summary = run_summary(&json_lines(&listed_run.stdout)).clone();
    assert_eq!(
        (&summary["failed"], &summary["gone"]),
        (&2.into(), &0.into()),
        "{summary}"
    );
    let fresh = config(&servers, "fresh/", &manifest).write(&servers.sandbox);
    let fresh_run = servers.airlock_with(&fresh, &["run", "--json"]).run().await;
    for run in [&saved_run, &fresh_run] {
        run.expect_code(0);
        let lines = json_lines(&run.stdout);
        let summary = run_summary(&lines);
        assert_eq!(
            (&summary["gone"], &summary["failed"], &summary["copied"]),
            (&2.into(), &0.into(), &1.into()),
            "{summary}"
        );
        let gone = events_named(&lines, "object_gone");
        let mut keys: Vec<&str> = gone.iter().map(|e| e["key"].as_str().unwrap()).collect();
        keys.sort();
        assert_eq!(keys, ["in/gone-big.bin", "in/gone.txt"]);
        assert!(
            gone.iter().all(|e| e["reason"] == reason.as_str()),
            "{gone:?}"
        );
    }
    let mut at_target = servers.target.keys("").await;
    at_target.sort();
    assert_eq!(
        at_target,
        ["fresh/keep.txt", "listed/keep.txt", "out/keep.txt"]
    );
    let (_, records) = read_manifest(&manifest_file);
    let gone = records
        .iter()
        .find(|r| r["source_key"] == "in/gone-big.bin")
        .unwrap_or_else(|| panic!("no record of in/gone-big.bin in {records:#?}"));
    assert_eq!(gone["outcome"], "skipped", "{gone}");
    assert_eq!(gone["reason"], reason.as_str(), "{gone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inventory_out_of_key_order_is_refused_or_sorted_on_disk() {
    let servers = TwoServers::start().await;
    let keys = ["in/a.txt", "in/m.txt", "in/z.txt"];
    for key in keys {
        servers.source.put(key, format!("body of {key}")).await;
    }
    let rows = rows_of(&servers.source, &keys).await;
    // The same rows in two files, the second starting before the first ends.
    let unordered = Inventory::csv(vec![rows[1..].to_vec(), rows[..1].to_vec()])
        .put(&servers.source, "unordered")
        .await;
    let ordered = Inventory::csv(vec![rows[..1].to_vec(), rows[1..].to_vec()])
        .put(&servers.source, "ordered")
        .await;

    let refused = config(&servers, "out/", &unordered).write(&servers.sandbox);
    let out = servers.airlock_with(&refused, &["plan"]).run().await;
    out.expect_code(2);
    assert!(
        out.stderr.contains(&format!(
            "the inventory '{unordered}' is not in key order ('in/a.txt' came after 'in/z.txt'"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("set source.inventory_sort = true"),
        "{}",
        out.stderr
    );

    // In order, it plans; out of order with inventory_sort, it plans the same.
    let planned = config(&servers, "out/", &ordered).write(&servers.sandbox);
    let in_order = servers.airlock_with(&planned, &["plan"]).run().await;
    in_order.expect_code(0);
    for key in keys {
        assert!(in_order.stdout.contains(key), "{key}: {}", in_order.stdout);
    }
    let sorted = config(&servers, "out/", &unordered)
        .set("source", "inventory_sort", "true")
        .write(&servers.sandbox);
    let sorted = servers.airlock_with(&sorted, &["plan"]).run().await;
    sorted.expect_code(0);
    let table = |out: &str| -> Vec<String> {
        (out.lines().filter(|l| !l.contains("S3 Inventory")))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(table(&sorted.stdout), table(&in_order.stdout));
    assert!(servers.target.keys("").await.is_empty());
}
