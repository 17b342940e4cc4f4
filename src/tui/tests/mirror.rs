//! Mirror mode in the TUI: the plan tab shows deletions as `delete` rows and a total, and
//! starting a run whose plan deletes asks a second question with the count and bytes: y runs
//! copies then deletions, n runs copies only, esc goes back without a run. Also what the
//! filters left out, on the plan summary's bottom border (it decides what mirror may delete).

use crossterm::event::KeyCode;
use insta::assert_snapshot;

use super::plan::inventory;
use super::*;
use crate::tui::app::{Confirm, Overlay, Tab};
use airlock_core::config::TransferMode;
use airlock_core::plan::{DELETE_REASON, Deletion};

/// The whole configured prefix planned in mirror mode, with two orphans at the target.
fn mirror_planned(size: (u16, u16)) -> App {
    let mut app = app(size);
    app.plan.transfer.mode = TransferMode::Mirror;
    key(&mut app, KeyCode::Char('2'));
    let request = app.plan.request;
    let mut inventory = inventory();
    inventory.deletions = vec![
        Deletion {
            route: Default::default(),
            target_key: "acme/old/report.csv".into(),
            size: 3 * 1024,
            etag: None,
            modified_ms: None,
            reason: DELETE_REASON.into(),
        },
        Deletion {
            route: Default::default(),
            target_key: "acme/stale.parquet".into(),
            size: 7 * 1024 * 1024,
            etag: None,
            modified_ms: None,
            reason: DELETE_REASON.into(),
        },
    ];
    update(
        &mut app,
        Msg::Gathered {
            request,
            result: Ok(inventory),
        },
    );
    app
}

fn start_effect(effects: &[Effect]) -> Option<bool> {
    match effects {
        [Effect::StartRun { confirm_delete, .. }] => Some(*confirm_delete),
        _ => None,
    }
}

#[test]
fn plan_tab_lists_deletions_as_delete_rows() {
    let mut app = mirror_planned((120, 30));
    let plan = &app.plan.plan.as_ref().unwrap().header;
    assert_eq!(plan.deletions.objects, 2);
    assert_eq!(plan.settings.mode, TransferMode::Mirror);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::End);
    let plan = &app.plan.plan.as_ref().unwrap().header;
    assert_eq!(
        app.plan.cursor as u64,
        plan.items + 1,
        "the cursor reaches the last deletion"
    );
    let screen = screen(&app);
    assert!(screen.contains("delete"), "{screen}");
    assert_snapshot!("mirror_plan", screen);
}

#[test]
fn starting_a_plan_that_deletes_asks_with_count_and_bytes() {
    let mut app = mirror_planned((80, 24));
    assert!(key(&mut app, KeyCode::Char('g')).is_empty());
    assert_eq!(app.overlay, Some(Overlay::Confirm(Confirm::StartRun)));
    // Confirming the copy asks about the deletions; nothing starts yet.
    assert!(key(&mut app, KeyCode::Char('y')).is_empty());
    assert_eq!(app.overlay, Some(Overlay::Confirm(Confirm::Delete)));
    let shown = screen(&app);
    assert!(shown.contains("2 target objects"), "{shown}");
    assert!(shown.contains("7.0 MiB"), "{shown}");
    assert_snapshot!("mirror_confirm_delete", shown);
    // Enter is no answer to a deletion.
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert_eq!(app.overlay, Some(Overlay::Confirm(Confirm::Delete)));
    // y: copy, then delete.
    let effects = key(&mut app, KeyCode::Char('y'));
    assert_eq!(start_effect(&effects), Some(true));
    assert_eq!(app.tab, Tab::Transfers);
}

#[test]
fn declining_the_deletions_runs_copies_only_and_esc_runs_nothing() {
    let mut app = mirror_planned((80, 24));
    key(&mut app, KeyCode::Char('g'));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.overlay, Some(Overlay::Confirm(Confirm::Delete)));
    assert!(key(&mut app, KeyCode::Esc).is_empty());
    assert_eq!(app.overlay, None);
    assert_eq!(app.tab, Tab::Plan);

    key(&mut app, KeyCode::Char('g'));
    key(&mut app, KeyCode::Char('y'));
    let effects = key(&mut app, KeyCode::Char('n'));
    assert_eq!(start_effect(&effects), Some(false));
    assert!(
        app.log.iter().any(|l| l
            .text
            .contains("copies only: the plan's 2 deletions will not be made")),
        "{:?}",
        app.log
    );
}

#[test]
fn a_copy_plan_starts_after_one_question() {
    let mut app = super::plan::planned((80, 24));
    key(&mut app, KeyCode::Char('g'));
    let effects = key(&mut app, KeyCode::Char('y'));
    assert_eq!(start_effect(&effects), Some(false));
}

#[test]
fn the_plan_tab_shows_what_the_filters_left_out() {
    use airlock_core::plan::filter::{Excluded, Selection};
    let mut app = app((100, 30));
    key(&mut app, KeyCode::Char('2'));
    let request = app.plan.request;
    let mut inventory = inventory();
    inventory.selection = Selection {
        listed: 12,
        excluded: vec![
            Excluded {
                filter: "include".into(),
                rule: "'**/*.parquet'".into(),
                objects: 3,
                bytes: 30,
            },
            Excluded {
                filter: "min_size".into(),
                rule: "1 KiB".into(),
                objects: 1,
                bytes: 10,
            },
        ],
        missing: vec![],
    };
    update(
        &mut app,
        Msg::Gathered {
            request,
            result: Ok(inventory),
        },
    );
    let shown = screen(&app);
    assert!(
        shown.contains("filters: 4 of 12 left out (include 3, min_size 1)"),
        "{shown}"
    );
    assert_snapshot!("plan_filters_left_out", shown);
}

#[test]
fn a_mirror_plan_of_a_selection_warns_that_it_deletes_nothing() {
    let mut app = super::plan::planned((80, 24));
    assert!(app.plan.selection_scope);
    app.plan.transfer.mode = TransferMode::Mirror;
    let request = app.plan.request;
    update(
        &mut app,
        Msg::Gathered {
            request,
            result: Ok(inventory()),
        },
    );
    assert!(
        app.log
            .iter()
            .any(|l| l.text.contains("a plan of a selection deletes nothing")),
        "{:?}",
        app.log
    );
    assert_eq!(app.plan.plan.as_ref().unwrap().header.deletions.objects, 0);
}
