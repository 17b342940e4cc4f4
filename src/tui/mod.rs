//! The terminal UI (ratatui + crossterm), on the component-template model:
//!
//! - [`terminal`]: the event loop. It `select!`s over crossterm's `EventStream`, a tick, a
//!   render interval, signals, and the channel of app messages (listing pages, HEAD results,
//!   the plan's inventory, engine events), sets the injected clock, calls `update`, and hands
//!   the effects to the runtime. The terminal is restored on exit, on error and on panic.
//! - [`app`]: the state and the pure `update(&mut App, Msg) -> Vec<Effect>`; one submodule
//!   per tab. [`keymap`] maps keys to actions (defaults in `assets/keybindings.toml`,
//!   overridable by the user's `keybindings.toml`).
//! - [`runtime`]: executes effects by spawning tasks that post `Msg::...(Result<...>)` back;
//!   it asks `aws` for the browser's listings and HEADs and `job` for the plan's inventory,
//!   plan files and runs, never the SDK.
//! - [`views`]: pure renders of the state (`render(&App, &mut Frame)`), snapshot-tested.
//!
//! Nothing outside this module imports ratatui or crossterm (the engine, `aws`, `plan` and
//! `config` stay UI-free).

pub mod app;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod msg;
pub mod runtime;
pub mod terminal;
pub mod views;

#[cfg(test)]
mod tests;

pub use app::{App, update};
pub use keymap::Keymap;
pub use msg::{Effect, Msg};
pub use runtime::Runtime;
pub use terminal::{SessionOptions, run, run_with};
