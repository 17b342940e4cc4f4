//! Paging a pane's folder window: which listing page a pane asks for next, and which page it
//! forgets when the window is full. Everything turns on an *anchor*, the key the pane wants
//! rows around: the entry under its cursor, the folder it came back from (until it shows),
//! or, for a target pane that follows the source, the counterpart of the source's cursor (so
//! the badges of the rows the user looks at are decided by listings, not guesses).
//!
//! A folder's first [`WINDOW_PAGES`] pages load in the background as before; past them, a page
//! is fetched only when fewer than [`AHEAD_ROWS`] rows are loaded beyond the anchor (either
//! way), and the window drops the page on the side farther from the anchor. One request per
//! pane is in flight at a time. A window sorted by size or date that does not hold the whole
//! folder is frozen: paging would reshuffle the rows under the cursor.

use super::Out;
use super::browser::{Browser, ListStatus, Pane};
use super::listing::{SortKey, WINDOW_PAGES};
use crate::tui::msg::Effect;
use airlock_core::config::Side;
use airlock_core::plan;

/// Rows a pane keeps loaded beyond its anchor, each way, when the folder has them.
pub const AHEAD_ROWS: usize = 1_500;

impl Pane {
    /// Ask for page `page` of the current folder (its mark must be known).
    pub(super) fn request_page(&mut self, page: usize, out: &mut Out) {
        let Some(mark) = self.listing.mark(page) else {
            return;
        };
        out.effects.push(Effect::List {
            side: self.side,
            prefix: self.listing.prefix.clone(),
            continuation: mark.token.clone(),
            request: self.request,
            page,
        });
        self.loading = Some(page);
        self.status = ListStatus::Loading;
    }

    /// The window is sorted by something else than the listing order and does not hold the
    /// whole folder: it stays as it is.
    pub fn frozen(&self) -> bool {
        self.listing.sort != SortKey::Name && !self.listing.complete()
    }

    /// Rows of the window before and after `anchor` (in key order).
    fn around(&self, anchor: &str) -> (usize, usize) {
        let before = self.listing.rows_before_key(anchor);
        (before, self.listing.total() - before)
    }

    /// Ask for the next page the window needs around `anchor`, if any.
    pub(super) fn want_page(&mut self, anchor: Option<&str>, out: &mut Out) {
        let listing = &self.listing;
        if self.loading.is_some()
            || matches!(self.status, ListStatus::Failed(_))
            || listing.pages() == 0
            || self.frozen()
        {
            return;
        }
        let (before, after) = match anchor {
            Some(anchor) => self.around(anchor),
            // A filter that matches nothing loaded does not scan the folder.
            None if !listing.filter().is_empty() => return,
            None => (0, listing.total()),
        };
        let filling = listing.first_page() == 0 && listing.pages() < WINDOW_PAGES;
        if listing.more_after() && (after < AHEAD_ROWS || filling) {
            let page = listing.end_page();
            self.request_page(page, out);
        } else if listing.first_page() > 0 && before < AHEAD_ROWS {
            let page = listing.first_page() - 1;
            self.request_page(page, out);
        }
    }

    /// Drop pages far from `anchor` until the window holds at most [`WINDOW_PAGES`]; true if
    /// one was dropped.
    pub(super) fn trim(&mut self, anchor: Option<&str>) -> bool {
        let mut dropped = false;
        while self.listing.pages() > WINDOW_PAGES {
            let (before, after) = match anchor {
                Some(anchor) => self.around(anchor),
                None => (self.listing.total(), 0),
            };
            if after > before {
                self.listing.drop_back();
            } else {
                self.listing.drop_front();
            }
            dropped = true;
        }
        dropped
    }

    /// After the window changed: the cursor back on `keep` (or on the revealed folder) at the
    /// same screen row; when its entry was dropped, on the first row at or after `anchor` (a
    /// following target pane then shows the counterpart of the source's cursor).
    pub(super) fn settle(
        &mut self,
        keep: Option<String>,
        anchor: Option<&str>,
        screen_row: usize,
        rows: usize,
    ) {
        let reveal = self.reveal.as_ref().and_then(|k| self.listing.position(k));
        if self.reveal.is_some() && reveal.is_none() && !self.listing.more_after() {
            // Listed to the end without it (deleted meanwhile): stop looking.
            self.reveal = None;
        }
        if let Some(position) = reveal {
            self.cursor = position;
            self.offset = position.saturating_sub(rows / 2);
            self.reveal = None;
        } else if let Some(key) = keep {
            match self.listing.position(&key) {
                Some(position) => {
                    self.cursor = position;
                    self.offset = position.saturating_sub(screen_row);
                }
                None => match anchor {
                    Some(anchor) => self.cursor_to(anchor, screen_row, rows),
                    None => (self.cursor, self.offset) = (0, 0),
                },
            }
        }
        self.scroll(rows);
    }

    /// The cursor on the first row at or after `anchor` (the window's last row if none), at
    /// `screen_row` of the list.
    pub(super) fn cursor_to(&mut self, anchor: &str, screen_row: usize, rows: usize) {
        let listing = &self.listing;
        self.cursor = (0..listing.len())
            .find(|&row| listing.at(row).is_some_and(|e| e.key() >= anchor))
            .unwrap_or(listing.len().saturating_sub(1));
        self.offset = self.cursor.saturating_sub(screen_row);
        self.scroll(rows);
    }
}

impl Browser {
    /// The key a pane wants rows around (see the module docs).
    pub(super) fn anchor(&self, side: Side) -> Option<String> {
        let pane = self.pane(side);
        if let Some(reveal) = &pane.reveal {
            return Some(reveal.clone());
        }
        if side == Side::Target
            && self.focus == Side::Source
            && self.following()
            && let Some(entry) = self.source.current()
        {
            return Some(plan::target_key(
                entry.key(),
                &self.source.root,
                &self.target.root,
            ));
        }
        pane.current().map(|e| e.key().to_string())
    }

    /// Both panes ask for the pages their anchors need. In a folder too big for one window, a
    /// target pane that follows the source also moves its cursor to the counterpart of the
    /// source's, on the same screen row, so the two panes show the same part of the folder.
    pub(super) fn page_panes(&mut self, out: &mut Out) {
        let partial = !self.source.listing.complete() || !self.target.listing.complete();
        if partial
            && self.focus == Side::Source
            && let Some(anchor) = self.anchor(Side::Target)
        {
            let (rows, screen_row) = (self.list_rows, self.source.cursor - self.source.offset);
            self.target.cursor_to(&anchor, screen_row, rows);
        }
        for side in [Side::Source, Side::Target] {
            let anchor = self.anchor(side);
            self.pane_mut(side).want_page(anchor.as_deref(), out);
        }
    }
}
