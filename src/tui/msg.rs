//! The TUI's two message types: [`Msg`] (everything that happens to the app: keys, ticks,
//! async results, engine events) and [`Effect`] (everything the app asks the outside world to
//! do). `update` turns one `Msg` into state changes and `Effect`s; the runtime executes effects
//! by spawning tasks that post `...(Result<...>)` messages back. Plain data, no I/O.

use std::path::PathBuf;

use crossterm::event::KeyEvent;

use airlock_core::aws::Listing;
use airlock_core::config::{Side, TransferSettings};
use airlock_core::engine::{Command, Event};
use airlock_core::error::Result;
use airlock_core::job::{Inventory, Scope};
use airlock_core::plan::{ObjectInfo, Plan};

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
    /// The inventory for the plan (both sides listed and enriched).
    Gathered {
        request: u64,
        result: Result<Inventory>,
    },
    /// The source part layouts of the run's multipart items are learnt: the run starts with
    /// this plan (answered by [`Effect::Launch`]).
    LayoutsLearnt(Box<Launch>),
    /// The engine was started (or could not be).
    RunStarted(Result<()>),
    /// An event from the running engine.
    Engine(Event),
    /// The plan was written (to this path) or not.
    PlanSaved(Result<PathBuf>),
}

/// A run about to start: its plan and the settings it runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    pub plan: Plan,
    pub transfer: TransferSettings,
    /// Mirror: the user confirmed the plan's deletions.
    pub confirm_delete: bool,
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
    /// List both sides for the plan and HEAD undecided pairs; answered by [`Msg::Gathered`].
    Gather { request: u64, scope: Scope },
    /// Learn the source part layouts of `plan`'s multipart items (answered by
    /// [`Msg::LayoutsLearnt`]), then start the engine on it with [`Effect::Launch`].
    StartRun {
        plan: Box<Plan>,
        transfer: Box<TransferSettings>,
        /// Mirror: the user confirmed the plan's deletions.
        confirm_delete: bool,
    },
    /// Start the engine on a plan whose layouts are learnt; answered by [`Msg::RunStarted`],
    /// then [`Msg::Engine`]s.
    Launch(Box<Launch>),
    /// Send a command to the running engine.
    Send(Command),
    /// Write the plan as JSON; answered by [`Msg::PlanSaved`].
    SavePlan { plan: Box<Plan>, path: PathBuf },
    /// Leave the UI.
    Quit,
}
