//! `concurrency = "auto"` against a store that answers every request after 40 ms, as a store
//! far away does: the engine raises the requests in flight while throughput grows and says
//! why in `ConcurrencyChanged` events; a configured number stays exactly that.

use std::time::Duration;

use crate::common::engine::Rig;
use crate::common::seeded_bytes;
use airlock_core::engine::{Event, RunSummary};
use airlock_s3server::{Delay, LatencyProfile};

/// `objects` small objects at the source, then both stores answer each request after 40 ms.
async fn slow_stores(objects: u64) -> Rig {
    let rig = Rig::start().await;
    let batch = (0..objects)
        .map(|i| (format!("small/{i:04}"), seeded_bytes(i, 0, 1024)))
        .collect();
    rig.source().put_many(batch, 16).await;
    let slow = LatencyProfile::new().with_all(Delay::Fixed(Duration::from_millis(40)));
    rig.source()
        .server
        .behaviours()
        .set_latency(Some(slow.clone()));
    rig.target().server.behaviours().set_latency(Some(slow));
    rig
}

fn changes(events: &[Event]) -> Vec<(usize, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ConcurrencyChanged { limit, reason } => Some((*limit, reason.clone())),
            _ => None,
        })
        .collect()
}

fn started_with(events: &[Event]) -> usize {
    events
        .iter()
        .find_map(|e| match e {
            Event::RunStarted { concurrency, .. } => Some(*concurrency),
            _ => None,
        })
        .expect("a RunStarted event")
}

fn all_copied(summary: &RunSummary, objects: u64) {
    assert_eq!(
        (summary.copied, summary.failed),
        (objects, 0),
        "{summary:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_concurrency_climbs_on_a_slow_store_and_copies_everything() {
    let rig = slow_stores(800).await;
    let settings = rig
        .config()
        .transfer(&["concurrency = \"auto\""])
        .settings();
    let (summary, events) = rig.run(&settings).await;
    all_copied(&summary, 800);
    assert_eq!(started_with(&events.seen), 16, "auto starts at 16");
    let changes = changes(&events.seen);
    let raised: Vec<usize> = changes
        .iter()
        .filter(|(_, why)| why.starts_with("throughput still growing"))
        .map(|(limit, _)| *limit)
        .collect();
    assert!(
        raised.first().is_some_and(|&l| l > 16),
        "raised above 16 while requests/s grew: {changes:?}"
    );
    assert!(raised.iter().all(|&l| l <= 256), "{changes:?}");
    rig.assert_all_copied().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_concurrency_on_the_same_store_never_moves() {
    let rig = slow_stores(300).await;
    let settings = rig.config().transfer(&["concurrency = 16"]).settings();
    let (summary, events) = rig.run(&settings).await;
    all_copied(&summary, 300);
    assert_eq!(started_with(&events.seen), 16);
    assert_eq!(changes(&events.seen), vec![], "a fixed number stays fixed");
}
