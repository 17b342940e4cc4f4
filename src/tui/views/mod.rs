//! Pure renders of [`App`]: `render(&App, &mut Frame)` draws the tab bar, the current tab,
//! the status line and any overlay. Views do no I/O, hold no senders, and read the clock only
//! from `App::now`, so every screen is a deterministic snapshot.

pub mod browser;
pub mod chart;
pub mod dialog;
pub mod help;
pub mod partmap;
pub mod plan;
pub mod style;
pub mod transfer_lists;
pub mod transfers;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::transfers::Phase;
use crate::tui::app::{App, Level, Overlay, Tab};
use crate::tui::keymap::{Action, Context};
use crate::tui::layout;
use airlock_core::progress::human_bytes;

/// How long a message stays on the status line.
const STATUS_INFO_FOR: std::time::Duration = std::time::Duration::from_secs(15);
const STATUS_WARNING_FOR: std::time::Duration = std::time::Duration::from_secs(120);

/// Draw the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let screen = layout::screen(frame.area());
    render_tabs(app, frame, screen.tabs);
    match app.tab {
        Tab::Browser => browser::render(app, frame, screen.body),
        Tab::Plan => plan::render(app, frame, screen.body),
        Tab::Transfers => transfers::render(app, frame, screen.body),
    }
    render_status(app, frame, screen.status);
    match &app.overlay {
        None => {}
        Some(Overlay::Help) => help::render_help(app, frame, screen.body),
        Some(Overlay::Log) => help::render_log(app, frame, screen.body),
        Some(Overlay::Confirm(confirm)) => {
            dialog::render_confirm(app, *confirm, frame, screen.body)
        }
        Some(Overlay::SavePlan(input)) => dialog::render_save(input, frame, screen.body),
    }
}

fn render_tabs(app: &App, frame: &mut Frame, area: Rect) {
    let mut spans = vec![Span::styled(
        " airlock ",
        Style::new()
            .fg(Color::Black)
            .bg(style::ACCENT)
            .add_modifier(Modifier::BOLD),
    )];
    for (i, tab) in Tab::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, tab.title());
        spans.push(Span::raw(" "));
        spans.push(if *tab == app.tab {
            Span::styled(
                label,
                Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            )
        } else {
            Span::styled(label, style::dim())
        });
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    let run = run_indicator(app);
    frame.render_widget(Paragraph::new(run).right_aligned(), area);
}

/// The run's state, visible from every tab.
fn run_indicator(app: &App) -> Line<'static> {
    let transfers = &app.transfers;
    let stats = &transfers.stats;
    let percent = if stats.total_bytes > 0 {
        transfers.moved_bytes() as f64 * 100.0 / stats.total_bytes as f64
    } else {
        0.0
    };
    let (text, color) = match &transfers.phase {
        Phase::Idle => return Line::raw(""),
        Phase::Starting => ("starting…".to_string(), Color::Cyan),
        Phase::Running if transfers.paused => (format!("‖ paused {percent:.0}%"), Color::Yellow),
        Phase::Running => {
            let (_, put) = stats.rates();
            (
                format!("▶ {percent:.0}% · {}", style::rate(put)),
                Color::Cyan,
            )
        }
        Phase::Stopping => ("■ stopping…".to_string(), Color::Yellow),
        Phase::Finished(summary) if summary.failed > 0 => {
            (format!("✗ {} failed", summary.failed), Color::Red)
        }
        Phase::Finished(summary) if summary.interrupted => ("■ stopped".to_string(), Color::Yellow),
        Phase::Finished(_) => ("✓ done".to_string(), Color::Green),
    };
    Line::styled(format!("{text} "), Style::new().fg(color))
}

fn render_status(app: &App, frame: &mut Frame, area: Rect) {
    let hints = status_hints(app);
    let hints_width = hints.chars().count() as u16 + 3;
    let message_width = area.width.saturating_sub(hints_width) as usize;
    // News fades from the status line; warnings and errors stay longer. `L` shows them all.
    let fresh = |line: &&crate::tui::app::LogLine| {
        let shown_for = match line.level {
            Level::Info => STATUS_INFO_FOR,
            Level::Warn | Level::Error => STATUS_WARNING_FOR,
        };
        app.now.saturating_sub(line.at) < shown_for
    };
    if let Some(line) = app.log.back().filter(fresh) {
        let style = style::level(line.level);
        let text = style::fit(&line.text, message_width.saturating_sub(1));
        frame.render_widget(
            Paragraph::new(Span::styled(format!(" {text}"), style)),
            area,
        );
    }
    frame.render_widget(
        Paragraph::new(Span::styled(format!("{hints} "), style::dim())).right_aligned(),
        area,
    );
}

/// The Transfers keys that do something now: pause or resume while the run goes, retry while
/// something has failed.
fn transfers_hints(app: &App, key: impl Fn(Context, Action) -> String) -> String {
    let transfers = &app.transfers;
    let mut hints = Vec::new();
    if matches!(transfers.phase, Phase::Starting | Phase::Running) {
        let verb = if transfers.paused { "resume" } else { "pause" };
        hints.push(format!("{} {verb}", key(Context::Transfers, Action::Pause)));
    }
    if transfers.failed_count > 0 && transfers.phase != Phase::Stopping {
        let retry = key(Context::Transfers, Action::RetryFailed);
        hints.push(format!("{retry} retry failed"));
    }
    hints.join(" · ")
}

/// Short context on the right of the status line: the selection, and where help is.
fn status_hints(app: &App) -> String {
    let key = |context, action| app.keymap.key_for(context, action).unwrap_or_default();
    let help = format!("{} help", key(Context::Global, Action::Help));
    let context = match app.tab {
        Tab::Browser => {
            let browser = &app.browser;
            let objects = browser.selection.len() - browser.selected_folders;
            let folders = browser.selected_folders;
            match (objects, folders) {
                (0, 0) => String::new(),
                // Only folders: their sizes are unknown until the plan lists them.
                (0, _) => format!("{folders} dir sel"),
                (_, 0) => format!("{objects} sel · {}", human_bytes(browser.selected_bytes)),
                _ => format!(
                    "{objects} sel · {} + {folders} dir",
                    human_bytes(browser.selected_bytes)
                ),
            }
        }
        Tab::Plan => format!(
            "{} start · {} save",
            key(Context::Plan, Action::StartRun),
            key(Context::Plan, Action::SavePlan)
        ),
        Tab::Transfers => transfers_hints(app, key),
    };
    if context.is_empty() {
        help
    } else {
        format!("{context} │ {help}")
    }
}
