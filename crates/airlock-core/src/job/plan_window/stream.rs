//! Planning into a [`PlanFile`] with the streaming planner ([`super::super::stream_plan`]),
//! telling the caller the totals as they grow, and running one: its entries read back on the
//! blocking pool, multipart items given their source's part layout where they lack it (a
//! re-route can make an item multipart), and fed to [`crate::engine::Engine::start_stream`],
//! as `run --plan` feeds a saved plan. Nothing per object is held by either.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::{self, Either};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{PlanFile, PlanFileWriter, Totals};
use crate::aws::Sides;
use crate::config::{Settings, TransferSettings};
use crate::engine::{FeedTotals, PlanFeed, feed_channel};
use crate::error::{Error, Result};
use crate::plan::lines::{Entry, PlanHeader};

/// How often the totals are told while planning.
pub(super) const GREW_EVERY: Duration = Duration::from_millis(100);

/// Items given their layouts at once, in order.
pub(super) const LAYOUT_CONCURRENCY: usize = 16;

/// How [`plan_to_file`] ended.
#[derive(Debug)]
pub enum Streamed {
    Planned {
        file: PlanFile,
        header: Box<PlanHeader>,
        /// HEAD requests the plan needed.
        heads: usize,
    },
    /// A listing was not in key order (see [`super::super::stream_plan::Outcome`]): plan in
    /// memory instead.
    OutOfOrder(String),
}

/// Plan the configured prefixes with `transfer` into a new [`PlanFile`]. `grew` sees the
/// totals every [`GREW_EVERY`] while planning; setting `cancel` stops the planning (an
/// error), e.g. when a newer plan was asked for. Not `Send` (the streaming planner is not):
/// run it on a thread of its own (`spawn_blocking` and `Handle::block_on`).
pub async fn plan_to_file(
    sides: &Sides,
    settings: &Settings,
    transfer: &TransferSettings,
    cancel: Arc<AtomicBool>,
    mut grew: impl FnMut(&Totals),
) -> Result<Streamed> {
    let mut writer = PlanFileWriter::new()?;
    let mut told = Instant::now();
    let outcome = super::super::stream_plan::stream_plan(sides, settings, transfer, |entry| {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::internal("the plan was replaced by a newer one"));
        }
        writer.push(&entry)?;
        if told.elapsed() >= GREW_EVERY {
            told = Instant::now();
            grew(writer.totals());
        }
        Ok(())
    })
    .await?;
    match outcome {
        super::super::stream_plan::Outcome::Planned { header, heads } => Ok(Streamed::Planned {
            file: writer.finish()?,
            header,
            heads,
        }),
        super::super::stream_plan::Outcome::OutOfOrder(why) => Ok(Streamed::OutOfOrder(why)),
    }
}

/// A feed for [`crate::engine::Engine::start_stream`] of the plan in `file` (its totals from
/// `header`), and the task that fills it (abort it to stop reading).
pub fn feed(file: Arc<PlanFile>, header: &PlanHeader, sides: &Sides) -> (PlanFeed, JoinHandle<()>) {
    let (raw_tx, mut raw_rx) = mpsc::channel::<Result<Entry>>(crate::engine::FEED_CAPACITY);
    tokio::task::spawn_blocking(move || {
        let entries = match file.entries() {
            Ok(entries) => entries,
            Err(e) => {
                let _ = raw_tx.blocking_send(Err(e));
                return;
            }
        };
        for entry in entries {
            let failed = entry.is_err();
            if raw_tx.blocking_send(entry).is_err() || failed {
                return;
            }
        }
    });
    let (mut tx, entries) = feed_channel();
    let source = sides.source.clone();
    let task = tokio::spawn(async move {
        let raw = futures::stream::poll_fn(move |cx| raw_rx.poll_recv(cx));
        let learnt = raw
            .map(|entry| match entry {
                // Only an item that wants its layout waits for a request; the rest pass as
                // ready values, not as futures holding a request's state.
                Ok(Entry::Item(mut item)) if super::super::layouts::wants_layout(&item) => {
                    let source = source.clone();
                    Either::Right(Box::pin(async move {
                        super::super::layouts::learn_item(&source, &mut item).await;
                        Ok::<_, Error>(Entry::Item(item))
                    }))
                }
                other => Either::Left(future::ready(other)),
            })
            .buffered(LAYOUT_CONCURRENCY);
        let mut learnt = std::pin::pin!(learnt);
        while let Some(entry) = learnt.next().await {
            match entry {
                Ok(entry) => {
                    if tx.send(entry).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.fail(e).await;
                    return;
                }
            }
        }
        let _ = tx.finish().await;
    });
    let feed = PlanFeed {
        source: header.source.clone(),
        target: header.target.clone(),
        totals: Some(FeedTotals {
            objects: header.summary.copy_objects(),
            bytes: header.summary.copy_bytes(),
            skipped: header.summary.skip.objects,
        }),
        entries,
    };
    (feed, task)
}
