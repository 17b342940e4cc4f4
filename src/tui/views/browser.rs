//! The Browser tab: source and target panes side by side. Only the visible rows are built
//! (the window comes from the pane's offset), so a folder of 100,000 objects draws as fast as
//! one of ten. Columns give way as the pane narrows: the date column goes first, and the
//! detail line under the list always shows the full facts of the entry under the cursor.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::style::{self, fit, fit_left, fit_middle, pad, pad_right, thousands};
use crate::tui::app::App;
use crate::tui::app::browser::{ListStatus, Pane};
use crate::tui::app::listing::{Entry, SortKey};
use crate::tui::layout;
use airlock_core::config::Side;
use airlock_core::plan::Verdict;
use airlock_core::progress::{human_bytes, human_time};

#[cfg(test)]
thread_local! {
    /// Rows built by the last renders (tests prove only the visible ones are).
    pub static ROWS_BUILT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let [left, right] = layout::browser(area);
    render_pane(app, Side::Source, frame, left);
    render_pane(app, Side::Target, frame, right);
}

/// Which columns fit in a pane `width` wide.
struct Columns {
    name: usize,
    date: usize,
    badge: usize,
}

impl Columns {
    const MARK: usize = 2;
    const SIZE: usize = 9;

    fn of(width: usize) -> Columns {
        let (date, badge) = if width >= 64 {
            (16, 14)
        } else if width >= 50 {
            (10, 4)
        } else {
            (0, 4)
        };
        let used = Self::MARK + Self::SIZE + 1 + badge + 1 + if date > 0 { date + 1 } else { 0 };
        Columns {
            name: width.saturating_sub(used).max(4),
            date,
            badge,
        }
    }
}

fn render_pane(app: &App, side: Side, frame: &mut Frame, area: Rect) {
    let browser = &app.browser;
    let pane = browser.pane(side);
    let focused = browser.focus == side;
    let block = pane_block(app, pane, focused, area.width as usize);
    frame.render_widget(block, area);
    let [header_area, list_area, detail_area] = layout::pane(area);
    let columns = Columns::of(list_area.width as usize);
    let sort = pane.listing.sort;
    let arrow = |key: SortKey, label: &str| {
        if key == sort {
            format!("{label}{}", if key == SortKey::Name { "↑" } else { "↓" })
        } else {
            label.to_string()
        }
    };
    let mut header = format!(
        "{}{}",
        " ".repeat(Columns::MARK),
        pad(&arrow(SortKey::Name, "NAME"), columns.name)
    );
    header.push_str(&format!(
        " {}",
        pad_right(&arrow(SortKey::Size, "SIZE"), Columns::SIZE)
    ));
    if columns.date > 0 {
        header.push_str(&format!(
            " {}",
            pad(&arrow(SortKey::Date, "MODIFIED"), columns.date)
        ));
    }
    let compared = if columns.badge > 4 { "COMPARED" } else { "CMP" };
    header.push_str(&format!(" {}", pad(compared, columns.badge)));
    frame.render_widget(Paragraph::new(header).style(style::header()), header_area);

    if pane.listing.is_empty() {
        let text = empty_text(app, pane);
        frame.render_widget(
            Paragraph::new(text)
                .alignment(Alignment::Center)
                .wrap(Wrap { trim: true }),
            list_area,
        );
    } else {
        let end = (pane.offset + list_area.height as usize).min(pane.listing.len());
        let lines: Vec<Line> = (pane.offset..end)
            .map(|row| entry_line(app, pane, row, focused, &columns))
            .collect();
        frame.render_widget(Paragraph::new(lines), list_area);
    }
    frame.render_widget(
        Paragraph::new(detail_line(app, pane, detail_area.width as usize)),
        detail_area,
    );
}

fn pane_block(app: &App, pane: &Pane, focused: bool, width: usize) -> Block<'static> {
    let name = match pane.side {
        Side::Source => "Source",
        Side::Target => "Target",
    };
    let count = match &pane.status {
        ListStatus::Loading => format!(" {} {} ", style::spinner(app.now), extent(pane)),
        ListStatus::Done => format!(" {} ", extent(pane)),
        ListStatus::Failed(_) => " failed ".to_string(),
    };
    let follow = if pane.side == Side::Target && !app.browser.following() {
        " (own folder)"
    } else {
        ""
    };
    // Borders, the name, a space and the count leave this much for the path.
    let path_room = width.saturating_sub(count.chars().count() + name.len() + follow.len() + 6);
    let full = format!("s3://{}/{}", pane.bucket, pane.prefix());
    let path = if full.chars().count() <= path_room {
        full
    } else {
        fit_left(&format!("{}/{}", pane.bucket, pane.prefix()), path_room)
    };
    let mut block = Block::bordered()
        .border_style(style::border(focused))
        .title(Line::from(vec![
            Span::styled(format!(" {name} "), style::bold()),
            Span::raw(format!("{path}{follow} ")),
        ]))
        .title_top(Line::from(count).right_aligned());
    if let Some(input) = &pane.filter_input {
        block = block.title_bottom(Line::from(vec![
            Span::styled(" filter: ", Style::new().fg(Color::Yellow)),
            Span::raw(input.text.clone()),
            Span::styled("▏", Style::new().fg(Color::Yellow)),
            Span::raw(" "),
        ]));
    } else if !pane.listing.filter().is_empty() {
        block = block.title_bottom(Line::from(vec![Span::styled(
            format!(
                " filter: {} (/ edits, esc in / clears) ",
                pane.listing.filter()
            ),
            Style::new().fg(Color::Yellow),
        )]));
    } else if pane.frozen() {
        block = block.title_bottom(Line::from(vec![Span::styled(
            format!(
                " sorted: {} loaded only ",
                thousands(pane.listing.total() as u64)
            ),
            Style::new().fg(Color::Yellow),
        )]));
    }
    block
}

/// How much of the folder the pane holds: the whole folder's count, or the window's rows
/// and what is known of the rest ("2,001–12,000 of 12,000+").
fn extent(pane: &Pane) -> String {
    let listing = &pane.listing;
    let shown = if listing.filter().is_empty() {
        String::new()
    } else {
        format!("{} of ", thousands(listing.len() as u64))
    };
    if listing.complete() || listing.pages() == 0 {
        return format!("{shown}{}", thousands(listing.total() as u64));
    }
    let shown = shown.replace(" of ", " in ");
    let first = listing.rows_before() + 1;
    let last = listing.rows_before() + listing.total() as u64;
    let whole = match listing.total_rows() {
        Some(rows) => thousands(rows),
        None => format!("{}+", thousands(last)),
    };
    format!("{shown}{}–{} of {whole}", thousands(first), thousands(last))
}

fn empty_text(app: &App, pane: &Pane) -> Vec<Line<'static>> {
    match &pane.status {
        ListStatus::Loading => vec![
            Line::raw(""),
            Line::raw(format!("{} listing…", style::spinner(app.now))),
        ],
        ListStatus::Failed(error) => vec![
            Line::styled("listing failed", Style::new().fg(Color::Red)),
            Line::raw(error.clone()),
            Line::styled("ctrl-r lists again", style::dim()),
        ],
        ListStatus::Done if pane.listing.total() > 0 => vec![
            Line::raw(""),
            Line::raw(format!("no name contains '{}'", pane.listing.filter())),
            if pane.listing.complete() {
                Line::raw("")
            } else {
                Line::styled("(among the rows loaded; the folder has more)", style::dim())
            },
        ],
        ListStatus::Done => vec![Line::raw(""), Line::styled("(empty)", style::dim())],
    }
}

fn entry_line(
    app: &App,
    pane: &Pane,
    row: usize,
    focused: bool,
    columns: &Columns,
) -> Line<'static> {
    #[cfg(test)]
    ROWS_BUILT.with(|n| n.set(n.get() + 1));
    let Some(entry) = pane.listing.at(row) else {
        return Line::raw("");
    };
    let selected = pane.side == Side::Source && app.browser.selection.contains_key(entry.key());
    // The cursor and the selection have symbols too, so they read without colour.
    let mut spans = vec![
        Span::raw(if row == pane.cursor { "▸" } else { " " }),
        if selected {
            Span::styled("●", Style::new().fg(Color::Yellow))
        } else {
            Span::raw(" ")
        },
    ];
    let name = pane.listing.name(entry);
    let (name_style, size, date) = match entry {
        Entry::Folder(_) => (Style::new().fg(Color::Blue), String::new(), None),
        Entry::Object(object) => (
            Style::new(),
            human_bytes(object.size),
            Some(human_time(object.modified_ms)),
        ),
    };
    spans.push(Span::styled(
        format!("{:<w$}", fit_middle(name, columns.name), w = columns.name),
        name_style,
    ));
    spans.push(Span::raw(format!(" {}", pad_right(&size, Columns::SIZE))));
    if columns.date > 0 {
        let date: String = date
            .map(|d| d.chars().take(columns.date).collect())
            .unwrap_or_default();
        spans.push(Span::styled(
            format!(" {}", pad(&date, columns.date)),
            style::dim(),
        ));
    }
    spans.push(Span::raw(" "));
    if let Some(badge) = app.browser.badge(pane.side, entry) {
        spans.push(style::badge(badge, columns.badge > 4));
    }
    let line = Line::from(spans);
    if row == pane.cursor {
        style::cursor_line(line, focused)
    } else {
        line
    }
}

/// Full facts of the entry under the cursor.
fn detail_line(app: &App, pane: &Pane, width: usize) -> Line<'static> {
    let text = match pane.current() {
        None => String::new(),
        Some(Entry::Folder(_)) => "folder · enter opens it".to_string(),
        Some(Entry::Object(object)) => {
            let time = human_time(object.modified_ms);
            let mut text = format!(
                "{} · {} B",
                &time[..16.min(time.len())],
                thousands(object.size)
            );
            if let Some(reason) = counterpart_reason(app, pane.side, object) {
                text.push_str(&format!(" · {reason}"));
            }
            text
        }
    };
    Line::styled(fit(&text, width), style::dim())
}

/// Why the badge says what it says, when both sides hold the object.
fn counterpart_reason(
    app: &App,
    side: Side,
    object: &airlock_core::plan::ObjectInfo,
) -> Option<String> {
    let browser = &app.browser;
    if !browser.following() {
        return None;
    }
    let other_key = match side {
        Side::Source => {
            airlock_core::plan::target_key(&object.key, &browser.source.root, &browser.target.root)
        }
        Side::Target => {
            airlock_core::plan::target_key(&object.key, &browser.target.root, &browser.source.root)
        }
    };
    let there = browser
        .pane(side.other())
        .listing
        .get(&other_key)?
        .object()?;
    let (source, target) = match side {
        Side::Source => (object, there),
        Side::Target => (there, object),
    };
    Some(match browser.verdict(source, target) {
        Verdict::Unknown(_) if heads_pending(app, source, target) => "comparing (HEAD)…".into(),
        Verdict::Unknown(_) => "no checksum or ETag to compare: will be copied again".into(),
        verdict => verdict.reason().to_string(),
    })
}

fn heads_pending(
    app: &App,
    source: &airlock_core::plan::ObjectInfo,
    target: &airlock_core::plan::ObjectInfo,
) -> bool {
    use crate::tui::app::browser::Head;
    let heads = &app.browser.heads;
    [(Side::Source, &source.key), (Side::Target, &target.key)]
        .iter()
        .any(|(side, key)| heads.get(&(*side, (*key).clone())) == Some(&Head::InFlight))
}
