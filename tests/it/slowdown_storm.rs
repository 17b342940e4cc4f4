//! No SlowDown storm with default settings: both stores answer every request after 100 ms (a
//! store far away), and the target answers 503 SlowDown to PutObject above 80 requests/s (a
//! token bucket in the fault proxy, `Fault::SlowDownAbove`), as S3 does above a prefix's rate.
//! The default `concurrency = "auto"` starts at 16, above what that rate allows (about 12
//! copies in flight), backs off, probes back towards the limit, and settles below it: every
//! object is copied, and the last quarter of the run sees at most one back-off.

use std::time::Duration;

use crate::common::engine::Rig;
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::seeded_bytes;
use airlock_core::engine::Event;
use airlock_s3server::{Delay, LatencyProfile};

const OBJECTS: u64 = 1000;
/// PutObject requests per second the target accepts: with 100 ms per request, about 12 copies
/// in flight, below the 16 "auto" starts at.
const RATE: u32 = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_settings_settle_below_a_request_rate_limit_without_a_storm() {
    let rig = Rig::start().await;
    let batch = (0..OBJECTS)
        .map(|i| (format!("storm/{i:05}.bin"), seeded_bytes(i, 0, 1024)))
        .collect();
    rig.source().put_many(batch, 32).await;
    let far = LatencyProfile::new().with_all(Delay::Fixed(Duration::from_millis(100)));
    for account in [rig.source(), rig.target()] {
        account.server.behaviours().set_latency(Some(far.clone()));
    }
    let limit = rig.target_proxy.add_rule(
        Rule::new(Fault::SlowDownAbove { per_second: RATE })
            .on(Op::PutObject)
            .key(".bin"),
    );
    // Default settings: nothing about concurrency or retries.
    let settings = rig.config().settings();
    assert!(
        settings.transfer.adaptive_concurrency,
        "auto is the default"
    );
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (OBJECTS, 0),
        "{}",
        events.describe()
    );

    let windows: Vec<(usize, String)> = events
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::ConcurrencyChanged { limit, reason } => Some((*limit, reason.clone())),
            _ => None,
        })
        .collect();
    // The last quarter of the run: from the event of the object that finished three quarters
    // of the way.
    let three_quarters = events
        .seen
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Event::ObjectDone { .. }))
        .nth(OBJECTS as usize * 3 / 4)
        .map(|(i, _)| i)
        .expect("objects done");
    let late_backoffs = events.seen[three_quarters..]
        .iter()
        .filter(|e| matches!(e, Event::ConcurrencyChanged { reason, .. } if reason.contains("SlowDown: backing off")))
        .count();
    let puts: Vec<bool> = rig
        .target_proxy
        .exchanges()
        .iter()
        .filter(|e| e.op == Op::PutObject && e.key.ends_with(".bin"))
        .map(|e| e.status == Some(503))
        .collect();
    let last_quarter = &puts[puts.len() * 3 / 4..];
    let late = last_quarter.iter().filter(|slowed| **slowed).count();
    let total = rig.target_proxy.fired(limit);
    eprintln!(
        "slowdown_storm: {OBJECTS} objects in {} ms, {} PutObject requests, {total} SlowDowns \
         ({late} in the last quarter's {}), {} back-offs ({late_backoffs} in the last quarter), \
         windows {windows:?}",
        summary.elapsed_ms,
        puts.len(),
        last_quarter.len(),
        summary.slowdowns
    );
    // The run met the store's limit (else this test proves nothing).
    assert!(total > 0 && summary.slowdowns > 0, "{windows:?}");
    // Settled: in the last quarter at most one back-off (a probe into the limit) and at most
    // 1.5% of the writes refused. A fixed `concurrency = 32` (the old default) saw-tooths
    // here: 11 back-offs, 2 of them and 1.9% of the writes refused in the last quarter.
    assert!(
        late_backoffs <= 1 && late * 200 <= last_quarter.len() * 3,
        "{late_backoffs} back-offs and {late} SlowDowns in the last quarter's {} PutObjects: \
         not settled ({windows:?})",
        last_quarter.len()
    );
    // Below the limit: the window ends at or under the one that first met SlowDown.
    let first_slowed = windows
        .iter()
        .position(|(_, why)| why.contains("SlowDown: backing off"))
        .map(|i| if i == 0 { 16 } else { windows[i - 1].0 })
        .expect("a SlowDown back-off");
    let last = windows.last().map_or(16, |(l, _)| *l);
    assert!(
        last <= first_slowed,
        "ends at {last}, above the {first_slowed} that met SlowDown: {windows:?}"
    );
    for account in [rig.source(), rig.target()] {
        account.server.behaviours().set_latency(None);
    }
    rig.assert_all_copied().await;
}
