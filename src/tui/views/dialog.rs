//! Modal boxes: the y/n confirmations (start the run with its totals, cancel all, quit while
//! a run is active) and the prompt for the plan file.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::style::{self, thousands};
use crate::tui::app::{App, Confirm};
use crate::tui::input::TextInput;
use crate::tui::layout;
use airlock_core::progress::{human_bytes, human_duration};

fn dialog(title: &str, lines: Vec<Line<'static>>, color: Color, frame: &mut Frame, area: Rect) {
    let width = lines
        .iter()
        .map(|l| l.width() as u16)
        .max()
        .unwrap_or(20)
        .clamp(36, 70)
        + 4;
    let height = lines.len() as u16 + 2;
    let area = layout::centered(area, width, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .border_style(Style::new().fg(color))
                .title(Span::styled(format!(" {title} "), style::bold()))
                .padding(ratatui::widgets::Padding::horizontal(1)),
        ),
        area,
    );
}

fn keys(yes: &str, no: &str) -> Line<'static> {
    Line::from(vec![
        Span::styled("y", Style::new().fg(Color::Green)),
        Span::raw(format!(" {yes}    ")),
        Span::styled("n", Style::new().fg(Color::Red)),
        Span::raw(format!(" {no}")),
    ])
}

pub fn render_confirm(app: &App, confirm: Confirm, frame: &mut Frame, area: Rect) {
    match confirm {
        Confirm::StartRun => {
            let Some(plan) = app.plan.plan.as_ref().map(|p| &p.header) else {
                return;
            };
            let s = &plan.summary;
            let transfer = &app.plan.transfer;
            let lines = vec![
                Line::from(vec![
                    Span::raw("Copy "),
                    Span::styled(
                        format!("{} objects", thousands(s.copy_objects())),
                        style::bold(),
                    ),
                    Span::raw(" · "),
                    Span::styled(human_bytes(s.copy_bytes()), style::bold()),
                    Span::raw(format!(
                        " · {} parts",
                        thousands(s.single.parts + s.multipart.parts)
                    )),
                ]),
                Line::raw(format!(
                    "skip {} objects ({}) already at the target",
                    thousands(s.skip.objects),
                    human_bytes(s.skip.bytes)
                )),
                Line::styled(
                    format!("from s3://{}/{}", plan.source.bucket, plan.source.prefix),
                    style::dim(),
                ),
                Line::styled(
                    format!("to   s3://{}/{}", plan.target.bucket, plan.target.prefix),
                    style::dim(),
                ),
                Line::raw(format!(
                    "concurrency {} · memory {} · ETA ~{}",
                    if transfer.adaptive_concurrency {
                        format!("auto (up to {})", transfer.concurrency_ceiling())
                    } else {
                        transfer.concurrency.to_string()
                    },
                    human_bytes(transfer.memory_limit.0),
                    human_duration(Duration::from_secs(s.eta_seconds))
                )),
                Line::raw(""),
                keys("start", "back"),
            ];
            dialog("Start the run?", lines, style::ACCENT, frame, area);
        }
        Confirm::Delete => {
            let Some(plan) = app.plan.plan.as_ref().map(|p| &p.header) else {
                return;
            };
            let totals = plan.deletions;
            let lines = vec![
                Line::from(vec![
                    Span::raw("Mirror: also delete "),
                    Span::styled(
                        format!("{} target objects", thousands(totals.objects)),
                        style::bold(),
                    ),
                    Span::raw(" · "),
                    Span::styled(human_bytes(totals.bytes), style::bold()),
                ]),
                Line::styled(
                    format!("under s3://{}/{}", plan.target.bucket, plan.target.prefix),
                    style::dim(),
                ),
                Line::raw("They have no source counterpart. They are deleted only"),
                Line::raw("after every copy succeeded; any failure deletes nothing."),
                Line::raw(""),
                Line::from(vec![
                    Span::styled("y", Style::new().fg(Color::Red)),
                    Span::raw(" copy, then delete    "),
                    Span::styled("n", Style::new().fg(Color::Green)),
                    Span::raw(" copy only    "),
                    Span::styled("esc", style::dim()),
                    Span::raw(" back"),
                ]),
            ];
            dialog("Delete at the target?", lines, Color::Red, frame, area);
        }
        Confirm::CancelAll => {
            let t = &app.transfers;
            let left = t
                .stats
                .total_objects
                .saturating_sub(t.done_count + t.failed_count);
            let lines = vec![
                Line::raw(format!(
                    "Cancel the {} unfinished objects ({} in flight)?",
                    thousands(left),
                    t.active.len()
                )),
                Line::raw("Their multipart uploads are aborted; R retries them later."),
                Line::raw(""),
                keys("cancel all", "keep going"),
            ];
            dialog("Cancel all?", lines, Color::Red, frame, area);
        }
        Confirm::Quit => {
            let t = &app.transfers;
            let lines = vec![
                Line::raw(format!(
                    "A run is active: {} of {} objects done.",
                    thousands(t.stats.done_objects),
                    thousands(t.stats.total_objects)
                )),
                Line::raw("Quitting stops it: in-flight requests finish, nothing new"),
                Line::raw("starts, and the journal is kept so the next run resumes."),
                Line::raw(""),
                keys("stop and quit", "keep running"),
            ];
            dialog("Quit?", lines, Color::Yellow, frame, area);
        }
    }
}

pub fn render_save(input: &TextInput, frame: &mut Frame, area: Rect) {
    let lines = vec![
        Line::raw("Save the plan (JSON lines, no secrets) to a file, or to"),
        Line::raw("s3://BUCKET/KEY in the target account:"),
        Line::from(vec![Span::styled(
            format!("{}▏", input.text),
            Style::new().fg(Color::Black).bg(Color::Yellow),
        )]),
        Line::raw(""),
        Line::styled(
            "enter saves · esc cancels · run it with 'airlock run --plan FILE'",
            style::dim(),
        ),
    ];
    dialog("Save plan", lines, style::ACCENT, frame, area);
}
