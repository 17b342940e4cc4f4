//! The help overlay, generated from the keymap in effect (the current tab's bindings, then
//! the global ones, then what the symbols mean), and the message log overlay.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::style;
use crate::tui::app::badges::Badge;
use crate::tui::app::transfers::PartState;
use crate::tui::app::{App, Tab};
use crate::tui::keymap::HelpSection;
use airlock_core::progress::human_duration;

fn section_lines(section: &HelpSection, key_width: usize) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(
        section.title.to_string(),
        style::bold().fg(style::ACCENT),
    )];
    for (keys, text) in &section.entries {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{keys:>key_width$} "),
                Style::new().fg(Color::Yellow),
            ),
            Span::raw(text.to_string()),
        ]));
    }
    lines
}

/// What the symbols of the current tab mean, one per line.
fn legend(tab: Tab) -> Vec<Line<'static>> {
    let row = |symbol: Span<'static>, meaning: &'static str| {
        let pad = 5usize.saturating_sub(symbol.width());
        Line::from(vec![
            symbol,
            Span::raw(" ".repeat(pad)),
            Span::styled(meaning, style::dim()),
        ])
    };
    match tab {
        Tab::Browser => {
            let mut lines = vec![Line::styled("Compared", style::bold().fg(style::ACCENT))];
            for (badge, meaning) in [
                (Badge::New, "only at the source"),
                (Badge::Differs, "differs from the target"),
                (Badge::Same, "same at the target"),
                (Badge::Unknown, "undecided: HEADs ask"),
                (Badge::OnlyAtTarget, "only at the target"),
            ] {
                lines.push(row(style::badge(badge, false), meaning));
            }
            lines.push(row(
                Span::styled("●", Style::new().fg(Color::Yellow)),
                "selected",
            ));
            lines
        }
        Tab::Transfers => {
            let mut lines = vec![Line::styled("Part map", style::bold().fg(style::ACCENT))];
            for (state, meaning) in [
                (PartState::Pending, "pending"),
                (PartState::InFlight, "in flight"),
                (PartState::Done, "done"),
                (PartState::Retrying, "retrying"),
                (PartState::Failed, "failed"),
            ] {
                let (symbol, color) = style::part(state);
                lines.push(row(Span::styled(symbol, Style::new().fg(color)), meaning));
            }
            lines
        }
        Tab::Plan => vec![
            Line::styled("Sizes", style::bold().fg(style::ACCENT)),
            Line::styled("64MiB, 1.5GiB, 5MB, bytes", style::dim()),
            Line::styled("part size also takes auto", style::dim()),
        ],
    }
}

pub fn render_help(app: &App, frame: &mut Frame, area: Rect) {
    let sections = app.keymap.help();
    let tab_section = match app.tab {
        Tab::Browser => &sections[1],
        Tab::Plan => &sections[2],
        Tab::Transfers => &sections[3],
    };
    let key_width = |section: &HelpSection| {
        section
            .entries
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(4)
            .min(14)
    };
    let left = section_lines(tab_section, key_width(tab_section));
    let mut right = section_lines(&sections[0], key_width(&sections[0]));
    right.push(Line::raw(""));
    right.extend(legend(app.tab));
    let height = (left.len().max(right.len()) as u16 + 2).min(area.height);
    let box_area = layout_box(area, 100, height);
    frame.render_widget(Clear, box_area);
    let block = Block::bordered()
        .border_style(Style::new().fg(style::ACCENT))
        .title(Span::styled(
            format!(" Help · {} ", app.tab.title()),
            style::bold(),
        ))
        .title_bottom(
            Line::styled(" esc closes · keys from keybindings.toml ", style::dim()).right_aligned(),
        );
    let inner = block.inner(box_area);
    frame.render_widget(block, box_area);
    let [l, r] =
        Layout::horizontal([Constraint::Percentage(57), Constraint::Percentage(43)]).areas(inner);
    frame.render_widget(Paragraph::new(left), l);
    frame.render_widget(Paragraph::new(right), r);
}

fn layout_box(area: Rect, width: u16, height: u16) -> Rect {
    crate::tui::layout::centered(area, width.min(area.width), height)
}

pub fn render_log(app: &App, frame: &mut Frame, area: Rect) {
    let box_area = layout_box(area, area.width, area.height);
    frame.render_widget(Clear, box_area);
    let block = Block::bordered()
        .border_style(Style::new().fg(style::ACCENT))
        .title(Span::styled(" Messages ", style::bold()))
        .title_bottom(
            Line::styled(" esc closes · full log in the log file ", style::dim()).right_aligned(),
        );
    let inner = block.inner(box_area);
    frame.render_widget(block, box_area);
    let rows = inner.height as usize;
    let skip = app.log.len().saturating_sub(rows);
    let lines: Vec<Line> = app
        .log
        .iter()
        .skip(skip)
        .map(|line| {
            Line::from(vec![
                Span::styled(format!("{:>8} ", human_duration(line.at)), style::dim()),
                Span::styled(line.text.clone(), style::level(line.level)),
            ])
        })
        .collect();
    if lines.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no messages", style::dim())),
            inner,
        );
    } else {
        frame.render_widget(
            Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
            inner,
        );
    }
}
