//! Keys -> actions -> state: tabs, navigation with the target following, selection rules,
//! quitting without a run, user key bindings.

use crossterm::event::KeyCode;

use super::*;
use crate::tui::app::Tab;
use crate::tui::app::browser::ListStatus;

#[test]
fn start_lists_both_configured_prefixes() {
    let mut app = App::new(settings(), Keymap::default(), (80, 24));
    let effects = app.start();
    assert_eq!(
        effects,
        [
            Effect::List {
                side: Side::Source,
                prefix: "daily/".into(),
                continuation: None,
                request: 1,
                page: 0,
            },
            Effect::List {
                side: Side::Target,
                prefix: "acme/".into(),
                continuation: None,
                request: 1,
                page: 0,
            },
        ]
    );
}

#[test]
fn pages_are_fetched_in_the_background_until_the_last() {
    let mut app = app((80, 24));
    let effects = list(
        &mut app,
        Side::Source,
        &[],
        vec![object("daily/a", 1, 0, None)],
        false,
    );
    assert_eq!(
        effects,
        [Effect::List {
            side: Side::Source,
            prefix: "daily/".into(),
            continuation: Some("next-page".into()),
            request: 1,
            page: 1,
        }]
    );
    assert_eq!(app.browser.source.status, ListStatus::Loading);
    list(
        &mut app,
        Side::Source,
        &[],
        vec![object("daily/b", 1, 0, None)],
        true,
    );
    assert_eq!(app.browser.source.status, ListStatus::Done);
    assert_eq!(app.browser.source.listing.len(), 2);
}

#[test]
fn opening_a_folder_moves_the_target_along_and_back_returns_to_it() {
    let mut app = browser_with_badges((80, 24));
    let effects = key(&mut app, KeyCode::Enter);
    assert_eq!(
        effects,
        [
            Effect::List {
                side: Side::Source,
                prefix: "daily/2025-11-19/".into(),
                continuation: None,
                request: 2,
                page: 0,
            },
            Effect::List {
                side: Side::Target,
                prefix: "acme/2025-11-19/".into(),
                continuation: None,
                request: 2,
                page: 0,
            },
        ]
    );
    // A late page of the old listing is ignored.
    update(
        &mut app,
        Msg::Listed {
            side: Side::Source,
            request: 1,
            page: 0,
            result: Ok(Default::default()),
        },
    );
    assert_eq!(app.browser.source.listing.total(), 0);
    list(
        &mut app,
        Side::Source,
        &[],
        vec![object("daily/2025-11-19/x", 1, 0, None)],
        true,
    );
    key(&mut app, KeyCode::Backspace);
    list(
        &mut app,
        Side::Source,
        &["daily/2025-11-19/", "daily/2025-11-20/"],
        vec![],
        true,
    );
    assert_eq!(app.browser.source.prefix(), "daily/");
    assert_eq!(
        app.browser.source.cursor, 0,
        "the cursor is back on the folder we left"
    );
    // Going up from the configured prefix is refused with a message.
    assert!(key(&mut app, KeyCode::Left).is_empty());
    assert!(
        app.log
            .back()
            .unwrap()
            .text
            .contains("already at the configured prefix")
    );
}

#[test]
fn the_target_pane_can_be_navigated_on_its_own() {
    let mut app = browser_with_badges((80, 24));
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Down); // archive/
    let effects = key(&mut app, KeyCode::Char('l'));
    assert_eq!(effects.len(), 1, "only the target moves");
    assert!(!app.browser.following());
    let entry = app.browser.source.current().unwrap().clone();
    assert_eq!(
        app.browser.badge(Side::Source, &entry),
        None,
        "no badges while apart"
    );
    key(&mut app, KeyCode::Char(' '));
    assert!(
        app.browser.selection.is_empty(),
        "selection happens on the source pane"
    );
    assert!(
        app.log
            .back()
            .unwrap()
            .text
            .contains("select on the source pane")
    );
}

#[test]
fn select_all_toggles_everything_shown() {
    let mut app = browser_with_badges((80, 24));
    key(&mut app, KeyCode::Char('a'));
    assert_eq!(app.browser.selection.len(), 7);
    assert_eq!(app.browser.selected_folders, 2);
    key(&mut app, KeyCode::Char('a'));
    assert!(app.browser.selection.is_empty());
    assert_eq!(app.browser.selected_bytes, 0);
}

#[test]
fn sort_cycles_name_size_date() {
    let mut app = browser_with_badges((80, 24));
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(
        app.browser.source.current().unwrap().key(),
        "daily/orders.parquet"
    );
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(
        app.browser.source.current().unwrap().key(),
        "daily/manifest.json"
    );
}

#[test]
fn tabs_switch_with_numbers_and_brackets_and_q_quits_without_a_run() {
    let mut app = browser_with_badges((80, 24));
    key(&mut app, KeyCode::Char('3'));
    assert_eq!(app.tab, Tab::Transfers);
    key(&mut app, KeyCode::Char(']'));
    assert_eq!(app.tab, Tab::Browser);
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.tab, Tab::Transfers);
    assert_eq!(key(&mut app, KeyCode::Char('q')), [Effect::Quit]);
    assert_eq!(update(&mut app, Msg::Interrupt), [Effect::Quit]);
}

#[test]
fn user_bindings_replace_defaults() {
    let (keymap, warnings) = Keymap::from_toml(Some("[global]\nquit = [\"x\"]\n"));
    assert!(warnings.is_empty());
    let mut app = App::new(settings(), keymap, (80, 24));
    assert!(key(&mut app, KeyCode::Char('q')).is_empty());
    assert_eq!(key(&mut app, KeyCode::Char('x')), [Effect::Quit]);
}

#[test]
fn resize_recomputes_the_visible_rows() {
    let mut app = browser_with_badges((80, 24));
    update(&mut app, Msg::Resize(120, 40));
    assert_eq!(app.browser.list_rows, 34);
    assert_eq!(app.size, (120, 40));
}
