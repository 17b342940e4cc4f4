//! The Transfers tab's object lists: active objects (a line of figures and a part map each),
//! failed and cancelled ones (with why), done ones (verified or not), and three detail lines
//! for the selected object: what it is doing, why it failed, or exactly what was verified.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::partmap;
use super::style::{self, fit, fit_middle, pad_right, thousands};
use crate::tui::app::transfers::{ListKind, ObjectRun, Outcome, Transfers};
use crate::tui::layout;
use airlock_core::progress::human_bytes;

/// Cells of the per-object byte gauge on wide screens.
const GAUGE_CELLS: usize = 12;

pub fn render(transfers: &Transfers, frame: &mut Frame, area: Rect) {
    let mut title = vec![Span::raw(" ")];
    for (i, list) in ListKind::ALL.iter().enumerate() {
        if i > 0 {
            title.push(Span::styled(" │ ", style::dim()));
        }
        let (name, color) = match list {
            ListKind::Active => ("Active", style::ACCENT),
            ListKind::Failed => ("Failed", Color::Red),
            ListKind::Done => ("Done", Color::Green),
        };
        let (count, kept) = (transfers.count(*list), transfers.kept(*list) as u64);
        // The list shown says when it holds only the newest of its objects.
        let label = if count > kept && *list == transfers.list {
            format!("{name} {} (last {})", thousands(count), thousands(kept))
        } else {
            format!("{name} {}", thousands(count))
        };
        title.push(if *list == transfers.list {
            Span::styled(
                label,
                Style::new()
                    .fg(color)
                    .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            )
        } else {
            Span::styled(label, style::dim())
        });
    }
    title.push(Span::raw(" "));
    let block = Block::bordered()
        .border_style(style::border(true))
        .title(Line::from(title))
        .title_top(Line::styled(" tab switches list ", style::dim()).right_aligned());
    frame.render_widget(block, area);
    let [rows_area, detail_area] = layout::transfer_list(area);
    let width = rows_area.width as usize;
    let visible = transfers.visible_objects();
    let mut lines: Vec<Line> = Vec::new();
    for row in transfers.offset..transfers.offset + visible {
        let Some(id) = transfers.id_at(row) else {
            break;
        };
        let Some(object) = transfers.objects.get(&id) else {
            continue;
        };
        let selected = row == transfers.cursor;
        let mut line = object_line(object, width);
        if selected {
            line = style::cursor_line(line, true);
        }
        lines.push(line);
        if transfers.list != ListKind::Done {
            let failed_single = object.route != airlock_core::plan::Route::Multipart
                && matches!(object.outcome, Some(Outcome::Failed { .. }));
            let mut second = if failed_single {
                // A single request has no parts worth mapping: show why it failed.
                let error = match &object.outcome {
                    Some(Outcome::Failed { error, .. }) => error.as_str(),
                    _ => "",
                };
                Line::styled(
                    fit(error, width.saturating_sub(2)),
                    Style::new().fg(Color::Red),
                )
            } else {
                partmap::line(object, width.saturating_sub(2))
            };
            second.spans.insert(0, Span::raw("  "));
            lines.push(second);
        }
    }
    if lines.is_empty() {
        let empty = match transfers.list {
            ListKind::Active => "nothing in flight",
            ListKind::Failed => "nothing failed",
            ListKind::Done => "nothing finished yet",
        };
        lines.push(Line::styled(empty, style::dim()));
    }
    frame.render_widget(Paragraph::new(lines), rows_area);
    let detail = transfers
        .selected()
        .and_then(|id| transfers.objects.get(&id))
        .map(|o| detail_lines(o, detail_area.width as usize))
        .unwrap_or_default();
    frame.render_widget(
        Paragraph::new(detail).wrap(Wrap { trim: false }),
        detail_area,
    );
}

/// One line per object: its state symbol, key and figures.
fn object_line(object: &ObjectRun, width: usize) -> Line<'static> {
    let (mark, mark_style, figures) = match &object.outcome {
        None => {
            let bytes = object.progress_bytes();
            let percent = (bytes * 100).checked_div(object.size).unwrap_or(0);
            // Wide screens get a small byte gauge beside the figures too.
            let bar = if width >= 100 {
                let filled = (percent as usize * GAUGE_CELLS)
                    .div_ceil(100)
                    .min(GAUGE_CELLS);
                format!(
                    " {}{}",
                    "█".repeat(filled),
                    "░".repeat(GAUGE_CELLS - filled)
                )
            } else {
                String::new()
            };
            let mut figures = format!(
                "{}/{}{bar} {:>3}%",
                human_bytes(bytes),
                human_bytes(object.size),
                percent
            );
            if object.part_count > 1 {
                figures.push_str(&format!(
                    " {}/{}p",
                    thousands(object.parts_done() as u64),
                    thousands(u64::from(object.part_count))
                ));
            }
            if object.retries > 0 {
                figures.push_str(&format!(" r{}", object.retries));
            }
            let style = if object.last_error.is_some() {
                Style::new().fg(Color::Yellow)
            } else {
                Style::new().fg(style::ACCENT)
            };
            (
                if object.last_error.is_some() {
                    "r"
                } else {
                    "▶"
                },
                style,
                figures,
            )
        }
        Some(Outcome::Done {
            verification,
            attempts,
        }) => {
            let mut figures = format!(
                "{} {}",
                human_bytes(object.size),
                if verification.verified {
                    "verified"
                } else {
                    "unverified"
                }
            );
            if *attempts > object.part_count.max(1) {
                figures.push_str(&format!(" ({attempts} attempts)"));
            }
            let style = if verification.verified {
                Style::new().fg(Color::Green)
            } else {
                Style::new().fg(Color::Yellow)
            };
            ("✓", style, figures)
        }
        Some(Outcome::Failed {
            class, kept_upload, ..
        }) => (
            "x",
            Style::new().fg(Color::Red),
            format!(
                "{} · {}{}",
                human_bytes(object.size),
                class_name(*class),
                if kept_upload.is_some() {
                    " · upload kept"
                } else {
                    ""
                }
            ),
        ),
        Some(Outcome::Cancelled) => ("c", Style::new().fg(Color::Yellow), "cancelled".to_string()),
    };
    let figures_width = figures.chars().count().min(width / 2);
    let key_width = width.saturating_sub(figures_width + 3);
    Line::from(vec![
        Span::styled(format!("{mark} "), mark_style),
        Span::raw(format!(
            "{:<key_width$}",
            fit_middle(&object.key, key_width)
        )),
        Span::raw(" "),
        Span::styled(pad_right(&figures, figures_width), mark_style),
    ])
}

fn class_name(class: airlock_core::error::Class) -> &'static str {
    use airlock_core::error::Class;
    match class {
        Class::Retryable => "retryable",
        Class::SlowDown => "slowdown",
        Class::SourceChanged => "source changed",
        Class::Fatal => "fatal",
        Class::NotFound => "not found",
        Class::ExpiredToken => "expired token",
    }
}

/// Two lines about the selected object: why it failed, what was verified, what it is doing.
fn detail_lines(object: &ObjectRun, width: usize) -> Vec<Line<'static>> {
    let (first, second) = match &object.outcome {
        None => (
            match object.route {
                airlock_core::plan::Route::Multipart => format!(
                    "multipart · {} parts of {}{}",
                    thousands(u64::from(object.part_count)),
                    human_bytes(object.part_size),
                    if object.resumed_parts > 0 {
                        format!(" · {} resumed from the journal", object.resumed_parts)
                    } else {
                        String::new()
                    }
                ),
                _ => format!("single request · {}", human_bytes(object.size)),
            },
            object
                .last_error
                .as_ref()
                .map(|e| format!("retrying: {e}"))
                .unwrap_or_default(),
        ),
        Some(Outcome::Done { verification, .. }) => {
            // Exactly what was checked matters here: let the lines wrap rather than cut.
            return vec![
                Line::styled(format!("source: {}", verification.source), style::dim()),
                Line::styled(format!("target: {}", verification.target), style::dim()),
            ];
        }
        Some(Outcome::Failed {
            error, kept_upload, ..
        }) => {
            // The error gets both lines: it says which side, operation and key failed.
            let hint = match kept_upload {
                Some(id) => format!(" · upload '{id}' kept for a resume"),
                None => String::new(),
            };
            return vec![Line::styled(
                format!("{error}{hint}"),
                Style::new().fg(Color::Red),
            )];
        }
        Some(Outcome::Cancelled) => (object.key.clone(), "cancelled · r retries it".to_string()),
    };
    vec![
        Line::styled(fit(&first, width), style::dim()),
        Line::styled(fit(&second, width), style::dim()),
    ]
}
