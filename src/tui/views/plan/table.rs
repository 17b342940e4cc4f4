//! The Plan tab's object table: a title with the counts and the run/save keys, a header whose
//! columns fit the width, only the visible rows (copy items and mirror deletions in red, in
//! the plan file's order), taken from the window the tab read from the plan file, and below it
//! the full target key and reason of the row under the cursor. Pure rendering.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::super::style::{self, fit, fit_middle, pad, pad_right, thousands};
use crate::tui::app::App;
use crate::tui::app::plan::{PlanFocus, PlanTab, Shown};
use crate::tui::keymap::{Action, Context};
use crate::tui::layout;
use airlock_core::plan::lines::{Entry, PlanHeader};
use airlock_core::plan::{Deletion, PlanItem, Route};
use airlock_core::progress::human_bytes;

/// Columns of the object table at a width.
struct Columns {
    key: usize,
    reason: usize,
}

impl Columns {
    const FIXED: usize = 2 + 9 + 1 + 9 + 1 + 9 + 1 + 6;

    fn of(width: usize) -> Columns {
        let reason = if width >= 110 { 34 } else { 0 };
        let used = Self::FIXED + 1 + if reason > 0 { reason + 1 } else { 0 };
        Columns {
            key: width.saturating_sub(used).max(8),
            reason,
        }
    }
}

/// The table in `area`: its frame, header, visible rows and the cursor row's detail.
pub(super) fn render(app: &App, frame: &mut Frame, area: Rect) {
    let tab = &app.plan;
    frame.render_widget(table_block(app), area);
    let [header_area, rows_area, detail_area] = layout::plan_table(area);
    let Some(plan) = &tab.plan else {
        return;
    };
    let columns = Columns::of(rows_area.width as usize);
    frame.render_widget(
        Paragraph::new(header(&columns)).style(style::header()),
        header_area,
    );
    if plan.rows() == 0 {
        frame.render_widget(
            Paragraph::new(format!(
                "nothing under s3://{}/{}",
                plan.header.source.bucket, plan.header.source.prefix
            ))
            .alignment(Alignment::Center),
            rows_area,
        );
        return;
    }
    if let Some(error) = &plan.window_error {
        frame.render_widget(
            Paragraph::new(error.clone()).style(Style::new().fg(Color::Red)),
            rows_area,
        );
        return;
    }
    frame.render_widget(
        Paragraph::new(visible_rows(tab, plan, &columns, rows_area.height as usize)),
        rows_area,
    );
    if let Some(detail) = cursor_detail(plan, tab.cursor, detail_area.width as usize) {
        frame.render_widget(Paragraph::new(detail), detail_area);
    }
}

/// The bordered frame: object (and deletion) counts, and which keys start and save.
fn table_block(app: &App) -> Block<'static> {
    let tab = &app.plan;
    let focused = tab.focus == PlanFocus::Objects;
    let start = app
        .keymap
        .key_for(Context::Plan, Action::StartRun)
        .unwrap_or_default();
    let save = app
        .keymap
        .key_for(Context::Plan, Action::SavePlan)
        .unwrap_or_default();
    let count = tab.plan.as_ref().map_or(0, |p| p.header.items);
    let deletions = tab.plan.as_ref().map_or(0, |p| p.header.deletions.objects);
    let title = if let (None, Some(grew)) = (&tab.plan, &tab.grew) {
        // The rows show once the plan is done; the count grows meanwhile.
        format!(" Objects {}… ", thousands(grew.items))
    } else if deletions > 0 {
        format!(
            " Objects {} · delete {} ",
            thousands(count),
            thousands(deletions)
        )
    } else {
        format!(" Objects {} ", thousands(count))
    };
    Block::bordered()
        .border_style(style::border(focused))
        .title(Span::styled(title, style::bold()))
        .title_top(
            Line::styled(
                format!(" {start} starts the run · {save} saves the plan "),
                style::dim(),
            )
            .right_aligned(),
        )
}

fn header(columns: &Columns) -> String {
    let mut header = format!(
        "  {} {:>9} {:<9} {:>9} {:>6}",
        pad("KEY", columns.key),
        "SIZE",
        "ROUTE",
        "PART SIZE",
        "PARTS"
    );
    if columns.reason > 0 {
        header.push_str(&format!(" {}", pad("REASON", columns.reason)));
    }
    header
}

/// Only the rows that fit, from the scroll offset, out of the window read from the plan file
/// (the tab keeps it over the rows on screen).
fn visible_rows(
    tab: &PlanTab,
    plan: &Shown,
    columns: &Columns,
    height: usize,
) -> Vec<Line<'static>> {
    let focused = tab.focus == PlanFocus::Objects;
    let first = tab.offset as u64;
    let end = (first + height as u64).min(plan.rows());
    (first..end)
        .filter_map(|i| {
            let under_cursor = i == tab.cursor as u64 && focused;
            Some(match plan.row(i)? {
                Entry::Item(item) => item_row(&plan.header, item, columns, under_cursor),
                Entry::Deletion(deletion) => {
                    deletion_row(&plan.header, deletion, columns, under_cursor)
                }
            })
        })
        .collect()
}

/// A copy item as a table row: key (relative to the source prefix), size, route, part size and
/// parts; skipped rows dim, multipart rows in the accent colour.
fn item_row(
    plan: &PlanHeader,
    item: &PlanItem,
    columns: &Columns,
    under_cursor: bool,
) -> Line<'static> {
    let key = item
        .source_key
        .strip_prefix(plan.source.prefix.as_str())
        .unwrap_or(&item.source_key);
    let (part_size, parts) = match item.route {
        Route::Multipart => (
            human_bytes(item.part_size),
            thousands(u64::from(item.parts)),
        ),
        Route::Single => ("-".to_string(), "1".to_string()),
        Route::Skip => ("-".to_string(), "-".to_string()),
    };
    let marker = if under_cursor { "▸ " } else { "  " };
    let mut text = format!(
        "{marker}{} {} {:<9} {} {}",
        format_args!("{:<w$}", fit_middle(key, columns.key), w = columns.key),
        pad_right(&human_bytes(item.size), 9),
        item.route.as_str(),
        pad_right(&part_size, 9),
        pad_right(&parts, 6)
    );
    if columns.reason > 0 {
        text.push_str(&format!(" {}", fit(&item.reason, columns.reason)));
    }
    let style = match item.route {
        Route::Skip => style::dim(),
        Route::Single => Style::new(),
        Route::Multipart => Style::new().fg(style::ACCENT),
    };
    let line = Line::styled(text, style);
    if under_cursor {
        line.style(style::cursor(true))
    } else {
        line
    }
}

/// Why the item has its route, and for a multipart source the parts it is copied in and what
/// its source hop is checked with (when the plan learnt its layout).
fn reason_of(item: &airlock_core::plan::PlanItem) -> String {
    match &item.source_layout {
        Some(layout) => format!("{} · {}", item.reason, layout.describe()),
        None => item.reason.clone(),
    }
}

/// Two lines under the table for the row under the cursor: where it goes (or that it is
/// deleted) and why.
fn cursor_detail(plan: &Shown, cursor: usize, width: usize) -> Option<Vec<Line<'static>>> {
    let target = &plan.header.target;
    match plan.row(cursor as u64)? {
        Entry::Item(item) => Some(vec![
            Line::styled(
                fit_middle(
                    &format!("→ s3://{}/{}", target.bucket, item.target_key),
                    width,
                ),
                style::dim(),
            ),
            Line::styled(fit(&reason_of(item), width), style::dim()),
        ]),
        Entry::Deletion(deletion) => Some(vec![
            Line::styled(
                fit_middle(
                    &format!("✗ s3://{}/{}", target.bucket, deletion.target_key),
                    width,
                ),
                Style::new().fg(Color::Red),
            ),
            Line::styled(
                fit(
                    &format!(
                        "{}: deleted after every copy succeeded, if confirmed",
                        deletion.reason
                    ),
                    width,
                ),
                style::dim(),
            ),
        ]),
    }
}

/// A mirror deletion as a table row: the target key (relative to the target prefix), its size
/// and route `delete`, in red.
fn deletion_row(
    plan: &PlanHeader,
    deletion: &Deletion,
    columns: &Columns,
    under_cursor: bool,
) -> Line<'static> {
    let key = deletion
        .target_key
        .strip_prefix(plan.target.prefix.as_str())
        .unwrap_or(&deletion.target_key);
    let marker = if under_cursor { "▸ " } else { "  " };
    let mut text = format!(
        "{marker}{} {} {:<9} {} {}",
        format_args!("{:<w$}", fit_middle(key, columns.key), w = columns.key),
        pad_right(&human_bytes(deletion.size), 9),
        "delete",
        pad_right("-", 9),
        pad_right("-", 6)
    );
    if columns.reason > 0 {
        text.push_str(&format!(" {}", fit(&deletion.reason, columns.reason)));
    }
    let line = Line::styled(text, Style::new().fg(Color::Red));
    if under_cursor {
        line.style(style::cursor(true))
    } else {
        line
    }
}
