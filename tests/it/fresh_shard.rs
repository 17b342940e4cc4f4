//! A fresh sharded run (`run --shard I/N` without `--plan`, #17) plans the whole listing first
//! into a temporary plan file and runs it as `run --plan FILE --shard I/N` does: it says so,
//! the shards' items partition the plan, each shard is the same cut a saved plan's shard is,
//! and a real run copies exactly what its dry run listed.

use crate::common::proxy::Op;
use crate::common::*;

const OBJECTS: usize = 12;

/// Items of a dry run's table: (route, key).
fn items(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter(|l| l.starts_with("single") || l.starts_with("skip") || l.starts_with("multipart"))
        .map(|l| {
            let route = l.split_whitespace().next().unwrap().to_string();
            let key = l.split("  ").filter(|s| !s.is_empty()).nth(3).unwrap();
            (route, key.trim().to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_shards_plan_first_and_split_the_plan_as_a_saved_plan_does() {
    let servers = TwoServers::start().await;
    for i in 0..OBJECTS {
        // Sizes differ, so the byte-balanced cut is not a count cut.
        servers
            .source
            .put(
                &format!("sh/obj-{i:02}.bin"),
                vec![b'x'; 10 + 300 * (i % 4)],
            )
            .await;
    }
    servers
        .target
        .put("sh/obj-03.bin", vec![b'x'; 10 + 300 * 3])
        .await;
    let config = servers.config().write(&servers.sandbox);
    let saved = servers.save_plan(&config, "plan.jsonl").await;

    let mut all = Vec::new();
    let mut shard0 = Vec::new();
    for shard in ["0/2", "1/2"] {
        let fresh = servers
            .airlock_with(&config, &["run", "--dry-run", "--shard", shard])
            .run()
            .await;
        fresh.expect_code(0);
        assert!(
            fresh.stderr.contains("plans the whole listing first"),
            "{}",
            fresh.stderr
        );
        assert!(
            fresh.stderr.contains(&format!("shard {shard}")),
            "{}",
            fresh.stderr
        );
        let from_file = servers
            .airlock_with(
                &config,
                &[
                    "run",
                    "--dry-run",
                    "--plan",
                    saved.to_str().unwrap(),
                    "--shard",
                    shard,
                ],
            )
            .run()
            .await;
        from_file.expect_code(0);
        assert_eq!(
            fresh.stdout, from_file.stdout,
            "shard {shard}: the fresh cut is the saved plan's"
        );
        let listed = items(&fresh.stdout);
        assert!(
            !listed.is_empty(),
            "shard {shard} has items:\n{}",
            fresh.stdout
        );
        if shard == "0/2" {
            shard0 = listed.clone();
        }
        all.extend(listed);
    }
    let mut keys: Vec<&str> = all.iter().map(|(_, key)| key.as_str()).collect();
    keys.sort();
    let expected: Vec<String> = (0..OBJECTS).map(|i| format!("sh/obj-{i:02}.bin")).collect();
    assert_eq!(keys, expected, "every object in exactly one shard");

    // The real run of shard 0 copies exactly the copies its dry run listed.
    let run = servers
        .airlock_with(&config, &["run", "--json", "--shard", "0/2"])
        .run()
        .await;
    run.expect_code(0);
    assert!(
        run.stderr.contains("plans the whole listing first"),
        "{}",
        run.stderr
    );
    let mut copied = servers.target.keys("sh/").await;
    copied.retain(|key| key != "sh/obj-03.bin");
    copied.sort();
    let mut wanted: Vec<String> = (shard0.iter())
        .filter(|(route, _)| route != "skip")
        .map(|(_, key)| key.clone())
        .collect();
    wanted.sort();
    assert_eq!(copied, wanted, "shard 0 copied its share and nothing else");
}

/// A fresh shard lists each side once: its temporary plan was made a moment ago from the
/// target's listing, so it is not rechecked against a second one (it was, at every shard). A
/// rerun still copies nothing the first run copied: its new plan sees those objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_shard_lists_the_target_once_and_its_rerun_copies_nothing_twice() {
    let rig = crate::common::engine::Rig::start().await;
    for i in 0..OBJECTS {
        rig.source()
            .put(&format!("sh/obj-{i:02}.bin"), vec![b'y'; 20 + i])
            .await;
    }
    let config = rig.config().write(&rig.servers.sandbox);
    let lists = |rig: &crate::common::engine::Rig| {
        (
            rig.source_proxy.count(Op::ListObjectsV2),
            rig.target_proxy.count(Op::ListObjectsV2),
        )
    };
    let started = |stdout: &str| -> Vec<String> {
        let lines = json_lines(stdout);
        (events_named(&lines, "object_started").into_iter())
            .map(|e| e["key"].as_str().unwrap().to_string())
            .collect()
    };
    let args = ["run", "--json", "--shard", "1/2"];
    let out = rig.servers.airlock_with(&config, &args).run().await;
    out.expect_code(0);
    assert_eq!(lists(&rig), (1, 1), "one page of each side, listed once");
    let first = started(&out.stdout);
    assert!(!first.is_empty() && first.len() < OBJECTS, "{}", out.stdout);

    rig.source_proxy.reset_stats();
    rig.target_proxy.reset_stats();
    let again = rig.servers.airlock_with(&config, &args).run().await;
    again.expect_code(0);
    assert_eq!(lists(&rig), (1, 1));
    let second = started(&again.stdout);
    let twice: Vec<&String> = second.iter().filter(|key| first.contains(key)).collect();
    assert!(twice.is_empty(), "copied again: {twice:?}");
}

/// Shards of an array job rarely start together: one may list the target after another has
/// copied its share. Each fresh shard's plan then holds other routes (those objects are skips
/// now), but the cut is by the source listing alone, so the shards still cover every object.
/// Cut by what is left to copy, the later shard took too little and objects were left to no
/// shard, with every shard exiting 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_shards_started_one_after_the_other_still_copy_every_object() {
    for order in [["1/2", "0/2"], ["0/2", "1/2"]] {
        let servers = TwoServers::start().await;
        let keys: Vec<String> = (0..OBJECTS).map(|i| format!("sh/obj-{i:02}.bin")).collect();
        for (i, key) in keys.iter().enumerate() {
            servers.source.put(key, vec![b'z'; 100 + 50 * i]).await;
        }
        let config = servers.config().write(&servers.sandbox);
        let reports = servers.sandbox.path().join("reports");
        std::fs::create_dir(&reports).unwrap();
        let report_args = ["--report", reports.to_str().unwrap()];
        for shard in order {
            let mut args = vec!["run", "--json", "--shard", shard];
            args.extend(report_args);
            let out = servers.airlock_with(&config, &args).run().await;
            out.expect_code(0);
        }
        assert_eq!(
            servers.target.keys("sh/").await,
            keys,
            "shards run in the order {order:?} left objects uncopied"
        );
        // Their reports are of one plan (the source's objects), whatever each one skipped.
        let merged = servers
            .airlock(["report", "--json", reports.to_str().unwrap()])
            .run()
            .await;
        merged.expect_code(0);
        let merged: serde_json::Value = serde_json::from_str(&merged.stdout).expect("json");
        assert_eq!(merged["missing_shards"].as_array().unwrap().len(), 0);
        assert_eq!(merged["totals"]["copied"], OBJECTS, "{merged}");
        assert_eq!(merged["copied_twice"].as_array().unwrap().len(), 0);
    }
}
