//! Faults injected by the proxy: every kind is retried (exactly as many times as it was
//! injected) and the bytes still arrive intact; a truncated body never becomes a short object;
//! a 503 storm lowers the concurrency and it recovers; an object that fails every time fails
//! alone, with its reason, and its upload is aborted (or kept, and resumed by the next run).

mod uploads;

use crate::common;

use crate::common::engine::Rig;
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::{MIB, seeded_bytes};
use airlock_core::engine::Event;
use airlock_core::error::Class;

/// Two single objects (1 MiB and 600 KiB) and a multipart object of 5 + 5 + 2 MiB.
async fn three_objects(rig: &Rig) {
    let source = rig.source();
    source
        .put("one.bin", seeded_bytes(1, 0, MIB as usize))
        .await;
    source.put("two.bin", seeded_bytes(2, 0, 600 * 1024)).await;
    source.put_seeded("multi.bin", 12 * MIB, 3).await;
}

const SMALL_PARTS: [&str; 3] = [
    "multipart_threshold = \"5MiB\"",
    "part_size = \"5MiB\"",
    "max_retries = 3",
];

/// Run the three objects with `rules` on (source, target) and check they all arrive intact
/// after exactly `expected_retries` retries of class `class`. Returns the retry errors.
async fn survives(
    source_rules: Vec<Rule>,
    target_rules: Vec<Rule>,
    expected_retries: usize,
    class: Class,
    extra: &[&str],
) -> (Rig, Vec<String>) {
    let rig = Rig::start().await;
    three_objects(&rig).await;
    let source_ids: Vec<_> = source_rules
        .into_iter()
        .map(|r| rig.source_proxy.add_rule(r))
        .collect();
    let target_ids: Vec<_> = target_rules
        .into_iter()
        .map(|r| rig.target_proxy.add_rule(r))
        .collect();
    let mut lines = SMALL_PARTS.to_vec();
    lines.extend_from_slice(extra);
    let (summary, events) = rig.run(&rig.config().transfer(&lines).settings()).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (3, 0),
        "{}",
        events.describe()
    );
    rig.assert_all_copied().await;
    let fired: u64 = source_ids
        .iter()
        .map(|id| rig.source_proxy.fired(*id))
        .sum::<u64>()
        + target_ids
            .iter()
            .map(|id| rig.target_proxy.fired(*id))
            .sum::<u64>();
    assert_eq!(fired as usize, expected_retries, "faults injected");
    let retries = events.retries();
    assert_eq!(retries.len(), expected_retries, "{}", events.describe());
    assert_eq!(summary.retries as usize, expected_retries);
    let mut errors = Vec::new();
    for retry in retries {
        let Event::PartRetry {
            class: c, error, ..
        } = retry
        else {
            unreachable!()
        };
        assert_eq!(*c, class, "{error}");
        errors.push(error.clone());
    }
    assert!(rig.target_uploads().await.is_empty());
    (rig, errors)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_errors_are_retried() {
    let (_, errors) = survives(
        vec![
            Rule::new(Fault::InternalError)
                .on(Op::GetObjectRange)
                .times(2),
            Rule::new(Fault::InternalError).on(Op::GetObject).times(1),
        ],
        vec![
            Rule::new(Fault::InternalError).on(Op::UploadPart).times(2),
            // Only the objects' PUTs: the multipart upload's state record is a PutObject too.
            Rule::new(Fault::InternalError)
                .on(Op::PutObject)
                .key(".bin")
                .times(1),
        ],
        6,
        Class::Retryable,
        &[],
    )
    .await;
    assert!(
        errors.iter().all(|e| e.contains("InternalError")),
        "{errors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowdowns_are_retried_and_counted() {
    let rig = Rig::start().await;
    three_objects(&rig).await;
    rig.target_proxy.add_rule(
        // Only the objects' PUTs: the multipart upload's state record is a PutObject too.
        Rule::new(Fault::SlowDown)
            .on(Op::PutObject)
            .key(".bin")
            .times(2),
    );
    rig.target_proxy
        .add_rule(Rule::new(Fault::SlowDown).on(Op::UploadPart).times(1));
    // Latency never fails anything: it only slows every request down.
    let latency = Fault::Latency(std::time::Duration::from_millis(20));
    rig.source_proxy.add_rule(Rule::new(latency));
    let (summary, events) = rig
        .run(&rig.config().transfer(&SMALL_PARTS).settings())
        .await;
    assert_eq!(
        (summary.copied, summary.retries),
        (3, 3),
        "{}",
        events.describe()
    );
    assert!(summary.slowdowns >= 1, "{summary:?}");
    assert!(events.retries().iter().all(|e| matches!(
        e,
        Event::PartRetry {
            class: Class::SlowDown,
            ..
        }
    )));
    rig.assert_all_copied().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_reset_mid_response_are_retried() {
    let (rig, _) = survives(
        vec![
            Rule::new(Fault::ResetResponse { after_bytes: MIB })
                .on(Op::GetObjectRange)
                .times(2),
            Rule::new(Fault::ResetResponse {
                after_bytes: 100_000,
            })
            .on(Op::GetObject)
            .times(1),
        ],
        vec![],
        3,
        Class::Retryable,
        &[],
    )
    .await;
    let cut: Vec<u64> = rig
        .source_proxy
        .exchanges()
        .iter()
        .filter(|e| e.fault.is_some())
        .map(|e| e.response_bytes)
        .collect();
    assert_eq!(cut.len(), 3);
    assert!(cut.iter().all(|b| *b == MIB || *b == 100_000), "{cut:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_reset_mid_request_are_retried() {
    let (rig, _) = survives(
        vec![],
        vec![
            Rule::new(Fault::ResetRequest { after_bytes: MIB })
                .on(Op::UploadPart)
                .times(2),
            Rule::new(Fault::ResetRequest {
                after_bytes: 100_000,
            })
            .on(Op::PutObject)
            .key(".bin")
            .times(1),
        ],
        3,
        Class::Retryable,
        &[],
    )
    .await;
    let parts = rig.target_proxy.upload_part_bytes();
    assert_eq!(parts.len(), 3, "{parts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bodies_are_retried_and_never_stored_short() {
    let (rig, _) = survives(
        vec![
            // Every part is longer than 1 MiB (the last is 2 MiB).
            Rule::new(Fault::Truncate { after_bytes: MIB })
                .on(Op::GetObjectRange)
                .times(2),
            Rule::new(Fault::Truncate { after_bytes: 1000 })
                .on(Op::GetObject)
                .times(1),
        ],
        vec![],
        3,
        Class::Retryable,
        &[],
    )
    .await;

    // Truncated every time, with no retries left: the object fails and nothing is stored.
    rig.source()
        .put("cut-short.bin", seeded_bytes(4, 0, 300_000))
        .await;
    rig.source_proxy.add_rule(
        Rule::new(Fault::Truncate {
            after_bytes: 299_999,
        })
        .key("cut-short"),
    );
    let (summary, events) = rig
        .run(&rig.config().transfer(&["max_retries = 0"]).settings())
        .await;
    assert_eq!(summary.failed, 1, "{}", events.describe());
    assert_eq!(summary.failures[0].0, "cut-short.bin");
    assert!(
        rig.target().keys("cut-short").await.is_empty(),
        "no short object"
    );
    let keys = rig.target().keys("").await;
    assert_eq!(keys, ["multi.bin", "one.bin", "two.bin"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_requests_and_bodies_are_cut_and_retried() {
    survives(
        vec![
            Rule::new(Fault::Stall).on(Op::GetObjectRange).times(1),
            Rule::new(Fault::StallBody {
                after_bytes: 200_000,
            })
            .on(Op::GetObject)
            .times(1),
        ],
        vec![],
        2,
        Class::Retryable,
        &["read_timeout = \"1s\""],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowdown_storm_lowers_concurrency_and_it_recovers() {
    let rig = Rig::start().await;
    let objects: Vec<(String, Vec<u8>)> = (0..300u64)
        .map(|i| (format!("storm/{i:03}"), seeded_bytes(i, 0, 2048)))
        .collect();
    rig.source().put_many(objects, 16).await;
    let storm = rig
        .target_proxy
        .add_rule(Rule::new(Fault::SlowDown).on(Op::PutObject).times(40));
    let (summary, events) = rig
        .run(
            &rig.config()
                .transfer(&["concurrency = 16", "max_retries = 10"])
                .settings(),
        )
        .await;
    assert_eq!(
        (summary.copied, summary.failed),
        (300, 0),
        "{}",
        events.describe()
    );
    assert_eq!(rig.target_proxy.fired(storm), 40);
    assert_eq!(summary.retries, 40);
    let changes: Vec<(usize, String)> = events
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::ConcurrencyChanged { limit, reason } => Some((*limit, reason.clone())),
            _ => None,
        })
        .collect();
    let lowered: Vec<usize> = changes
        .iter()
        .filter(|(_, r)| r == "503 SlowDown: backing off")
        .map(|(l, _)| *l)
        .collect();
    assert!(!lowered.is_empty(), "{changes:?}");
    assert_eq!(lowered[0], 8, "the first SlowDown halves 16: {changes:?}");
    assert_eq!(summary.slowdowns as usize, lowered.len());
    let last = changes.last().unwrap();
    assert_eq!(
        (last.0, last.1.as_str()),
        (16, "recovering after SlowDown"),
        "{changes:?}"
    );
    rig.assert_all_copied().await;
}

/// The failures of one run, by key: (class, error).
fn failures(
    events: &common::engine::Events,
) -> std::collections::BTreeMap<String, (Class, String)> {
    events
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::ObjectFailed {
                key, class, error, ..
            } => Some((key.clone(), (*class, error.clone()))),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_and_missing_objects_fail_at_once_without_retries() {
    let rig = Rig::start().await;
    three_objects(&rig).await;
    let source = rig.source();
    source
        .put("gone.txt", b"deleted after planning".to_vec())
        .await;
    source
        .put("denied.txt", b"the target refuses it".to_vec())
        .await;
    source.put_seeded("denied-multi.bin", 11 * MIB, 8).await;
    let settings = rig.config().transfer(&SMALL_PARTS).settings();
    let (plan, sides) = rig.plan(&settings).await;
    // A real 404: the object disappears between planning and copying.
    source
        .client
        .delete_object()
        .bucket(&source.bucket)
        .key("gone.txt")
        .send()
        .await
        .expect("delete gone.txt");
    let denied = Fault::Status(403, "AccessDenied");
    rig.target_proxy.add_rule(
        Rule::new(denied.clone())
            .on(Op::PutObject)
            .key("denied.txt"),
    );
    rig.target_proxy
        .add_rule(Rule::new(denied).on(Op::UploadPart).key("denied-multi"));
    let (handle, mut events) = rig.start_plan(plan, sides, &settings);
    let summary = handle.join().await.unwrap();
    events.drain().await;
    assert_eq!(
        (summary.copied, summary.failed, summary.retries),
        (3, 3, 0),
        "{}",
        events.describe()
    );
    assert_eq!(summary.exit_code(), 1);
    let failed = failures(&events);
    let (class, error) = &failed["gone.txt"];
    assert_eq!(*class, Class::NotFound, "{error}");
    assert!(
        error.contains("gone.txt") && error.contains("404"),
        "{error}"
    );
    for key in ["denied.txt", "denied-multi.bin"] {
        let (class, error) = &failed[key];
        assert_eq!(*class, Class::Fatal, "{key}: {error}");
        assert!(error.contains("AccessDenied"), "{key}: {error}");
    }
    // Each refused request was made once: nothing fatal is retried.
    let gets = rig
        .source_proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.key == "gone.txt")
        .count();
    assert_eq!(gets, 1, "one GET of the missing object");
    let target = rig.target_proxy.exchanges();
    let puts = target.iter().filter(|e| e.key == "denied.txt").count();
    assert_eq!(puts, 1, "one PUT of the refused object");
    let mut parts: Vec<u32> = target
        .iter()
        .filter(|e| e.key == "denied-multi.bin" && e.op == Op::UploadPart)
        .filter_map(|e| e.part)
        .collect();
    let attempts = parts.len();
    parts.sort_unstable();
    parts.dedup();
    assert_eq!(parts.len(), attempts, "no part was sent twice: {parts:?}");
    assert!(rig.target().keys("denied").await.is_empty());
    assert!(rig.target().keys("gone").await.is_empty());
    assert!(
        rig.target_uploads().await.is_empty(),
        "the upload was aborted"
    );
    rig.assert_copied("one.bin").await;
    rig.assert_copied("two.bin").await;
    rig.assert_copied("multi.bin").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_byte_flipped_on_either_hop_is_caught_and_the_copy_retried() {
    let rig = Rig::start().await;
    three_objects(&rig).await;
    // Source hop: one.bin's single GET is checked against its MD5 ETag.
    let source_flip = rig.source_proxy.add_rule(
        Rule::new(Fault::CorruptResponse { at_byte: 12_345 })
            .on(Op::GetObject)
            .key("one.bin")
            .times(1),
    );
    // Target hop: the target checks the CRC64NVME trailer of every part it receives.
    let target_flip = rig.target_proxy.add_rule(
        Rule::new(Fault::CorruptRequest { at_byte: 100_000 })
            .on(Op::UploadPart)
            .part(2)
            .times(1),
    );
    let (summary, events) = rig
        .run(&rig.config().transfer(&SMALL_PARTS).settings())
        .await;
    assert_eq!(
        (summary.copied, summary.failed, summary.retries),
        (3, 0, 2),
        "{}",
        events.describe()
    );
    assert_eq!(rig.source_proxy.fired(source_flip), 1);
    assert_eq!(rig.target_proxy.fired(target_flip), 1);
    let errors: Vec<String> = events
        .retries()
        .into_iter()
        .map(|e| match e {
            Event::PartRetry { error, class, .. } => {
                assert_eq!(*class, Class::Retryable, "{error}");
                error.clone()
            }
            _ => unreachable!(),
        })
        .collect();
    assert!(
        errors.iter().any(|e| e.contains("one.bin")),
        "the source mismatch names the object: {errors:?}"
    );
    rig.assert_all_copied().await;
    assert!(events.verification("one.bin").verified);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_setup_requests_are_retried_by_the_engine_alone() {
    let rig = Rig::start().await;
    three_objects(&rig).await;
    // Every HEAD of the multipart source fails, then the CreateMultipartUpload of another
    // fails twice: each attempt must be one request (no SDK retries with their own multi-second
    // backoff hidden inside), so the retries reported and the requests made match.
    rig.source().put_seeded("multi-2.bin", 11 * MIB, 4).await;
    rig.source_proxy.add_rule(
        Rule::new(Fault::InternalError)
            .on(Op::HeadObject)
            .key("multi.bin"),
    );
    rig.target_proxy.add_rule(
        Rule::new(Fault::InternalError)
            .on(Op::CreateMultipartUpload)
            .times(2),
    );
    let lines = [
        "multipart_threshold = \"5MiB\"",
        "part_size = \"5MiB\"",
        "max_retries = 2",
    ];
    let (summary, events) = rig.run(&rig.config().transfer(&lines).settings()).await;
    assert_eq!(
        (summary.copied, summary.failed, summary.retries),
        (3, 1, 4),
        "{}",
        events.describe()
    );
    assert_eq!(summary.failures[0].0, "multi.bin");
    let heads = rig
        .source_proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.op == Op::HeadObject && e.key == "multi.bin")
        .count();
    assert_eq!(heads, 3, "one HEAD per attempt, max_retries = 2");
    // Exponential backoff with jitter: retry n waits between half and all of 100 ms * 2^(n-1).
    let delays: Vec<(u32, u64)> = events
        .retries()
        .into_iter()
        .filter_map(|e| match e {
            Event::PartRetry {
                attempt,
                delay_ms,
                error,
                ..
            } if error.contains("HeadObject") => Some((*attempt, *delay_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(delays.len(), 2, "{delays:?}");
    assert!((50..=100).contains(&delays[0].1), "{delays:?}");
    assert!((100..=200).contains(&delays[1].1), "{delays:?}");
    assert_eq!(rig.target_proxy.count(Op::CreateMultipartUpload), 3);
    rig.assert_copied("multi-2.bin").await;
    assert!(rig.target_uploads().await.is_empty());
}
