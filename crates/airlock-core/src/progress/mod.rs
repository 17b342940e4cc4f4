//! Progress as both UIs show it: [`Stats`] folded from the engine's event stream (totals,
//! GET and PUT rates, ETA, chart series) and the human formatting of bytes, durations and
//! times. Pure: time is passed in, nothing is read or written. Depends on `engine` (its
//! events) and `config` ([`crate::config::ByteSize`]); never on a UI crate.

mod format;
mod stats;

pub use format::{human_bytes, human_duration, human_time};
pub use stats::{HISTORY, Series, Stats};
