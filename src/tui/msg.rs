//! The TUI's two message types: [`Msg`] (everything that happens to the app: keys, ticks,
//! async results, engine events) and [`Effect`] (everything the app asks the outside world to
//! do). `update` turns one `Msg` into state changes and `Effect`s; the runtime executes effects
//! by spawning tasks that post `...(Result<...>)` messages back. Plain data, no I/O.

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::KeyEvent;

use airlock_core::aws::Listing;
use airlock_core::config::{Side, TransferSettings};
use airlock_core::engine::{Command, Event};
use airlock_core::error::Result;
use airlock_core::job::plan_window::{PlanFile, Totals};
use airlock_core::job::{Inventory, Scope};
use airlock_core::plan::ObjectInfo;
use airlock_core::plan::lines::PlanHeader;

/// Something that happened.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal was resized to (columns, rows).
    Resize(u16, u16),
    /// Time passed (spinners, rates); `App::now` is already set.
    Tick,
    /// SIGINT / SIGTERM from outside (Ctrl-C in the terminal arrives as a key).
    Interrupt,
    /// One page of a folder listing. `request` ties it to the listing it belongs to, `page`
    /// is its number in the folder (0: the first).
    Listed {
        side: Side,
        request: u64,
        page: usize,
        result: Result<Listing>,
    },
    /// A HEAD asked for to decide a `?` badge. `Ok(None)`: the key does not exist.
    Headed {
        side: Side,
        key: String,
        result: Result<Option<ObjectInfo>>,
    },
    /// Objects listed so far while gathering the plan's inventory.
    GatherProgress {
        request: u64,
        source: usize,
        target: usize,
    },
    /// The inventory for the plan (both sides listed and enriched), when it cannot be planned
    /// streaming.
    Gathered {
        request: u64,
        result: Result<Inventory>,
    },
    /// The streaming plan's totals so far.
    PlanGrew {
        request: u64,
        totals: Box<Totals>,
    },
    /// The streaming plan is done: its entries in a file, its header with the totals.
    Streamed {
        request: u64,
        result: Result<Box<StreamedPlan>>,
    },
    /// The plan re-routed for the settings box's values (answers [`Effect::Reroute`]).
    Rerouted {
        request: u64,
        result: Result<Box<StreamedPlan>>,
    },
    /// The engine was started (or could not be).
    RunStarted(Result<()>),
    /// An event from the running engine.
    Engine(Event),
    /// The plan was written (to this path) or not.
    PlanSaved(Result<PathBuf>),
}

/// A plan on disk: its entries ([`PlanFile`]) and header (totals, settings).
#[derive(Debug)]
pub struct StreamedPlan {
    pub file: PlanFile,
    pub header: PlanHeader,
    /// HEAD requests the plan needed.
    pub heads: usize,
}

/// Something the app asks the runtime to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// List page `page` of `prefix` on `side` (not recursive), from `continuation`;
    /// answered by [`Msg::Listed`].
    List {
        side: Side,
        prefix: String,
        continuation: Option<String>,
        request: u64,
        page: usize,
    },
    /// HEAD one key; answered by [`Msg::Headed`].
    Head { side: Side, key: String },
    /// Plan `scope` with `transfer` streaming into a plan file ([`Msg::PlanGrew`]s, then
    /// [`Msg::Streamed`]); what cannot stream (`version_at`, a store that does not list in key
    /// order) by listing both sides in memory and HEADing undecided pairs
    /// ([`Msg::GatherProgress`]es, then [`Msg::Gathered`]).
    Gather {
        request: u64,
        scope: Scope,
        transfer: Box<TransferSettings>,
    },
    /// Re-route the plan in `file` for `transfer` into a new file; answered by
    /// [`Msg::Rerouted`].
    Reroute {
        request: u64,
        file: Arc<PlanFile>,
        header: Box<PlanHeader>,
        transfer: Box<TransferSettings>,
    },
    /// Start the engine on the plan in `file`, streamed as `run --plan` streams a saved plan
    /// (multipart sources learn their part layouts as they are fed); answered by
    /// [`Msg::RunStarted`], then [`Msg::Engine`]s.
    StartRun {
        file: Arc<PlanFile>,
        header: Box<PlanHeader>,
        transfer: Box<TransferSettings>,
        /// Mirror: the user confirmed the plan's deletions.
        confirm_delete: bool,
    },
    /// Send a command to the running engine.
    Send(Command),
    /// Write the plan as a format 5 plan (compressed as the name says; a file or `s3://`);
    /// answered by [`Msg::PlanSaved`].
    SavePlan {
        file: Arc<PlanFile>,
        header: Box<PlanHeader>,
        path: PathBuf,
    },
    /// Leave the UI.
    Quit,
}
