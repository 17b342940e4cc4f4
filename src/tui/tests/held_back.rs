//! What the plan holds back (archived objects awaiting a restore, the source prefix's folder
//! marker) on the Plan tab's summary, as `airlock plan` prints it; and the write mode that
//! `checksum = "auto"` chose, as a warning in the status line and log.

use crossterm::event::KeyCode;
use insta::assert_snapshot;

use super::transfers::{engine, running};
use super::*;
use crate::tui::app::Level;
use airlock_core::engine::Event;
use airlock_core::plan::Route;

/// The whole source prefix planned into a target with an empty prefix: two archived objects
/// (one GLACIER, one DEEP_ARCHIVE) and the source prefix's folder marker `daily/`, whose
/// target key would be empty, beside objects that are copied as usual.
fn planned_with_held_back(size: (u16, u16)) -> App {
    let mut settings = settings();
    settings.target.prefix = String::new();
    let mut app = App::new(settings, Keymap::default(), size);
    app.start();
    key(&mut app, KeyCode::Char('2'));
    let request = app.plan.request;
    let archived = |key: &str, class: &str, minutes| ObjectInfo {
        storage_class: Some(class.into()),
        ..object(key, 40 * 1024 * 1024, minutes, Some("a1"))
    };
    let mut inventory = super::plan::inventory();
    inventory.source.extend([
        object("daily/", 0, 1, Some("d41d8cd98f00b204e9800998ecf8427e")),
        archived("daily/2019/events.json.gz", "GLACIER", 3),
        archived("daily/2018/events.json.gz", "DEEP_ARCHIVE", 4),
    ]);
    inventory.target = vec![];
    update(
        &mut app,
        Msg::Gathered {
            request,
            result: Ok(inventory),
        },
    );
    app
}

#[test]
fn the_plan_summary_shows_what_is_held_back() {
    let app = planned_with_held_back((80, 24));
    let plan = &app.plan.plan.as_ref().expect("a plan").header;
    assert_eq!(plan.summary.held_back.archived, 2);
    assert_eq!(plan.summary.held_back.source_prefix_markers, 1);
    // Held back means skipped: nothing of them is in the bytes to copy.
    let items = super::plan_items(&app);
    let held: Vec<_> = items.iter().filter(|i| i.held_back.is_some()).collect();
    assert!(held.iter().all(|i| i.route == Route::Skip), "{held:?}");
    let shown = screen(&app);
    // 80 columns leave the summary's border 42: the short form.
    assert!(
        shown.contains("held back: 2 archived · 1 folder marker"),
        "{shown}"
    );
    assert_snapshot!("plan_held_back", shown);
}

#[test]
fn a_wide_plan_summary_says_to_restore_first() {
    let app = planned_with_held_back((132, 30));
    let shown = screen(&app);
    assert!(
        shown.contains("2 archived (restore first) · 1 folder marker held back"),
        "{shown}"
    );
}

#[test]
fn a_plan_that_holds_nothing_back_says_nothing_of_it() {
    let app = super::plan::planned((132, 30));
    let shown = screen(&app);
    assert!(!shown.contains("held back"), "{shown}");
    assert!(!shown.contains("archived"), "{shown}");
}

#[test]
fn the_chosen_write_mode_is_a_warning_in_the_status_line_and_log() {
    let mut app = running((120, 24));
    let reason = "the target does not take aws-chunked uploads with a trailer \
                  (XAmzContentSHA256Mismatch): parts and objects are sent plain and checked by MD5";
    engine(
        &mut app,
        72.0,
        Event::ChecksumMode {
            mode: "md5".into(),
            reason: reason.into(),
        },
    );
    let said = app.log.back().expect("a log line");
    assert_eq!(said.level, Level::Warn);
    assert_eq!(said.text, format!("write mode 'md5': {reason}"));
    let shown = screen(&app);
    assert!(
        shown.contains("write mode 'md5': the target does not take"),
        "{shown}"
    );
}
