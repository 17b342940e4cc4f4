//! The Plan tab over a streamed plan: the totals while the configured prefix is listed and
//! planned (snapshot), then a plan of 100,000 entries in its file: the table shows a window of
//! it (snapshots at the top and at the last row) and the rows the tab holds stay bounded
//! however far the cursor jumps. A streamed answer to an older request is dropped.

use crossterm::event::KeyCode;
use insta::assert_snapshot;

use super::*;
use crate::tui::app::plan::{PlanStatus, WINDOW_ROWS};
use crate::tui::msg::StreamedPlan;
use airlock_core::job::Scope;
use airlock_core::job::plan_window::{PlanFileWriter, Totals};
use airlock_core::plan::lines::{LINES_FORMAT_VERSION, PlanHeader};
use airlock_core::plan::{PlanSettings, PlanSide, Route};

const ROWS: u64 = 100_000;

fn item(n: u64) -> PlanItem {
    let skip = n.is_multiple_of(4);
    let size = 1024 + (n * 7919) % (15 * 1024);
    PlanItem {
        source_key: format!("daily/part-{n:08}.parquet"),
        target_key: format!("acme/part-{n:08}.parquet"),
        size,
        source_etag: Some(format!("{n:032x}")),
        source_modified_ms: Some(T0),
        route: if skip { Route::Skip } else { Route::Single },
        part_size: if skip { 0 } else { size },
        parts: u32::from(!skip),
        reason: if skip {
            "same size and ETag".into()
        } else {
            "new".into()
        },
        split: None,
        source_version_id: None,
        held_back: None,
        source_layout: None,
        inventory_of_ms: None,
    }
}

/// The app on the Plan tab, planning the configured prefix (nothing selected).
fn planning(size: (u16, u16)) -> App {
    let mut app = app(size);
    let effects = key(&mut app, KeyCode::Char('2'));
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::Gather { scope: Scope::Configured, transfer, .. }]
                if **transfer == app.plan.transfer
        ),
        "{effects:?}"
    );
    app
}

/// A plan of `ROWS` items in a plan file, as the runtime answers.
fn streamed(app: &App) -> StreamedPlan {
    let settings = &app.settings;
    let mut writer = PlanFileWriter::new().unwrap();
    for n in 0..ROWS {
        writer.push(&Entry::Item(item(n))).unwrap();
    }
    let plan_settings = PlanSettings::of(&app.plan.transfer);
    let totals = writer.totals().clone();
    let header = PlanHeader {
        format: LINES_FORMAT_VERSION,
        source: PlanSide::of(&settings.source),
        target: PlanSide::of(&settings.target),
        settings: plan_settings.clone(),
        version_at: None,
        selection: Default::default(),
        summary: totals.summary.finish(&plan_settings),
        items: totals.items,
        deletions: totals.deletions,
        split_objects: 0,
        warnings: vec![],
        inventory: None,
    };
    StreamedPlan {
        file: writer.finish().unwrap(),
        header,
        heads: 0,
    }
}

#[test]
fn totals_show_and_grow_while_the_prefix_is_planned() {
    let mut app = planning((80, 24));
    let request = app.plan.request;
    let mut totals = Totals::default();
    for n in 0..1_234 {
        totals.summary.add(&item(n));
        totals.items += 1;
    }
    update(
        &mut app,
        Msg::PlanGrew {
            request,
            totals: Box::new(totals.clone()),
        },
    );
    at(&mut app, 0.5);
    let shown = screen(&app);
    assert!(shown.contains("1,234 planned so far"), "{shown}");
    assert_snapshot!("plan_streaming", shown);
    for n in 1_234..2_000 {
        totals.summary.add(&item(n));
        totals.items += 1;
    }
    update(
        &mut app,
        Msg::PlanGrew {
            request,
            totals: Box::new(totals),
        },
    );
    assert!(screen(&app).contains("2,000 planned so far"));
    // An older request's totals are not this plan's.
    let stale = Totals {
        items: 9,
        ..Default::default()
    };
    update(
        &mut app,
        Msg::PlanGrew {
            request: request - 1,
            totals: Box::new(stale),
        },
    );
    assert_eq!(app.plan.grew.as_ref().unwrap().items, 2_000);
}

#[test]
fn a_streamed_plan_of_100_000_rows_is_shown_through_a_bounded_window() {
    let mut app = planning((80, 24));
    let request = app.plan.request;
    let plan = streamed(&app);
    update(
        &mut app,
        Msg::Streamed {
            request,
            result: Ok(Box::new(plan)),
        },
    );
    assert_eq!(app.plan.status, PlanStatus::Ready);
    let shown = app.plan.plan.as_ref().unwrap();
    assert_eq!(shown.header.summary.skip.objects, ROWS / 4);
    assert_eq!(shown.header.summary.copy_objects(), ROWS - ROWS / 4);
    assert!(shown.window.len() <= WINDOW_ROWS);
    assert_snapshot!("plan_streamed", screen(&app));

    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::End);
    assert_eq!(app.plan.cursor as u64, ROWS - 1);
    let shown = app.plan.plan.as_ref().unwrap();
    assert!(
        shown.window.len() <= WINDOW_ROWS && shown.window_start >= ROWS - WINDOW_ROWS as u64,
        "{} rows from {}",
        shown.window.len(),
        shown.window_start
    );
    let end = screen(&app);
    assert!(end.contains("▸ part-00099999.parquet"), "{end}");
    assert_snapshot!("plan_streamed_end", end);

    // Page by page back up, and jumps: the window follows, never grows.
    for code in [KeyCode::PageUp, KeyCode::PageUp, KeyCode::Up, KeyCode::Home] {
        key(&mut app, code);
        let shown = app.plan.plan.as_ref().unwrap();
        assert!(shown.window.len() <= WINDOW_ROWS);
        assert!(shown.row(app.plan.cursor as u64).is_some(), "{code:?}");
    }
    assert!(screen(&app).contains("▸ part-00000000.parquet"));
}

#[test]
fn a_streamed_plan_for_an_older_request_is_dropped() {
    let mut app = planning((80, 24));
    let old = app.plan.request;
    let plan = streamed(&app);
    ctrl(&mut app, 'r');
    assert_ne!(app.plan.request, old);
    update(
        &mut app,
        Msg::Streamed {
            request: old,
            result: Ok(Box::new(plan)),
        },
    );
    assert!(app.plan.gathering());
    assert!(app.plan.plan.is_none());
}

#[test]
fn a_plan_from_an_s3_inventory_says_of_when_in_its_title() {
    let mut app = planning((120, 24));
    let request = app.plan.request;
    let mut plan = streamed(&app);
    plan.header.inventory = Some(airlock_core::plan::lines::InventoryOrigin {
        manifest: "s3://inventories/legacy/daily/2026-12-05T01-00Z/manifest.json".into(),
        created: "2026-12-05T01:00:00Z".into(),
        created_ms: 1_764_896_400_000,
        rows: ROWS,
    });
    update(
        &mut app,
        Msg::Streamed {
            request,
            result: Ok(Box::new(plan)),
        },
    );
    let shown = screen(&app);
    assert!(
        shown.contains("S3 Inventory of 2026-12-05T01:00:00Z"),
        "{shown}"
    );
}
