//! The Browser tab's state and its update: two panes (source, target) that list folders a
//! page at a time into a bounded window (paging in [`super::paging`]), a cursor and scroll
//! window per pane, the filter, the sort key, and the
//! selection (kept by key, so it survives navigation). The target pane follows the source
//! pane's folder (mapped with [`plan::target_key`]) until it is navigated on its own.
//! Badges and the HEADs behind them are in [`super::badges`].

use std::collections::{BTreeMap, HashMap};

use super::Out;
use super::listing::{Entry, FolderListing};
pub use super::selection::Selected;
use crate::tui::input::{InputOutcome, TextInput};
use crate::tui::keymap::Action;
use airlock_core::aws::Listing;
use airlock_core::config::{CompareMode, Settings, Side};
use airlock_core::error::Result;
use airlock_core::plan::{self, ObjectInfo};

/// Where a pane's listing stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ListStatus {
    /// A page is on its way (`Pane::loading` says which).
    Loading,
    Done,
    Failed(String),
}

/// One side's pane.
#[derive(Debug, Clone)]
pub struct Pane {
    pub side: Side,
    pub bucket: String,
    /// The configured prefix: the pane never goes above it.
    pub root: String,
    /// The current folder (its prefix is `listing.prefix`).
    pub listing: FolderListing,
    /// Row of the view under the cursor.
    pub cursor: usize,
    /// First row shown.
    pub offset: usize,
    pub status: ListStatus,
    /// Id of the listing in progress; pages of older listings are dropped.
    pub request: u64,
    /// The page of the folder asked for and not yet answered (one at a time).
    pub loading: Option<usize>,
    /// The filter being typed (the applied filter lives in `listing`).
    pub filter_input: Option<TextInput>,
    /// Put the cursor on this key when it appears (the folder we came back from).
    pub(super) reveal: Option<String>,
}

impl Pane {
    fn new(side: Side, bucket: &str, root: &str) -> Self {
        Pane {
            side,
            bucket: bucket.to_string(),
            root: root.to_string(),
            listing: FolderListing::new(root, Default::default()),
            cursor: 0,
            offset: 0,
            status: ListStatus::Loading,
            request: 0,
            loading: None,
            filter_input: None,
            reveal: None,
        }
    }

    pub fn prefix(&self) -> &str {
        &self.listing.prefix
    }

    pub fn current(&self) -> Option<&Entry> {
        self.listing.at(self.cursor)
    }

    /// Start listing `prefix` from its first page.
    fn navigate(&mut self, prefix: &str, out: &mut Out) {
        self.listing = FolderListing::new(prefix, self.listing.sort);
        self.cursor = 0;
        self.offset = 0;
        self.status = ListStatus::Loading;
        self.filter_input = None;
        self.request += 1;
        self.request_page(0, out);
    }

    /// Keep the cursor inside the view and the window around the cursor.
    pub fn scroll(&mut self, rows: usize) {
        let len = self.listing.len();
        self.cursor = self.cursor.min(len.saturating_sub(1));
        let rows = rows.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + rows {
            self.offset = self.cursor + 1 - rows;
        }
        self.offset = self.offset.min(len.saturating_sub(rows));
    }

    pub(super) fn move_cursor(&mut self, action: Action, rows: usize) {
        // The user moved: the folder we came back from no longer decides where the pane is.
        self.reveal = None;
        let last = self.listing.len().saturating_sub(1);
        self.cursor = match action {
            Action::Up => self.cursor.saturating_sub(1),
            Action::Down => (self.cursor + 1).min(last),
            Action::PageUp => self.cursor.saturating_sub(rows.max(1)),
            Action::PageDown => (self.cursor + rows.max(1)).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            _ => self.cursor,
        };
    }
}

/// The Browser tab.
#[derive(Debug, Clone)]
pub struct Browser {
    pub source: Pane,
    pub target: Pane,
    pub focus: Side,
    pub selection: BTreeMap<String, Selected>,
    /// Bumped on every selection change (the plan knows when it is stale).
    pub selection_version: u64,
    pub selected_bytes: u64,
    pub selected_folders: usize,
    /// HEAD results used to decide `?` badges, by side and key.
    pub heads: HashMap<(Side, String), Head>,
    pub heads_in_flight: usize,
    pub compare: CompareMode,
    /// Rows of a pane's list, from the terminal size.
    pub list_rows: usize,
}

/// A HEAD asked for a badge.
#[derive(Debug, Clone, PartialEq)]
pub enum Head {
    InFlight,
    Done(Option<ObjectInfo>),
    Failed,
}

impl Browser {
    pub fn new(settings: &Settings) -> Self {
        Browser {
            source: Pane::new(
                Side::Source,
                &settings.source.bucket,
                &settings.source.prefix,
            ),
            target: Pane::new(
                Side::Target,
                &settings.target.bucket,
                &settings.target.prefix,
            ),
            focus: Side::Source,
            selection: BTreeMap::new(),
            selection_version: 0,
            selected_bytes: 0,
            selected_folders: 0,
            heads: HashMap::new(),
            heads_in_flight: 0,
            compare: settings.transfer.compare,
            list_rows: 10,
        }
    }

    pub fn pane(&self, side: Side) -> &Pane {
        match side {
            Side::Source => &self.source,
            Side::Target => &self.target,
        }
    }

    pub fn pane_mut(&mut self, side: Side) -> &mut Pane {
        match side {
            Side::Source => &mut self.source,
            Side::Target => &mut self.target,
        }
    }

    /// List both configured prefixes.
    pub fn start(&mut self, out: &mut Out) {
        let (source_root, target_root) = (self.source.root.clone(), self.target.root.clone());
        self.source.navigate(&source_root, out);
        self.target.navigate(&target_root, out);
    }

    /// The target changed (a run ended): list the target pane's folder again and forget what
    /// HEADs said, so the badges show the target as it is now. The source pane keeps its place.
    pub fn target_changed(&mut self, out: &mut Out) {
        self.heads.retain(|_, head| *head == Head::InFlight);
        let prefix = self.target.prefix().to_string();
        self.target.navigate(&prefix, out);
    }

    /// The target folder that mirrors the source pane's folder.
    pub fn mirrored_prefix(&self) -> String {
        plan::target_key(self.source.prefix(), &self.source.root, &self.target.root)
    }

    /// The target pane shows the folder mirroring the source pane.
    pub fn following(&self) -> bool {
        self.target.prefix() == self.mirrored_prefix()
    }

    /// True while the focused pane's filter is being typed (keys go to the input).
    pub fn typing(&self) -> bool {
        self.pane(self.focus).filter_input.is_some()
    }

    pub fn set_list_rows(&mut self, rows: usize) {
        self.list_rows = rows;
        self.source.scroll(rows);
        self.target.scroll(rows);
    }

    pub fn action(&mut self, action: Action, out: &mut Out) {
        let rows = self.list_rows;
        let side = self.focus;
        match action {
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.pane_mut(side).move_cursor(action, rows),
            Action::Open => self.open(side, out),
            Action::Back => self.back(side, out),
            Action::SwitchPane => self.focus = side.other(),
            Action::Filter => {
                let pane = self.pane_mut(side);
                pane.filter_input = Some(TextInput::new(pane.listing.filter()));
            }
            Action::ClearFilter => {
                let pane = self.pane_mut(side);
                let key = pane.current().map(|e| e.key().to_string());
                pane.listing.set_filter("");
                if let Some(position) = key.and_then(|k| pane.listing.position(&k)) {
                    pane.cursor = position;
                }
            }
            Action::Select => self.toggle_current(out),
            Action::SelectAll => self.toggle_all(out),
            Action::ClearSelection => {
                self.selection.clear();
                self.selected_bytes = 0;
                self.selected_folders = 0;
                self.selection_version += 1;
            }
            Action::Sort => {
                let pane = self.pane_mut(side);
                let key = pane.current().map(|e| e.key().to_string());
                let sort = pane.listing.sort.next();
                pane.listing.set_sort(sort);
                if let Some(position) = key.and_then(|k| pane.listing.position(&k)) {
                    pane.cursor = position;
                }
            }
            Action::Refresh => {
                // Forget what HEADs said (the objects may have changed), but keep the
                // in-flight ones: their answers still come back and free their budget.
                self.heads.retain(|_, head| *head == Head::InFlight);
                let prefix = self.pane(side).prefix().to_string();
                let follow = side == Side::Source && self.following();
                self.pane_mut(side).navigate(&prefix, out);
                if follow {
                    let mirrored = self.mirrored_prefix();
                    self.target.navigate(&mirrored, out);
                }
            }
            _ => {}
        }
        self.pane_mut(side).scroll(rows);
        self.page_panes(out);
        self.schedule_heads(out);
    }

    /// A key while the filter is typed: the view narrows as the user types.
    pub fn filter_key(&mut self, key: crossterm::event::KeyEvent, out: &mut Out) {
        let rows = self.list_rows;
        let pane = self.pane_mut(self.focus);
        let Some(input) = pane.filter_input.as_mut() else {
            return;
        };
        match input.handle(key) {
            InputOutcome::Edited => {
                let text = input.text.clone();
                pane.listing.set_filter(&text);
                pane.cursor = 0;
                pane.offset = 0;
            }
            InputOutcome::Submit => pane.filter_input = None,
            InputOutcome::Cancel => {
                pane.filter_input = None;
                pane.listing.set_filter("");
            }
        }
        pane.scroll(rows);
        self.page_panes(out);
        self.schedule_heads(out);
    }

    fn open(&mut self, side: Side, out: &mut Out) {
        let Some(Entry::Folder(prefix)) = self.pane(side).current().cloned() else {
            return;
        };
        self.go(side, &prefix, out);
    }

    fn back(&mut self, side: Side, out: &mut Out) {
        let pane = self.pane(side);
        if pane.prefix() == pane.root {
            out.info(format!(
                "{side}: already at the configured prefix 's3://{}/{}'",
                pane.bucket, pane.root
            ));
            return;
        }
        let current = pane.prefix().to_string();
        let trimmed = current.trim_end_matches('/');
        let parent = match trimmed.rfind('/') {
            Some(i) if i + 1 >= pane.root.len() => &trimmed[..=i],
            _ => pane.root.as_str(),
        }
        .to_string();
        self.pane_mut(side).reveal = Some(current);
        self.go(side, &parent, out);
    }

    /// Navigate one pane; the target follows when the source moves.
    fn go(&mut self, side: Side, prefix: &str, out: &mut Out) {
        self.pane_mut(side).navigate(prefix, out);
        if side == Side::Source {
            let mirrored = self.mirrored_prefix();
            self.target.navigate(&mirrored, out);
            if let Some(reveal) = &self.source.reveal {
                self.target.reveal = Some(plan::target_key(
                    reveal,
                    &self.source.root,
                    &self.target.root,
                ));
            }
        }
    }

    /// A page arrived: it joins the window (after or before it), the window drops pages far
    /// from the anchor, and the panes ask for what they need next.
    pub fn listed(
        &mut self,
        side: Side,
        request: u64,
        page: usize,
        result: Result<Listing>,
        out: &mut Out,
    ) {
        let rows = self.list_rows;
        let pane = self.pane(side);
        if request != pane.request || pane.loading != Some(page) {
            return;
        }
        let anchor = self.anchor(side);
        // A target following the source is anchored on the source's cursor: when its window
        // moves, its cursor goes there too (the two panes show the same part of the folder).
        let follows = side == Side::Target && self.focus == Side::Source && self.following();
        let pane = self.pane_mut(side);
        pane.loading = None;
        match result {
            Ok(listed) => {
                let keep = pane.current().map(|e| e.key().to_string());
                let screen_row = pane.cursor.saturating_sub(pane.offset);
                if page == pane.listing.end_page() {
                    pane.listing.append(listed);
                } else if page + 1 == pane.listing.first_page() {
                    pane.listing.prepend(listed);
                }
                pane.status = ListStatus::Done;
                pane.settle(keep.clone(), anchor.as_deref(), screen_row, rows);
                if pane.trim(anchor.as_deref()) {
                    match anchor.as_deref() {
                        Some(anchor) if follows => pane.cursor_to(anchor, screen_row, rows),
                        _ => pane.settle(keep, anchor.as_deref(), screen_row, rows),
                    }
                    self.forget_heads_outside();
                }
            }
            Err(e) => {
                let message = e.to_string();
                out.error(message.clone());
                pane.status = ListStatus::Failed(message);
            }
        }
        self.page_panes(out);
        self.schedule_heads(out);
    }

    /// HEAD answers for keys no window holds any more are forgotten (they would grow with
    /// every row scrolled past); in-flight ones stay until they answer.
    fn forget_heads_outside(&mut self) {
        let (source, target) = (&self.source.listing, &self.target.listing);
        self.heads.retain(|(side, key), head| {
            *head == Head::InFlight
                || match side {
                    Side::Source => source.get(key).is_some(),
                    Side::Target => target.get(key).is_some(),
                }
        });
    }
}
