//! Orchestration: the code both UIs call to get from settings to a finished run. Lists and
//! plans, cuts a plan into shards, stores plans (local files and `s3://`), and runs the
//! pipeline (resolve the plan, cut the shard, recheck a saved plan, start the engine, record
//! the run's manifest and shard report, compute the exit code); around a sharded run, opens and
//! completes split objects' shared uploads, and merges the shards' reports afterwards.
//!
//! Depends on `config`, `aws`, `plan` and `engine`; never on a UI crate. What it has to say
//! along the way it hands to the caller as data, which words and prints it.

pub mod inventory;
mod key_list;
mod layouts;
pub mod manifest;
pub mod plan_file;
pub mod plan_store;
pub mod plan_window;
pub(crate) mod recheck;
pub mod report_merge;
pub mod run;
mod s3_inventory;
pub mod shard;
pub mod shard_report;
pub mod split_objects;
pub mod stream_plan;

pub use inventory::{Inventory, Scope, gather};

/// Give every multipart item of `plan` that has no [`crate::plan::SourceLayout`] yet, and whose
/// source ETag is multipart, the source's part layout (and part size where that layout is
/// used), as `plan` does for headless plans. For plans built without I/O (the TUI's): call it
/// before the run. Never fails; an item whose source does not answer is copied as before.
pub async fn learn_layouts(source: &crate::aws::SideClient, plan: &mut crate::plan::Plan) {
    layouts::learn(source, plan).await;
}
