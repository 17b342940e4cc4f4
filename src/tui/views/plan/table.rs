//! The Plan tab's object table: a title with the counts and the run/save keys, a header whose
//! columns fit the width, only the visible rows (copy items, then mirror deletions in red), and
//! below it the full target key and reason of the row under the cursor. Pure rendering.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::super::style::{self, fit, fit_middle, pad, pad_right, thousands};
use crate::tui::app::App;
use crate::tui::app::plan::{PlanFocus, PlanTab};
use crate::tui::keymap::{Action, Context};
use crate::tui::layout;
use airlock_core::plan::{Deletion, Plan, PlanItem, Route};
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
    if plan.items.is_empty() && plan.deletions.is_empty() {
        frame.render_widget(
            Paragraph::new(format!(
                "nothing under s3://{}/{}",
                plan.source.bucket, plan.source.prefix
            ))
            .alignment(Alignment::Center),
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
    let count = tab.plan.as_ref().map_or(0, |p| p.items.len() as u64);
    let deletions = tab.plan.as_ref().map_or(0, |p| p.deletions.len() as u64);
    let title = if deletions > 0 {
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

/// Only the rows that fit, from the scroll offset: items first, then deletions.
fn visible_rows(
    tab: &PlanTab,
    plan: &Plan,
    columns: &Columns,
    height: usize,
) -> Vec<Line<'static>> {
    let focused = tab.focus == PlanFocus::Objects;
    let rows = plan.items.len() + plan.deletions.len();
    let end = (tab.offset + height).min(rows);
    (tab.offset..end)
        .map(|i| {
            let under_cursor = i == tab.cursor && focused;
            match plan.items.get(i) {
                Some(item) => item_row(plan, item, columns, under_cursor),
                None => {
                    let deletion = &plan.deletions[i - plan.items.len()];
                    deletion_row(plan, deletion, columns, under_cursor)
                }
            }
        })
        .collect()
}

/// A copy item as a table row: key (relative to the source prefix), size, route, part size and
/// parts; skipped rows dim, multipart rows in the accent colour.
fn item_row(plan: &Plan, item: &PlanItem, columns: &Columns, under_cursor: bool) -> Line<'static> {
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
fn cursor_detail(plan: &Plan, cursor: usize, width: usize) -> Option<Vec<Line<'static>>> {
    if let Some(item) = plan.items.get(cursor) {
        return Some(vec![
            Line::styled(
                fit_middle(
                    &format!("→ s3://{}/{}", plan.target.bucket, item.target_key),
                    width,
                ),
                style::dim(),
            ),
            Line::styled(fit(&reason_of(item), width), style::dim()),
        ]);
    }
    let deletion = plan.deletions.get(cursor.checked_sub(plan.items.len())?)?;
    Some(vec![
        Line::styled(
            fit_middle(
                &format!("✗ s3://{}/{}", plan.target.bucket, deletion.target_key),
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
    ])
}

/// A mirror deletion as a table row: the target key (relative to the target prefix), its size
/// and route `delete`, in red.
fn deletion_row(
    plan: &Plan,
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
