//! The browser on folders far bigger than its window: 100,000 and 1,000,000 direct children
//! served page by page as the app asks (each request checked: the right page, the right
//! continuation token). The window stays bounded while the cursor walks to the end and back,
//! only the visible rows are built, sorting a partial window says so and stops paging, and
//! the target pane pages along with the source so the badges of the rows looked at are
//! decided.

use crossterm::event::KeyCode;
use insta::assert_snapshot;

use super::*;
use crate::tui::app::badges::Badge;
use crate::tui::app::listing::{SortKey, WINDOW_PAGES};
use crate::tui::views::browser::ROWS_BUILT;

const PAGE_ROWS: usize = 1000;

/// A flat folder of `pages` pages of 1,000 keys under `prefix` (`every`: only every k-th
/// number is a key, so a target can hold part of the source).
struct Folder {
    prefix: &'static str,
    pages: usize,
    every: usize,
    /// A subfolder listed beside key number n (`part-NNNNNNN.x/`).
    sub: Option<usize>,
}

impl Folder {
    fn key(&self, n: usize) -> String {
        format!("{}part-{n:07}.parquet", self.prefix)
    }

    fn page(&self, page: usize) -> Listing {
        if self.pages == 0 {
            return Listing::default();
        }
        let first = page * PAGE_ROWS * self.every;
        let objects = (0..PAGE_ROWS)
            .map(|i| {
                let n = first + i * self.every;
                object(
                    &self.key(n),
                    1_000_000 + n as u64 * 37,
                    (n % 1440) as i64,
                    Some("e"),
                )
            })
            .collect();
        let last = first + (PAGE_ROWS - 1) * self.every;
        let prefixes = (self.sub)
            .filter(|n| (first..=last).contains(n))
            .map(|n| format!("{}part-{n:07}.x/", self.prefix))
            .into_iter()
            .collect();
        Listing {
            prefixes,
            objects,
            next: (page + 1 < self.pages).then(|| format!("token-{}", page + 1)),
        }
    }
}

/// Answer every listing request among `effects` (and those the answers cause) from the two
/// folders; returns how many pages were served.
fn serve(app: &mut App, source: &Folder, target: &Folder, mut effects: Vec<Effect>) -> usize {
    let mut served = 0;
    while let Some(at) = effects
        .iter()
        .position(|e| matches!(e, Effect::List { .. }))
    {
        let Effect::List {
            side,
            prefix,
            continuation,
            request,
            page,
        } = effects.remove(at)
        else {
            unreachable!()
        };
        let expected = (page > 0).then(|| format!("token-{page}"));
        assert_eq!(
            continuation, expected,
            "page {page} is listed from its own token"
        );
        let folder = match side {
            Side::Source => source,
            Side::Target => target,
        };
        served += 1;
        // A subfolder is empty.
        let listed = match prefix == folder.prefix {
            true => folder.page(page),
            false => Listing::default(),
        };
        effects.extend(update(
            app,
            Msg::Listed {
                side,
                request,
                page,
                result: Ok(listed),
            },
        ));
        for side in [Side::Source, Side::Target] {
            let loaded = app.browser.pane(side).listing.total();
            assert!(
                loaded <= WINDOW_PAGES * (PAGE_ROWS + 1),
                "{side} holds {loaded} rows"
            );
        }
    }
    served
}

fn press(app: &mut App, source: &Folder, target: &Folder, code: KeyCode) -> usize {
    let effects = key(app, code);
    serve(app, source, target, effects)
}

const SOURCE: Folder = Folder {
    prefix: "daily/",
    pages: 100,
    every: 1,
    sub: None,
};
const EMPTY: Folder = Folder {
    prefix: "acme/",
    pages: 0,
    every: 1,
    sub: None,
};

/// An app started on the two folders, every page it asked for served.
fn started(size: (u16, u16), source: &Folder, target: &Folder) -> (App, usize) {
    let mut app = App::new(settings(), Keymap::default(), size);
    let effects = app.start();
    let served = serve(&mut app, source, target, effects);
    (app, served)
}

/// An app whose source pane lists a 100,000-key folder and whose target is empty.
fn large(size: (u16, u16)) -> App {
    let (app, served) = started(size, &SOURCE, &EMPTY);
    assert_eq!(
        served,
        WINDOW_PAGES + 1,
        "the first window loads in the background"
    );
    app
}

#[test]
fn a_large_folder_pages_with_the_cursor_in_a_bounded_window() {
    let mut app = large((80, 24));
    let source = &app.browser.source;
    assert_eq!((source.listing.total(), source.loading), (10_000, None));
    assert!(screen(&app).contains("1–10,000 of 10,000+"));

    // Walking to the end of what is loaded fetches the next pages, dropping the first ones.
    let mut served = 0;
    for _ in 0..3 {
        served += press(&mut app, &SOURCE, &EMPTY, KeyCode::End);
    }
    let source = &app.browser.source;
    assert!(served >= 3, "{served} pages fetched");
    assert!(
        source.listing.first_page() >= 3,
        "the first pages were dropped"
    );
    let at = source.current().unwrap().key().to_string();
    assert!(
        at > SOURCE.key(12_000),
        "the cursor reached later pages: {at}"
    );
    assert_eq!(source.cursor - source.offset, app.browser.list_rows - 1);

    // Down to the very end: the folder's size is known, the window still bounded.
    while app.browser.source.current().unwrap().key() != SOURCE.key(99_999) {
        press(&mut app, &SOURCE, &EMPTY, KeyCode::PageDown);
    }
    assert_eq!(app.browser.source.listing.total_rows(), Some(100_000));
    ROWS_BUILT.with(|n| n.set(0));
    let text = screen(&app);
    assert_eq!(
        ROWS_BUILT.with(|n| n.get()),
        app.browser.list_rows,
        "only visible rows"
    );
    assert!(text.contains("90,001–100,000 of 100,000"), "{text}");

    // And back to the top: dropped pages come back, fetched again with their tokens.
    while app.browser.source.current().unwrap().key() != SOURCE.key(0) {
        press(&mut app, &SOURCE, &EMPTY, KeyCode::PageUp);
        press(&mut app, &SOURCE, &EMPTY, KeyCode::Home);
    }
    let source = &app.browser.source;
    assert_eq!(source.listing.first_page(), 0);
    assert_eq!(source.listing.total(), WINDOW_PAGES * PAGE_ROWS);
}

#[test]
fn a_partially_loaded_folder_says_how_much_is_loaded() {
    let mut app = large((80, 24));
    for _ in 0..2 {
        press(&mut app, &SOURCE, &EMPTY, KeyCode::End);
    }
    press(&mut app, &SOURCE, &EMPTY, KeyCode::Up);
    assert_snapshot!("browser_window_partial", screen(&app));
}

#[test]
fn sorting_a_partial_window_says_so_and_stops_paging() {
    let mut app = large((80, 24));
    press(&mut app, &SOURCE, &EMPTY, KeyCode::Char('s'));
    assert_eq!(app.browser.source.listing.sort, SortKey::Size);
    assert_eq!(
        press(&mut app, &SOURCE, &EMPTY, KeyCode::End),
        0,
        "a sorted partial window does not page"
    );
    let text = screen(&app);
    assert!(text.contains("sorted: 10,000 loaded only"), "{text}");
    assert_snapshot!("browser_window_sorted", text);
    // Date is frozen too; back in name order, paging goes on from where the window is.
    assert_eq!(press(&mut app, &SOURCE, &EMPTY, KeyCode::Char('s')), 0);
    assert_eq!(press(&mut app, &SOURCE, &EMPTY, KeyCode::Char('s')), 0);
    assert_eq!(app.browser.source.listing.sort, SortKey::Name);
    assert!(press(&mut app, &SOURCE, &EMPTY, KeyCode::End) > 0);
}

#[test]
fn the_target_pages_along_so_badges_are_decided_where_the_cursor_is() {
    // 1,000,000 source keys; the target holds every other one (500,000).
    let source = Folder {
        prefix: "daily/",
        pages: 1000,
        every: 1,
        sub: None,
    };
    let target = Folder {
        prefix: "acme/",
        pages: 500,
        every: 2,
        sub: None,
    };
    let (mut app, _) = started((80, 24), &source, &target);
    while app.browser.source.current().unwrap().key() < source.key(30_000).as_str() {
        press(&mut app, &source, &target, KeyCode::End);
    }
    // The target window moved with the source cursor (its first pages were dropped) and
    // holds the counterpart's neighbourhood: every visible source row has a real badge.
    let target_pane = &app.browser.target;
    assert!(target_pane.listing.first_page() > 0, "the target paged on");
    // Its cursor is on the counterpart of the source's (or the next key), on the same row.
    let source_pane = &app.browser.source;
    let n = |key: &str| -> usize {
        let at = key.find("part-").unwrap() + 5;
        key[at..at + 7].parse().unwrap()
    };
    let at = n(source_pane.current().unwrap().key());
    let there = n(target_pane.current().unwrap().key());
    assert!(
        there == at || there == at + 1,
        "target {there}, source {at}"
    );
    assert_eq!(
        target_pane.cursor - target_pane.offset,
        source_pane.cursor - source_pane.offset
    );
    let pane = &app.browser.source;
    for row in pane.offset..pane.offset + app.browser.list_rows {
        let entry = pane.listing.at(row).unwrap();
        let n: usize = entry.key()[11..18].parse().unwrap();
        let expected = if n.is_multiple_of(2) {
            Badge::Same
        } else {
            Badge::New
        };
        assert_eq!(
            app.browser.badge(Side::Source, entry),
            Some(expected),
            "{}",
            entry.key()
        );
    }
    // Past the target's window nothing is claimed.
    let far = object(&source.key(900_001), 1, 0, None);
    assert_eq!(
        app.browser
            .badge(Side::Source, &crate::tui::app::listing::Entry::Object(far)),
        Some(Badge::Pending)
    );
}

#[test]
fn a_filter_on_a_partial_window_says_it_looks_at_the_loaded_rows_only() {
    let mut app = large((80, 24));
    press(&mut app, &SOURCE, &EMPTY, KeyCode::Char('/'));
    for c in "part-000000".chars() {
        press(&mut app, &SOURCE, &EMPTY, KeyCode::Char(c));
    }
    assert_eq!(app.browser.source.listing.len(), 10);
    press(&mut app, &SOURCE, &EMPTY, KeyCode::Enter);
    assert!(screen(&app).contains("10 in 1–10,000 of 10,000+"));
    // Nothing loaded matches: said so, and the folder is not scanned for it.
    press(&mut app, &SOURCE, &EMPTY, KeyCode::Char('/'));
    let mut served = 0;
    for c in "x".chars() {
        served += press(&mut app, &SOURCE, &EMPTY, KeyCode::Char(c));
    }
    assert_eq!(served, 0);
    let text = screen(&app);
    assert!(text.contains("among the rows loaded"), "{text}");
}

#[test]
fn back_from_a_subfolder_far_down_a_large_folder_pages_to_it() {
    let source = Folder {
        sub: Some(30_500),
        ..SOURCE
    };
    let (mut app, _) = started((80, 24), &source, &EMPTY);
    while app.browser.source.listing.first_page() < 25 {
        press(&mut app, &source, &EMPTY, KeyCode::End);
    }
    // Folders come first: the subfolder is the window's first row.
    press(&mut app, &source, &EMPTY, KeyCode::Home);
    let sub = "daily/part-0030500.x/";
    assert_eq!(app.browser.source.current().unwrap().key(), sub);
    press(&mut app, &source, &EMPTY, KeyCode::Enter);
    assert_eq!(app.browser.source.prefix(), sub);
    // Back: the folder is listed from its start and paged on until the subfolder shows.
    press(&mut app, &source, &EMPTY, KeyCode::Backspace);
    let pane = &app.browser.source;
    assert_eq!(pane.prefix(), "daily/");
    assert_eq!(pane.current().unwrap().key(), sub);
    assert!(pane.listing.first_page() > 0, "the window moved to it");
    // From then on the cursor leads.
    press(&mut app, &source, &EMPTY, KeyCode::Down);
    let at = app.browser.source.current().unwrap().key().to_string();
    assert!(at.ends_with(".parquet"), "{at}");
}
