//! The app state and `update`: one [`Msg`] in, state changes and [`Effect`]s out, no I/O.
//! Keys become [`Action`]s through the keymap, after the modal layers (overlay, text inputs)
//! had their turn. Each tab's state and update live in a submodule; this file holds what is
//! global: tabs, overlays and dialogs, the message log, quitting.

pub mod badges;
pub mod browser;
pub mod listing;
pub mod plan;
pub mod transfers;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use crate::config::Settings;
use crate::engine::Command;
use crate::tui::input::{InputOutcome, TextInput};
use crate::tui::keymap::{Action, Context, Keymap};
use crate::tui::layout;
use crate::tui::msg::{Effect, Msg, Scope};

pub use browser::Browser;
pub use plan::PlanTab;
pub use transfers::Transfers;

/// Default file name offered when saving a plan.
pub const DEFAULT_PLAN_FILE: &str = "airlock-plan.json";
/// Messages kept for the log overlay.
const LOG_LINES: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Browser,
    Plan,
    Transfers,
}

impl Tab {
    pub const ALL: [Tab; 3] = [Tab::Browser, Tab::Plan, Tab::Transfers];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Browser => "Browser",
            Tab::Plan => "Plan",
            Tab::Transfers => "Transfers",
        }
    }

    fn context(self) -> Context {
        match self {
            Tab::Browser => Context::Browser,
            Tab::Plan => Context::Plan,
            Tab::Transfers => Context::Transfers,
        }
    }
}

/// A question that needs y/n before anything happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    StartRun,
    CancelAll,
    Quit,
}

/// What covers the tabs.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    Log,
    Confirm(Confirm),
    /// Asking where to save the plan.
    SavePlan(TextInput),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// One line of the message log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub level: Level,
    pub text: String,
    /// App time when it was logged.
    pub at: Duration,
}

/// What a sub-update produced: effects to run and messages to log.
#[derive(Debug, Default)]
pub struct Out {
    pub effects: Vec<Effect>,
    pub notes: Vec<(Level, String)>,
}

impl Out {
    pub fn info(&mut self, text: String) {
        self.notes.push((Level::Info, text));
    }
    pub fn warn(&mut self, text: String) {
        self.notes.push((Level::Warn, text));
    }
    pub fn error(&mut self, text: String) {
        self.notes.push((Level::Error, text));
    }
}

/// Everything the UI shows. Views render it; `update` changes it.
#[derive(Debug, Clone)]
pub struct App {
    pub settings: Settings,
    pub keymap: Keymap,
    pub tab: Tab,
    pub overlay: Option<Overlay>,
    /// Time since the UI started (injected: the runtime sets it before each update).
    pub now: Duration,
    /// Terminal (columns, rows).
    pub size: (u16, u16),
    pub browser: Browser,
    pub plan: PlanTab,
    pub transfers: Transfers,
    pub log: VecDeque<LogLine>,
    /// Quit as soon as the stopping run has finished.
    pub quit_when_stopped: bool,
}

impl App {
    pub fn new(settings: Settings, keymap: Keymap, size: (u16, u16)) -> Self {
        let mut app = App {
            browser: Browser::new(&settings),
            plan: PlanTab::new(&settings),
            transfers: Transfers::new(settings.transfer.concurrency),
            settings,
            keymap,
            tab: Tab::Browser,
            overlay: None,
            now: Duration::ZERO,
            size,
            log: VecDeque::new(),
            quit_when_stopped: false,
        };
        app.resize(size);
        app
    }

    /// The first effects: list both configured prefixes.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut out = Out::default();
        self.browser.start(&mut out);
        self.finish(out)
    }

    pub fn push_log(&mut self, level: Level, text: String) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(LogLine {
            level,
            text,
            at: self.now,
        });
    }

    fn finish(&mut self, out: Out) -> Vec<Effect> {
        for (level, text) in out.notes {
            self.push_log(level, text);
        }
        out.effects
    }

    fn resize(&mut self, size: (u16, u16)) {
        self.size = size;
        let rows = layout::Rows::of(size);
        self.browser.set_list_rows(rows.browser);
        self.plan.set_rows(rows.plan);
        self.transfers.rows = rows.transfers;
        self.transfers.clamp();
    }
}

/// Apply one message. Pure: the returned effects are for the runtime to execute.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let mut out = Out::default();
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => key_event(app, key, &mut out),
        Msg::Key(_) | Msg::Tick => {}
        Msg::Resize(columns, rows) => app.resize((columns, rows)),
        Msg::Interrupt => interrupt(app, &mut out),
        Msg::Listed {
            side,
            request,
            result,
        } => app.browser.listed(side, request, result, &mut out),
        Msg::Headed { side, key, result } => app.browser.headed(side, key, result, &mut out),
        Msg::GatherProgress {
            request,
            source,
            target,
        } => app.plan.progress(request, source, target),
        Msg::Gathered { request, result } => {
            app.plan.gathered(request, result, &app.settings, &mut out)
        }
        Msg::RunStarted(Ok(())) => out.info("run started".into()),
        Msg::RunStarted(Err(e)) => {
            out.error(format!("cannot start the run: {e}"));
            app.transfers.phase = transfers::Phase::Idle;
        }
        Msg::Engine(event) => {
            let finished = matches!(event, crate::engine::Event::RunFinished { .. });
            app.transfers.apply(&event, app.now, &mut out);
            if finished && app.quit_when_stopped {
                out.effects.push(Effect::Quit);
            }
        }
        Msg::PlanSaved(Ok(path)) => out.info(format!("plan saved to '{}'", path.display())),
        Msg::PlanSaved(Err(e)) => out.error(format!("cannot save the plan: {e}")),
    }
    app.finish(out)
}

fn key_event(app: &mut App, key: KeyEvent, out: &mut Out) {
    let action = app.keymap.action(app.tab.context(), key.into());
    // Ctrl-C always works, whatever is open.
    if action == Some(Action::Interrupt) {
        return interrupt(app, out);
    }
    if app.overlay.is_some() {
        return overlay_key(app, key, action, out);
    }
    if app.tab == Tab::Browser && app.browser.typing() {
        return app.browser.filter_key(key, out);
    }
    if app.tab == Tab::Plan && app.plan.editor.is_some() {
        return app.plan.edit_key(key, out);
    }
    if let Some(action) = action {
        action_event(app, action, out);
    }
}

fn overlay_key(app: &mut App, key: KeyEvent, action: Option<Action>, out: &mut Out) {
    let overlay = app.overlay.take();
    match overlay {
        Some(Overlay::Help) if action != Some(Action::Help) && key.code != KeyCode::Esc => {
            app.overlay = Some(Overlay::Help);
        }
        Some(Overlay::Log) if action != Some(Action::Log) && key.code != KeyCode::Esc => {
            app.overlay = Some(Overlay::Log);
        }
        Some(Overlay::Confirm(confirm)) => match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => confirmed(app, confirm, out),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => {}
            _ => app.overlay = Some(Overlay::Confirm(confirm)),
        },
        Some(Overlay::SavePlan(mut input)) => match input.handle(key) {
            InputOutcome::Edited => app.overlay = Some(Overlay::SavePlan(input)),
            InputOutcome::Cancel => {}
            InputOutcome::Submit => {
                let path = input.text.trim();
                let path = if path.is_empty() {
                    DEFAULT_PLAN_FILE
                } else {
                    path
                };
                if let Some(plan) = &app.plan.plan {
                    out.effects.push(Effect::SavePlan {
                        plan: Box::new(plan.clone()),
                        path: PathBuf::from(path),
                    });
                }
            }
        },
        _ => {}
    }
}

fn action_event(app: &mut App, action: Action, out: &mut Out) {
    match action {
        Action::Quit => {
            if app.transfers.phase == transfers::Phase::Stopping {
                out.effects.push(Effect::Quit);
            } else if app.transfers.is_active() {
                app.overlay = Some(Overlay::Confirm(Confirm::Quit));
            } else {
                out.effects.push(Effect::Quit);
            }
        }
        Action::Help => app.overlay = Some(Overlay::Help),
        Action::Log => app.overlay = Some(Overlay::Log),
        Action::TabBrowser => switch_tab(app, Tab::Browser, out),
        Action::TabPlan => switch_tab(app, Tab::Plan, out),
        Action::TabTransfers => switch_tab(app, Tab::Transfers, out),
        Action::NextTab | Action::PreviousTab => {
            let i = Tab::ALL.iter().position(|t| *t == app.tab).unwrap_or(0);
            let step = if action == Action::NextTab { 1 } else { 2 };
            switch_tab(app, Tab::ALL[(i + step) % 3], out);
        }
        _ => match app.tab {
            Tab::Browser => browser_action(app, action, out),
            Tab::Plan => plan_action(app, action, out),
            Tab::Transfers => transfers_action(app, action, out),
        },
    }
}

fn switch_tab(app: &mut App, tab: Tab, out: &mut Out) {
    app.tab = tab;
    // The plan follows the selection: rebuild when it changed since the plan was made.
    if tab == Tab::Plan
        && !app.plan.gathering()
        && app.plan.built_for != Some(app.browser.selection_version)
    {
        gather_plan(app, out);
    }
}

fn gather_plan(app: &mut App, out: &mut Out) {
    let scope = app.browser.scope();
    let label = match &scope {
        Scope::Configured => format!(
            "all of s3://{}/{}",
            app.settings.source.bucket, app.settings.source.prefix
        ),
        Scope::Selection { folders, objects } => {
            let plural =
                |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
            let mut parts = Vec::new();
            if !objects.is_empty() {
                parts.push(plural(objects.len(), "object"));
            }
            if !folders.is_empty() {
                parts.push(plural(folders.len(), "folder"));
            }
            format!("selection: {}", parts.join(", "))
        }
    };
    app.plan
        .gather(scope, label, app.browser.selection_version, out);
}

fn browser_action(app: &mut App, action: Action, out: &mut Out) {
    if action == Action::PlanSelection {
        app.tab = Tab::Plan;
        return gather_plan(app, out);
    }
    app.browser.action(action, out);
}

fn plan_action(app: &mut App, action: Action, out: &mut Out) {
    match action {
        Action::Refresh => gather_plan(app, out),
        Action::StartRun => {
            if app.transfers.is_active() {
                out.warn("a run is active: wait for it to finish (3 shows it)".into());
            } else if app
                .plan
                .plan
                .as_ref()
                .is_some_and(|p| p.summary.copy_objects() > 0)
            {
                app.overlay = Some(Overlay::Confirm(Confirm::StartRun));
            } else if app.plan.plan.is_some() {
                out.info("nothing to copy: every object is already at the target".into());
            } else {
                out.warn("no plan yet: wait for it to be built".into());
            }
        }
        Action::SavePlan => {
            if app.plan.plan.is_some() {
                app.overlay = Some(Overlay::SavePlan(TextInput::new(DEFAULT_PLAN_FILE)));
            } else {
                out.warn("no plan to save yet".into());
            }
        }
        _ => app.plan.action(action),
    }
}

fn transfers_action(app: &mut App, action: Action, out: &mut Out) {
    let transfers = &mut app.transfers;
    let idle = transfers.phase == transfers::Phase::Idle;
    let send = |out: &mut Out, command| out.effects.push(Effect::Send(command));
    match action {
        Action::Pause
        | Action::RetryFailed
        | Action::Retry
        | Action::Cancel
        | Action::CancelAll
        | Action::MoreConcurrency
        | Action::LessConcurrency
            if idle =>
        {
            out.info("no run yet: build a plan (2) and start it with g".into())
        }
        Action::Pause => send(
            out,
            if transfers.paused {
                Command::Resume
            } else {
                Command::Pause
            },
        ),
        Action::RetryFailed => {
            if transfers.failed.is_empty() {
                out.info("nothing failed".into());
            } else {
                send(out, Command::RetryFailed);
            }
        }
        Action::Retry => match transfers.selected() {
            Some(id) if transfers.list == transfers::ListKind::Failed => {
                send(out, Command::Retry(id))
            }
            _ => out.info("select a failed or cancelled object to retry (tab: lists)".into()),
        },
        Action::Cancel => match transfers.selected() {
            Some(id) if transfers.list == transfers::ListKind::Active => {
                send(out, Command::Cancel(id))
            }
            _ => out.info("select an active object to cancel".into()),
        },
        Action::CancelAll => app.overlay = Some(Overlay::Confirm(Confirm::CancelAll)),
        Action::MoreConcurrency | Action::LessConcurrency => {
            let n = transfers.step_concurrency(action == Action::MoreConcurrency);
            transfers.concurrency_max = n;
            send(out, Command::SetConcurrency(n));
        }
        _ => transfers.move_cursor(action),
    }
}

fn confirmed(app: &mut App, confirm: Confirm, out: &mut Out) {
    match confirm {
        Confirm::StartRun => {
            let Some(plan) = &app.plan.plan else { return };
            app.transfers.starting(app.plan.transfer.concurrency);
            out.effects.push(Effect::StartRun {
                plan: Box::new(plan.clone()),
                transfer: Box::new(app.plan.transfer.clone()),
            });
            app.tab = Tab::Transfers;
        }
        Confirm::CancelAll => out.effects.push(Effect::Send(Command::CancelAll)),
        Confirm::Quit => stop_and_quit(app, out),
    }
}

/// Stop the run gracefully (the journal is kept) and quit once it has stopped.
fn stop_and_quit(app: &mut App, out: &mut Out) {
    out.effects.push(Effect::Send(Command::Stop));
    out.warn(
        "stopping: in-flight requests finish, the journal is kept for a resume (q again quits now)"
            .into(),
    );
    app.transfers.phase = transfers::Phase::Stopping;
    app.quit_when_stopped = true;
}

/// Ctrl-C or a signal: stop a running run, or quit; a second one quits at once.
fn interrupt(app: &mut App, out: &mut Out) {
    match app.transfers.phase {
        transfers::Phase::Running | transfers::Phase::Starting => stop_and_quit(app, out),
        _ => out.effects.push(Effect::Quit),
    }
}
