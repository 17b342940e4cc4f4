//! Colours, symbols and text helpers shared by the views. Every state that has a colour also
//! has its own symbol or word, so the screen reads without colour.

use std::time::Duration;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use crate::tui::app::Level;
use crate::tui::app::badges::Badge;
use crate::tui::app::transfers::PartState;

pub const ACCENT: Color = Color::Cyan;
pub const DIM: Color = Color::DarkGray;

pub fn dim() -> Style {
    Style::new().fg(DIM)
}

pub fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn header() -> Style {
    Style::new().fg(Color::Gray).add_modifier(Modifier::BOLD)
}

/// Border of a box, brighter when it has the focus.
pub fn border(focused: bool) -> Style {
    if focused {
        Style::new().fg(ACCENT)
    } else {
        dim()
    }
}

/// A row of coloured spans under the cursor. Focused, every span turns white on the
/// highlight: a blue folder name or `same` badge would vanish on the blue bar otherwise.
pub fn cursor_line(mut line: Line<'static>, focused: bool) -> Line<'static> {
    if focused {
        for span in &mut line.spans {
            span.style = span.style.fg(Color::White).remove_modifier(Modifier::DIM);
        }
    }
    line.style(cursor(focused))
}

/// The row under the cursor.
pub fn cursor(focused: bool) -> Style {
    if focused {
        Style::new().bg(Color::Blue).fg(Color::White)
    } else {
        Style::new().add_modifier(Modifier::UNDERLINED)
    }
}

pub fn level(level: Level) -> Style {
    match level {
        Level::Info => Style::new().fg(Color::Gray),
        Level::Warn => Style::new().fg(Color::Yellow),
        Level::Error => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

/// Symbol and colour of a part in the part map.
pub fn part(state: PartState) -> (&'static str, Color) {
    match state {
        PartState::Pending => ("·", Color::DarkGray),
        PartState::InFlight => ("▒", Color::Cyan),
        PartState::Done => ("█", Color::Green),
        PartState::Retrying => ("r", Color::Yellow),
        PartState::Failed => ("x", Color::Red),
    }
}

/// A browser badge, short (4 columns) or long (14).
pub fn badge(badge: Badge, long: bool) -> Span<'static> {
    let (short, full, color) = match badge {
        Badge::New => ("new", "new", Color::Green),
        Badge::Differs => ("diff", "differs", Color::Yellow),
        Badge::Same => ("same", "same", Color::Blue),
        Badge::Unknown => ("?", "?", Color::Magenta),
        Badge::OnlyAtTarget => ("only", "only at target", Color::Cyan),
        Badge::Pending => ("…", "…", Color::DarkGray),
    };
    Span::styled(if long { full } else { short }, Style::new().fg(color))
}

/// A braille spinner frame from the injected clock.
pub fn spinner(now: Duration) -> &'static str {
    const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    FRAMES[(now.as_millis() / 100 % FRAMES.len() as u128) as usize]
}

/// `1,234,567`
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes per second in decimal MB/s, as the chart plots them.
pub fn rate(bytes_per_second: f64) -> String {
    let mb = bytes_per_second / 1e6;
    if mb >= 100.0 {
        format!("{mb:.0} MB/s")
    } else {
        format!("{mb:.1} MB/s")
    }
}

/// At most `width` characters: the middle is replaced by '…' (both ends of a key matter).
pub fn fit_middle(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    if width <= 1 {
        return "…".chars().take(width).collect();
    }
    let head = (width - 1) / 2;
    let tail = width - 1 - head;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(count - tail));
    out
}

/// At most `width` characters, keeping the end (paths: the deepest folder matters).
pub fn fit_left(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::from("…");
    out.extend(text.chars().skip(count - (width - 1)));
    out
}

/// At most `width` characters, cut at the end with '…'.
pub fn fit(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// `text` padded or cut to exactly `width` columns, left-aligned.
pub fn pad(text: &str, width: usize) -> String {
    format!("{:<width$}", fit(text, width))
}

/// `text` right-aligned in `width` columns.
pub fn pad_right(text: &str, width: usize) -> String {
    format!("{:>width$}", fit(text, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_helpers() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(fit_middle("abcdefghij", 7), "abc…hij");
        assert_eq!(fit_left("abcdefghij", 5), "…ghij");
        assert_eq!(fit("abcdefghij", 5), "abcd…");
        assert_eq!(rate(112_345_678.0), "112 MB/s");
        assert_eq!(rate(5_500_000.0), "5.5 MB/s");
    }
}
