//! The terminal task: enter the alternate screen (ratatui installs a panic hook that restores
//! the terminal), loop over terminal events, ticks, renders, signals and app messages, and
//! restore the terminal however the loop ends. `airlock` calls [`run`] and
//! `airlock demo` [`run_with`] (its journal beside its data), both with ready `Settings` and
//! `Sides`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::app::{App, Level, transfers::Phase, update};
use super::keymap::Keymap;
use super::msg::Msg;
use super::runtime::Runtime;
use super::views;
use crate::signals::Terminate;
use airlock_core::aws::Sides;
use airlock_core::config::Settings;
use airlock_core::error::{Error, Result};

/// Spinners and clocks advance this often.
const TICK: Duration = Duration::from_millis(200);
/// At most this many frames per second are drawn (only when something changed).
const FRAME: Duration = Duration::from_millis(33);

/// Leaves the alternate screen when dropped, whatever way `run` ends.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Where the user's key bindings live.
pub fn keybindings_path() -> Option<std::path::PathBuf> {
    airlock_core::dirs::project_dirs().map(|d| d.config_dir().join("keybindings.toml"))
}

/// What a caller may change about a TUI session beyond settings and connections.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Where the resume journal goes (None: the user data dir). `airlock demo` keeps it
    /// with the demo's data.
    pub journal_dir: Option<std::path::PathBuf>,
}

/// Run the TUI until the user quits. Returns the exit code: 0, or the last run's
/// (1 when objects failed, 130 when it was stopped).
pub async fn run(settings: Settings, sides: Sides) -> Result<i32> {
    run_with(settings, sides, SessionOptions::default()).await
}

/// [`run`] with options.
pub async fn run_with(settings: Settings, sides: Sides, options: SessionOptions) -> Result<i32> {
    if !std::io::stdout().is_terminal() {
        return Err(Error::usage(
            "the terminal UI needs a terminal; for scripts use 'airlock run' (or 'airlock plan')",
        ));
    }
    let (keymap, keymap_warnings) = Keymap::load(keybindings_path().as_deref());
    let config_warnings = settings.warnings.clone();
    log_panics();
    // ratatui's own hook (installed here) restores the terminal, then calls ours.
    let mut terminal = ratatui::try_init().map_err(|e| Error::io("terminal", e))?;
    let _restore = Restore;
    let size = terminal.size().map_err(|e| Error::io("terminal", e))?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut runtime = Runtime::new(sides, settings.clone(), tx);
    runtime.journal_dir = options.journal_dir;
    let mut app = App::new(settings, keymap, (size.width, size.height));
    for warning in config_warnings.into_iter().chain(keymap_warnings) {
        app.push_log(Level::Warn, warning);
    }
    let clock = Instant::now();
    let mut running = runtime.execute_all(app.start());
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    let mut frame = tokio::time::interval(FRAME);
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut signals = Signals::new();
    let mut dirty = true;
    while running {
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(TermEvent::Key(key))) => Msg::Key(key),
                Some(Ok(TermEvent::Resize(columns, rows))) => Msg::Resize(columns, rows),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(Error::io("terminal", e)),
                None => break,
            },
            Some(msg) = rx.recv() => msg,
            _ = tick.tick() => Msg::Tick,
            () = signals.next() => Msg::Interrupt,
            _ = frame.tick(), if dirty => {
                terminal
                    .draw(|f| views::render(&app, f))
                    .map_err(|e| Error::io("terminal", e))?;
                dirty = false;
                continue;
            }
        };
        app.now = clock.elapsed();
        let logged = app.logged;
        let effects = update(&mut app, msg);
        log_new_lines(&app, logged);
        running = runtime.execute_all(effects);
        dirty = true;
    }
    drop(_restore);
    Ok(exit_report(&app))
}

/// Panics also go to the log file: the screen they were printed on is gone once the terminal
/// is restored.
fn log_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!(target: "airlock::tui", "panic: {info}");
        previous(info);
    }));
}

/// Copy what the status line just showed into the log file (the screen keeps only the last
/// 200 lines; the file keeps everything).
fn log_new_lines(app: &App, before: u64) {
    let added = ((app.logged - before) as usize).min(app.log.len());
    for line in app.log.iter().skip(app.log.len() - added) {
        match line.level {
            Level::Info => tracing::info!(target: "airlock::tui", "{}", line.text),
            Level::Warn => tracing::warn!(target: "airlock::tui", "{}", line.text),
            Level::Error => tracing::error!(target: "airlock::tui", "{}", line.text),
        }
    }
}

/// After the screen is restored: say how the last run ended, and return the exit code.
fn exit_report(app: &App) -> i32 {
    match &app.transfers.phase {
        Phase::Finished(summary) => {
            println!(
                "airlock: {}",
                super::app::transfers::finished_message(summary)
            );
            if summary.interrupted {
                println!("airlock: the journal is kept: run the same copy again to resume");
            }
            summary.exit_code()
        }
        Phase::Running | Phase::Starting | Phase::Stopping => {
            println!(
                "airlock: quit during the run; the journal is kept: run the same copy again to resume"
            );
            130
        }
        Phase::Idle => 0,
    }
}

/// SIGINT and SIGTERM from outside the terminal (Ctrl-C inside it arrives as a key).
struct Signals {
    term: Terminate,
}

impl Signals {
    fn new() -> Self {
        Signals {
            term: Terminate::new(),
        }
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = self.term.recv() => {}
        }
    }
}
