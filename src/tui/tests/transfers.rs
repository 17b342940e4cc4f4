//! Transfers snapshots: running (part maps, chart from injected samples, SlowDown), retrying,
//! failed, finished with verification, paused, cancel-all confirmation, idle, wide.

use crossterm::event::KeyCode;
use insta::assert_snapshot;

use super::*;
use crate::tui::app::transfers::ListKind;
use airlock_core::engine::{Event, RunSummary, Verification};
use airlock_core::error::Class;
use airlock_core::plan::Route;

const MIB: u64 = 1024 * 1024;

pub(super) fn engine(app: &mut App, seconds: f64, event: Event) -> Vec<Effect> {
    at(app, seconds);
    update(app, Msg::Engine(event))
}

pub(super) fn started(
    id: usize,
    key: &str,
    size: u64,
    route: Route,
    parts: u32,
    part_size: u64,
) -> Event {
    Event::ObjectStarted {
        id,
        key: key.into(),
        size,
        route,
        parts,
        part_size,
        resumed_parts: 0,
    }
}

pub(super) fn verified() -> Verification {
    Verification {
        source: "crc64nvme of all bytes matched the source's full-object checksum".into(),
        target: "crc64nvme matched the target's full-object checksum (HEAD after complete)".into(),
        verified: true,
    }
}

pub(super) const DENIED: &str = "target: PutObject on 's3://client-drop/acme/2025-11-19/events-002.json.gz' \
failed: AccessDenied (HTTP 403): Access Denied (check target.credentials: they are refused for this bucket)";

/// A run one minute in: two multipart objects with parts in every live state, a single
/// object streaming, two done, one failed, concurrency lowered by SlowDown.
pub(super) fn running(size: (u16, u16)) -> App {
    let mut app = super::plan::planned(size);
    key(&mut app, KeyCode::Char('g'));
    key(&mut app, KeyCode::Char('y'));
    let t0 = 10.0;
    engine(
        &mut app,
        t0,
        Event::RunStarted {
            objects: 7,
            bytes: 9_900_000_000,
            skipped: 2,
            concurrency: 32,
        },
    );
    engine(
        &mut app,
        t0,
        started(
            0,
            "daily/2025-11-19/big.tar",
            6144 * MIB,
            Route::Multipart,
            384,
            16 * MIB,
        ),
    );
    engine(
        &mut app,
        t0,
        started(
            7,
            "daily/orders.parquet",
            2_684_354_560,
            Route::Multipart,
            160,
            16 * MIB,
        ),
    );
    engine(
        &mut app,
        t0,
        started(
            1,
            "daily/2025-11-19/events-000.json.gz",
            120 * MIB,
            Route::Single,
            1,
            120 * MIB,
        ),
    );
    engine(&mut app, t0, Event::PartStarted { id: 1, part: 1 });
    for part in 1..=159 {
        engine(&mut app, t0, Event::PartStarted { id: 0, part });
        if part <= 150 {
            engine(
                &mut app,
                t0,
                Event::PartDone {
                    id: 0,
                    part,
                    bytes: 16 * MIB,
                },
            );
        }
    }
    for part in 1..=44 {
        engine(&mut app, t0, Event::PartStarted { id: 7, part });
        if part <= 40 {
            engine(
                &mut app,
                t0,
                Event::PartDone {
                    id: 7,
                    part,
                    bytes: 16 * MIB,
                },
            );
        }
    }
    for (id, key, size) in [
        (4, "daily/README.txt", 5_301),
        (6, "daily/manifest.json", 1_204),
    ] {
        engine(&mut app, t0, started(id, key, size, Route::Single, 1, size));
        engine(&mut app, t0, Event::PartStarted { id, part: 1 });
        engine(
            &mut app,
            t0,
            Event::PartDone {
                id,
                part: 1,
                bytes: size,
            },
        );
        engine(
            &mut app,
            t0,
            Event::ObjectDone {
                id,
                key: key.into(),
                bytes: size,
                verification: verified(),
                attempts: 1,
            },
        );
    }
    engine(
        &mut app,
        t0,
        started(
            3,
            "daily/2025-11-19/events-002.json.gz",
            97 * MIB,
            Route::Single,
            1,
            97 * MIB,
        ),
    );
    engine(&mut app, t0, Event::PartStarted { id: 3, part: 1 });
    engine(
        &mut app,
        t0 + 2.0,
        Event::ObjectFailed {
            id: 3,
            key: "daily/2025-11-19/events-002.json.gz".into(),
            class: Class::Fatal,
            error: DENIED.into(),
            kept_upload: None,
            removed_after_failed_check: false,
            wrong_object_left: None,
        },
    );
    // One minute of samples: GET leads PUT a little, with a SlowDown dip at 40 s.
    let (mut get, mut put) = (0, 0);
    for s in 1..=60u64 {
        let rate = if (40..46).contains(&s) {
            40
        } else {
            90 + (s % 7) * 5
        };
        put += rate * 1_000_000;
        get += (rate + 12 + s % 3 * 4) * 1_000_000;
        let progress = Event::Progress {
            get_bytes: get,
            put_bytes: put,
            buffered_bytes: 24 * MIB,
            objects: vec![(0, 150 * 16 * MIB + 5 * MIB), (7, 640 * MIB), (1, 75 * MIB)],
        };
        engine(&mut app, t0 + s as f64, progress);
        if s == 40 {
            engine(
                &mut app,
                t0 + 40.0,
                Event::ConcurrencyChanged {
                    limit: 16,
                    reason: "503 SlowDown: backing off".into(),
                },
            );
        }
    }
    engine(
        &mut app,
        t0 + 60.0,
        Event::PartRetry {
            id: 0,
            part: 159,
            attempt: 1,
            class: Class::SlowDown,
            error: "source: GetObject on 's3://acme-exports/daily/2025-11-19/big.tar' failed: SlowDown (HTTP 503): Please reduce your request rate.".into(),
            delay_ms: 800,
        },
    );
    app
}

#[test]
fn idle_says_how_to_start() {
    let mut app = app((80, 24));
    key(&mut app, KeyCode::Char('3'));
    assert_snapshot!("transfers_idle", screen(&app));
}

#[test]
fn running_with_part_maps_chart_and_slowdown() {
    let app = running((80, 24));
    assert_eq!(app.transfers.active, [0, 7, 1]);
    assert_snapshot!("transfers_running", screen(&app));
}

#[test]
fn running_wide() {
    let app = running((132, 40));
    assert_snapshot!("transfers_running_wide", screen(&app));
}

#[test]
fn retrying_object_shows_its_last_error() {
    let mut app = running((80, 24));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    engine(
        &mut app,
        71.0,
        Event::PartRetry {
            id: 1,
            part: 1,
            attempt: 2,
            class: Class::Retryable,
            error: "source: GetObject on 's3://acme-exports/daily/2025-11-19/events-000.json.gz' failed: connection reset".into(),
            delay_ms: 400,
        },
    );
    assert_snapshot!("transfers_retrying", screen(&app));
}

#[test]
fn failed_list_shows_errors() {
    let mut app = running((80, 24));
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.transfers.list, ListKind::Failed);
    assert_snapshot!("transfers_failed", screen(&app));
}

#[test]
fn paused() {
    let mut app = running((80, 24));
    engine(&mut app, 71.0, Event::Paused);
    assert_snapshot!("transfers_paused", screen(&app));
}

#[test]
fn cancel_all_asks_first() {
    let mut app = running((80, 24));
    assert!(key(&mut app, KeyCode::Char('C')).is_empty());
    assert_snapshot!("transfers_confirm_cancel_all", screen(&app));
}

pub(super) fn finish(app: &mut App) {
    engine(
        app,
        79.0,
        Event::Progress {
            get_bytes: 10_100_000_000,
            put_bytes: 9_900_000_000,
            buffered_bytes: 0,
            objects: vec![],
        },
    );
    for (id, key, size) in [
        (0usize, "daily/2025-11-19/big.tar", 6144 * MIB),
        (7, "daily/orders.parquet", 2_684_354_560),
        (1, "daily/2025-11-19/events-000.json.gz", 120 * MIB),
    ] {
        engine(
            app,
            80.0,
            Event::ObjectDone {
                id,
                key: key.into(),
                bytes: size,
                verification: verified(),
                attempts: 1,
            },
        );
    }
    engine(
        app,
        80.0,
        Event::RunFinished {
            summary: RunSummary {
                copied: 5,
                verified: 5,
                skipped: 2,
                failed: 1,
                bytes_copied: 9_800_000_000,
                retries: 1,
                slowdowns: 1,
                elapsed_ms: 70_000,
                failures: vec![("daily/2025-11-19/events-002.json.gz".into(), DENIED.into())],
                ..Default::default()
            },
        },
    );
}

#[test]
fn the_average_leaves_out_the_time_the_run_was_paused() {
    let mut app = running((80, 24));
    engine(&mut app, 30.0, Event::Paused);
    engine(&mut app, 65.0, Event::Resumed);
    engine(
        &mut app,
        80.0,
        Event::RunFinished {
            summary: RunSummary {
                copied: 5,
                bytes_copied: 7_000_000_000,
                // 35 s of the 70 were paused: 7 GB in 35 s is 200 MB/s, not 100.
                elapsed_ms: 70_000,
                paused_ms: 35_000,
                ..Default::default()
            },
        },
    );
    let text = screen(&app);
    assert!(text.contains("average 200 MB/s while not paused"), "{text}");
}

#[test]
fn finished_objects_show_what_was_verified() {
    let mut app = running((80, 24));
    finish(&mut app);
    assert_eq!(
        app.transfers.list,
        ListKind::Failed,
        "the end shows what needs attention"
    );
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.transfers.list, ListKind::Done);
    assert_snapshot!("transfers_finished", screen(&app));
}
