//! The streaming plan (listing merge-join) and plan file format 5 against real servers: the
//! streamed plan says and saves exactly what the in-memory plan does (routes, HEADs, mirror
//! deletions), a `.jsonl.zst` plan kept in S3 is run by three shards that each stream it and
//! keep only their own items, and 200,000 synthetic keys plan to the totals the dataset
//! implies.

use std::collections::BTreeSet;

use airlock_core::job::plan_store::load_plan;
use airlock_core::job::stream_plan::{Outcome, stream_plan};
use airlock_core::plan::lines::Entry;
use airlock_s3server::Dataset;

use crate::common::synthetic::SyntheticPair;
use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_streamed_plan_prints_and_saves_what_the_in_memory_plan_does() {
    let servers = TwoServers::start().await;
    crate::plan::plan_fixture(&servers).await;
    let config = servers.config().prefixes("in/", "out/").transfer(&[
        "multipart_threshold = \"5MiB\"",
        "part_size = \"5MiB\"",
        "mode = \"mirror\"",
    ]);
    let settings = config.settings();
    let config = config.write(&servers.sandbox);
    let dir = servers.sandbox.path();
    let (json, lines) = (dir.join("plan.json"), dir.join("plan.jsonl.gz"));

    // `-o plan.json` plans in memory; `-o plan.jsonl.gz` streams.
    let in_memory = servers
        .airlock_with(&config, &["plan", "-o", json.to_str().unwrap()])
        .run()
        .await;
    in_memory.expect_code(0);
    let streamed = servers
        .airlock_with(&config, &["plan", "-o", lines.to_str().unwrap()])
        .run()
        .await;
    streamed.expect_code(0);
    // The same lines (items, deletions, totals, HEADs); deletions come among the items when
    // streamed, after them in memory.
    let table = |out: &str| -> BTreeSet<String> {
        let (body, _) = out.rsplit_once("plan saved to").unwrap();
        body.lines().map(str::to_string).collect()
    };
    assert_eq!(
        table(&in_memory.stdout),
        table(&streamed.stdout),
        "{}\n---\n{}",
        in_memory.stdout,
        streamed.stdout
    );
    assert!(
        streamed.stdout.contains("(8 HEAD requests"),
        "{}",
        streamed.stdout
    );
    assert!(
        streamed.stdout.contains("out/only-at-target.txt"),
        "{}",
        streamed.stdout
    );

    let a = load_plan(&json, &settings).unwrap();
    let b = load_plan(&lines, &settings).unwrap();
    let mut items = a.items.clone();
    items.sort_by(|x, y| x.target_key.cmp(&y.target_key));
    assert_eq!(items, b.items, "the same items, in target key order");
    assert_eq!(a.deletions, b.deletions);
    assert_eq!(a.summary, b.summary);
    assert_eq!(
        a.format, b.format,
        "read back, it needs the same JSON format"
    );
    let gz = std::fs::read(&lines).unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip, as the name says");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_format5_plan_in_s3_is_streamed_by_every_shard() {
    let servers = TwoServers::start().await;
    let objects: Vec<(String, u64)> = (0..24)
        .map(|n| (format!("in/d{}/{n:02}.bin", n % 3), 1_000 + n * 3_001))
        .collect();
    for (seed, (key, size)) in objects.iter().enumerate() {
        servers.source.put_seeded(key, *size, seed as u64).await;
    }
    let config = servers
        .config()
        .prefixes("in/", "copy/")
        .write(&servers.sandbox);
    let bucket = &servers.target.bucket;
    let plan = format!("s3://{bucket}/plans/backfill.jsonl.zst");
    servers
        .airlock_with(&config, &["plan", "--summary", "-o", plan.as_str()])
        .run()
        .await
        .expect_code(0);
    let saved = servers.target.get("plans/backfill.jsonl.zst").await;
    assert_eq!(
        &saved[..4],
        &[0x28, 0xb5, 0x2f, 0xfd],
        "zstd, as the name says"
    );

    let mut copied = 0;
    for index in 0..3 {
        let shard = format!("{index}/3");
        let out = servers
            .airlock_with(
                &config,
                &[
                    "run",
                    "--json",
                    "--plan",
                    plan.as_str(),
                    "--shard",
                    shard.as_str(),
                ],
            )
            .env(
                "AIRLOCK_DATA_DIR",
                servers.sandbox.path().join(format!("data-{index}")),
            )
            .run()
            .await;
        out.expect_code(0);
        let done = events_named(&json_lines(&out.stdout), "object_done").len();
        assert!(
            done > 0 && done < objects.len(),
            "shard {index} copied {done}: {}",
            out.all()
        );
        copied += done;
    }
    assert_eq!(
        copied,
        objects.len(),
        "every object copied by exactly one shard"
    );
    for (seed, (key, size)) in objects.iter().enumerate() {
        let target_key = key.replacen("in/", "copy/", 1);
        assert!(
            servers.target.get(&target_key).await == seeded_bytes(seed as u64, 0, *size as usize),
            "'{target_key}' differs"
        );
    }
}

/// 200,000 synthetic keys (1 MiB of memory for the servers): the streamed totals match what
/// the dataset says the target holds (every 3rd key, a quarter of those one byte longer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_thousand_synthetic_keys_plan_to_the_datasets_totals() {
    const KEYS: u64 = 200_000;
    let dataset = Dataset::flat(KEYS);
    let servers = SyntheticPair::start(dataset.clone(), ("src", "dst"), dataset.prefix()).await;
    let settings = airlock_core::config::parse_settings(&servers.config, "synthetic.toml").unwrap();
    let sides = airlock_core::aws::connect(&settings).await.unwrap();

    let (mut entries, mut last) = (0u64, String::new());
    let outcome = stream_plan(&sides, &settings, &settings.transfer, |entry| {
        let Entry::Item(item) = entry else {
            panic!("copy mode deletes nothing")
        };
        assert!(item.target_key > last, "entries come in key order");
        last = item.target_key;
        entries += 1;
        Ok(())
    })
    .await
    .unwrap();
    let Outcome::Planned { header, heads } = outcome else {
        panic!("the listings are in order")
    };

    let (mut skip, mut copy, mut copy_bytes) = (0u64, 0u64, 0u64);
    for index in 0..KEYS {
        let present = index % 3 == 0;
        let longer = present && (index / 3) % 4 == 1;
        if present && !longer {
            skip += 1;
        } else {
            copy += 1;
            copy_bytes += dataset.size_bytes(index);
        }
    }
    assert_eq!(entries, KEYS);
    assert_eq!(header.items, KEYS);
    assert_eq!(header.summary.skip.objects, skip);
    assert_eq!(header.summary.single.objects, copy);
    assert_eq!(header.summary.single.bytes, copy_bytes);
    assert_eq!(header.summary.multipart.objects, 0);
    assert_eq!(header.selection.listed, KEYS);
    assert_eq!(heads, 0, "size and ETag decide every pair");
}
