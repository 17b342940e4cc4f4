//! A split object's shard killed mid-range on one machine and run again on another (empty data
//! dir): it fills only its missing parts, and `finalize` completes and verifies the object.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{new_machine, parts_at_target};
use crate::common::engine::{Rig, put_seeded_crc};
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::{MIB, events_named, json_lines};

/// `prepare`, then shard 0 of 2 is killed (-9) after two parts of its range, its data dir is
/// deleted, and its rerun sends only the parts of its range the target lacks; shard 1 runs;
/// `finalize` completes and verifies the object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_shard_restarted_on_a_new_machine_fills_only_its_missing_parts() {
    let rig = Rig::start().await;
    put_seeded_crc(rig.source(), "split.bin", 60 * MIB, 22, 8 * MIB).await;
    let config = rig
        .config()
        .transfer(&[
            "multipart_threshold = \"5MiB\"",
            "part_size = \"5MiB\"",
            "split_above = \"12MiB\"",
            "concurrency = 2",
        ])
        .write(&rig.servers.sandbox);
    let plan: PathBuf = rig.servers.sandbox.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    rig.servers
        .airlock_with(&config, &["plan", "-o", plan_arg])
        .run()
        .await
        .expect_code(0);
    rig.servers
        .airlock_with(&config, &["prepare", "--plan", plan_arg])
        .run()
        .await
        .expect_code(0);
    let shard = |index: u32| {
        let shard = format!("{index}/2");
        rig.servers.airlock_with(
            &config,
            &["run", "--json", "--plan", plan_arg, "--shard", &shard],
        )
    };

    rig.target_proxy.reset_stats();
    rig.target_proxy
        .add_rule(Rule::new(Fault::Stall).on(Op::UploadPart).skip(2));
    let mut child = shard(0).spawn();
    rig.target_proxy
        .wait_for("2 parts at the target, 2 stalled", |p| {
            p.count(Op::UploadPart) >= 4
                && p.exchanges()
                    .iter()
                    .filter(|e| e.op == Op::UploadPart && e.status == Some(200))
                    .count()
                    >= 2
        })
        .await;
    child.kill().await.expect("kill -9 the shard");
    rig.target_proxy.clear_rules();
    let before = parts_at_target(&rig);
    assert_eq!(before.len(), 2, "{before:?}");
    new_machine(&rig);

    rig.target_proxy.reset_stats();
    let rerun = shard(0).run().await;
    rerun.expect_code(0);
    let lines = json_lines(&rerun.stdout);
    let range = events_named(&lines, "parts_uploaded");
    assert_eq!(range.len(), 1, "{}", rerun.stdout);
    let first = range[0]["first_part"].as_u64().unwrap() as u32;
    let last = range[0]["last_part"].as_u64().unwrap() as u32;
    assert!(
        before.keys().all(|p| (first..=last).contains(p)),
        "the killed shard sent only its range {first}..={last}: {before:?}"
    );
    let missing: BTreeMap<u32, usize> = (first..=last)
        .filter(|p| !before.contains_key(p))
        .map(|p| (p, 1))
        .collect();
    assert_eq!(
        parts_at_target(&rig),
        missing,
        "the rerun sent each missing part of its range once, nothing else"
    );
    assert_eq!(rig.target_proxy.count(Op::CreateMultipartUpload), 0);
    eprintln!(
        "split shard 0 owns parts {first}..={last}: {} at the target before the kill, {} sent by the rerun",
        before.len(),
        missing.len()
    );

    shard(1).run().await.expect_code(0);
    let finalized = rig
        .servers
        .airlock_with(&config, &["finalize", "--plan", plan_arg])
        .run()
        .await;
    finalized.expect_code(0);
    assert!(
        finalized.stdout.contains(
            "1 completed, 0 already complete, 0 complete but not fully verified, 0 failed"
        ),
        "{}",
        finalized.stdout
    );
    rig.assert_copied("split.bin").await;
    assert!(rig.target_uploads().await.is_empty());
}
