//! The browser's selection: kept by key (so it survives navigation), counted as it changes
//! (objects, folders, bytes for the status bar), and turned into the plan's [`Scope`].
//! Only the source pane selects: airlock copies from source to target.

use super::Out;
use super::browser::Browser;
use super::listing::Entry;
use crate::tui::keymap::Action;
use airlock_core::config::Side;
use airlock_core::job::Scope;
use airlock_core::plan::ObjectInfo;

/// What is selected, by full key (objects) or prefix (folders).
#[derive(Debug, Clone, PartialEq)]
pub enum Selected {
    Folder,
    Object(ObjectInfo),
}

impl Browser {
    pub(super) fn toggle_current(&mut self, out: &mut Out) {
        if self.focus != Side::Source {
            out.warn("select on the source pane: airlock copies from source to target".into());
            return;
        }
        let Some(entry) = self.source.current().cloned() else {
            return;
        };
        let selected = !self.selection.contains_key(entry.key());
        self.set_selected(&entry, selected);
        self.source.move_cursor(Action::Down, 1);
    }

    /// Select everything shown; when all of it is already selected, unselect it.
    pub(super) fn toggle_all(&mut self, out: &mut Out) {
        if self.focus != Side::Source {
            out.warn("select on the source pane: airlock copies from source to target".into());
            return;
        }
        let entries: Vec<Entry> = (0..self.source.listing.len())
            .filter_map(|row| self.source.listing.at(row).cloned())
            .collect();
        let all = entries.iter().all(|e| self.selection.contains_key(e.key()));
        if !all && !self.source.listing.complete() {
            out.warn(format!(
                "selected the {} loaded rows only: the folder has more; select the folder \
                 itself to copy all of it",
                self.source.listing.len()
            ));
        }
        for entry in &entries {
            self.set_selected(entry, !all);
        }
    }

    fn set_selected(&mut self, entry: &Entry, selected: bool) {
        if selected == self.selection.contains_key(entry.key()) {
            return;
        }
        let key = entry.key().to_string();
        let previous = if selected {
            let value = match entry {
                Entry::Folder(_) => Selected::Folder,
                Entry::Object(object) => Selected::Object(object.clone()),
            };
            self.selection.insert(key, value.clone());
            self.count(&value, true);
            None
        } else {
            self.selection.remove(&key)
        };
        if let Some(value) = previous {
            self.count(&value, false);
        }
        self.selection_version += 1;
    }

    fn count(&mut self, value: &Selected, add: bool) {
        match (value, add) {
            (Selected::Folder, true) => self.selected_folders += 1,
            (Selected::Folder, false) => self.selected_folders -= 1,
            (Selected::Object(o), true) => self.selected_bytes += o.size,
            (Selected::Object(o), false) => self.selected_bytes -= o.size,
        }
    }

    /// What the plan should cover: the selection, or the configured prefix when empty.
    pub fn scope(&self) -> Scope {
        if self.selection.is_empty() {
            return Scope::Configured;
        }
        let mut folders = Vec::new();
        let mut objects = Vec::new();
        for (key, selected) in &self.selection {
            match selected {
                Selected::Folder => folders.push(key.clone()),
                Selected::Object(object) => objects.push(object.clone()),
            }
        }
        Scope::Selection { folders, objects }
    }
}
