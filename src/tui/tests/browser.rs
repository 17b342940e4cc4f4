//! Browser snapshots: empty, loading, error, filtered,
//! selection with every badge, and a wide terminal; plus the HEAD flow behind `?` badges.

use crossterm::event::KeyCode;
use insta::assert_snapshot;
use ratatui::style::Color;

use super::*;
use crate::tui::app::browser::Head;
use airlock_core::error::{Class, Error, S3Failure};
use airlock_core::plan::{Checksum, ChecksumAlgorithm};

#[test]
fn empty_folders() {
    let mut app = app((80, 24));
    list(&mut app, Side::Source, &[], vec![], true);
    list(&mut app, Side::Target, &[], vec![], true);
    assert_snapshot!("browser_empty", screen(&app));
}

#[test]
fn loading_shows_a_spinner() {
    let mut app = app((80, 24));
    at(&mut app, 0.35);
    assert_snapshot!("browser_loading", screen(&app));
}

#[test]
fn failed_listing_says_which_side_and_why() {
    let mut app = app((80, 24));
    let request = app.browser.source.request;
    let failure = S3Failure {
        side: Side::Source,
        operation: "ListObjectsV2",
        bucket: "acme-exports".into(),
        key: Some("daily/".into()),
        status: Some(403),
        code: Some("AccessDenied".into()),
        message: "Access Denied".into(),
        class: Class::Fatal,
    };
    update(
        &mut app,
        Msg::Listed {
            side: Side::Source,
            request,
            page: 0,
            result: Err(Error::from(failure)),
        },
    );
    list(&mut app, Side::Target, &[], vec![], true);
    assert!(
        app.log
            .back()
            .unwrap()
            .text
            .contains("source: ListObjectsV2")
    );
    assert_snapshot!("browser_error", screen(&app));
}

#[test]
fn filter_narrows_while_typing_and_enter_keeps_it() {
    let mut app = browser_with_badges((80, 24));
    key(&mut app, KeyCode::Char('/'));
    chars(&mut app, "PARQ");
    assert_eq!(app.browser.source.listing.len(), 2);
    assert_snapshot!("browser_filter_typing", screen(&app));
    key(&mut app, KeyCode::Enter);
    assert!(!app.browser.typing());
    assert_snapshot!("browser_filtered", screen(&app));
    key(&mut app, KeyCode::Char('/'));
    key(&mut app, KeyCode::Esc);
    assert_eq!(
        app.browser.source.listing.len(),
        7,
        "esc while typing clears"
    );
    key(&mut app, KeyCode::Char('/'));
    chars(&mut app, "orders");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.browser.source.listing.len(), 1);
    key(&mut app, KeyCode::Esc);
    assert_eq!(
        app.browser.source.listing.len(),
        7,
        "esc clears an applied filter"
    );
    assert_eq!(
        app.browser.source.current().unwrap().key(),
        "daily/orders.parquet"
    );
}

fn select_some(app: &mut App) {
    key(app, KeyCode::Char(' ')); // folder 2025-11-19/
    key(app, KeyCode::Down); // skip 2025-11-20/
    key(app, KeyCode::Char(' ')); // README.txt
    key(app, KeyCode::Char(' ')); // customers.parquet
}

#[test]
fn selection_and_every_badge() {
    let mut app = browser_with_badges((80, 24));
    select_some(&mut app);
    assert_eq!(app.browser.selection.len(), 3);
    assert_eq!(app.browser.selected_bytes, 734_003_200 + 5_301);
    assert_snapshot!("browser_selection_badges", screen(&app));
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::End);
    assert_snapshot!("browser_target_focused", screen(&app));
}

#[test]
fn wide_terminal_shows_dates_and_long_badges() {
    let mut app = browser_with_badges((132, 30));
    select_some(&mut app);
    assert_snapshot!("browser_wide", screen(&app));
}

fn checksum(value: &str) -> Option<Checksum> {
    Some(Checksum {
        algorithm: ChecksumAlgorithm::Crc64nvme,
        value: value.into(),
        full_object: true,
    })
}

#[test]
fn unknown_pairs_are_headed_target_first_and_the_badge_updates() {
    let mut app = app((80, 24));
    list(
        &mut app,
        Side::Source,
        &[],
        vec![object("daily/returns.csv", 48_213, 9, None)],
        true,
    );
    let effects = list(
        &mut app,
        Side::Target,
        &[],
        vec![object("acme/returns.csv", 48_213, 22, None)],
        true,
    );
    assert_eq!(
        effects,
        [Effect::Head {
            side: Side::Target,
            key: "acme/returns.csv".into()
        }]
    );
    let entry = app.browser.source.current().unwrap().clone();
    use crate::tui::app::badges::Badge;
    assert_eq!(
        app.browser.badge(Side::Source, &entry),
        Some(Badge::Unknown)
    );
    // The target HEAD alone cannot decide (no provenance): the source is HEADed next.
    let mut headed = object("acme/returns.csv", 48_213, 22, None);
    headed.checksum = checksum("c0ffee");
    let effects = update(
        &mut app,
        Msg::Headed {
            side: Side::Target,
            key: "acme/returns.csv".into(),
            result: Ok(Some(headed)),
        },
    );
    assert_eq!(
        effects,
        [Effect::Head {
            side: Side::Source,
            key: "daily/returns.csv".into()
        }]
    );
    let mut headed = object("daily/returns.csv", 48_213, 9, None);
    headed.checksum = checksum("c0ffee");
    let effects = update(
        &mut app,
        Msg::Headed {
            side: Side::Source,
            key: "daily/returns.csv".into(),
            result: Ok(Some(headed)),
        },
    );
    assert!(effects.is_empty());
    assert_eq!(app.browser.badge(Side::Source, &entry), Some(Badge::Same));
    assert_eq!(app.browser.heads_in_flight, 0);
    assert!(matches!(
        app.browser
            .heads
            .get(&(Side::Source, "daily/returns.csv".into())),
        Some(Head::Done(Some(_)))
    ));
}

#[test]
fn heads_are_bounded_to_a_few_at_a_time() {
    let mut app = app((80, 24));
    let source = (0..10)
        .map(|i| object(&format!("daily/f{i}"), 10, 0, None))
        .collect();
    let target = (0..10)
        .map(|i| object(&format!("acme/f{i}"), 10, 0, None))
        .collect();
    list(&mut app, Side::Source, &[], source, true);
    let effects = list(&mut app, Side::Target, &[], target, true);
    assert_eq!(effects.len(), crate::tui::app::badges::HEADS_IN_FLIGHT);
    let effects = update(
        &mut app,
        Msg::Headed {
            side: Side::Target,
            key: "acme/f0".into(),
            result: Ok(None),
        },
    );
    assert_eq!(effects.len(), 1, "one answer frees one slot");
}

/// The focused cursor bar is blue: every character on it must be drawn in another colour,
/// or a folder name (blue) or a `same` badge (blue) vanishes under the cursor.
#[test]
fn the_cursor_row_stays_readable_on_a_folder() {
    let app = browser_with_badges((80, 24));
    let (width, height) = app.size;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|f| views::render(&app, f)).expect("draw");
    let buffer = terminal.backend().buffer();
    let row = (0..height)
        .find(|&y| buffer[(1, y)].symbol() == "▸" && buffer[(1, y)].bg == Color::Blue)
        .expect("a focused cursor row in the source pane");
    let text: String = (2..width / 2).map(|x| buffer[(x, row)].symbol()).collect();
    assert!(
        text.contains("2025-11-19/"),
        "the cursor is on a folder: {text}"
    );
    for x in 1..width / 2 - 1 {
        let cell = &buffer[(x, row)];
        if cell.bg == Color::Blue {
            assert_ne!(cell.fg, Color::Blue, "column {x} of '{text}' is invisible");
        }
    }
}
