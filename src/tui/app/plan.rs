//! The Plan tab's state and update: the configured prefix or the browser's selection planned
//! streaming into a plan file on disk by the runtime (the totals shown as they grow); where a
//! store does not list in key order, or with `version_at`, the inventory gathered in memory
//! and built with the pure [`job::inventory::build_plan`], then written to such a file too.
//! The tab keeps the plan's header (totals) and a window of rows around the cursor, read back
//! from the file ([`Shown`]), so its memory does not grow with the object count. The settings
//! box's fields are edited in place; an applied edit re-routes the plan file (a new file,
//! streamed, by the runtime), an invalid one shows an error naming the value and changes
//! nothing.

mod field;

use std::sync::Arc;

use crossterm::event::KeyEvent;

use super::Out;
use crate::tui::input::{InputOutcome, TextInput};
use crate::tui::keymap::Action;
use crate::tui::msg::{Effect, StreamedPlan};
use airlock_core::config::{Settings, TransferSettings};
use airlock_core::error::Result;
use airlock_core::job::plan_window::{PlanFile, Totals};
use airlock_core::job::{self, Inventory, Scope};
use airlock_core::plan::lines::{Entry, PlanHeader};

pub use field::Field;

/// Rows of the object table read from the plan file at once (at least three screens).
pub const WINDOW_ROWS: usize = 256;

/// Where the plan stands.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanStatus {
    /// Nothing asked yet.
    Empty,
    /// Listing both sides: objects seen so far.
    Gathering {
        source: usize,
        target: usize,
    },
    Ready,
    Failed(String),
}

/// Which box the arrow keys move in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanFocus {
    Settings,
    Objects,
}

/// A setting being edited.
#[derive(Debug, Clone, PartialEq)]
pub struct Editor {
    pub field: Field,
    pub input: TextInput,
    /// Why the last Enter was refused.
    pub error: Option<String>,
}

/// A plan shown: its header and a window of its rows, read from its file.
#[derive(Debug, Clone)]
pub struct Shown {
    /// Totals, settings, sides, warnings, what the filters left out.
    pub header: PlanHeader,
    /// The entries (items, and mirror deletions), in the order planned; removed from disk
    /// when the last holder (this tab, a run) drops it.
    pub file: Arc<PlanFile>,
    /// Row number of `window[0]`.
    pub window_start: u64,
    /// The rows around the cursor (at most [`WINDOW_ROWS`], or the table's height if more).
    pub window: Vec<Entry>,
    /// Why the window could not be read (shown in the table).
    pub window_error: Option<String>,
}

impl Shown {
    fn new(header: PlanHeader, file: PlanFile) -> Self {
        Shown {
            header,
            file: Arc::new(file),
            window_start: 0,
            window: Vec::new(),
            window_error: None,
        }
    }

    /// Rows of the table: items and deletions.
    pub fn rows(&self) -> u64 {
        self.file.len()
    }

    /// Row `i`, when it is in the window.
    pub fn row(&self, i: u64) -> Option<&Entry> {
        let at = i.checked_sub(self.window_start)?;
        self.window.get(usize::try_from(at).ok()?)
    }

    /// Make the window hold rows `first..first + count` (clipped to the plan), reading the
    /// file when it does not, centred on them.
    fn cover(&mut self, first: u64, count: usize) {
        let last = (first + count as u64).min(self.rows());
        let held = self.window_start + self.window.len() as u64;
        if first >= self.window_start && last <= held && self.window_error.is_none() {
            return;
        }
        let size = WINDOW_ROWS.max(count);
        let start = first.saturating_sub(((size - count) / 2) as u64);
        match self.file.read(start, size) {
            Ok(rows) => {
                self.window_start = start;
                self.window = rows;
                self.window_error = None;
            }
            Err(e) => {
                self.window.clear();
                self.window_error = Some(format!("cannot read the plan's rows: {e}"));
            }
        }
    }
}

/// The Plan tab.
#[derive(Debug, Clone)]
pub struct PlanTab {
    pub status: PlanStatus,
    pub plan: Option<Shown>,
    /// The streaming plan's totals so far (while it lists).
    pub grew: Option<Totals>,
    /// A re-route of the plan file is under way (its id): the plan shown still has the old
    /// routes.
    pub rerouting: Option<u64>,
    /// Re-routes asked for so far (their ids; older answers are dropped).
    pub reroutes: u64,
    /// What the plan covers, in words.
    pub scope_label: String,
    /// The settings the plan (and the run) use; starts from the config.
    pub transfer: TransferSettings,
    pub focus: PlanFocus,
    /// Selected row of the settings box.
    pub field: usize,
    pub editor: Option<Editor>,
    pub cursor: usize,
    pub offset: usize,
    /// Rows of the object table, from the terminal size.
    pub rows: usize,
    /// Id of the gather in progress; older answers are dropped.
    pub request: u64,
    /// The browser's selection version the plan was made for.
    pub built_for: Option<u64>,
    /// HEAD requests the inventory needed.
    pub heads: usize,
    /// The plan being gathered covers a selection, not the whole prefix (mirror deletes
    /// nothing then).
    pub selection_scope: bool,
}

impl PlanTab {
    pub fn new(settings: &Settings) -> Self {
        PlanTab {
            status: PlanStatus::Empty,
            plan: None,
            grew: None,
            rerouting: None,
            reroutes: 0,
            scope_label: String::new(),
            selection_scope: false,
            transfer: settings.transfer.clone(),
            focus: PlanFocus::Settings,
            field: 0,
            editor: None,
            cursor: 0,
            offset: 0,
            rows: 5,
            request: 0,
            built_for: None,
            heads: 0,
        }
    }

    pub fn gathering(&self) -> bool {
        matches!(self.status, PlanStatus::Gathering { .. })
    }

    /// Start planning `scope` (see [`Effect::Gather`]).
    pub fn gather(&mut self, scope: Scope, label: String, version: u64, out: &mut Out) {
        self.request += 1;
        self.status = PlanStatus::Gathering {
            source: 0,
            target: 0,
        };
        self.grew = None;
        self.rerouting = None;
        self.scope_label = label;
        self.built_for = Some(version);
        self.selection_scope = matches!(scope, Scope::Selection { .. });
        out.effects.push(Effect::Gather {
            request: self.request,
            scope,
            transfer: Box::new(self.transfer.clone()),
        });
    }

    /// The streaming plan's totals so far.
    pub fn grew(&mut self, request: u64, totals: Totals) {
        if request == self.request && self.gathering() {
            self.grew = Some(totals);
        }
    }

    /// The streaming plan is done (or failed).
    pub fn streamed(&mut self, request: u64, result: Result<Box<StreamedPlan>>, out: &mut Out) {
        if request != self.request {
            return;
        }
        match result {
            Ok(streamed) => {
                let StreamedPlan {
                    file,
                    header,
                    heads,
                } = *streamed;
                self.warn_selection_deletes_nothing(out);
                for warning in &header.warnings {
                    out.warn(format!("plan: {warning}"));
                }
                self.heads = heads;
                self.show(header, file);
            }
            Err(e) => self.failed(e, out),
        }
    }

    /// The plan re-routed for the settings box's values.
    pub fn rerouted(&mut self, request: u64, result: Result<Box<StreamedPlan>>, out: &mut Out) {
        if self.rerouting != Some(request) {
            return;
        }
        self.rerouting = None;
        match result {
            Ok(rerouted) => {
                let (cursor, offset) = (self.cursor, self.offset);
                let StreamedPlan { file, header, .. } = *rerouted;
                self.show(header, file);
                (self.cursor, self.offset) = (cursor, offset);
                self.scroll();
            }
            Err(e) => out.error(format!("cannot re-route the plan: {e}")),
        }
    }

    fn warn_selection_deletes_nothing(&self, out: &mut Out) {
        if self.transfer.mode == airlock_core::config::TransferMode::Mirror && self.selection_scope
        {
            out.warn(
                "mirror: a plan of a selection deletes nothing; clear the selection to plan (and \
                 mirror) the whole prefix"
                    .into(),
            );
        }
    }

    fn show(&mut self, header: PlanHeader, file: PlanFile) {
        self.plan = Some(Shown::new(header, file));
        self.grew = None;
        self.status = PlanStatus::Ready;
        self.cursor = 0;
        self.offset = 0;
        self.scroll();
    }

    fn failed(&mut self, e: airlock_core::error::Error, out: &mut Out) {
        let message = format!("cannot build the plan: {e}");
        out.error(message.clone());
        self.status = PlanStatus::Failed(message);
        self.grew = None;
        self.built_for = None;
    }

    pub fn progress(&mut self, request: u64, source: usize, target: usize) {
        if request == self.request && self.gathering() {
            self.status = PlanStatus::Gathering { source, target };
        }
    }

    /// The inventory arrived: build the plan (pure) with the current settings, and keep it on
    /// disk like a streamed one (a selection's plan is as big as the selection).
    pub fn gathered(
        &mut self,
        request: u64,
        result: Result<Inventory>,
        settings: &Settings,
        out: &mut Out,
    ) {
        if request != self.request {
            return;
        }
        match result {
            Ok(inventory) => {
                let plan = job::inventory::build_plan(&inventory, settings, &self.transfer);
                self.warn_selection_deletes_nothing(out);
                for warning in &plan.warnings {
                    out.warn(format!("plan: {warning}"));
                }
                self.heads = inventory.heads;
                match PlanFile::of_plan(&plan) {
                    Ok(file) => self.show(PlanHeader::of(&plan), file),
                    Err(e) => self.failed(e, out),
                }
            }
            Err(e) => self.failed(e, out),
        }
    }

    pub fn action(&mut self, action: Action) {
        match (self.focus, action) {
            (_, Action::SwitchFocus) => {
                self.focus = match self.focus {
                    PlanFocus::Settings => PlanFocus::Objects,
                    PlanFocus::Objects => PlanFocus::Settings,
                }
            }
            (PlanFocus::Settings, Action::Up) => self.field = self.field.saturating_sub(1),
            (PlanFocus::Settings, Action::Down) => {
                self.field = (self.field + 1).min(Field::ALL.len() - 1)
            }
            (PlanFocus::Settings, Action::Edit) => {
                let field = Field::ALL[self.field];
                self.editor = Some(Editor {
                    field,
                    input: TextInput::new(field.value(&self.transfer)),
                    error: None,
                });
            }
            (PlanFocus::Objects, _) => self.move_cursor(action),
            _ => {}
        }
    }

    fn move_cursor(&mut self, action: Action) {
        // Mirror deletions are rows too, after the copies.
        let len = self.plan.as_ref().map_or(0, |p| p.rows());
        let last = usize::try_from(len).unwrap_or(usize::MAX).saturating_sub(1);
        let rows = self.rows.max(1);
        self.cursor = match action {
            Action::Up => self.cursor.saturating_sub(1),
            Action::Down => (self.cursor + 1).min(last),
            Action::PageUp => self.cursor.saturating_sub(rows),
            Action::PageDown => (self.cursor + rows).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            _ => self.cursor,
        };
        self.scroll();
    }

    pub fn set_rows(&mut self, rows: usize) {
        self.rows = rows;
        self.scroll();
    }

    /// Keep the cursor on screen, and the rows on screen in the window (a read of the plan
    /// file when they are not: a seek and at most [`WINDOW_ROWS`] plus an index stride of
    /// lines).
    fn scroll(&mut self) {
        let rows = self.rows.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + rows {
            self.offset = self.cursor + 1 - rows;
        }
        if let Some(shown) = self.plan.as_mut() {
            shown.cover(self.offset as u64, rows);
        }
    }

    /// A key while a setting is edited. Enter applies (and re-routes the plan) or shows why not.
    pub fn edit_key(&mut self, key: KeyEvent, out: &mut Out) {
        let Some(editor) = self.editor.as_mut() else {
            return;
        };
        match editor.input.handle(key) {
            InputOutcome::Edited => editor.error = None,
            InputOutcome::Cancel => self.editor = None,
            InputOutcome::Submit => {
                let mut transfer = self.transfer.clone();
                match editor.field.apply(&editor.input.text, &mut transfer) {
                    Ok(()) => {
                        let field = editor.field;
                        self.editor = None;
                        self.transfer = transfer;
                        if let Some(shown) = &self.plan {
                            self.reroutes += 1;
                            self.rerouting = Some(self.reroutes);
                            out.effects.push(Effect::Reroute {
                                request: self.reroutes,
                                file: shown.file.clone(),
                                header: Box::new(shown.header.clone()),
                                transfer: Box::new(self.transfer.clone()),
                            });
                        }
                        out.info(format!(
                            "{} set to {}",
                            field.label(),
                            field.value(&self.transfer)
                        ));
                    }
                    Err(error) => editor.error = Some(error),
                }
            }
        }
    }
}
