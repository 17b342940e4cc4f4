//! The Transfers tab: the overall gauge and figures (bytes, objects, GET/PUT rates, ETA,
//! effective concurrency and why it changed), a GET/PUT throughput chart over the last two
//! minutes, and the active / failed / done lists: active objects with a part map each,
//! failed ones with their error, done ones with what was verified.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, LineGauge, Paragraph, Wrap};

use super::partmap;
use super::style::{self, fit, fit_middle, pad_right, thousands};
use crate::cli::{human_bytes, human_duration};
use crate::tui::app::App;
use crate::tui::app::transfers::{ListKind, ObjectRun, Outcome, Phase, Transfers};
use crate::tui::layout;

/// The chart's time span.
const CHART_SPAN: Duration = Duration::from_secs(120);

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let transfers = &app.transfers;
    if transfers.phase == Phase::Idle {
        let text = vec![
            Line::raw(""),
            Line::raw("No run yet."),
            Line::styled(
                "Select objects in the Browser (1), review the plan (2), start it with g.",
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
    render_chart(transfers, frame, chart);
    render_lists(transfers, frame, lists);
}

fn phase_label(transfers: &Transfers) -> (&'static str, Color) {
    match &transfers.phase {
        Phase::Idle => ("idle", Color::Gray),
        Phase::Starting => ("starting", Color::Cyan),
        Phase::Running if transfers.paused => ("paused", Color::Yellow),
        Phase::Running => ("running", Color::Cyan),
        Phase::Stopping => ("stopping", Color::Yellow),
        Phase::Finished(s) if s.interrupted => ("stopped", Color::Yellow),
        Phase::Finished(s) if s.failed > 0 => ("finished with failures", Color::Red),
        Phase::Finished(_) => ("finished", Color::Green),
    }
}

fn render_overview(app: &App, frame: &mut Frame, area: Rect) {
    let transfers = &app.transfers;
    let stats = &transfers.stats;
    let (phase, color) = phase_label(transfers);
    let block = Block::bordered()
        .border_style(style::border(false))
        .title(Line::from(vec![
            Span::styled(" Run · ", style::bold()),
            Span::styled(format!("{phase} "), Style::new().fg(color)),
        ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let ratio = if stats.total_bytes > 0 {
        (stats.put_bytes as f64 / stats.total_bytes as f64).clamp(0.0, 1.0)
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
    let eta = match (&transfers.phase, stats.eta()) {
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
                "{} of {} · {}/{} objects",
                human_bytes(stats.put_bytes),
                human_bytes(stats.total_bytes),
                thousands(stats.done_objects),
                thousands(stats.total_objects)
            ),
            width,
        )),
        Line::raw(fit(
            &format!(
                "GET {} · PUT {} · ETA {eta}",
                style::rate(get),
                style::rate(put)
            ),
            width,
        )),
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
            let failed = format!("{} failed", transfers.failed.len());
            let rest = format!(
                " · {} verified · buffers {}",
                thousands(stats.verified),
                human_bytes(stats.buffered_bytes)
            );
            let room = width.saturating_sub(failed.chars().count());
            Line::from(vec![
                Span::styled(
                    failed,
                    if transfers.failed.is_empty() {
                        Style::new()
                    } else {
                        Style::new().fg(Color::Red)
                    },
                ),
                Span::raw(fit(&rest, room)),
            ])
        },
        concurrency,
    ];
    lines.truncate(inner.height.saturating_sub(1) as usize);
    let text_area = Rect {
        y: inner.y + 1,
        height: inner.height - 1,
        ..inner
    };
    frame.render_widget(Paragraph::new(lines), text_area);
}

/// Effective concurrency, the user's maximum, and why it last changed (yellow when SlowDown
/// holds it below the maximum).
fn concurrency_line(transfers: &Transfers, width: usize) -> Line<'static> {
    let lowered = transfers.concurrency < transfers.concurrency_max;
    let mut text = format!("concurrency {}", transfers.concurrency);
    if lowered {
        text.push_str(&format!("/{}", transfers.concurrency_max));
    }
    let slowdown = transfers
        .concurrency_reason
        .as_deref()
        .is_some_and(|r| r.contains("SlowDown"));
    if let Some(reason) = &transfers.concurrency_reason {
        let reason = match reason.as_str() {
            r if r.contains("backing off") => "SlowDown backoff",
            r if r.contains("recovering") => "recovering from SlowDown",
            "set by user" => "set by you",
            other => other,
        };
        text.push_str(&format!(" · {reason}"));
    }
    let style = if lowered && slowdown {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new()
    };
    Line::styled(fit(&text, width), style)
}

fn render_chart(transfers: &Transfers, frame: &mut Frame, area: Rect) {
    let (get, put) = transfers.stats.series(CHART_SPAN);
    // The chart's own legend needs room; on small screens the title carries it.
    let legend_fits = area.height >= 12 && area.width >= 50;
    let mut title = vec![Span::styled(" Throughput MB/s ", style::bold())];
    if !legend_fits {
        title.extend([
            Span::styled("GET", Style::new().fg(Color::Cyan)),
            Span::raw(" "),
            Span::styled("PUT", Style::new().fg(Color::Green)),
            Span::raw(" "),
        ]);
    }
    let block = Block::bordered()
        .border_style(style::border(false))
        .title(Line::from(title));
    let Some(&(t_end, _)) = get.last() else {
        frame.render_widget(
            Paragraph::new("\nno samples yet")
                .alignment(Alignment::Center)
                .block(block),
            area,
        );
        return;
    };
    let t_start = t_end - CHART_SPAN.as_secs_f64();
    let peak = get
        .iter()
        .chain(put.iter())
        .map(|&(_, y)| y)
        .fold(0.0_f64, f64::max);
    let top = nice_ceiling(peak);
    let datasets = vec![
        Dataset::default()
            .name("GET")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(Color::Cyan))
            .data(&get),
        Dataset::default()
            .name("PUT")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(Color::Green))
            .data(&put),
    ];
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(
            Axis::default()
                .bounds([t_start, t_end])
                .labels(["-2m", "-1m", "now"])
                .style(style::dim()),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels(["0".to_string(), format!("{top:.0}")])
                .style(style::dim()),
        )
        .legend_position(legend_fits.then_some(ratatui::widgets::LegendPosition::TopLeft))
        .hidden_legend_constraints((
            ratatui::layout::Constraint::Ratio(1, 2),
            ratatui::layout::Constraint::Ratio(1, 2),
        ));
    frame.render_widget(chart, area);
}

/// A round axis top above `peak`: 1, 2, 5 x 10^n.
fn nice_ceiling(peak: f64) -> f64 {
    if peak <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(peak.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&v| v >= peak)
        .unwrap_or(10.0 * magnitude)
}

fn render_lists(transfers: &Transfers, frame: &mut Frame, area: Rect) {
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
        let label = format!("{name} {}", thousands(transfers.ids(*list).len() as u64));
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
            line = line.style(style::cursor(true));
        }
        lines.push(line);
        if transfers.list != ListKind::Done {
            let failed_single = object.route != crate::plan::Route::Multipart
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
            let percent = (object.bytes.min(object.size) * 100)
                .checked_div(object.size)
                .unwrap_or(0);
            let mut figures = format!(
                "{}/{} {:>3}%",
                human_bytes(object.bytes.min(object.size)),
                human_bytes(object.size),
                percent
            );
            if object.parts.len() > 1 {
                figures.push_str(&format!(
                    " {}/{}p",
                    thousands(object.parts_done() as u64),
                    thousands(object.parts.len() as u64)
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
            if *attempts > object.parts.len().max(1) as u32 {
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

fn class_name(class: crate::error::Class) -> &'static str {
    use crate::error::Class;
    match class {
        Class::Retryable => "retryable",
        Class::SlowDown => "slowdown",
        Class::SourceChanged => "source changed",
        Class::Fatal => "fatal",
        Class::NotFound => "not found",
    }
}

/// Two lines about the selected object: why it failed, what was verified, what it is doing.
fn detail_lines(object: &ObjectRun, width: usize) -> Vec<Line<'static>> {
    let (first, second) = match &object.outcome {
        None => (
            match object.route {
                crate::plan::Route::Multipart => format!(
                    "multipart · {} parts of {}{}",
                    thousands(object.parts.len() as u64),
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
        Some(Outcome::Done { verification, .. }) => (
            format!("source: {}", verification.source),
            format!("target: {}", verification.target),
        ),
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
