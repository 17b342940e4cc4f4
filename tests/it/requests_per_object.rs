//! What a small object costs in requests on a fresh run: one GET at the source and one PUT at
//! the target, nothing else (no HEAD on either side, no ranged read), with default settings.
//! Each extra request per object is CPU and a round trip for every small object of a backfill.
//! A rerun over what is already copied costs the two listings alone.

use crate::common::engine::Rig;
use crate::common::proxy::Op;
use crate::common::{MIB, json_lines, run_summary, seeded_bytes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_object_costs_one_get_and_one_put() {
    const OBJECTS: u64 = 40;
    let rig = Rig::start().await;
    let batch = (0..OBJECTS)
        .map(|i| (format!("small/{i:03}.bin"), seeded_bytes(i, 0, 16 * 1024)))
        .collect();
    rig.source().put_many(batch, 8).await;

    // `run` plans first (listing both sides), then clears the proxies' counts.
    let (summary, events) = rig.run(&rig.config().settings()).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (OBJECTS, 0),
        "{}",
        events.describe()
    );
    let n = OBJECTS as usize;
    let source_ops: Vec<(Op, usize)> = [Op::GetObject, Op::GetObjectRange, Op::HeadObject]
        .into_iter()
        .map(|op| (op, rig.source_proxy.count(op)))
        .collect();
    assert_eq!(
        source_ops,
        [
            (Op::GetObject, n),
            (Op::GetObjectRange, 0),
            (Op::HeadObject, 0)
        ]
    );
    let target_ops: Vec<(Op, usize)> = [Op::PutObject, Op::HeadObject, Op::GetObject]
        .into_iter()
        .map(|op| (op, rig.target_proxy.count(op)))
        .collect();
    assert_eq!(
        target_ops,
        [(Op::PutObject, n), (Op::HeadObject, 0), (Op::GetObject, 0)]
    );
    rig.assert_all_copied().await;
}

/// A rerun over objects already copied, small and multipart, with listings that carry ETags as
/// S3's do: the two listings decide every skip, so the rerun costs one LIST page per side and
/// not one request per object (stock s3s-fs lists no ETags: there each object costs a HEAD on
/// both sides, which is why the servers are switched to list them here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_costs_the_listings_and_nothing_per_object() {
    const OBJECTS: u64 = 10;
    let rig = Rig::start().await;
    rig.source().server.behaviours().set_listed_etags(true);
    rig.target().server.behaviours().set_listed_etags(true);
    let batch = (0..OBJECTS)
        .map(|i| (format!("small/{i:03}.bin"), seeded_bytes(i, 0, 16 * 1024)))
        .collect();
    rig.source().put_many(batch, 8).await;
    rig.source().put_seeded("big.bin", 12 * MIB, 3).await;
    let config = rig
        .config()
        .transfer(&["multipart_threshold = \"8MiB\"", "part_size = \"5MiB\""]);
    let (summary, events) = rig.run(&config.settings()).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (OBJECTS + 1, 0),
        "{}",
        events.describe()
    );
    rig.source_proxy.reset_stats();
    rig.target_proxy.reset_stats();
    let config = config.write(&rig.servers.sandbox);
    let out = rig
        .servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;
    out.expect_code(0);
    let lines = json_lines(&out.stdout);
    assert_eq!(
        run_summary(&lines)["skipped"],
        OBJECTS + 1,
        "{}",
        out.stdout
    );
    let ops = |proxy: &crate::common::proxy::FaultProxy| -> Vec<String> {
        (proxy.exchanges().into_iter())
            .map(|e| format!("{:?} {}", e.op, e.key))
            .collect()
    };
    assert_eq!(ops(&rig.source_proxy), ["ListObjectsV2 "]);
    assert_eq!(ops(&rig.target_proxy), ["ListObjectsV2 "]);
}
