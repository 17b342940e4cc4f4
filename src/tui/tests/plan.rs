//! Plan tab snapshots (gathering, summary and table, edit box with an invalid value, start
//! confirmation, the run learning its source layouts, save prompt) and the transitions behind
//! them.

use crossterm::event::KeyCode;
use insta::assert_snapshot;

use super::*;
use crate::tui::app::plan::{PlanFocus, PlanStatus};
use crate::tui::app::{Confirm, Overlay, Tab};
use airlock_core::config::{ByteSize, PartSize};
use airlock_core::job::Inventory;
use airlock_core::job::Scope;
use airlock_core::plan::Route;

const MIB: u64 = 1024 * 1024;

pub(super) fn inventory() -> Inventory {
    let source = vec![
        object("daily/2025-11-19/big.tar", 6 * 1024 * MIB, 1, Some("11")),
        object(
            "daily/2025-11-19/events-000.json.gz",
            120 * MIB,
            2,
            Some("12"),
        ),
        object(
            "daily/2025-11-19/events-001.json.gz",
            118 * MIB,
            3,
            Some("13"),
        ),
        object(
            "daily/2025-11-19/events-002.json.gz",
            97 * MIB,
            4,
            Some("14"),
        ),
        object("daily/README.txt", 5_301, 2, Some("ee55")),
        object("daily/customers.parquet", 734_003_200, 5, Some("aa11")),
        object("daily/manifest.json", 1_204, 11, Some("dd44")),
        object("daily/orders.parquet", 2_684_354_560, 7, Some("bb22")),
    ];
    let target = vec![
        object(
            "acme/2025-11-19/events-001.json.gz",
            118 * MIB,
            30,
            Some("13"),
        ),
        object("acme/customers.parquet", 734_003_200, 20, Some("aa11")),
    ];
    Inventory {
        source,
        target,
        heads: 0,
        ..Default::default()
    }
}

/// The badges browser with a folder and four objects selected, on the Plan tab with the
/// plan built.
pub(super) fn planned(size: (u16, u16)) -> App {
    let mut app = browser_with_badges(size);
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char(' '));
    let effects = key(&mut app, KeyCode::Char('2'));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Gather { scope: Scope::Selection { folders, objects }, .. }]
            if folders.len() == 1 && objects.len() == 4
    ));
    let request = app.plan.request;
    update(
        &mut app,
        Msg::Gathered {
            request,
            result: Ok(inventory()),
        },
    );
    app
}

#[test]
fn gathering_shows_progress() {
    let mut app = browser_with_badges((80, 24));
    key(&mut app, KeyCode::Char('2'));
    let request = app.plan.request;
    update(
        &mut app,
        Msg::GatherProgress {
            request,
            source: 12_000,
            target: 11_500,
        },
    );
    at(&mut app, 0.5);
    assert_snapshot!("plan_gathering", screen(&app));
}

#[test]
fn summary_and_table() {
    let app = planned((80, 24));
    assert_eq!(app.plan.status, PlanStatus::Ready);
    let plan = &app.plan.plan.as_ref().unwrap().header;
    assert_eq!(plan.summary.skip.objects, 2);
    assert_eq!(plan.summary.multipart.objects, 2);
    assert_snapshot!("plan_summary", screen(&app));
}

#[test]
fn wide_plan_shows_reasons() {
    let mut app = planned((132, 30));
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Down);
    assert_eq!(app.plan.focus, PlanFocus::Objects);
    assert_snapshot!("plan_wide", screen(&app));
}

#[test]
fn invalid_edit_shows_the_value_and_changes_nothing() {
    let mut app = planned((80, 24));
    let before = app.plan.plan.as_ref().unwrap().header.clone();
    let items = plan_items(&app);
    key(&mut app, KeyCode::Down); // part size
    key(&mut app, KeyCode::Enter);
    ctrl(&mut app, 'u');
    chars(&mut app, "1MiB");
    let effects = key(&mut app, KeyCode::Enter);
    assert!(effects.is_empty(), "no re-route: {effects:?}");
    let editor = app.plan.editor.as_ref().expect("the editor stays open");
    assert!(editor.error.as_ref().unwrap().contains("'1MiB'"));
    assert_eq!(app.plan.plan.as_ref().unwrap().header, before);
    assert_eq!(plan_items(&app), items);
    assert_snapshot!("plan_edit_invalid", screen(&app));
}

#[test]
fn valid_edits_reroute_the_plan_at_once() {
    let mut app = planned((80, 24));
    key(&mut app, KeyCode::Enter); // threshold
    ctrl(&mut app, 'u');
    chars(&mut app, "100MiB");
    assert_snapshot!("plan_edit_open", screen(&app));
    let effects = key(&mut app, KeyCode::Enter);
    assert!(app.plan.editor.is_none());
    assert_eq!(app.plan.transfer.multipart_threshold, ByteSize::mib(100));
    // Until the plan file is re-routed, the run waits for it.
    assert!(app.plan.rerouting.is_some());
    key(&mut app, KeyCode::Char('g'));
    assert!(app.overlay.is_none(), "no run on the old routes");
    assert!(reroute(&mut app, effects).is_empty());
    assert!(app.plan.rerouting.is_none());
    let plan = &app.plan.plan.as_ref().unwrap().header;
    assert_eq!(plan.summary.multipart.objects, 3, "{:?}", plan.summary);
    assert_eq!(plan.settings.multipart_threshold, 100 * MIB);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    ctrl(&mut app, 'u');
    chars(&mut app, "64MiB");
    let effects = key(&mut app, KeyCode::Enter);
    reroute(&mut app, effects);
    assert_eq!(
        app.plan.transfer.part_size,
        PartSize::Fixed(ByteSize::mib(64))
    );
    let big = &plan_items(&app)[0];
    assert_eq!(
        (big.route, big.part_size, big.parts),
        (Route::Multipart, 64 * MIB, 96)
    );
}

#[test]
fn start_asks_first_with_the_totals() {
    let mut app = planned((80, 24));
    assert!(key(&mut app, KeyCode::Char('g')).is_empty());
    assert_eq!(app.overlay, Some(Overlay::Confirm(Confirm::StartRun)));
    assert_snapshot!("plan_confirm_start", screen(&app));
    let effects = key(&mut app, KeyCode::Char('y'));
    assert!(matches!(effects.as_slice(), [Effect::StartRun { .. }]));
    assert_eq!(app.tab, Tab::Transfers);
}

/// The run is started on the plan file shown (streamed into the engine, which learns multipart
/// sources' layouts as they are fed), with the plan's totals and the edited settings.
#[test]
fn start_runs_the_plan_file_shown() {
    let mut app = planned((80, 24));
    app.plan.transfer.concurrency = 3;
    key(&mut app, KeyCode::Char('g'));
    let effects = key(&mut app, KeyCode::Char('y'));
    let [
        Effect::StartRun {
            file,
            header,
            transfer,
            confirm_delete: false,
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}")
    };
    let shown = app.plan.plan.as_ref().unwrap();
    assert!(std::sync::Arc::ptr_eq(file, &shown.file));
    assert_eq!(**header, shown.header);
    assert_eq!(transfer.concurrency, 3);
    assert_snapshot!("transfers_starting", screen(&app));
}

#[test]
fn save_prompts_for_a_path() {
    let mut app = planned((80, 24));
    key(&mut app, KeyCode::Char('w'));
    assert_snapshot!("plan_save_prompt", screen(&app));
    let effects = key(&mut app, KeyCode::Enter);
    match effects.as_slice() {
        [Effect::SavePlan { path, .. }] => {
            assert_eq!(path.to_str(), Some("airlock-plan.jsonl.zst"))
        }
        other => panic!("{other:?}"),
    }
    update(&mut app, Msg::PlanSaved(Ok("airlock-plan.json".into())));
    assert_eq!(
        app.log.back().unwrap().text,
        "plan saved to 'airlock-plan.json'"
    );
}

#[test]
fn plan_follows_the_selection() {
    let mut app = planned((80, 24));
    assert!(key(&mut app, KeyCode::Char('1')).is_empty());
    assert!(
        key(&mut app, KeyCode::Char('2')).is_empty(),
        "same selection: no new plan"
    );
    key(&mut app, KeyCode::Char('1'));
    key(&mut app, KeyCode::Char('A'));
    let effects = key(&mut app, KeyCode::Char('2'));
    assert!(matches!(
        effects.as_slice(),
        [Effect::Gather {
            scope: Scope::Configured,
            ..
        }]
    ));
}
