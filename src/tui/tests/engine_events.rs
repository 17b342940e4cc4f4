//! Engine events -> state, and Transfers keys -> the commands they send (the effects, not a
//! mock engine).

use crossterm::event::KeyCode;

use super::transfers::{DENIED, engine, finish, running};
use super::*;
use crate::tui::app::transfers::{ListKind, Outcome, PartState, Phase};
use crate::tui::app::{Confirm, Overlay};
use airlock_core::config::Side;
use airlock_core::engine::{Command, Event};
use airlock_core::error::Class;

fn part(app: &App, id: usize, part: usize) -> PartState {
    app.transfers.objects[&id].parts[part - 1]
}

#[test]
fn part_events_drive_the_part_map() {
    let mut app = running((80, 24));
    assert_eq!(part(&app, 0, 150), PartState::Done);
    assert_eq!(part(&app, 0, 151), PartState::InFlight);
    assert_eq!(part(&app, 0, 159), PartState::Retrying);
    assert_eq!(part(&app, 0, 160), PartState::Pending);
    assert!(
        app.transfers.objects[&0]
            .last_error
            .as_ref()
            .unwrap()
            .contains("SlowDown")
    );
    engine(&mut app, 71.0, Event::PartStarted { id: 0, part: 159 });
    assert_eq!(part(&app, 0, 159), PartState::InFlight);
    engine(
        &mut app,
        71.0,
        Event::PartDone {
            id: 0,
            part: 159,
            bytes: 1,
        },
    );
    assert_eq!(part(&app, 0, 159), PartState::Done);
    assert_eq!(app.transfers.objects[&0].last_error, None);
    assert_eq!(app.transfers.objects[&0].retries, 1);
}

#[test]
fn failed_objects_are_listed_with_their_error() {
    let app = running((80, 24));
    assert_eq!(app.transfers.failed, [3]);
    match &app.transfers.objects[&3].outcome {
        Some(Outcome::Failed { class, error, .. }) => {
            assert_eq!(*class, Class::Fatal);
            assert_eq!(error, DENIED);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(part(&app, 3, 1), PartState::Failed);
    assert!(app.log.iter().any(|l| l.text.contains("AccessDenied")));
}

#[test]
fn slowdown_lowers_the_shown_concurrency() {
    let app = running((80, 24));
    assert_eq!(app.transfers.concurrency, 16);
    // "auto" (the default): the ceiling is the default memory budget's 256 streams.
    assert!(app.transfers.concurrency_auto);
    assert_eq!(app.transfers.concurrency_max, 256);
    assert_eq!(
        app.transfers.concurrency_reason.as_deref(),
        Some("503 SlowDown: backing off")
    );
}

#[test]
fn retry_keys_send_retry_commands() {
    let mut app = running((80, 24));
    assert_eq!(
        key(&mut app, KeyCode::Char('R')),
        [Effect::Send(Command::RetryFailed)]
    );
    // `r` retries the selected object of the failed list only.
    assert!(key(&mut app, KeyCode::Char('r')).is_empty());
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.transfers.list, ListKind::Failed);
    assert_eq!(
        key(&mut app, KeyCode::Char('r')),
        [Effect::Send(Command::Retry(3))]
    );
}

#[test]
fn cancel_keys() {
    let mut app = running((80, 24));
    assert_eq!(
        key(&mut app, KeyCode::Char('c')),
        [Effect::Send(Command::Cancel(0))]
    );
    key(&mut app, KeyCode::Char('C'));
    assert_eq!(app.overlay, Some(Overlay::Confirm(Confirm::CancelAll)));
    assert!(key(&mut app, KeyCode::Char('n')).is_empty());
    assert_eq!(app.overlay, None);
    key(&mut app, KeyCode::Char('C'));
    assert_eq!(
        key(&mut app, KeyCode::Char('y')),
        [Effect::Send(Command::CancelAll)]
    );
    engine(
        &mut app,
        71.0,
        Event::ObjectCancelled {
            id: 7,
            key: "daily/orders.parquet".into(),
        },
    );
    assert_eq!(app.transfers.failed, [3, 7]);
    assert_eq!(app.transfers.objects[&7].outcome, Some(Outcome::Cancelled));
}

#[test]
fn pause_toggles_and_concurrency_steps() {
    let mut app = running((80, 24));
    assert_eq!(
        key(&mut app, KeyCode::Char('p')),
        [Effect::Send(Command::Pause)]
    );
    engine(&mut app, 71.0, Event::Paused);
    assert_eq!(
        key(&mut app, KeyCode::Char('p')),
        [Effect::Send(Command::Resume)]
    );
    // With "auto" the first step is from the effective 16, not the ceiling of 256, and fixes
    // the concurrency from then on.
    assert_eq!(
        key(&mut app, KeyCode::Char('+')),
        [Effect::Send(Command::SetConcurrency(18))]
    );
    assert!(!app.transfers.concurrency_auto);
    assert_eq!(
        key(&mut app, KeyCode::Char('-')),
        [Effect::Send(Command::SetConcurrency(16))]
    );
}

#[test]
fn retry_after_the_run_ended_runs_again() {
    let mut app = running((80, 24));
    finish(&mut app);
    assert!(matches!(app.transfers.phase, Phase::Finished(_)));
    assert_eq!(
        key(&mut app, KeyCode::Char('R')),
        [Effect::Send(Command::RetryFailed)]
    );
    engine(
        &mut app,
        90.0,
        Event::ObjectStarted {
            id: 3,
            key: "daily/2025-11-19/events-002.json.gz".into(),
            size: 1,
            route: airlock_core::plan::Route::Single,
            parts: 1,
            part_size: 1,
            resumed_parts: 0,
        },
    );
    assert_eq!(app.transfers.phase, Phase::Running);
    assert!(app.transfers.failed.is_empty());
    assert_eq!(app.transfers.active, [3]);
}

#[test]
fn quitting_a_run_asks_then_stops_and_quits_when_stopped() {
    let mut app = running((80, 24));
    assert!(key(&mut app, KeyCode::Char('q')).is_empty());
    assert_eq!(app.overlay, Some(Overlay::Confirm(Confirm::Quit)));
    assert_eq!(
        key(&mut app, KeyCode::Char('y')),
        [Effect::Send(Command::Stop)]
    );
    assert_eq!(app.transfers.phase, Phase::Stopping);
    let effects = engine(
        &mut app,
        75.0,
        Event::RunFinished {
            summary: airlock_core::engine::RunSummary {
                interrupted: true,
                ..Default::default()
            },
        },
    );
    assert_eq!(effects, [Effect::Quit]);
}

#[test]
fn ctrl_c_stops_a_run_and_a_second_one_quits_now() {
    let mut app = running((80, 24));
    assert_eq!(ctrl(&mut app, 'c'), [Effect::Send(Command::Stop)]);
    assert_eq!(ctrl(&mut app, 'c'), [Effect::Quit]);
}

#[test]
fn the_end_of_a_run_lists_the_target_again_and_leaves_nothing_to_pause() {
    let mut app = running((80, 24));
    let target = app.browser.pane(Side::Target).prefix().to_string();
    let effects = engine(
        &mut app,
        80.0,
        Event::RunFinished {
            summary: airlock_core::engine::RunSummary::default(),
        },
    );
    assert!(
        effects.iter().any(|e| matches!(
            e,
            Effect::List { side: Side::Target, prefix, continuation: None, .. } if *prefix == target
        )),
        "the target pane is listed again so its badges show the copies: {effects:?}"
    );
    assert!(key(&mut app, KeyCode::Char('p')).is_empty());
    let said = &app.log.back().expect("a status line").text;
    assert!(said.contains("nothing to pause"), "{said}");
}

/// The inventory after a run copied everything: the target holds every source object.
fn inventory_after_copy() -> airlock_core::job::Inventory {
    let mut inventory = super::plan::inventory();
    inventory.target = inventory
        .source
        .iter()
        .map(|o| ObjectInfo {
            key: o.key.replacen("daily/", "acme/", 1),
            ..o.clone()
        })
        .collect();
    inventory
}

#[test]
fn the_end_of_a_run_rebuilds_the_plan_so_copied_objects_show_as_skip() {
    let mut app = running((80, 24));
    let before = app.plan.request;
    let effects = engine(
        &mut app,
        80.0,
        Event::RunFinished {
            summary: airlock_core::engine::RunSummary::default(),
        },
    );
    let request = app.plan.request;
    assert!(
        request > before
            && effects
                .iter()
                .any(|e| matches!(e, Effect::Gather { request: r, .. } if *r == request)),
        "the plan is listed again: {effects:?}"
    );
    // The stale plan cannot be started while the new one is built.
    key(&mut app, KeyCode::Char('2'));
    assert!(key(&mut app, KeyCode::Char('g')).is_empty());
    assert_eq!(app.overlay, None);
    let said = &app.log.back().expect("a status line").text;
    assert!(said.contains("being rebuilt"), "{said}");
    update(
        &mut app,
        Msg::Gathered {
            request,
            result: Ok(inventory_after_copy()),
        },
    );
    let text = screen(&app);
    for name in [
        "big.tar",
        "orders.parquet",
        "README.txt",
        "events-002.json.gz",
    ] {
        let row = text
            .lines()
            .find(|l| l.contains(name) && l.contains('B'))
            .unwrap_or_else(|| panic!("no row for {name}:\n{text}"));
        assert!(
            row.contains(" skip "),
            "{name} was just copied: {row}\n{text}"
        );
    }
}

#[test]
fn a_new_run_shows_its_active_objects() {
    let mut app = running((80, 24));
    finish(&mut app);
    assert_eq!(app.transfers.list, ListKind::Failed);
    key(&mut app, KeyCode::Char('2'));
    // The plan rebuilt after the run (here: the same listing as before) can be started.
    let request = app.plan.request;
    update(
        &mut app,
        Msg::Gathered {
            request,
            result: Ok(super::plan::inventory()),
        },
    );
    key(&mut app, KeyCode::Char('g'));
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.transfers.phase, Phase::Starting);
    assert_eq!(app.transfers.list, ListKind::Active);
}

#[test]
fn bandwidth_keys_step_the_cap_and_the_header_shows_it() {
    use crate::tui::app::transfers::{BANDWIDTH_STEPS, step_bandwidth};
    use insta::assert_snapshot;
    const MIB: u64 = 1024 * 1024;
    let mut app = running((80, 24));
    assert_eq!(app.transfers.bandwidth_limit, None);
    // No cap yet: raising or removing says so and sends nothing.
    assert!(key(&mut app, KeyCode::Char('B')).is_empty());
    assert!(key(&mut app, KeyCode::Char('U')).is_empty());
    // b: from no cap to the highest step, then down a step at a time.
    assert_eq!(
        key(&mut app, KeyCode::Char('b')),
        [Effect::Send(Command::SetBandwidthLimit(Some(2048 * MIB)))]
    );
    assert_eq!(
        key(&mut app, KeyCode::Char('b')),
        [Effect::Send(Command::SetBandwidthLimit(Some(1024 * MIB)))]
    );
    assert_eq!(
        key(&mut app, KeyCode::Char('b')),
        [Effect::Send(Command::SetBandwidthLimit(Some(500 * MIB)))]
    );
    engine(
        &mut app,
        71.0,
        Event::BandwidthChanged {
            limit: Some(500 * MIB),
        },
    );
    assert_eq!(app.transfers.bandwidth_limit, Some(500 * MIB));
    let shown = screen(&app);
    assert!(shown.contains("cap 500 MiB/s"), "{shown}");
    assert_snapshot!("transfers_bandwidth_cap", shown);
    // B raises a step; U removes the cap, and the header drops it.
    assert_eq!(
        key(&mut app, KeyCode::Char('B')),
        [Effect::Send(Command::SetBandwidthLimit(Some(1024 * MIB)))]
    );
    assert_eq!(
        key(&mut app, KeyCode::Char('U')),
        [Effect::Send(Command::SetBandwidthLimit(None))]
    );
    engine(&mut app, 72.0, Event::BandwidthChanged { limit: None });
    let shown = screen(&app);
    let header = shown.lines().nth(1).unwrap();
    assert!(
        header.contains("Run · running") && !header.contains("cap"),
        "{shown}"
    );

    // The steps: a cap between steps moves to its neighbours; the floor holds; past the top
    // there is no cap.
    assert_eq!(step_bandwidth(Some(150 * MIB), true), Some(100 * MIB));
    assert_eq!(step_bandwidth(Some(150 * MIB), false), Some(200 * MIB));
    assert_eq!(step_bandwidth(Some(MIB), true), Some(MIB));
    assert_eq!(step_bandwidth(Some(MIB / 2), true), Some(MIB / 2));
    assert_eq!(step_bandwidth(BANDWIDTH_STEPS.last().copied(), false), None);
}
