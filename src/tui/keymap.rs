//! Keys to [`Action`]s. The defaults live in `assets/keybindings.toml` (compiled in); a user
//! `keybindings.toml` in the config dir overrides them action by action. Bindings are looked up
//! in the current tab's context first, then in `[global]`. The help overlay is generated from
//! [`Keymap::help`], so it always shows the bindings in effect.
//!
//! Depends on crossterm's key types only; no I/O except [`Keymap::load`] reading the user file.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

mod key;

pub use key::Key;

/// The compiled-in defaults.
pub const DEFAULT_KEYBINDINGS: &str = include_str!("../../assets/keybindings.toml");

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    Browser,
    Plan,
    Transfers,
}

impl Context {
    pub const ALL: [Context; 4] = [
        Context::Global,
        Context::Browser,
        Context::Plan,
        Context::Transfers,
    ];

    /// The section name in `keybindings.toml`.
    pub fn section(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Browser => "browser",
            Context::Plan => "plan",
            Context::Transfers => "transfers",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Browser => "Browser",
            Context::Plan => "Plan",
            Context::Transfers => "Transfers",
        }
    }
}

/// What a key asks for. Text input (filter, editors, prompts) is handled before the keymap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Interrupt,
    Help,
    Log,
    TabBrowser,
    TabPlan,
    TabTransfers,
    NextTab,
    PreviousTab,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    SwitchPane,
    Filter,
    ClearFilter,
    Select,
    SelectAll,
    ClearSelection,
    Sort,
    Refresh,
    PlanSelection,
    Edit,
    SwitchFocus,
    StartRun,
    SavePlan,
    SwitchList,
    Pause,
    RetryFailed,
    Retry,
    Cancel,
    CancelAll,
    MoreConcurrency,
    LessConcurrency,
    LessBandwidth,
    MoreBandwidth,
    NoBandwidthLimit,
}

/// Every bindable (context, name, action, help text), in help order.
#[rustfmt::skip]
const ACTIONS: &[(Context, &str, Action, &str)] = &[
    (Context::Global, "quit", Action::Quit, "quit (asks mid-run)"),
    (Context::Global, "interrupt", Action::Interrupt, "stop the run and quit"),
    (Context::Global, "help", Action::Help, "this help"),
    (Context::Global, "log", Action::Log, "message log"),
    (Context::Global, "tab_browser", Action::TabBrowser, "Browser tab"),
    (Context::Global, "tab_plan", Action::TabPlan, "Plan tab"),
    (Context::Global, "tab_transfers", Action::TabTransfers, "Transfers tab"),
    (Context::Global, "next_tab", Action::NextTab, "next tab"),
    (Context::Global, "previous_tab", Action::PreviousTab, "previous tab"),
    (Context::Browser, "up", Action::Up, "move up"),
    (Context::Browser, "down", Action::Down, "move down"),
    (Context::Browser, "page_up", Action::PageUp, "page up"),
    (Context::Browser, "page_down", Action::PageDown, "page down"),
    (Context::Browser, "top", Action::Top, "first entry"),
    (Context::Browser, "bottom", Action::Bottom, "last entry"),
    (Context::Browser, "open", Action::Open, "open folder"),
    (Context::Browser, "back", Action::Back, "up one folder"),
    (Context::Browser, "switch_pane", Action::SwitchPane, "other pane"),
    (Context::Browser, "filter", Action::Filter, "filter (enter keeps, esc clears)"),
    (Context::Browser, "clear_filter", Action::ClearFilter, "clear the filter"),
    (Context::Browser, "select", Action::Select, "select / unselect"),
    (Context::Browser, "select_all", Action::SelectAll, "select all shown / none"),
    (Context::Browser, "clear_selection", Action::ClearSelection, "clear the whole selection"),
    (Context::Browser, "sort", Action::Sort, "sort by name / size / date"),
    (Context::Browser, "refresh", Action::Refresh, "list this folder again"),
    (Context::Browser, "plan_selection", Action::PlanSelection, "plan the selection"),
    (Context::Plan, "up", Action::Up, "previous field / object"),
    (Context::Plan, "down", Action::Down, "next field / object"),
    (Context::Plan, "page_up", Action::PageUp, "page up"),
    (Context::Plan, "page_down", Action::PageDown, "page down"),
    (Context::Plan, "top", Action::Top, "first object"),
    (Context::Plan, "bottom", Action::Bottom, "last object"),
    (Context::Plan, "edit", Action::Edit, "edit the setting"),
    (Context::Plan, "switch_focus", Action::SwitchFocus, "settings / objects"),
    (Context::Plan, "start_run", Action::StartRun, "start the run (asks first)"),
    (Context::Plan, "save_plan", Action::SavePlan, "save the plan as JSON"),
    (Context::Plan, "refresh", Action::Refresh, "list again, rebuild the plan"),
    (Context::Transfers, "up", Action::Up, "previous object"),
    (Context::Transfers, "down", Action::Down, "next object"),
    (Context::Transfers, "page_up", Action::PageUp, "page up"),
    (Context::Transfers, "page_down", Action::PageDown, "page down"),
    (Context::Transfers, "top", Action::Top, "first object"),
    (Context::Transfers, "bottom", Action::Bottom, "last object"),
    (Context::Transfers, "switch_list", Action::SwitchList, "active / failed / done"),
    (Context::Transfers, "pause", Action::Pause, "pause / resume"),
    (Context::Transfers, "retry_failed", Action::RetryFailed, "retry all failed"),
    (Context::Transfers, "retry", Action::Retry, "retry the selected object"),
    (Context::Transfers, "cancel", Action::Cancel, "cancel the selected object"),
    (Context::Transfers, "cancel_all", Action::CancelAll, "cancel all (asks first)"),
    (Context::Transfers, "more_concurrency", Action::MoreConcurrency, "raise concurrency"),
    (Context::Transfers, "less_concurrency", Action::LessConcurrency, "lower concurrency"),
    (Context::Transfers, "less_bandwidth", Action::LessBandwidth, "lower the bandwidth cap a step"),
    (Context::Transfers, "more_bandwidth", Action::MoreBandwidth, "raise the bandwidth cap a step"),
    (Context::Transfers, "no_bandwidth_limit", Action::NoBandwidthLimit, "remove the bandwidth cap"),
];

/// Every bindable action as (section in `keybindings.toml`, action name, what it does), in
/// help order. The README's key table is checked against this and the default bindings.
pub fn actions() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    ACTIONS
        .iter()
        .map(|&(context, name, _, text)| (context.section(), name, text))
}

/// One section of the help overlay.
#[derive(Debug, Clone, PartialEq)]
pub struct HelpSection {
    pub title: &'static str,
    /// (keys joined with " ", what they do)
    pub entries: Vec<(String, &'static str)>,
}

/// The bindings in effect.
#[derive(Debug, Clone)]
pub struct Keymap {
    keys: BTreeMap<(Context, &'static str), Vec<Key>>,
    lookup: HashMap<(Context, Key), Action>,
}

type KeyFile = BTreeMap<String, BTreeMap<String, Vec<String>>>;

impl Default for Keymap {
    fn default() -> Self {
        Keymap::from_toml(None).0
    }
}

impl Keymap {
    /// Defaults overridden by `user` (the text of a user `keybindings.toml`), and warnings for
    /// everything in `user` that was ignored.
    pub fn from_toml(user: Option<&str>) -> (Keymap, Vec<String>) {
        let mut warnings = Vec::new();
        let defaults: KeyFile =
            toml::from_str(DEFAULT_KEYBINDINGS).expect("the default keybindings parse");
        let mut keys = BTreeMap::new();
        apply(&mut keys, &defaults, &mut Vec::new(), "default");
        if let Some(text) = user {
            match toml::from_str::<KeyFile>(text) {
                Ok(file) => apply(&mut keys, &file, &mut warnings, "keybindings.toml"),
                Err(e) => warnings.push(format!(
                    "keybindings.toml is not valid ({}); using the default keys",
                    e.message()
                )),
            }
        }
        let mut lookup = HashMap::new();
        for &(context, name, action, _) in ACTIONS {
            for key in keys.get(&(context, name)).into_iter().flatten() {
                if let Some(other) = lookup.insert((context, *key), action)
                    && other != action
                {
                    warnings.push(format!(
                        "key '{key}' is bound twice in [{}]; it does '{name}'",
                        context.section()
                    ));
                }
            }
        }
        (Keymap { keys, lookup }, warnings)
    }

    /// Defaults plus the user file at `path`, if it exists.
    pub fn load(path: Option<&Path>) -> (Keymap, Vec<String>) {
        let text = path.and_then(|p| match std::fs::read_to_string(p) {
            Ok(text) => Some(Ok(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => Some(Err(format!(
                "cannot read '{}' ({e}); using the default keys",
                p.display()
            ))),
        });
        match text {
            Some(Ok(text)) => Keymap::from_toml(Some(&text)),
            Some(Err(warning)) => (Keymap::default(), vec![warning]),
            None => (Keymap::default(), Vec::new()),
        }
    }

    /// The action for `key` in `context`, else in the global context.
    pub fn action(&self, context: Context, key: Key) -> Option<Action> {
        self.lookup
            .get(&(context, key))
            .or_else(|| self.lookup.get(&(Context::Global, key)))
            .copied()
    }

    /// The first key bound to `action` in `context` (for hints such as "? help").
    pub fn key_for(&self, context: Context, action: Action) -> Option<String> {
        ACTIONS
            .iter()
            .find(|(c, _, a, _)| *c == context && *a == action)
            .and_then(|(c, name, _, _)| self.keys.get(&(*c, *name)))
            .and_then(|keys| keys.first())
            .map(Key::to_string)
    }

    /// Every context with its bindings, in help order.
    pub fn help(&self) -> Vec<HelpSection> {
        Context::ALL
            .iter()
            .map(|&context| HelpSection {
                title: context.title(),
                entries: ACTIONS
                    .iter()
                    .filter(|(c, ..)| *c == context)
                    .filter_map(|&(c, name, _, text)| {
                        let keys = self.keys.get(&(c, name)).filter(|k| !k.is_empty())?;
                        let keys: Vec<String> = keys.iter().map(Key::to_string).collect();
                        Some((keys.join(" "), text))
                    })
                    .collect(),
            })
            .collect()
    }
}

fn apply(
    keys: &mut BTreeMap<(Context, &'static str), Vec<Key>>,
    file: &KeyFile,
    warnings: &mut Vec<String>,
    origin: &str,
) {
    for (section, actions) in file {
        let Some(context) = Context::ALL.into_iter().find(|c| c.section() == section) else {
            warnings.push(format!(
                "{origin}: unknown section '[{section}]' ignored; sections are global, browser, plan, transfers"
            ));
            continue;
        };
        for (name, specs) in actions {
            let Some(&(_, name, _, _)) =
                ACTIONS.iter().find(|(c, n, ..)| *c == context && n == name)
            else {
                warnings.push(format!(
                    "{origin}: unknown action '{section}.{name}' ignored"
                ));
                continue;
            };
            match specs
                .iter()
                .map(|s| Key::parse(s))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(parsed) => {
                    keys.insert((context, name), parsed);
                }
                Err(e) => warnings.push(format!(
                    "{origin}: {section}.{name}: {e}; keeping its default keys"
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests;
