//! The app state and `update`: one [`Msg`] in, state changes and [`Effect`]s out, no I/O.
//! Keys become [`Action`]s through the keymap, after the modal layers (overlay, text inputs)
//! had their turn. Each tab's state and update live in a submodule; this file holds what is
//! global: tabs, overlays and dialogs, the message log, quitting.

mod actions;
pub mod badges;
pub mod browser;
pub mod listing;
pub mod paging;
pub mod plan;
pub mod selection;
pub mod transfers;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use crate::tui::input::{InputOutcome, TextInput};
use crate::tui::keymap::{Action, Context, Keymap};
use crate::tui::layout;
use crate::tui::msg::{Effect, Msg};
use airlock_core::config::Settings;

pub use browser::Browser;
pub use plan::PlanTab;
pub use transfers::Transfers;

/// Default file name offered when saving a plan: format 5, zstd (a few dozen bytes an object).
pub const DEFAULT_PLAN_FILE: &str = "airlock-plan.jsonl.zst";
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
    /// Mirror: the plan deletes target objects. y copies then deletes, n copies only.
    Delete,
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
    /// Lines ever logged (the deque keeps only the last ones); the runtime copies new ones
    /// to the log file.
    pub logged: u64,
    /// Quit as soon as the stopping run has finished.
    pub quit_when_stopped: bool,
}

impl App {
    pub fn new(settings: Settings, keymap: Keymap, size: (u16, u16)) -> Self {
        let mut app = App {
            browser: Browser::new(&settings),
            plan: PlanTab::new(&settings),
            transfers: match settings.transfer.adaptive_concurrency {
                true => Transfers {
                    concurrency_auto: true,
                    ..Transfers::new(settings.transfer.concurrency_ceiling())
                },
                false => Transfers::new(settings.transfer.concurrency),
            },
            settings,
            keymap,
            tab: Tab::Browser,
            overlay: None,
            now: Duration::ZERO,
            size,
            log: VecDeque::new(),
            logged: 0,
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
        self.logged += 1;
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
        Msg::Interrupt => actions::interrupt(app, &mut out),
        Msg::Listed {
            side,
            request,
            page,
            result,
        } => app.browser.listed(side, request, page, result, &mut out),
        Msg::Headed { side, key, result } => app.browser.headed(side, key, result, &mut out),
        Msg::GatherProgress {
            request,
            source,
            target,
        } => app.plan.progress(request, source, target),
        Msg::Gathered { request, result } => {
            app.plan.gathered(request, result, &app.settings, &mut out)
        }
        Msg::PlanGrew { request, totals } => app.plan.grew(request, *totals),
        Msg::Streamed { request, result } => app.plan.streamed(request, result, &mut out),
        Msg::Rerouted { request, result } => app.plan.rerouted(request, result, &mut out),
        Msg::RunStarted(Ok(())) => out.info("run started".into()),
        Msg::RunStarted(Err(e)) => {
            out.error(format!("cannot start the run: {e}"));
            app.transfers.phase = transfers::Phase::Idle;
        }
        Msg::Engine(event) => {
            let finished = matches!(event, airlock_core::engine::Event::RunFinished { .. });
            app.transfers.apply(&event, app.now, &mut out);
            if finished && app.quit_when_stopped {
                out.effects.push(Effect::Quit);
            } else if finished {
                app.browser.target_changed(&mut out);
                actions::replan_after_run(app, &mut out);
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
        return actions::interrupt(app, out);
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
        actions::action(app, action, out);
    }
}

fn overlay_key(app: &mut App, key: KeyEvent, action: Option<Action>, out: &mut Out) {
    let overlay = app.overlay.take();
    // Esc, q or the overlay's own key close help and log; anything else leaves them open.
    let closes = |own: Action| {
        key.code == KeyCode::Esc || action == Some(own) || action == Some(Action::Quit)
    };
    match overlay {
        Some(Overlay::Help) if !closes(Action::Help) => app.overlay = Some(Overlay::Help),
        Some(Overlay::Log) if !closes(Action::Log) => app.overlay = Some(Overlay::Log),
        // Enter confirms only the start; stopping and cancelling take an explicit y.
        Some(Overlay::Confirm(confirm)) => match key.code {
            KeyCode::Char('y' | 'Y') => actions::confirmed(app, confirm, out),
            KeyCode::Enter if confirm == Confirm::StartRun => actions::confirmed(app, confirm, out),
            // Declining the deletions still runs the copies (Esc goes back without a run).
            KeyCode::Char('n' | 'N') if confirm == Confirm::Delete => {
                actions::start_run(app, false, out)
            }
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
                if let Some(shown) = &app.plan.plan {
                    out.effects.push(Effect::SavePlan {
                        file: shown.file.clone(),
                        header: Box::new(shown.header.clone()),
                        path: PathBuf::from(path),
                    });
                }
            }
        },
        _ => {}
    }
}
