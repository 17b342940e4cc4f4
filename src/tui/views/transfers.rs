//! The Transfers tab: the overall gauge and figures (bytes, objects, GET/PUT rates, ETA,
//! effective concurrency and why it changed), then the throughput chart ([`super::chart`])
//! and the active / failed / done lists ([`super::transfer_lists`]).

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, LineGauge, Paragraph, Wrap};

use super::style::{self, fit, thousands};
use crate::tui::app::App;
use crate::tui::app::transfers::{Phase, Transfers};
use crate::tui::keymap::{Action, Context};
use crate::tui::layout;
use airlock_core::progress::{human_bytes, human_duration};

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let transfers = &app.transfers;
    if transfers.phase == Phase::Idle {
        let text = vec![
            Line::raw(""),
            Line::raw("No run yet."),
            Line::styled(
                format!(
                    "Select objects in the Browser (1), review the plan (2), start it with {}.",
                    app.keymap
                        .key_for(Context::Plan, Action::StartRun)
                        .unwrap_or_default()
                ),
                style::dim(),
            ),
        ];
        frame.render_widget(
            Paragraph::new(text)
                .alignment(Alignment::Center)
                .wrap(Wrap { trim: true })
                .block(Block::bordered().border_style(style::border(false))),
            area,
        );
        return;
    }
    let (overview, chart, lists) = layout::transfers(area);
    render_overview(app, frame, overview);
    super::chart::render(transfers, frame, chart);
    super::transfer_lists::render(transfers, frame, lists);
}

fn phase_label(transfers: &Transfers) -> (&'static str, Color) {
    match &transfers.phase {
        Phase::Idle => ("idle", Color::Gray),
        Phase::Starting => ("starting", Color::Cyan),
        Phase::Running if transfers.paused => ("paused", Color::Yellow),
        Phase::Running => ("running", Color::Cyan),
        Phase::Stopping => ("stopping", Color::Yellow),
        Phase::Finished(s) if s.interrupted => ("stopped", Color::Yellow),
        Phase::Finished(s) if s.failed > 0 || s.delete_failed > 0 => {
            ("finished with failures", Color::Red)
        }
        Phase::Finished(_) => ("finished", Color::Green),
    }
}

fn render_overview(app: &App, frame: &mut Frame, area: Rect) {
    let transfers = &app.transfers;
    let stats = &transfers.stats;
    let (phase, color) = phase_label(transfers);
    let mut title = vec![
        Span::styled(" Run · ", style::bold()),
        Span::styled(format!("{phase} "), Style::new().fg(color)),
    ];
    // The bandwidth cap, when there is one (b / B / U change it), in the same title.
    if let Some(rate) = transfers.bandwidth_limit {
        title.push(Span::raw("· "));
        title.push(Span::styled(
            format!("cap {}/s ", human_bytes(rate)),
            Style::new().fg(Color::Yellow),
        ));
    }
    let block = Block::bordered()
        .border_style(style::border(false))
        .title(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let moved = transfers.moved_bytes();
    let ratio = if stats.total_bytes > 0 {
        (moved as f64 / stats.total_bytes as f64).clamp(0.0, 1.0)
    } else {
        1.0
    };
    let gauge_area = Rect { height: 1, ..inner };
    frame.render_widget(
        LineGauge::default()
            .ratio(ratio)
            .label(format!("{:>5.1}% ", ratio * 100.0))
            .filled_symbol("█")
            .unfilled_symbol("░")
            .filled_style(Style::new().fg(color))
            .unfilled_style(style::dim()),
        gauge_area,
    );
    let (get, put) = stats.rates();
    let eta = match (&transfers.phase, transfers.eta()) {
        (Phase::Finished(_), _) => "-".to_string(),
        (_, Some(eta)) => human_duration(eta),
        (_, None) => "…".to_string(),
    };
    let elapsed = match &transfers.phase {
        Phase::Finished(summary) => Duration::from_millis(summary.elapsed_ms),
        _ => transfers.run_time(app.now),
    };
    let width = inner.width as usize;
    let concurrency = concurrency_line(transfers, width);
    let mut lines = vec![
        Line::raw(fit(
            &format!(
                "{} of {} · {}/{} objects{}",
                human_bytes(moved),
                human_bytes(stats.total_bytes),
                thousands(stats.done_objects),
                thousands(stats.total_objects),
                if transfers.resumed_bytes > 0 {
                    format!(" · {} resumed", human_bytes(transfers.resumed_bytes))
                } else {
                    String::new()
                }
            ),
            width,
        )),
        Line::raw(fit(&rates_text(transfers, get, put, &eta), width)),
        Line::raw(fit(
            &format!(
                "elapsed {} · {} skipped · {} retries",
                human_duration(elapsed),
                thousands(stats.skipped),
                thousands(stats.retries)
            ),
            width,
        )),
        {
            let failed = format!("{} failed", thousands(transfers.failed_count));
            let rest = format!(
                " · {} verified · buffers {}",
                thousands(stats.verified),
                human_bytes(stats.buffered_bytes)
            );
            let room = width.saturating_sub(failed.chars().count());
            Line::from(vec![
                Span::styled(
                    failed,
                    if transfers.failed_count == 0 {
                        Style::new()
                    } else {
                        Style::new().fg(Color::Red)
                    },
                ),
                Span::raw(fit(&rest, room)),
            ])
        },
        concurrency,
        // Taller screens also get the object breakdown and both byte counters.
        Line::styled(
            fit(
                &format!(
                    "{} in flight · {} queued · {} cancelled",
                    transfers.active.len(),
                    thousands(queued(transfers)),
                    thousands(stats.cancelled)
                ),
                width,
            ),
            style::dim(),
        ),
        Line::styled(
            fit(
                &format!(
                    "read {} (retries count again) · written {}",
                    human_bytes(stats.get_bytes),
                    human_bytes(stats.put_bytes)
                ),
                width,
            ),
            style::dim(),
        ),
    ];
    lines.truncate(inner.height.saturating_sub(1) as usize);
    let text_area = Rect {
        y: inner.y + 1,
        height: inner.height - 1,
        ..inner
    };
    frame.render_widget(Paragraph::new(lines), text_area);
}

/// Objects not started yet.
fn queued(transfers: &Transfers) -> u64 {
    let started =
        transfers.stats.done_objects + transfers.active.len() as u64 + transfers.failed_count;
    transfers.stats.total_objects.saturating_sub(started)
}

/// Live rates and ETA while running; the run's average once it ended.
fn rates_text(transfers: &Transfers, get: f64, put: f64, eta: &str) -> String {
    match &transfers.phase {
        Phase::Finished(summary) if summary.elapsed_ms > summary.paused_ms => {
            let over = if summary.paused_ms > 0 {
                "while not paused"
            } else {
                "over the run"
            };
            format!("average {} {over}", style::rate(summary.average_rate()))
        }
        _ => format!(
            "GET {} · PUT {} · ETA {eta}",
            style::rate(get),
            style::rate(put)
        ),
    }
}

/// Effective concurrency, the user's maximum (or the ceiling, marked "(auto)" where it fits),
/// and why it last changed (yellow when SlowDown holds it below the maximum).
fn concurrency_line(transfers: &Transfers, width: usize) -> Line<'static> {
    let auto = transfers.concurrency_auto;
    let lowered = transfers.concurrency < transfers.concurrency_max;
    let mut text = format!("concurrency {}", transfers.concurrency);
    if auto || lowered {
        text.push_str(&format!("/{}", transfers.concurrency_max));
    }
    let slowdown = transfers
        .concurrency_reason
        .as_deref()
        .is_some_and(|r| r.contains("SlowDown"));
    let mut why = String::new();
    if let Some(reason) = &transfers.concurrency_reason {
        let reason = match reason.as_str() {
            r if r.contains("backing off") => "SlowDown backoff",
            r if r.contains("recovering") => "recovering from SlowDown",
            "set by user" => "set by you",
            other => other,
        };
        why = format!(" · {reason}");
    } else if lowered && !auto {
        why = " · capped by the memory limit".into();
    }
    // The reason matters more than the word "auto".
    if auto && text.chars().count() + " (auto)".len() + why.chars().count() <= width {
        text.push_str(" (auto)");
    }
    text.push_str(&why);
    let style = if lowered && slowdown {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new()
    };
    Line::styled(fit(&text, width), style)
}
