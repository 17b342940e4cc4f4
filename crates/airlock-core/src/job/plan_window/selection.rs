//! Planning a selection (the TUI browser's picked folders and objects) streaming into a
//! [`PlanFile`], in target-key order as format 5 wants: the selection's units sorted by key
//! (a folder is a key range, so sorted units never interleave; a unit inside a selected folder
//! is dropped as already covered), each folder merge-joined with the target's listing of its
//! counterpart as [`super::super::stream_plan`] does for the configured prefix, each loose
//! object HEADed at its target key. The filters apply as to the configured prefix (relative to
//! it), HEADs where the listings cannot decide and the source part layouts in order-keeping
//! windows, as there. A selection deletes nothing (mirror deletions need the whole prefix).

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures::TryStreamExt;
use futures::future::{self, Either};

use super::super::key_list;
use super::super::stream_plan::{self, HEAD_CONCURRENCY, Joined, Pages, Stop};
use super::stream::{GREW_EVERY, LAYOUT_CONCURRENCY, Streamed};
use super::{PlanFileWriter, Totals};
use crate::aws::Sides;
use crate::aws::listing::head;
use crate::config::{Settings, TransferSettings};
use crate::error::{Error, Result};
use crate::plan::filter::Filter;
use crate::plan::lines::{Entry, PlanHeader};
use crate::plan::{self, ObjectInfo, PlanInput, Planner};

/// A piece of the selection.
enum Unit {
    /// A source prefix, listed recursively.
    Folder(String),
    /// One source object as the browser listed it.
    Object(ObjectInfo),
}

impl Unit {
    fn key(&self) -> &str {
        match self {
            Unit::Folder(prefix) => prefix,
            Unit::Object(object) => &object.key,
        }
    }
}

/// The units sorted by key, without those a selected folder covers.
fn units(folders: Vec<String>, objects: Vec<ObjectInfo>) -> VecDeque<Unit> {
    let mut all: Vec<Unit> = (folders.into_iter().map(Unit::Folder))
        .chain(objects.into_iter().map(Unit::Object))
        .collect();
    all.sort_by(|a, b| a.key().cmp(b.key()));
    let mut kept = VecDeque::with_capacity(all.len());
    let mut covering: Option<String> = None;
    for unit in all {
        if covering
            .as_deref()
            .is_some_and(|c| unit.key().starts_with(c))
        {
            continue;
        }
        if let Unit::Folder(prefix) = &unit {
            covering = Some(prefix.clone());
        }
        kept.push_back(unit);
    }
    kept
}

/// A source object met with its target key: what the target holds there is known (a folder's
/// merge) or still to be asked (a loose object's HEAD).
enum Met {
    Joined(Joined),
    HeadTarget(ObjectInfo, String),
}

/// The merge over the units.
struct Merge<'a> {
    sides: &'a Sides,
    settings: &'a Settings,
    units: VecDeque<Unit>,
    /// The folder being merged: its source and target listings.
    folder: Option<(Pages, Pages)>,
    selection: &'a mut Filter,
}

impl Merge<'_> {
    fn target_key(&self, key: &str) -> String {
        plan::target_key(
            key,
            &self.settings.source.prefix,
            &self.settings.target.prefix,
        )
    }

    async fn next(&mut self) -> std::result::Result<Option<Met>, Stop> {
        loop {
            if let Some((source, target)) = self.folder.as_mut() {
                let Some(object) = source.next().await? else {
                    self.folder = None;
                    continue;
                };
                let target_key = plan::target_key(
                    &object.key,
                    &self.settings.source.prefix,
                    &self.settings.target.prefix,
                );
                // Target objects before this key have no counterpart in the selection.
                while target
                    .peek()
                    .await?
                    .is_some_and(|t| t.key.as_str() < target_key.as_str())
                {
                    target.next().await?;
                }
                let matched = target.peek().await?.is_some_and(|t| t.key == target_key);
                let listed = if matched { target.next().await? } else { None };
                if self.selection.keep(&object) {
                    return Ok(Some(Met::Joined(Joined::Pair {
                        source: object,
                        target_key,
                        target: listed,
                    })));
                }
                continue;
            }
            match self.units.pop_front() {
                None => return Ok(None),
                Some(Unit::Folder(prefix)) => {
                    let target_prefix = self.target_key(&prefix);
                    self.folder = Some((
                        Pages::spawn(&self.sides.source, &prefix),
                        Pages::spawn(&self.sides.target, &target_prefix),
                    ));
                }
                Some(Unit::Object(object)) => {
                    if self.selection.keep(&object) {
                        let target_key = self.target_key(&object.key);
                        return Ok(Some(Met::HeadTarget(object, target_key)));
                    }
                }
            }
        }
    }
}

/// Plan the selection (`folders`, `objects`) with `transfer` into a new plan file; `grew` and
/// `cancel` as for [`super::plan_to_file`]. Not `Send`, like it.
pub async fn plan_selection_to_file(
    sides: &Sides,
    settings: &Settings,
    transfer: &TransferSettings,
    (folders, objects): (Vec<String>, Vec<ObjectInfo>),
    cancel: &AtomicBool,
    mut grew: impl FnMut(&Totals),
) -> Result<Streamed> {
    if !stream_plan::can_stream(settings) {
        return Err(Error::internal("a selection with version_at cannot stream"));
    }
    let keys = key_list::keys_of(&settings.filter)?;
    let now_ms = crate::config::filter::now_ms();
    let mut selection = Filter::new(&settings.filter, &settings.source.prefix, keys, now_ms)?;
    let planner = Mutex::new(Planner::new(PlanInput {
        source: &settings.source,
        target: &settings.target,
        transfer,
    }));
    let mut writer = PlanFileWriter::new()?;
    let mut heads = 0usize;
    let mut told = Instant::now();
    {
        let merge = Merge {
            sides,
            settings,
            units: units(folders, objects),
            folder: None,
            selection: &mut selection,
        };
        let compare = transfer.compare;
        let planner = &planner;
        let entries = futures::stream::try_unfold(merge, |mut merge| async move {
            Ok::<_, Stop>(merge.next().await?.map(|met| (met, merge)))
        })
        .map_ok(|met| match met {
            // A pair the listings decide passes as a ready value, not as a future holding a
            // request's state.
            Met::Joined(joined) if !stream_plan::needs_heads(compare, &joined) => {
                Either::Left(future::ready(Ok((joined, 0))))
            }
            met => Either::Right(Box::pin(async move {
                let (joined, headed) = match met {
                    Met::Joined(joined) => (joined, 0),
                    Met::HeadTarget(source, target_key) => {
                        let target = head(&sides.target, &target_key).await?;
                        let joined = Joined::Pair {
                            source,
                            target_key,
                            target,
                        };
                        (joined, 1)
                    }
                };
                let (joined, more) = stream_plan::enrich(sides, compare, joined).await?;
                Ok::<_, Stop>((joined, headed + more))
            })),
        })
        .try_buffered(HEAD_CONCURRENCY)
        .map_ok(|(joined, headed)| {
            let Joined::Pair {
                source,
                target_key,
                target,
            } = joined
            else {
                return Either::Left(future::ready(Err(Stop::Failed(Error::internal(
                    "a selection has no deletions",
                )))));
            };
            let mut item = planner.lock().expect("the planner is not poisoned").item(
                source,
                target_key,
                target.as_ref(),
            );
            if !super::super::layouts::wants_layout(&item) {
                return Either::Left(future::ready(Ok((item, headed))));
            }
            Either::Right(Box::pin(async move {
                super::super::layouts::learn_item(&sides.source, &mut item).await;
                Ok::<_, Stop>((item, headed))
            }))
        })
        .try_buffered(LAYOUT_CONCURRENCY);
        let mut entries = pin!(entries);
        loop {
            let (item, headed) = match entries.try_next().await {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(Stop::Failed(e)) => return Err(e),
                Err(Stop::OutOfOrder(why)) => return Ok(Streamed::OutOfOrder(why)),
            };
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::internal("the plan was replaced by a newer one"));
            }
            heads += headed;
            planner
                .lock()
                .expect("the planner is not poisoned")
                .count(&item);
            writer.push(&Entry::Item(item))?;
            if told.elapsed() >= GREW_EVERY {
                told = Instant::now();
                grew(writer.totals());
            }
        }
    }
    let planned = planner
        .into_inner()
        .expect("the planner is not poisoned")
        .finish();
    // A selection is planned from the live listings, never from an S3 Inventory.
    let header = PlanHeader::streamed(
        settings,
        planned,
        selection.finish(),
        Default::default(),
        None,
    );
    Ok(Streamed::Planned {
        file: writer.finish()?,
        header: Box::new(header),
        heads,
    })
}
