//! TUI tests: a snapshot of every view and state on a fixed-size `TestBackend` (clock and rates
//! injected through `App::now` and the stats samples), and update tests that drive the app
//! with keys and engine events and check the state and the effects it produces.

mod app_keys;
mod browser;
mod browser_window;
mod engine_events;
mod held_back;
mod mirror;
mod overlays;
mod plan;
mod plan_stream;
mod transfers;
mod transfers_scale;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::tui::app::{App, update};
use crate::tui::keymap::Keymap;
use crate::tui::msg::{Effect, Msg};
use crate::tui::views;
use airlock_core::aws::Listing;
use airlock_core::config::{
    CredentialSpec, Settings, Side, SideSettings, TransferSettings, WriteOptions,
};
use airlock_core::plan::lines::Entry;
use airlock_core::plan::{ObjectInfo, PlanItem};

/// 2025-11-20 13:00:00 UTC.
pub(super) const T0: i64 = 1_763_643_600_000;

pub(super) fn side(side: Side, bucket: &str, prefix: &str) -> SideSettings {
    SideSettings {
        side,
        bucket: bucket.into(),
        prefix: prefix.into(),
        region: "us-east-1".into(),
        endpoint_url: Some("http://127.0.0.1:9".into()),
        force_path_style: true,
        request_payer: false,
        credentials: CredentialSpec::Default,
        write: WriteOptions::default(),
    }
}

pub(super) fn settings() -> Settings {
    Settings {
        source: side(Side::Source, "acme-exports", "daily/"),
        target: side(Side::Target, "client-drop", "acme/"),
        transfer: TransferSettings::default(),
        filter: Default::default(),
        path: None,
        warnings: vec![],
    }
}

/// An app at `size` that has asked for both root listings.
pub(super) fn app(size: (u16, u16)) -> App {
    let mut app = App::new(settings(), Keymap::default(), size);
    app.start();
    app
}

pub(super) fn object(key: &str, size: u64, minutes: i64, etag: Option<&str>) -> ObjectInfo {
    ObjectInfo {
        key: key.into(),
        size,
        modified_ms: Some(T0 + minutes * 60_000),
        etag: etag.map(str::to_string),
        storage_class: Some("STANDARD".into()),
        ..Default::default()
    }
}

/// Deliver one listing page to a pane: the page it asked for (the first one when it asked
/// for none).
pub(super) fn list(
    app: &mut App,
    side: Side,
    prefixes: &[&str],
    objects: Vec<ObjectInfo>,
    last: bool,
) -> Vec<Effect> {
    let pane = app.browser.pane(side);
    let (request, page) = (pane.request, pane.loading.unwrap_or(0));
    update(
        app,
        Msg::Listed {
            side,
            request,
            page,
            result: Ok(Listing {
                prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
                objects,
                next: (!last).then(|| "next-page".to_string()),
            }),
        },
    )
}

pub(super) fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub(super) fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    update(
        app,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    )
}

pub(super) fn chars(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| key(app, KeyCode::Char(c)))
        .collect()
}

pub(super) fn at(app: &mut App, seconds: f64) {
    app.now = Duration::from_secs_f64(seconds);
}

/// The screen as text, at the app's size.
pub(super) fn screen(app: &App) -> String {
    let (width, height) = app.size;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|f| views::render(app, f)).expect("draw");
    terminal.backend().to_string()
}

/// The browser with a folder of every badge kind on both sides.
pub(super) fn browser_with_badges(size: (u16, u16)) -> App {
    let mut app = app(size);
    list(
        &mut app,
        Side::Source,
        &["daily/2025-11-19/", "daily/2025-11-20/"],
        vec![
            object("daily/customers.parquet", 734_003_200, 5, Some("aa11")),
            object("daily/orders.parquet", 2_684_354_560, 7, Some("bb22")),
            object("daily/returns.csv", 48_213, 9, None),
            object("daily/manifest.json", 1_204, 11, Some("dd44")),
            object("daily/README.txt", 5_301, 2, Some("ee55")),
        ],
        true,
    );
    list(
        &mut app,
        Side::Target,
        &["acme/2025-11-19/", "acme/archive/"],
        vec![
            object("acme/customers.parquet", 734_003_200, 20, Some("aa11")),
            object("acme/orders.parquet", 2_600_000_000, 21, Some("zz99")),
            object("acme/returns.csv", 48_213, 22, None),
            object("acme/old-manifest.json", 998, -3000, Some("ff66")),
        ],
        true,
    );
    app
}

/// Every item of the plan shown, read from its file (the tab holds a window only).
pub(super) fn plan_items(app: &App) -> Vec<PlanItem> {
    let shown = app.plan.plan.as_ref().expect("a plan");
    (shown.file.entries().expect("the plan file reads"))
        .filter_map(|entry| match entry.expect("an entry") {
            Entry::Item(item) => Some(item),
            Entry::Deletion(_) => None,
        })
        .collect()
}

/// Run the effects' re-route as the runtime does (on the plan file) and deliver its answer.
pub(super) fn reroute(app: &mut App, effects: Vec<Effect>) -> Vec<Effect> {
    let mut out = Vec::new();
    for effect in effects {
        let Effect::Reroute {
            request,
            file,
            header,
            transfer,
        } = effect
        else {
            out.push(effect);
            continue;
        };
        let result = file.reroute(&header, &transfer).map(|(file, header)| {
            Box::new(crate::tui::msg::StreamedPlan {
                file,
                header,
                heads: 0,
            })
        });
        out.extend(update(app, Msg::Rerouted { request, result }));
    }
    out
}
