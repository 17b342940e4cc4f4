//! Screen geometry shared by the views (where to draw) and the update (how many rows a list
//! shows, so scrolling and "HEAD the visible rows" agree with what is drawn). Pure functions
//! of a [`Rect`].

use ratatui::layout::{Constraint, Layout, Rect};

/// The three bands of every screen.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    pub tabs: Rect,
    pub body: Rect,
    pub status: Rect,
}

pub fn screen(area: Rect) -> Screen {
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    Screen { tabs, body, status }
}

/// Inside of a bordered block.
pub fn inner(area: Rect) -> Rect {
    area.inner(ratatui::layout::Margin::new(1, 1))
}

/// Source and target panes, side by side.
pub fn browser(body: Rect) -> [Rect; 2] {
    Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body)
}

/// A pane's inside: column header, list, one detail line for the entry under the cursor.
pub fn pane(area: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(inner(area))
}

/// Plan tab: summary and settings on top, the object table below.
pub fn plan(body: Rect) -> (Rect, Rect, Rect) {
    let [top, table] = Layout::vertical([Constraint::Length(9), Constraint::Min(0)]).areas(body);
    let [summary, settings] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
    (summary, settings, table)
}

/// The object table's inside: header, rows, two detail lines.
pub fn plan_table(area: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(2),
    ])
    .areas(inner(area))
}

/// Transfers tab: overview and chart side by side, then the object lists.
pub fn transfers(body: Rect) -> (Rect, Rect, Rect) {
    let top_height = (body.height / 3).clamp(8, 14);
    let [top, lists] =
        Layout::vertical([Constraint::Length(top_height), Constraint::Min(0)]).areas(body);
    let [overview, chart] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    (overview, chart, lists)
}

/// The lists' inside: rows, then three detail lines for the selected object (an S3 error
/// with its hint needs them at 80 columns).
pub fn transfer_list(area: Rect) -> [Rect; 2] {
    Layout::vertical([Constraint::Min(0), Constraint::Length(3)]).areas(inner(area))
}

/// A centered box of at most `width` x `height` inside `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// How many list rows each tab shows at a terminal size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rows {
    pub browser: usize,
    pub plan: usize,
    pub transfers: usize,
}

impl Rows {
    pub fn of((columns, rows): (u16, u16)) -> Rows {
        let body = screen(Rect::new(0, 0, columns, rows)).body;
        let [left, _] = browser(body);
        let [_, list, _] = pane(left);
        let (_, _, table) = plan(body);
        let [_, table_rows, _] = plan_table(table);
        let (_, _, lists) = transfers(body);
        let [list_rows, _] = transfer_list(lists);
        Rows {
            browser: list.height as usize,
            plan: table_rows.height as usize,
            transfers: list_rows.height as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_at_80x24() {
        assert_eq!(
            Rows::of((80, 24)),
            Rows {
                browser: 18,
                plan: 8,
                transfers: 9
            }
        );
    }
}
