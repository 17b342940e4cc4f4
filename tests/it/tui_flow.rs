//! The TUI's update/effects loop against two real embedded S3 servers (distinct keys, no
//! mocks): list, open a folder, select objects and a whole folder, build the plan (one object
//! already at the target is skipped), edit it, start the run, fold the engine's events until
//! the run finishes, and check the target bytes. A multipart source started from the TUI is
//! copied in its own part layout, learnt while planning, and checked by its composite CRC.

use std::time::{Duration, Instant};

use airlock::tui::app::badges::Badge;
use airlock::tui::app::browser::ListStatus;
use airlock::tui::app::plan::PlanStatus;
use airlock::tui::app::transfers::Phase;
use airlock::tui::app::{App, Tab, update};
use airlock::tui::{Keymap, Msg, Runtime};
use airlock_core::aws::connect;
use airlock_core::config::Side;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::common::multipart_upload::{Upload, put_in_parts};
use crate::common::{Account, MIB, TwoServers, seeded_bytes};
use airlock::tui::app::transfers::Outcome;
use aws_sdk_s3::types::ChecksumAlgorithm as SdkAlgorithm;

/// Every item of the plan shown, read from its file (the tab holds a window only).
fn items(app: &App) -> Vec<airlock_core::plan::PlanItem> {
    let shown = app.plan.plan.as_ref().expect("a plan");
    (shown.file.entries().expect("the plan file reads"))
        .filter_map(|entry| match entry.expect("an entry") {
            airlock_core::plan::lines::Entry::Item(item) => Some(item),
            airlock_core::plan::lines::Entry::Deletion(_) => None,
        })
        .collect()
}

/// The app, the runtime and the channel the runtime answers on.
struct Harness {
    app: App,
    runtime: Runtime,
    messages: UnboundedReceiver<Msg>,
    clock: Instant,
}

impl Harness {
    /// The app and its runtime on `settings`, with the first listings requested.
    async fn start(servers: &TwoServers, settings: airlock_core::config::Settings) -> Harness {
        let sides = connect(&settings).await.expect("connect both sides");
        let (tx, messages) = tokio::sync::mpsc::unbounded_channel();
        let mut runtime = Runtime::new(sides, settings.clone(), tx);
        runtime.journal_dir = Some(servers.sandbox.data_dir());
        let mut app = App::new(settings, Keymap::default(), (100, 30));
        let first = app.start();
        assert!(runtime.execute_all(first));
        Harness {
            app,
            runtime,
            messages,
            clock: Instant::now(),
        }
    }

    fn key(&mut self, code: KeyCode) {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    fn keys(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn send(&mut self, msg: Msg) {
        self.app.now = self.clock.elapsed();
        let effects = update(&mut self.app, msg);
        assert!(self.runtime.execute_all(effects), "nothing here quits");
    }

    /// Feed messages from the runtime until `done` holds.
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done(&self.app) {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = tokio::time::timeout(left, self.messages.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!("timed out waiting for {what}; log: {:#?}", self.app.log)
                })
                .expect("the runtime keeps the channel open");
            self.send(msg);
        }
    }

    /// Move the focused pane's cursor onto the entry named `name`.
    fn cursor_to(&mut self, name: &str) {
        let pane = &self.app.browser.source;
        let key = format!("{}{name}", pane.prefix());
        let row = pane
            .listing
            .position(&key)
            .unwrap_or_else(|| panic!("no '{key}'"));
        self.key(KeyCode::Home);
        for _ in 0..row {
            self.key(KeyCode::Down);
        }
        assert_eq!(self.app.browser.source.current().unwrap().key(), key);
    }
}

fn listed(app: &App) -> bool {
    app.browser.source.status == ListStatus::Done && app.browser.target.status == ListStatus::Done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browse_select_plan_run_and_verify_bytes() {
    let servers = TwoServers::start().await;
    let settings = servers.config().prefixes("in/", "out/").settings();
    let objects = [
        ("in/a report.csv", seeded_bytes(1, 0, 2_000)),
        ("in/logs/x.log", seeded_bytes(2, 0, 1_000)),
        (
            "in/logs/big.bin",
            seeded_bytes(3, 0, 12 * MIB as usize + 17),
        ),
        ("in/logs/empty", vec![]),
        ("in/nested/deep/z.txt", seeded_bytes(5, 0, 3_000)),
        ("in/nested/same.txt", seeded_bytes(6, 0, 500)),
        ("in/other/not-selected.txt", seeded_bytes(4, 0, 10)),
    ];
    for (key, bytes) in &objects {
        servers.source.put(key, bytes.clone()).await;
    }

    // Already at the target, byte for byte: the plan must skip it (decided by HEADs).
    servers
        .target
        .put("out/nested/same.txt", seeded_bytes(6, 0, 500))
        .await;

    let mut h = Harness::start(&servers, settings).await;

    h.until("both root listings", listed).await;
    assert_eq!(
        h.app.browser.source.listing.len(),
        4,
        "logs/, nested/, other/, a report.csv"
    );

    // Into logs/: the target pane follows to out/logs/ (which does not exist yet).
    h.cursor_to("logs/");
    h.key(KeyCode::Enter);
    h.until("logs/ on both sides", |app| {
        listed(app) && app.browser.source.prefix() == "in/logs/"
    })
    .await;
    assert_eq!(h.app.browser.target.prefix(), "out/logs/");
    h.key(KeyCode::Char('a'));
    assert_eq!(h.app.browser.selection.len(), 3);

    // Back up, and select one more object at the top level.
    h.key(KeyCode::Backspace);
    h.until("back at in/", |app| {
        listed(app) && app.browser.source.prefix() == "in/"
    })
    .await;
    h.cursor_to("a report.csv");
    h.key(KeyCode::Char(' '));
    // A whole folder too: the plan lists it recursively on both sides.
    h.cursor_to("nested/");
    h.key(KeyCode::Char(' '));
    assert_eq!(h.app.browser.selection.len(), 5);

    // The plan covers exactly the selection.
    h.key(KeyCode::Char('2'));
    assert_eq!(h.app.tab, Tab::Plan);
    h.until("the plan", |app| app.plan.status == PlanStatus::Ready)
        .await;
    let keys: Vec<String> = items(&h.app).iter().map(|i| i.source_key.clone()).collect();
    assert_eq!(
        keys,
        [
            "in/a report.csv",
            "in/logs/big.bin",
            "in/logs/empty",
            "in/logs/x.log",
            "in/nested/deep/z.txt",
            "in/nested/same.txt",
        ]
    );
    let same = &items(&h.app)[5];
    assert_eq!(same.route.as_str(), "skip", "{}", same.reason);

    // 5 MiB threshold and parts: big.bin goes multipart in 3 parts.
    for value in ["5MiB", "5MiB"] {
        h.key(KeyCode::Enter);
        h.send(Msg::Key(KeyEvent::new(
            KeyCode::Char('u'),
            KeyModifiers::CONTROL,
        )));
        h.keys(value);
        h.key(KeyCode::Enter);
        assert!(h.app.plan.editor.is_none(), "{:?}", h.app.plan.editor);
        // The plan file is re-routed by the runtime.
        h.until("the re-routed plan", |app| app.plan.rerouting.is_none())
            .await;
        h.key(KeyCode::Down);
    }
    let big = &items(&h.app)[1];
    assert_eq!((big.route.as_str(), big.parts), ("multipart", 3));

    // Start, confirm, and follow the engine's events to the end.
    h.key(KeyCode::Char('g'));
    h.key(KeyCode::Char('y'));
    assert_eq!(h.app.tab, Tab::Transfers);
    h.until("the run to finish", |app| {
        matches!(app.transfers.phase, Phase::Finished(_))
    })
    .await;
    let Phase::Finished(summary) = &h.app.transfers.phase else {
        unreachable!()
    };
    assert_eq!(
        (summary.copied, summary.skipped, summary.failed),
        (5, 1, 0),
        "{summary:?}"
    );
    assert_eq!(h.app.transfers.done.len(), 5);
    // The plan is rebuilt against the target on its own: everything just copied is a skip.
    h.until("the plan rebuilt after the run", |app| {
        app.plan.status == PlanStatus::Ready
            && app.plan.plan.as_ref().is_some_and(|p| {
                p.header.summary.copy_objects() == 0 && p.header.summary.skip.objects == 6
            })
    })
    .await;
    let big_id = 1;
    assert!(
        h.app.transfers.objects[&big_id]
            .parts
            .iter()
            .all(|p| *p == airlock::tui::app::transfers::PartState::Done)
    );

    let copied = servers.target.keys("out/").await;
    for (key, bytes) in &objects {
        let target_key = key.replacen("in/", "out/", 1);
        if key.starts_with("in/other/") {
            assert!(
                !copied.contains(&target_key),
                "'{target_key}' was not selected"
            );
            continue;
        }
        assert!(
            servers.target.get(&target_key).await == *bytes,
            "'{target_key}' differs"
        );
    }

    // Back in the browser the copied objects now compare equal (or undecided until HEADs).
    h.key(KeyCode::Char('1'));
    h.send(Msg::Key(KeyEvent::new(
        KeyCode::Char('r'),
        KeyModifiers::CONTROL,
    )));
    h.until("relisted", listed).await;
    let entry = h
        .app
        .browser
        .source
        .listing
        .get("in/a report.csv")
        .unwrap()
        .clone();
    h.until("the HEADs behind the ? badges", |app| {
        app.browser.heads_in_flight == 0
            && app.browser.badge(Side::Source, &entry) != Some(Badge::Unknown)
    })
    .await;
    assert_eq!(h.app.browser.badge(Side::Source, &entry), Some(Badge::Same));
}

async fn etag(account: &Account, key: &str) -> String {
    let head = account
        .client
        .head_object()
        .bucket(&account.bucket)
        .key(key)
        .send()
        .await;
    let head = head.unwrap_or_else(|e| panic!("HEAD '{key}': {e:?}"));
    head.e_tag().expect("an ETag").to_string()
}

/// Issue #19 from the TUI: the streaming plan learns the source's part layout while it plans
/// (as the headless `plan` does), the Plan tab shows the source's 3 parts, and the object is
/// copied in the source's 5 MiB parts, not airlock's 8 MiB, its composite CRC32 is checked
/// (verified), and the target's ETag is the source's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_source_started_from_the_tui_is_copied_in_its_own_parts() {
    let servers = TwoServers::start().await;
    let sizes = [5 * MIB, 5 * MIB, 2 * MIB];
    let crc32 = Upload::Composite(SdkAlgorithm::Crc32);
    put_in_parts(&servers.source, "in/parts.bin", 7, &sizes, crc32).await;
    let transfer = ["multipart_threshold = \"8MiB\"", "part_size = \"8MiB\""];
    let config = servers.config().prefixes("in/", "out/").transfer(&transfer);
    let mut h = Harness::start(&servers, config.settings()).await;

    h.until("both root listings", listed).await;
    h.cursor_to("parts.bin");
    h.key(KeyCode::Char(' '));
    h.key(KeyCode::Char('2'));
    h.until("the plan", |app| app.plan.status == PlanStatus::Ready)
        .await;
    let item = &items(&h.app)[0];
    assert_eq!(
        (item.route.as_str(), item.part_size, item.parts),
        ("multipart", 5 * MIB, 3),
        "the source's layout, learnt while planning: {item:?}"
    );
    assert!(item.source_layout.is_some(), "{item:?}");

    h.key(KeyCode::Char('g'));
    h.key(KeyCode::Char('y'));
    h.until("the run to finish", |app| {
        matches!(app.transfers.phase, Phase::Finished(_))
    })
    .await;
    let Phase::Finished(summary) = &h.app.transfers.phase else {
        unreachable!()
    };
    assert_eq!(
        (summary.copied, summary.verified, summary.failed),
        (1, 1, 0),
        "{summary:?}"
    );
    let object = h.app.transfers.objects.values().next().expect("one object");
    assert_eq!(
        (object.part_size, object.part_count),
        (5 * MIB, 3),
        "{object:?}"
    );
    let Some(Outcome::Done { verification, .. }) = &object.outcome else {
        panic!("not done: {object:?}")
    };
    assert!(verification.verified, "{verification:?}");
    assert_eq!(
        verification.source,
        "composite crc32 of the 3 parts read (in the source's layout) matched the source's"
    );
    let source_etag = etag(&servers.source, "in/parts.bin").await;
    assert_eq!(source_etag, etag(&servers.target, "out/parts.bin").await);
    let bytes = seeded_bytes(7, 0, 12 * MIB as usize);
    assert!(servers.target.get("out/parts.bin").await == bytes);
}
