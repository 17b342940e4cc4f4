//! The Transfers tab through a run of 50,000 finished and 6,000 failed objects, fed as engine
//! events: the lists keep counts of everything but only the newest objects (and no part map
//! for a done object), so their memory does not grow with the run; retries and the run's end
//! keep the failed count right.

use crossterm::event::KeyCode;
use insta::assert_snapshot;

use super::transfers::{DENIED, engine, verified};
use super::*;
use crate::tui::app::transfers::{DONE_KEPT, FAILED_KEPT, ListKind};
use airlock_core::engine::{Event, RunSummary};
use airlock_core::error::Class;
use airlock_core::plan::Route;

const DONE: usize = 50_000;
const FAILED: usize = 6_000;

fn start(id: usize) -> Event {
    Event::ObjectStarted {
        id,
        key: format!("daily/part-{id:06}.parquet"),
        size: 10 << 20,
        route: Route::Multipart,
        parts: 2,
        part_size: 5 << 20,
        resumed_parts: 0,
    }
}

fn failed(id: usize) -> Event {
    Event::ObjectFailed {
        id,
        key: format!("daily/part-{id:06}.parquet"),
        class: Class::Fatal,
        error: DENIED.into(),
        kept_upload: None,
        removed_after_failed_check: false,
        wrong_object_left: None,
    }
}

/// A started run through which `DONE` objects finished and `FAILED` failed, interleaved.
fn after_a_long_run() -> App {
    let mut app = super::plan::planned((80, 24));
    key(&mut app, KeyCode::Char('g'));
    key(&mut app, KeyCode::Char('y'));
    let objects = (DONE + FAILED) as u64;
    engine(
        &mut app,
        10.0,
        Event::RunStarted {
            objects,
            bytes: objects * (10 << 20),
            skipped: 0,
            concurrency: 8,
        },
    );
    for id in 0..DONE + FAILED {
        engine(&mut app, 11.0, start(id));
        for part in 1..=2 {
            engine(&mut app, 11.0, Event::PartStarted { id, part });
        }
        if id % 9 == 4 && id / 9 < FAILED {
            engine(&mut app, 11.0, failed(id));
            continue;
        }
        for part in 1..=2 {
            let bytes = 5 << 20;
            engine(&mut app, 11.0, Event::PartDone { id, part, bytes });
        }
        let done = Event::ObjectDone {
            id,
            key: format!("daily/part-{id:06}.parquet"),
            bytes: 10 << 20,
            verification: verified(),
            attempts: 1,
        };
        engine(&mut app, 11.0, done);
    }
    app
}

#[test]
fn done_and_failed_lists_keep_counts_and_a_bounded_window() {
    let mut app = after_a_long_run();
    let transfers = &app.transfers;
    assert_eq!(transfers.done_count, DONE as u64);
    assert_eq!(transfers.failed_count, FAILED as u64);
    assert_eq!(transfers.done.len(), DONE_KEPT);
    assert_eq!(transfers.failed.len(), FAILED_KEPT);
    assert!(transfers.active.is_empty());
    assert_eq!(
        transfers.objects.len(),
        DONE_KEPT + FAILED_KEPT,
        "nothing is kept for objects out of the lists"
    );
    // The newest are kept; done objects keep no part map.
    let newest = DONE + FAILED - 1;
    assert_eq!(*transfers.done.back().unwrap(), newest);
    assert!(transfers.objects[&newest].parts.is_empty());
    assert_eq!(transfers.objects[&newest].parts_done(), 2);
    let last_failed = *transfers.failed.back().unwrap();
    assert_eq!(
        transfers.objects[&last_failed].parts.len(),
        2,
        "failed keep theirs"
    );

    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.transfers.list, ListKind::Done);
    let text = screen(&app);
    assert!(text.contains("Done 50,000 (last 1,000)"), "{text}");
    assert!(text.contains("Failed 6,000 │"), "{text}");
    assert!(text.contains("6,000 failed"), "{text}");
    assert!(
        text.contains(&format!("part-{newest:06}")),
        "newest first: {text}"
    );
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.transfers.list, ListKind::Failed);
    assert_snapshot!("transfers_bounded_failed", screen(&app));

    // A kept failed object started again (a retry) leaves the failed count.
    engine(&mut app, 90.0, start(last_failed));
    assert_eq!(app.transfers.failed_count, FAILED as u64 - 1);
    assert_eq!(app.transfers.failed.len(), FAILED_KEPT - 1);
    // The run's end says how many failed, kept here or not.
    let summary = RunSummary {
        copied: DONE as u64 + 1,
        failed: FAILED as u64 - 1,
        ..Default::default()
    };
    engine(&mut app, 99.0, Event::RunFinished { summary });
    assert_eq!(app.transfers.failed_count, FAILED as u64 - 1);
}
