//! The TUI's Plan tab on a 100,000-key prefix (issue #17), through the app's update/effects
//! loop and its runtime against two synthetic S3 servers (`SyntheticS3`: keys computed,
//! nothing stored; the target holds every third key, a quarter of those one byte longer): `2`
//! plans the configured prefix streaming into a plan file, the totals show and grow while it
//! lists (the screen mid-listing is printed), and once done they equal what the headless
//! streaming planner makes of the same prefix. The cursor then jumps to the last row and back:
//! the last key shows, and the rows the tab holds stay a bounded window of the file.
//!
//! Print the screens with `cargo test --test it tui_plan_scale -- --nocapture`.

use std::time::{Duration, Instant};

use airlock::tui::app::plan::{PlanStatus, WINDOW_ROWS};
use airlock::tui::app::{App, update};
use airlock::tui::{Keymap, Msg, Runtime, views};
use airlock_core::aws::connect;
use airlock_core::job::stream_plan::{Outcome, stream_plan};
use airlock_s3server::Dataset;

use crate::common::synthetic::SyntheticPair;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const KEYS: u64 = 100_000;
const SIZE: (u16, u16) = (100, 30);

fn screen(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).expect("test terminal");
    terminal.draw(|f| views::render(app, f)).expect("draw");
    terminal.backend().to_string()
}

fn key(app: &mut App, runtime: &mut Runtime, code: KeyCode) {
    let effects = update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    assert!(runtime.execute_all(effects));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_of_100_000_keys_plans_streaming_and_the_table_holds_a_window() {
    let dataset = Dataset::flat(KEYS);
    let servers = SyntheticPair::start(dataset.clone(), ("plan-src", "plan-dst"), "events/").await;
    let settings =
        airlock_core::config::parse_settings(&servers.config, "test.toml").expect("config");
    let sides = connect(&settings).await.expect("connect both sides");

    let (tx, mut messages) = tokio::sync::mpsc::unbounded_channel();
    let mut runtime = Runtime::new(sides.clone(), settings.clone(), tx);
    let mut app = App::new(settings.clone(), Keymap::default(), SIZE);
    let clock = Instant::now();
    assert!(runtime.execute_all(app.start()));

    // `2` with nothing selected plans the configured prefix, streaming.
    key(&mut app, &mut runtime, KeyCode::Char('2'));
    let asked = Instant::now();
    let (mut first_totals, mut mid_listing) = (None, None);
    let deadline = asked + Duration::from_secs(120);
    while app.plan.status != PlanStatus::Ready {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = tokio::time::timeout(left, messages.recv())
            .await
            .unwrap_or_else(|_| panic!("no plan in time; log: {:#?}", app.log))
            .expect("the runtime keeps the channel open");
        app.now = clock.elapsed();
        let effects = update(&mut app, msg);
        assert!(runtime.execute_all(effects));
        if let Some(grew) = &app.plan.grew {
            first_totals.get_or_insert(asked.elapsed());
            if mid_listing.is_none() && grew.items > 0 && grew.items < KEYS {
                mid_listing = Some((grew.items, screen(&app)));
            }
        }
        assert!(
            !matches!(app.plan.status, PlanStatus::Failed(_)),
            "{:?}",
            app.plan.status
        );
    }
    let done = asked.elapsed();
    let (planned_so_far, mid) = mid_listing.expect("the totals showed while it listed");
    println!("--- mid-listing ({planned_so_far} planned)\n{mid}");
    assert!(
        mid.contains("listing…") && mid.contains("to copy"),
        "the totals show while listing:\n{mid}"
    );
    println!(
        "--- figures: first totals after {} ms, plan done after {} ms",
        first_totals.expect("totals").as_millis(),
        done.as_millis()
    );

    // The totals are what the headless streaming planner makes of the prefix: every key, a
    // third of them at the target, three quarters of those the same (skipped).
    let shown = app.plan.plan.as_ref().expect("a plan");
    let header = &shown.header;
    assert_eq!(header.items, KEYS);
    assert_eq!(shown.file.len(), KEYS);
    let at_target = KEYS.div_ceil(3);
    let differ = (at_target + 2) / 4;
    assert_eq!(header.summary.skip.objects, at_target - differ);
    assert_eq!(header.summary.copy_objects(), KEYS - (at_target - differ));
    let Outcome::Planned {
        header: headless, ..
    } = stream_plan(&sides, &settings, &settings.transfer, |_| Ok(()))
        .await
        .expect("headless plan")
    else {
        panic!("out of order")
    };
    assert_eq!(header.summary, headless.summary);
    let done_screen = screen(&app);
    println!("--- done\n{done_screen}");
    assert!(done_screen.contains("Objects 100,000"), "{done_screen}");
    assert!(
        done_screen.contains("part-00000000.parquet"),
        "{done_screen}"
    );

    // The last row: the cursor jumps there, the last key shows, the tab holds a window.
    key(&mut app, &mut runtime, KeyCode::Tab);
    key(&mut app, &mut runtime, KeyCode::End);
    assert_eq!(app.plan.cursor as u64, KEYS - 1);
    let last = screen(&app);
    println!("--- last row\n{last}");
    let last_key = dataset.key(KEYS - 1);
    let last_name = last_key.strip_prefix("events/").expect("under events/");
    assert!(
        last.lines()
            .any(|l| l.contains('▸') && l.contains(last_name)),
        "the cursor row shows '{last_name}':\n{last}"
    );
    let shown = app.plan.plan.as_ref().expect("a plan");
    assert!(
        shown.window.len() <= WINDOW_ROWS && shown.window_start > KEYS - WINDOW_ROWS as u64 * 2,
        "a window of at most {WINDOW_ROWS} rows near the end: {} from {}",
        shown.window.len(),
        shown.window_start
    );
    key(&mut app, &mut runtime, KeyCode::Home);
    let shown = app.plan.plan.as_ref().expect("a plan");
    assert!(shown.window.len() <= WINDOW_ROWS && shown.window_start == 0);
    assert!(screen(&app).contains("part-00000000.parquet"));

    // The plan file goes with the plan: the runtime and the app dropped, nothing is left.
    let path = shown.file.path().to_path_buf();
    assert!(path.exists());
    drop(runtime);
    drop(app);
    assert!(!path.exists(), "the temporary plan file is removed");
}
