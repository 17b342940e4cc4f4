//! What a small object costs in requests on a fresh run: one GET at the source and one PUT at
//! the target, nothing else (no HEAD on either side, no ranged read), with default settings.
//! Each extra request per object is CPU and a round trip for every small object of a backfill.

use crate::common::engine::Rig;
use crate::common::proxy::Op;
use crate::common::seeded_bytes;

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
