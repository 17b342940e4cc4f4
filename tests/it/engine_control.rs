//! Commands, as documented on `airlock_core::engine::Command`: Pause starts no new requests while
//! in-flight ones finish, Resume goes on; Cancel stops one object and aborts its upload;
//! Retry / RetryFailed queue failed objects again (the engine lingering for them); Stop lets
//! in-flight requests finish and starts nothing new; SetConcurrency changes how many requests
//! run at once, both ways. The proxy holds requests so each command lands at a known moment.

use crate::common;

use std::time::Duration;

use crate::common::engine::Rig;
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::{MIB, seeded_bytes};
use airlock_core::engine::{Command, Event};

async fn small_objects(rig: &Rig, n: u64) {
    let objects = (0..n)
        .map(|i| (format!("obj/{i:03}"), seeded_bytes(i, 0, 1000 + i as usize)))
        .collect();
    rig.source().put_many(objects, 8).await;
}

fn is_done(e: &Event) -> bool {
    matches!(e, Event::ObjectDone { .. })
}

fn started(events: &common::engine::Events) -> usize {
    events
        .seen
        .iter()
        .filter(|e| matches!(e, Event::ObjectStarted { .. }))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_lets_in_flight_requests_finish_and_starts_nothing_until_resume() {
    let rig = Rig::start().await;
    small_objects(&rig, 30).await;
    rig.source_proxy
        .add_rule(Rule::new(Fault::Hold).on(Op::GetObject));
    let (handle, mut events) = rig
        .start_engine(&rig.config().transfer(&["concurrency = 4"]).settings())
        .await;
    rig.source_proxy
        .wait_for("4 GETs held", |p| p.held() == 4)
        .await;
    handle.send(Command::Pause);
    events.wait_for("paused", |e| *e == Event::Paused).await;
    rig.source_proxy.clear_rules();
    rig.source_proxy.release_held();
    events.wait_count("the 4 in flight", 4, is_done).await;
    // Paused: give the engine every chance to start something it should not.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rig.source_proxy.count(Op::GetObject), 4);
    assert_eq!(rig.target_proxy.count(Op::PutObject), 4);
    assert_eq!(started(&events), 4, "{}", events.describe());

    handle.send(Command::Resume);
    events.wait_for("resumed", |e| *e == Event::Resumed).await;
    let summary = handle.join().await.unwrap();
    assert_eq!((summary.copied, summary.failed), (30, 0));
    // At least the 300 ms slept above were paused; averages leave that time out.
    assert!(
        (300..=summary.elapsed_ms).contains(&summary.paused_ms),
        "paused {} ms of {} ms",
        summary.paused_ms,
        summary.elapsed_ms
    );
    rig.assert_all_copied().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_one_object_and_aborts_its_upload() {
    let rig = Rig::start().await;
    rig.source().put_seeded("cancel-me.bin", 12 * MIB, 1).await;
    small_objects(&rig, 3).await;
    rig.target_proxy
        .add_rule(Rule::new(Fault::Hold).on(Op::UploadPart).key("cancel-me"));
    let settings = rig
        .config()
        .transfer(&["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""])
        .settings();
    let (handle, mut events) = rig.start_engine(&settings).await;
    let Event::ObjectStarted { id, .. } = events
        .wait_for(
            "cancel-me started",
            |e| matches!(e, Event::ObjectStarted { key, .. } if key == "cancel-me.bin"),
        )
        .await
    else {
        unreachable!()
    };
    rig.target_proxy
        .wait_for("a part held", |p| p.held() >= 1)
        .await;
    handle.send(Command::Cancel(id));
    events
        .wait_for("cancelled", |e| matches!(e, Event::ObjectCancelled { .. }))
        .await;
    rig.target_proxy.clear_rules();
    rig.target_proxy.release_held();
    let summary = handle.join().await.unwrap();
    events.drain().await;
    assert_eq!(
        (summary.copied, summary.cancelled),
        (3, 1),
        "{}",
        events.describe()
    );
    assert_eq!(summary.exit_code(), 1);
    assert!(rig.target().keys("cancel-me").await.is_empty());
    assert!(
        rig.target_uploads().await.is_empty(),
        "its upload was aborted"
    );
    assert!(rig.journal_files().is_empty());
    for key in rig.target().keys("").await {
        rig.assert_copied(&key).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_and_retry_failed_copy_failed_objects_in_a_lingering_engine() {
    let rig = Rig::start().await;
    small_objects(&rig, 5).await;
    rig.source().put("flaky-a.txt", b"a".to_vec()).await;
    rig.source().put("flaky-b.txt", b"b".to_vec()).await;
    rig.source_proxy.add_rule(
        Rule::new(Fault::InternalError)
            .on(Op::GetObject)
            .key("flaky"),
    );
    let settings = rig.config().transfer(&["max_retries = 1"]).settings();
    let (plan, sides) = rig.plan(&settings).await;
    let id_of = |key: &str| plan.items.iter().position(|i| i.source_key == key).unwrap();
    let flaky_a = id_of("flaky-a.txt");
    let mut options = airlock_core::engine::EngineOptions::from_settings(&settings);
    options.journal_dir = Some(rig.servers.sandbox.data_dir());
    options.linger = true;
    let mut handle = airlock_core::engine::Engine::start(plan, sides, options).unwrap();
    let mut events = common::engine::Events::new(handle.take_events().unwrap());
    let finished = |e: &Event| matches!(e, Event::RunFinished { .. });
    let Event::RunFinished { summary } = events.wait_for("first finish", finished).await else {
        unreachable!()
    };
    assert_eq!((summary.copied, summary.failed), (5, 2));

    rig.source_proxy.clear_rules();
    handle.send(Command::Retry(flaky_a));
    let Event::RunFinished { summary } = events.wait_for("second finish", finished).await else {
        unreachable!()
    };
    assert_eq!(
        (summary.copied, summary.failed),
        (6, 1),
        "{}",
        events.describe()
    );
    assert_eq!(summary.failures[0].0, "flaky-b.txt");

    handle.send(Command::RetryFailed);
    let Event::RunFinished { summary } = events.wait_for("third finish", finished).await else {
        unreachable!()
    };
    assert_eq!(
        (summary.copied, summary.failed),
        (7, 0),
        "{}",
        events.describe()
    );
    assert!(summary.failures.is_empty());
    handle.send(Command::Stop);
    let summary = handle.join().await.unwrap();
    assert_eq!(
        (summary.copied, summary.failed, summary.exit_code()),
        (7, 0, 0)
    );
    rig.assert_all_copied().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_finishes_in_flight_requests_and_starts_nothing_new() {
    let rig = Rig::start().await;
    small_objects(&rig, 20).await;
    rig.source_proxy
        .add_rule(Rule::new(Fault::Hold).on(Op::GetObject));
    let settings = rig.config().transfer(&["concurrency = 2"]).settings();
    let (handle, mut events) = rig.start_engine(&settings).await;
    rig.source_proxy
        .wait_for("2 GETs held", |p| p.held() == 2)
        .await;
    handle.send(Command::Stop);
    // Commands are handled in order: once Paused comes back, Stop has been seen.
    handle.send(Command::Pause);
    events.wait_for("paused", |e| *e == Event::Paused).await;
    rig.source_proxy.clear_rules();
    rig.source_proxy.release_held();
    let summary = handle.join().await.unwrap();
    assert_eq!(
        (summary.copied, summary.not_started),
        (2, 18),
        "{summary:?}"
    );
    assert!(summary.interrupted);
    assert_eq!(summary.exit_code(), 130);
    assert_eq!(rig.source_proxy.count(Op::GetObject), 2);

    let (summary, _) = rig.run(&settings).await;
    assert_eq!((summary.copied, summary.skipped), (18, 2));
    rig.assert_all_copied().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_concurrency_lowers_and_raises_the_requests_in_flight() {
    let rig = Rig::start().await;
    small_objects(&rig, 40).await;
    rig.target_proxy
        .add_rule(Rule::new(Fault::Hold).on(Op::PutObject));
    let (handle, mut events) = rig
        .start_engine(&rig.config().transfer(&["concurrency = 8"]).settings())
        .await;
    rig.target_proxy
        .wait_for("8 PUTs held", |p| p.held() == 8)
        .await;
    handle.send(Command::SetConcurrency(2));
    let change = events
        .wait_for("lowered", |e| matches!(e, Event::ConcurrencyChanged { .. }))
        .await;
    assert_eq!(
        change,
        Event::ConcurrencyChanged {
            limit: 2,
            reason: "set by user".into()
        }
    );
    // Hold the next PUTs again: exactly 2 arrive once the 8 in flight are done.
    rig.target_proxy.release_held();
    events.wait_count("the 8 in flight", 8, is_done).await;
    rig.target_proxy
        .wait_for("2 PUTs held", |p| p.held() == 2)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rig.target_proxy.held(), 2, "no more than 2 at once");
    assert_eq!(rig.target_proxy.count(Op::PutObject), 10);

    handle.send(Command::SetConcurrency(6));
    rig.target_proxy
        .wait_for("6 PUTs held", |p| p.held() == 6)
        .await;
    rig.target_proxy.clear_rules();
    rig.target_proxy.release_held();
    let summary = handle.join().await.unwrap();
    assert_eq!((summary.copied, summary.failed), (40, 0));
    rig.assert_all_copied().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_all_stops_every_object_and_aborts_every_upload() {
    let rig = Rig::start().await;
    rig.source().put_seeded("big-1.bin", 12 * MIB, 1).await;
    rig.source().put_seeded("big-2.bin", 12 * MIB, 2).await;
    small_objects(&rig, 6).await;
    // Parts are held on their way to the target (an abort removes them); small objects are
    // held at their GET: a PUT whose body already left cannot be called back.
    rig.target_proxy
        .add_rule(Rule::new(Fault::Hold).on(Op::UploadPart));
    rig.source_proxy
        .add_rule(Rule::new(Fault::Hold).on(Op::GetObject));
    let settings = rig
        .config()
        .transfer(&[
            "multipart_threshold = \"5MiB\"",
            "part_size = \"5MiB\"",
            "concurrency = 4",
        ])
        .settings();
    let (handle, mut events) = rig.start_engine(&settings).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while rig.source_proxy.held() + rig.target_proxy.held() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "4 requests held in time"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    handle.send(Command::CancelAll);
    events
        .wait_count("all cancelled", 8, |e| {
            matches!(e, Event::ObjectCancelled { .. })
        })
        .await;
    for proxy in [&rig.source_proxy, &rig.target_proxy] {
        proxy.clear_rules();
        proxy.release_held();
    }
    let summary = handle.join().await.unwrap();
    events.drain().await;
    assert_eq!(
        (summary.copied, summary.cancelled, summary.failed),
        (0, 8, 0),
        "{}",
        events.describe()
    );
    assert_eq!(summary.exit_code(), 1);
    assert!(rig.target().keys("").await.is_empty(), "nothing written");
    assert!(rig.target_uploads().await.is_empty(), "uploads aborted");
    assert!(rig.journal_files().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_multipart_object_retried_by_command_starts_at_once_and_completes() {
    let rig = Rig::start().await;
    rig.source().put_seeded("multi.bin", 12 * MIB, 3).await;
    small_objects(&rig, 2).await;
    // Part 2 always fails: the object fails and its upload is aborted.
    rig.target_proxy.add_rule(
        Rule::new(common::proxy::Fault::InternalError)
            .on(Op::UploadPart)
            .part(2),
    );
    let settings = rig
        .config()
        .transfer(&[
            "multipart_threshold = \"5MiB\"",
            "part_size = \"5MiB\"",
            "max_retries = 1",
        ])
        .settings();
    let (plan, sides) = rig.plan(&settings).await;
    let id = plan
        .items
        .iter()
        .position(|i| i.source_key == "multi.bin")
        .unwrap();
    let mut options = airlock_core::engine::EngineOptions::from_settings(&settings);
    options.journal_dir = Some(rig.servers.sandbox.data_dir());
    options.linger = true;
    let mut handle = airlock_core::engine::Engine::start(plan, sides, options).unwrap();
    let mut events = common::engine::Events::new(handle.take_events().unwrap());
    let finished = |e: &Event| matches!(e, Event::RunFinished { .. });
    let Event::RunFinished { summary } = events.wait_for("first finish", finished).await else {
        unreachable!()
    };
    assert_eq!((summary.copied, summary.failed), (2, 1));

    rig.target_proxy.clear_rules();
    let asked = std::time::Instant::now();
    handle.send(Command::Retry(id));
    events
        .wait_for(
            "restarted",
            |e| matches!(e, Event::ObjectStarted { key, .. } if key == "multi.bin"),
        )
        .await;
    // Generous bound on a hang: the retry itself needs a HEAD and a create, milliseconds.
    let waited = asked.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "ObjectStarted after {waited:?}"
    );
    let Event::RunFinished { summary } = events.wait_for("second finish", finished).await else {
        unreachable!()
    };
    assert_eq!(
        (summary.copied, summary.failed),
        (3, 0),
        "{}",
        events.describe()
    );
    handle.send(Command::Stop);
    handle.join().await.unwrap();
    rig.assert_all_copied().await;
    assert!(
        rig.target_uploads().await.is_empty(),
        "the failed upload was aborted"
    );
    assert!(rig.journal_files().is_empty());
}

/// A run crawling under a tiny cap speeds up when the cap is raised, then removed, by command:
/// the engine says so (BandwidthChanged) and finishes long before the cap would have let it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bandwidth_cap_changes_while_the_run_goes() {
    let rig = Rig::start().await;
    rig.source().put_seeded("slow.bin", 4 * MIB, 3).await;
    // 4 MiB at 32 KiB/s would take over two minutes.
    let settings = rig
        .config()
        .transfer(&["bandwidth_limit = \"32KiB/s\""])
        .settings();
    let (handle, mut events) = rig.start_engine(&settings).await;
    events
        .wait_for("the object started", |e| {
            matches!(e, Event::ObjectStarted { .. })
        })
        .await;
    handle.send(Command::SetBandwidthLimit(Some(64 * 1024)));
    events
        .wait_for("cap raised", |e| {
            *e == Event::BandwidthChanged {
                limit: Some(64 * 1024),
            }
        })
        .await;
    handle.send(Command::SetBandwidthLimit(None));
    events
        .wait_for("cap removed", |e| {
            *e == Event::BandwidthChanged { limit: None }
        })
        .await;
    // A generous bound on a hang, not a timing assertion: uncapped, 4 MiB on loopback takes
    // well under a second.
    let summary = tokio::time::timeout(Duration::from_secs(30), handle.join())
        .await
        .expect("the uncapped run finished")
        .expect("engine task");
    assert_eq!(summary.copied, 1);
    rig.assert_copied("slow.bin").await;
}
