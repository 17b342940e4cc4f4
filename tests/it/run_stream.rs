//! The run path in bounded memory (#17 phase 2): the engine fed by a stream admits only a
//! lookahead of items, whatever the plan's size, and still copies everything; `run --plan` of
//! a format 5 plan starts copying before the file is read to the end; a run's summary lists
//! stay bounded with their counts right.

use airlock_core::engine::{
    Engine, EngineOptions, Event, FeedTotals, LOOKAHEAD_MIN_SLOTS, LOOKAHEAD_PER_SLOT, PlanFeed,
    feed_channel,
};
use airlock_core::plan::lines::Entry;

use crate::common::engine::{Events, plan_and_run, plan_of, run_to_end};
use crate::common::fifo::{object_started, six_objects_planned, through_fifo};
use crate::common::*;

/// Objects in the source: more than the scheduler's lookahead at concurrency 2.
const OBJECTS: usize = 300;

/// The most objects the scheduler may hold at a fixed concurrency of 2.
const BOUND: u64 = (LOOKAHEAD_PER_SLOT * LOOKAHEAD_MIN_SLOTS) as u64;

async fn source_with_many(servers: &TwoServers) {
    let objects = (0..OBJECTS)
        .map(|i| {
            (
                format!("many/obj-{i:05}.txt"),
                format!("object {i}").into_bytes(),
            )
        })
        .collect();
    servers.source.put_many(objects, 16).await;
}

fn fixed_concurrency(servers: &TwoServers) -> Config {
    servers.config().transfer(&["concurrency = 2"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_plan_larger_than_the_lookahead_is_copied_whole_within_the_bound() {
    let servers = TwoServers::start().await;
    source_with_many(&servers).await;
    let settings = fixed_concurrency(&servers).settings();
    let (plan, sides) = plan_of(&settings).await;
    assert_eq!(plan.items.len(), OBJECTS);
    assert!(
        OBJECTS as u64 > 2 * BOUND,
        "the stream must outgrow the lookahead"
    );

    // The items come one by one through the feed, as a plan file or a listing gives them.
    let (mut tx, entries) = feed_channel();
    let feed = PlanFeed {
        source: plan.source.clone(),
        target: plan.target.clone(),
        totals: Some(FeedTotals::of(&plan.items)),
        entries,
    };
    let mut options = EngineOptions::from_settings(&settings);
    options.journal_dir = Some(servers.sandbox.data_dir());
    let mut handle = Engine::start_stream(feed, sides, options).expect("start engine");
    let events = Events::new(handle.take_events().expect("events"));
    let items = plan.items;
    tokio::spawn(async move {
        for item in items {
            if tx.send(Entry::Item(item)).await.is_err() {
                return;
            }
        }
        let _ = tx.finish().await;
    });
    let (summary, events) = run_to_end(handle, events).await;

    assert_eq!(summary.copied, OBJECTS as u64, "{summary:?}");
    assert_eq!((summary.failed, summary.not_started), (0, 0), "{summary:?}");
    assert!(!summary.interrupted, "{summary:?}");
    assert!(
        summary.peak_admitted >= 2 && summary.peak_admitted <= BOUND,
        "the scheduler held {} objects at once (bound {BOUND})",
        summary.peak_admitted
    );
    // Ids are positions in the stream: each object started and finished under its own.
    let done: std::collections::BTreeSet<usize> = (events.seen.iter())
        .filter_map(|e| match e {
            Event::ObjectDone { id, key, .. } => {
                assert_eq!(key, &format!("many/obj-{id:05}.txt"));
                Some(*id)
            }
            _ => None,
        })
        .collect();
    assert_eq!(done.len(), OBJECTS);
    assert!(matches!(
        events.seen.first(),
        Some(Event::RunStarted { objects, .. }) if *objects == OBJECTS as u64
    ));
    let target_keys = servers.target.keys("many/").await;
    assert_eq!(target_keys.len(), OBJECTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_in_hand_is_admitted_within_the_bound_too() {
    let servers = TwoServers::start().await;
    source_with_many(&servers).await;
    let settings = fixed_concurrency(&servers).settings();
    let (summary, _) = plan_and_run(&settings, &servers.sandbox).await;
    assert_eq!(summary.copied, OBJECTS as u64, "{summary:?}");
    assert!(
        summary.peak_admitted <= BOUND,
        "the scheduler held {} objects at once (bound {BOUND})",
        summary.peak_admitted
    );
    // A rerun skips everything and holds nothing.
    let (again, _) = plan_and_run(&settings, &servers.sandbox).await;
    assert_eq!(
        (again.copied, again.skipped),
        (0, OBJECTS as u64),
        "{again:?}"
    );
    assert_eq!(again.peak_admitted, 0);
}

/// `airlock run --plan FIFO.jsonl`: the plan's tail is written only once the run has started
/// a copy, so a run that reads the whole plan before copying never starts (and the test times
/// out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_plan_starts_copying_before_the_plan_file_is_read_to_the_end() {
    let servers = TwoServers::start().await;
    let (config, saved) = six_objects_planned(&servers).await;

    // Header and two items; the rest only after the run said it started a copy.
    let run = through_fifo(
        &servers,
        &config,
        &saved,
        3,
        &["run", "--json"],
        &[],
        object_started,
    )
    .await;
    let seen = &run.seen;
    assert!(
        run.early,
        "no object started before the plan's tail was written:\n{}",
        seen.join("\n")
    );
    assert_eq!(run.code, Some(0), "{}", seen.join("\n"));
    assert_eq!(servers.target.keys("fifo/").await.len(), 6);
}

/// A plan whose stream breaks (a line the checks refuse) copies what came before and ends
/// halted (exit 2) naming the file and line, instead of copying on from a damaged plan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_plan_file_halts_the_streamed_run_at_the_bad_line() {
    let servers = TwoServers::start().await;
    for i in 0..4 {
        servers
            .source
            .put(&format!("bad/obj-{i}.txt"), format!("object {i}"))
            .await;
    }
    let config = servers.config().write(&servers.sandbox);
    let plan = servers.save_plan(&config, "bad.jsonl").await;
    let text = std::fs::read_to_string(&plan).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[4] = "{\"not\": \"an item\"}".into();
    std::fs::write(&plan, lines.join("\n") + "\n").unwrap();
    let out = servers
        .airlock_with(&config, &["run", "--plan", plan.to_str().unwrap()])
        .run()
        .await;
    out.expect_code(2);
    assert!(out.all().contains("bad.jsonl"), "{}", out.all());
    // The items before the bad line were copied; none after it.
    let copied = servers.target.keys("bad/").await;
    assert!(copied.len() <= 3, "{copied:?}");
    assert!(!copied.contains(&"bad/obj-3.txt".to_string()), "{copied:?}");
}

/// More failures than a summary keeps: the list holds the first ones, the count is whole,
/// and the rest are counted as left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_summary_keeps_the_first_failures_and_counts_all() {
    use airlock_core::engine::SUMMARY_LIST_LIMIT;
    let servers = TwoServers::start().await;
    servers.source.put("gone/template.txt", "x").await;
    let settings = servers
        .config()
        .transfer(&["concurrency = 8", "max_retries = 0"])
        .settings();
    let (plan, sides) = plan_of(&settings).await;
    let template = plan.items[0].clone();
    let failing = SUMMARY_LIST_LIMIT + 25;
    // Items whose source objects do not exist: each fails on its GET.
    let (mut tx, entries) = feed_channel();
    let feed = PlanFeed {
        source: plan.source.clone(),
        target: plan.target.clone(),
        totals: None,
        entries,
    };
    let mut options = EngineOptions::from_settings(&settings);
    options.journal_dir = Some(servers.sandbox.data_dir());
    let mut handle = Engine::start_stream(feed, sides, options).expect("start engine");
    let events = Events::new(handle.take_events().expect("events"));
    tokio::spawn(async move {
        for i in 0..failing {
            let mut item = template.clone();
            item.source_key = format!("gone/missing-{i:05}");
            item.target_key = item.source_key.clone();
            if tx.send(Entry::Item(item)).await.is_err() {
                return;
            }
        }
        let _ = tx.finish().await;
    });
    let (summary, _) = run_to_end(handle, events).await;
    assert_eq!(summary.failed, failing as u64, "{:?}", summary.halted);
    assert_eq!(summary.failures.len(), SUMMARY_LIST_LIMIT);
    assert_eq!(summary.left_out().failures, 25);
    let named: std::collections::BTreeSet<&str> = summary
        .failures
        .iter()
        .map(|(key, _)| key.as_str())
        .collect();
    assert_eq!(named.len(), SUMMARY_LIST_LIMIT, "each failure named once");
    assert!(named.iter().all(|k| k.starts_with("gone/missing-")));
    assert_eq!(summary.exit_code(), 1);
}

/// `run --plan X.jsonl --manifest` streams and still records every object of the plan once:
/// copied ones with what the target holds, skips with theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_run_records_every_object_in_its_manifest() {
    let servers = TwoServers::start().await;
    source_with_many(&servers).await;
    for i in 0..20 {
        let key = format!("many/obj-{i:05}.txt");
        servers.target.put(&key, format!("object {i}")).await;
    }
    let config = fixed_concurrency(&servers).write(&servers.sandbox);
    let dir = servers.sandbox.path();
    let plan = servers.save_plan(&config, "many.jsonl.zst").await;
    let manifest = dir.join("audit").join("many.csv");
    let out = servers
        .airlock_with(
            &config,
            &["run", "--plan", plan.to_str().unwrap(), "--manifest"],
        )
        .arg(&manifest)
        .run()
        .await;
    out.expect_code(0);
    assert!(
        out.stderr
            .contains(&format!("manifest: {OBJECTS} objects written")),
        "{}",
        out.stderr
    );
    let mut reader = csv::Reader::from_path(&manifest).expect("CSV manifest");
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (key, outcome, size) = (
        column("source_key"),
        column("outcome"),
        column("target_size"),
    );
    let mut seen = std::collections::BTreeMap::new();
    for row in reader.records() {
        let row = row.unwrap();
        assert!(!row[size].is_empty(), "HEADed after the run: {row:?}");
        assert!(
            seen.insert(row[key].to_string(), row[outcome].to_string())
                .is_none()
        );
    }
    assert_eq!(seen.len(), OBJECTS);
    let skipped = seen.values().filter(|o| *o == "skipped").count();
    let copied = seen.values().filter(|o| *o == "copied").count();
    assert_eq!((skipped, copied), (20, OBJECTS - 20), "{seen:?}");
}

/// A fresh streamed `run` knows no totals up front (RunStarted says 0): `plan_grew` events
/// carry what the plan holds so far, the last one `complete` with the plan's own totals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_run_announces_its_totals_as_the_plan_grows() {
    let servers = TwoServers::start().await;
    source_with_many(&servers).await;
    for i in 0..20 {
        let key = format!("many/obj-{i:05}.txt");
        servers.target.put(&key, format!("object {i}")).await;
    }
    let config = fixed_concurrency(&servers);
    let (plan, _) = plan_of(&config.settings()).await;
    let planned = FeedTotals::of(&plan.items);
    assert_eq!(
        (planned.objects, planned.skipped),
        (OBJECTS as u64 - 20, 20)
    );
    let config = config.write(&servers.sandbox);
    let out = servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;
    out.expect_code(0);
    let lines = json_lines(&out.stdout);
    let started = events_named(&lines, "run_started");
    assert_eq!(
        started[0]["objects"], 0,
        "a fresh run starts without totals"
    );
    let grew = events_named(&lines, "plan_grew");
    let last = grew.last().expect("plan_grew events");
    assert_eq!(last["complete"], true, "{last}");
    assert_eq!(
        (
            last["objects"].as_u64(),
            last["bytes"].as_u64(),
            last["skipped"].as_u64()
        ),
        (
            Some(planned.objects),
            Some(planned.bytes),
            Some(planned.skipped)
        ),
        "{last}"
    );
    let completes = grew.iter().filter(|e| e["complete"] == true).count();
    assert_eq!(completes, 1);
    let objects: Vec<u64> = grew
        .iter()
        .map(|e| e["objects"].as_u64().unwrap())
        .collect();
    assert!(objects.windows(2).all(|w| w[0] <= w[1]), "{objects:?}");
    let summary = run_summary(&lines);
    assert_eq!(summary["copied"], planned.objects);
    assert_eq!(summary["skipped"], planned.skipped);
}

/// `run --from-list` streams like any fresh run (it planned in memory, the whole selection
/// held): it starts without totals, copies the listed keys the source has and, once planning
/// has ended, names the ones it lacks and exits 1. Its dry run streams too and names them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_from_list_run_streams_and_names_the_missing_keys_at_the_end() {
    let servers = TwoServers::start().await;
    source_with_many(&servers).await;
    let list = servers.sandbox.path().join("keys.txt");
    std::fs::write(
        &list,
        "many/obj-00007.txt\nmany/obj-00200.txt\nmany/gone.txt\nmany/obj-00123.txt\n",
    )
    .unwrap();
    let list = list.to_str().unwrap();
    let config = fixed_concurrency(&servers).write(&servers.sandbox);

    let dry = servers
        .airlock_with(&config, &["run", "--dry-run", "--from-list", list])
        .run()
        .await;
    assert!(
        dry.all().contains("many/gone.txt"),
        "the dry run names the missing key: {}",
        dry.all()
    );
    assert!(servers.target.keys("").await.is_empty());

    let out = servers
        .airlock_with(&config, &["run", "--json", "--from-list", list])
        .run()
        .await;
    out.expect_code(1);
    let lines = json_lines(&out.stdout);
    let started = events_named(&lines, "run_started");
    assert_eq!(started[0]["objects"], 0, "streamed: {}", out.stdout);
    assert_eq!(run_summary(&lines)["copied"], 3, "{}", out.stdout);
    assert!(out.stderr.contains("many/gone.txt"), "{}", out.stderr);
    assert_eq!(
        servers.target.keys("").await,
        [
            "many/obj-00007.txt",
            "many/obj-00123.txt",
            "many/obj-00200.txt"
        ]
    );
}
