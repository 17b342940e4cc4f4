//! The Plan tab: per-route summary (objects, bytes, parts, peak memory, ETA at the estimate
//! rate; what the plan holds back and what the filters left out on its bottom border; while
//! the streaming plan lists, its totals so far) and the settings box with its in-place editor
//! and error, here; the per-object table (only visible rows are built, from the window the tab
//! read from the plan file, the row under the cursor detailed below it) in `plan/table.rs`.

mod table;

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::style::{self, fit, pad, thousands};
use crate::tui::app::App;
use crate::tui::app::plan::{Field, PlanFocus, PlanStatus, PlanTab};
use crate::tui::layout;
use airlock_core::config::TransferMode;
use airlock_core::plan::lines::PlanHeader;
use airlock_core::plan::{HeldBackCounts, RouteTotals, Summary};
use airlock_core::progress::{human_bytes, human_duration};

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let tab = &app.plan;
    let (summary, settings, table) = layout::plan(area);
    render_summary(app, frame, summary);
    render_settings(tab, frame, settings);
    table::render(app, frame, table);
}

fn render_summary(app: &App, frame: &mut Frame, area: Rect) {
    let tab = &app.plan;
    let title = if tab.scope_label.is_empty() {
        " Plan ".to_string()
    } else {
        format!(" Plan · {} ", tab.scope_label)
    };
    let mut block = Block::bordered()
        .border_style(style::border(false))
        .title(Span::styled(
            fit(&title, area.width.saturating_sub(2) as usize),
            style::bold(),
        ));
    // What the plan holds back and what the filters left out, on the bottom border: the
    // box's lines are all taken.
    if let Some(plan) = tab.plan.as_ref().map(|p| &p.header) {
        let width = area.width.saturating_sub(2) as usize;
        let mut parts = Vec::new();
        // A plan from an S3 Inventory says of when: objects written since are not in it.
        if let Some(inventory) = &plan.inventory {
            parts.push(format!("S3 Inventory of {}", inventory.created));
        }
        if let Some(held) = held_back_line(&plan.summary.held_back, width) {
            parts.push(held);
        }
        if !plan.selection.is_empty() {
            parts.push(selection_line(&plan.selection));
        }
        if !parts.is_empty() {
            block = block.title_bottom(Line::styled(
                fit(&format!(" {} ", parts.join(" · ")), width),
                Style::new().fg(Color::Yellow),
            ));
        }
    }
    let width = area.width.saturating_sub(2) as usize;
    let lines = match (&tab.status, &tab.plan) {
        (PlanStatus::Gathering { .. }, _) if tab.grew.is_some() => {
            let grew = tab.grew.as_ref().expect("checked");
            let summary = grew.summary_for(&tab.transfer);
            let mut lines = route_lines(&summary);
            let planned = grew.items + grew.deletions.objects;
            lines.push(Line::raw(fit(
                &format!(
                    "{} listing… {} planned so far",
                    style::spinner(app.now),
                    thousands(planned)
                ),
                width,
            )));
            if grew.deletions.objects > 0 {
                lines.push(Line::styled(
                    fit(
                        &format!(
                            "delete {} ({})",
                            thousands(grew.deletions.objects),
                            human_bytes(grew.deletions.bytes)
                        ),
                        width,
                    ),
                    Style::new().fg(Color::Red),
                ));
            }
            lines
        }
        (PlanStatus::Gathering { source, target }, _) => vec![
            Line::raw(""),
            Line::raw(format!("{} listing both sides…", style::spinner(app.now))),
            Line::styled(
                format!(
                    "source {} · target {} objects",
                    thousands(*source as u64),
                    thousands(*target as u64)
                ),
                style::dim(),
            ),
        ],
        (PlanStatus::Failed(error), _) => vec![
            Line::styled(error.clone(), Style::new().fg(Color::Red)),
            Line::styled("ctrl-r tries again", style::dim()),
        ],
        (_, Some(plan)) => summary_lines(&plan.header, width),
        _ => vec![Line::raw(""), Line::styled("no plan yet", style::dim())],
    };
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// The route table: header, skip, single, multipart, to copy.
fn route_lines(s: &Summary) -> Vec<Line<'static>> {
    let copy = RouteTotals {
        objects: s.copy_objects(),
        bytes: s.copy_bytes(),
        parts: s.single.parts + s.multipart.parts,
    };
    vec![
        Line::styled(
            format!(
                "{:<10}{:>9}{:>11}{:>9}",
                "ROUTE", "OBJECTS", "BYTES", "PARTS"
            ),
            style::header(),
        ),
        route_row("skip", &s.skip, style::dim()),
        route_row("single", &s.single, Style::new()),
        route_row("multipart", &s.multipart, Style::new().fg(style::ACCENT)),
        route_row("to copy", &copy, style::bold()),
    ]
}

fn route_row(name: &str, t: &RouteTotals, style: Style) -> Line<'static> {
    let parts = if t.parts == 0 {
        "-".to_string()
    } else {
        thousands(t.parts)
    };
    Line::styled(
        format!(
            "{:<10}{:>9}{:>11}{:>9}",
            name,
            thousands(t.objects),
            human_bytes(t.bytes),
            parts
        ),
        style,
    )
}

fn summary_lines(plan: &PlanHeader, width: usize) -> Vec<Line<'static>> {
    let s = &plan.summary;
    let row = route_row;
    let mut lines = route_lines(s);
    let memory = format!(
        "peak memory {} ({} stream{})",
        human_bytes(s.peak_memory_bytes),
        s.streams,
        if s.streams == 1 { "" } else { "s" }
    );
    let eta = format!(
        "ETA {} at {}/s (estimate)",
        human_duration(Duration::from_secs(s.eta_seconds)),
        human_bytes(s.estimate_rate)
    );
    if plan.settings.mode == TransferMode::Mirror || plan.deletions.objects > 0 {
        // Mirror: the deletions get a row; memory and ETA share one line to make room.
        let totals = plan.deletions;
        let delete = RouteTotals {
            objects: totals.objects,
            bytes: totals.bytes,
            parts: 0,
        };
        lines.push(row("delete", &delete, Style::new().fg(Color::Red)));
        lines.push(Line::raw(fit(&format!("{eta} · {memory}"), width)));
    } else {
        lines.push(Line::raw(fit(&memory, width)));
        lines.push(Line::raw(fit(&eta, width)));
    }
    lines
}

fn render_settings(tab: &PlanTab, frame: &mut Frame, area: Rect) {
    let focused = tab.focus == PlanFocus::Settings;
    let block = Block::bordered()
        .border_style(style::border(focused))
        .title(Span::styled(" Settings ", style::bold()));
    let width = area.width.saturating_sub(2) as usize;
    let label_width = 20.min(width.saturating_sub(8));
    let mut lines: Vec<Line> = Field::ALL
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let marker = if focused && i == tab.field {
                "▸ "
            } else {
                "  "
            };
            let label = pad(field.label(), label_width);
            let value = match &tab.editor {
                Some(editor) if editor.field == *field => Span::styled(
                    format!("{}▏", editor.input.text),
                    Style::new().fg(Color::Black).bg(Color::Yellow),
                ),
                _ => Span::styled(field.value(&tab.transfer), style::bold()),
            };
            let line = Line::from(vec![Span::raw(marker), Span::raw(label), value]);
            if focused && i == tab.field && tab.editor.is_none() {
                line.style(style::cursor(true))
            } else {
                line
            }
        })
        .collect();
    match &tab.editor {
        Some(editor) => match &editor.error {
            Some(error) => lines.push(Line::styled(error.clone(), Style::new().fg(Color::Red))),
            None => lines.push(Line::styled("enter applies · esc cancels", style::dim())),
        },
        None if focused => lines.push(Line::styled("enter edits · tab: objects", style::dim())),
        None => lines.push(Line::styled("tab: settings", style::dim())),
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// The objects the plan holds back (counted in `skip`, never copied), for the summary's
/// bottom border: `2 archived (restore first) · 1 folder marker held back`, or the short
/// `held back: 2 archived · 1 folder marker` when that does not fit in `width` (with the
/// border's padding). `None` when nothing is held back.
fn held_back_line(held: &HeldBackCounts, width: usize) -> Option<String> {
    if held.is_empty() {
        return None;
    }
    let markers = |n: u64| format!("{} folder marker{}", thousands(n), plural(n));
    let mut long = Vec::new();
    let mut short = Vec::new();
    if held.archived > 0 {
        long.push(format!(
            "{} archived (restore first)",
            thousands(held.archived)
        ));
        short.push(format!("{} archived", thousands(held.archived)));
    }
    if held.source_prefix_markers > 0 {
        long.push(format!("{} held back", markers(held.source_prefix_markers)));
        short.push(markers(held.source_prefix_markers));
    }
    let long = long.join(" · ");
    if long.chars().count() + 2 <= width {
        Some(long)
    } else {
        Some(format!("held back: {}", short.join(" · ")))
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What the filters left out, short enough for the summary's bottom border:
/// `filters: 4 of 12 left out (include 3, min_size 1)`.
fn selection_line(selection: &airlock_core::plan::Selection) -> String {
    let counts: Vec<String> = selection
        .excluded
        .iter()
        .map(|e| format!("{} {}", e.filter, thousands(e.objects)))
        .collect();
    let mut text = format!(
        "filters: {} of {} left out ({})",
        thousands(selection.excluded_objects()),
        thousands(selection.listed),
        counts.join(", ")
    );
    if !selection.missing.is_empty() {
        text.push_str(&format!(
            " · {} listed keys missing",
            thousands(selection.missing.len() as u64)
        ));
    }
    text
}
