//! The streaming plan: both listings paged (ListObjectsV2, under the configured prefixes) and
//! merge-joined on the target key without holding either side, so planning takes memory that
//! does not grow with the number of objects.
//!
//! Why a merge works: S3 general purpose buckets list keys in UTF-8 binary order, and the source
//! key -> target key map (swap the source prefix for the target prefix) keeps that order for
//! keys under the prefix. Each source object meets the target object with its target key, if
//! any; target objects met by no source key are mirror mode's deletion candidates, judged by
//! the rule of [`crate::plan::mirror`] as they pass. A listing that is not in strictly
//! increasing key order (directory buckets, some S3-compatible stores) stops the merge with
//! [`Outcome::OutOfOrder`]: the caller plans in memory instead ([`super::inventory`]), never
//! from a wrong join.
//!
//! The source side may be an S3 Inventory's rows instead of its listing
//! ([`super::s3_inventory`]); its items then carry the inventory's date.
//!
//! The pipeline: listing pages (two tasks, one page ahead each) -> merge and filters (in
//! batches of [`MERGE_BATCH`] pairs) -> per-object enrichment (HEADs where the listings cannot
//! decide; a bounded, order-keeping window of [`HEAD_CONCURRENCY`]) -> [`Planner`] -> a
//! multipart source's own part layout ([`super::layouts`], a second such window) -> counted ->
//! the caller's sink (printing, a format 5 plan file, an engine's feed). A pair that needs no
//! request passes each window as a ready value, and pairs and entries travel boxed, so the
//! stages cost little per object. The TUI's selections use the same parts
//! (`plan_window/selection.rs`). Not streamed: `source.version_at` (version listings are
//! gathered whole). Depends on `aws` (listing pages, HEAD), `plan` and `config`.

use std::pin::pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::TryStreamExt;
use futures::future::{self, Either, TryFutureExt};

mod pages;

pub(crate) use pages::Pages;

use super::inventory::merge_headed;
use super::key_list;
use crate::aws::listing::{head, head_version};
use crate::aws::{SideClient, Sides};
use crate::config::{CompareMode, Settings, TransferMode, TransferSettings};
use crate::error::{Error, Result};
use crate::plan::filter::Filter;
use crate::plan::lines::{Entry, PlanHeader};
use crate::plan::{
    self, DELETE_REASON, DeleteTotals, Deletion, ObjectInfo, PlanInput, Planner, Verdict,
};

/// HEAD requests in flight (objects being enriched at once, in order).
pub const HEAD_CONCURRENCY: usize = 32;

/// Multipart items whose source part layout is being learnt at once, in order
/// ([`super::layouts`]; other items pass straight through).
const LAYOUT_CONCURRENCY: usize = 16;

/// Pairs the merge gives at once ([`Merge::next_batch`]).
const MERGE_BATCH: usize = 256;

/// Whether the configured plan can stream: not with `source.version_at` (version listings are
/// gathered whole to choose each key's version).
pub fn can_stream(settings: &Settings) -> bool {
    settings.filter.version_at.is_none()
}

/// How a streaming plan ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every entry went to the sink; the header holds the totals.
    Planned {
        header: Box<PlanHeader>,
        heads: usize,
    },
    /// A listing was not in key order: the entries given so far are not a plan. The message
    /// names the side and the keys.
    OutOfOrder(String),
}

/// Why the merge stopped early.
pub(crate) enum Stop {
    Failed(Error),
    OutOfOrder(String),
}

impl Stop {
    /// As an error: a listing out of key order is a plan error naming it.
    pub(crate) fn into_error(self) -> Error {
        match self {
            Stop::Failed(e) => e,
            Stop::OutOfOrder(why) => Error::plan(why),
        }
    }
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Failed(e)
    }
}

/// Plan the configured prefixes with `transfer`, giving each entry to `sink` in target-key
/// order as it is planned. See the module docs.
pub async fn stream_plan(
    sides: &Sides,
    settings: &Settings,
    transfer: &TransferSettings,
    mut sink: impl FnMut(Entry) -> Result<()>,
) -> Result<Outcome> {
    stream_plan_into(sides, settings, transfer, &mut CallSink(&mut sink)).await
}

/// Where a streaming plan's entries go.
pub(crate) trait Sink {
    async fn put(&mut self, entry: Entry) -> Result<()>;
}

/// A sink that is a function (printing, a plan file).
struct CallSink<F>(F);

impl<F: FnMut(Entry) -> Result<()>> Sink for CallSink<F> {
    async fn put(&mut self, entry: Entry) -> Result<()> {
        (self.0)(entry)
    }
}

/// An engine's feed: waits while the channel is full (the run admits items as it has room).
pub(crate) struct ChannelSink<'a> {
    pub tx: &'a mut crate::engine::FeedSender,
    /// Entries given so far.
    pub sent: u64,
    /// The run's manifest, told of each entry before the engine sees it.
    pub tap: Tap,
}

impl Sink for ChannelSink<'_> {
    async fn put(&mut self, entry: Entry) -> Result<()> {
        self.tap.entry(&entry);
        self.tx.send(entry).await?;
        self.sent += 1;
        Ok(())
    }
}

/// A run's manifest (if it keeps one), told of each entry fed to the engine, with the item's
/// id (its position among the items).
#[derive(Default)]
pub(crate) struct Tap {
    pub manifest: Option<super::manifest::ManifestTap>,
    pub items: usize,
}

impl Tap {
    pub(crate) fn entry(&mut self, entry: &Entry) {
        match entry {
            Entry::Item(item) => {
                if let Some(manifest) = &self.manifest {
                    manifest.item(self.items, item);
                }
                self.items += 1;
            }
            Entry::Deletion(deletion) => {
                if let Some(manifest) = &self.manifest {
                    manifest.deletion(deletion);
                }
            }
        }
    }
}

/// [`stream_plan`] into any [`Sink`].
pub(crate) async fn stream_plan_into(
    sides: &Sides,
    settings: &Settings,
    transfer: &TransferSettings,
    sink: &mut impl Sink,
) -> Result<Outcome> {
    if !can_stream(settings) {
        return Err(Error::internal(
            "stream_plan called for a plan with version_at",
        ));
    }
    let keys = key_list::keys_of(&settings.filter)?;
    let now_ms = crate::config::filter::now_ms();
    let source_prefix = settings.source.prefix.as_str();
    let mut selection = Filter::new(&settings.filter, source_prefix, keys.clone(), now_ms)?;
    let mirror = (transfer.mode == TransferMode::Mirror)
        .then(|| Filter::new(&settings.filter, source_prefix, keys, now_ms))
        .transpose()?;
    let planner = Mutex::new(Planner::new(PlanInput {
        source: &settings.source,
        target: &settings.target,
        transfer,
    }));
    let heads = AtomicUsize::new(0);
    let mut deletions = DeleteTotals::default();
    // The source side: ListObjectsV2 pages, or an S3 Inventory's rows in the same shape.
    let (source, inventory) = match &settings.filter.inventory {
        Some(inventory) => {
            let (opened, pages) = super::s3_inventory::open(sides, settings, inventory).await?;
            let source = &settings.source;
            let pages = Pages::of("source", &source.bucket, &source.prefix, pages);
            (pages, Some(opened))
        }
        None => (Pages::spawn(&sides.source, &settings.source.prefix), None),
    };
    let inventory_of_ms = inventory.as_ref().map(|opened| opened.origin.created_ms);
    {
        let merge = Merge {
            source,
            target: Pages::spawn(&sides.target, &settings.target.prefix),
            source_prefix: settings.source.prefix.clone(),
            target_prefix: settings.target.prefix.clone(),
            state_prefix: settings.target.write.state_prefix.clone(),
            pending: None,
            selection: &mut selection,
            mirror,
        };
        let compare = transfer.compare;
        // Items are made in order (the planner's warnings), given their source's part layout
        // in a second order-keeping window, and counted as they leave it, so the totals hold
        // the layout's part counts.
        // The merge gives pairs a batch at a time (one future per batch, not per key). Pairs
        // and entries travel boxed: each stage moves a pointer, not a few hundred bytes.
        let entries = futures::stream::try_unfold(merge, |mut merge| async move {
            let batch = merge.next_batch().await?;
            Ok::<_, Stop>((!batch.is_empty()).then_some((batch, merge)))
        })
        .map_ok(|batch| futures::stream::iter(batch.into_iter().map(Ok::<_, Stop>)))
        .try_flatten()
        .map_ok(|joined| {
            // Most pairs need no HEAD: they pass as a ready value, not as a future that
            // embeds the HEAD request's state (large, and moved through the window).
            if needs_heads(compare, &joined) {
                Either::Right(Box::pin(
                    enrich(sides, compare, *joined).map_ok(|(j, headed)| (Box::new(j), headed)),
                ))
            } else {
                Either::Left(future::ready(Ok((joined, 0))))
            }
        })
        .try_buffered(HEAD_CONCURRENCY)
        .map_ok(|(joined, headed)| {
            heads.fetch_add(headed, Ordering::Relaxed);
            let entry = match *joined {
                Joined::Pair {
                    source,
                    target_key,
                    target,
                } => {
                    let mut planner = planner.lock().expect("the planner is not poisoned");
                    let mut item = planner.item(source, target_key, target.as_ref());
                    item.inventory_of_ms = inventory_of_ms;
                    Entry::Item(item)
                }
                Joined::Orphan(object) => Entry::Deletion(Deletion {
                    route: Default::default(),
                    target_key: object.key,
                    size: object.size,
                    etag: object.etag,
                    modified_ms: object.modified_ms,
                    reason: DELETE_REASON.to_string(),
                }),
            };
            match &entry {
                Entry::Item(item) if super::layouts::wants_layout(item) => Either::Right(Box::pin(
                    learn_layout(&sides.source, entry).map_ok(Box::new),
                )),
                _ => Either::Left(future::ready(Ok(Box::new(entry)))),
            }
        })
        .try_buffered(LAYOUT_CONCURRENCY);
        let mut entries = pin!(entries);
        loop {
            let entry = match entries.try_next().await {
                Ok(Some(entry)) => *entry,
                Ok(None) => break,
                Err(Stop::Failed(e)) => return Err(e),
                // Planning in memory would list the source: not with an inventory.
                Err(Stop::OutOfOrder(why)) if inventory.is_some() => {
                    return Err(Error::plan(why));
                }
                Err(Stop::OutOfOrder(why)) => return Ok(Outcome::OutOfOrder(why)),
            };
            match &entry {
                Entry::Item(item) => planner
                    .lock()
                    .expect("the planner is not poisoned")
                    .count(item),
                Entry::Deletion(deletion) => {
                    deletions.objects += 1;
                    deletions.bytes += deletion.size;
                }
            }
            sink.put(entry).await?;
        }
    }
    let heads = heads.into_inner();
    let planned = planner
        .into_inner()
        .expect("the planner is not poisoned")
        .finish();
    let header = PlanHeader::streamed(
        settings,
        planned,
        selection.finish(),
        deletions,
        inventory
            .as_ref()
            .map(super::s3_inventory::Opened::finished_origin),
    );
    Ok(Outcome::Planned {
        header: Box::new(header),
        heads,
    })
}

/// A multipart item's source part layout ([`super::layouts::learn_item`]); anything else as
/// it is.
async fn learn_layout(source: &SideClient, mut entry: Entry) -> std::result::Result<Entry, Stop> {
    if let Entry::Item(item) = &mut entry {
        super::layouts::learn_item(source, item).await;
    }
    Ok(entry)
}

/// What the merge gives for one key.
#[expect(
    clippy::large_enum_variant,
    reason = "the large variant is the common one: boxing it would allocate once per object"
)]
pub(crate) enum Joined {
    /// A selected source object and what the target holds at its target key.
    Pair {
        source: ObjectInfo,
        target_key: String,
        target: Option<ObjectInfo>,
    },
    /// Mirror mode: a target object to delete (no source counterpart, selected by the filters).
    Orphan(ObjectInfo),
}

/// The merge-join of the two listings (see the module docs).
struct Merge<'f> {
    source: Pages,
    target: Pages,
    source_prefix: String,
    target_prefix: String,
    state_prefix: String,
    /// The next source object with its target key, waiting for the target side to catch up.
    pending: Option<(ObjectInfo, String)>,
    selection: &'f mut Filter,
    /// Mirror mode: the filters as deletion candidates meet them (their counts are not shown).
    mirror: Option<Filter>,
}

impl Merge<'_> {
    /// The next pairs, up to [`MERGE_BATCH`]: the batch ends early where the source's next
    /// object needs a page not fetched yet (so a slow listing holds back no pair). Empty at
    /// the end.
    async fn next_batch(&mut self) -> std::result::Result<Vec<Box<Joined>>, Stop> {
        let mut batch = Vec::with_capacity(MERGE_BATCH);
        while batch.len() < MERGE_BATCH {
            match self.next().await? {
                Some(joined) => batch.push(Box::new(joined)),
                None => break,
            }
            if self.pending.is_none() && self.source.page.len() == 0 {
                break;
            }
        }
        Ok(batch)
    }

    async fn next(&mut self) -> std::result::Result<Option<Joined>, Stop> {
        loop {
            if self.pending.is_none() {
                self.pending = self.source.next().await?.map(|object| {
                    let key =
                        plan::target_key(&object.key, &self.source_prefix, &self.target_prefix);
                    (object, key)
                });
            }
            let Some((_, target_key)) = &self.pending else {
                // The source is done: what is left at the target has no counterpart.
                let Some(object) = self.target.next().await? else {
                    return Ok(None);
                };
                match self.orphan(object) {
                    Some(joined) => return Ok(Some(joined)),
                    None => continue,
                }
            };
            let target_key = target_key.clone();
            let behind = self
                .target
                .peek()
                .await?
                .is_some_and(|t| t.key.as_str() < target_key.as_str());
            if behind {
                let object = self.target.next().await?.expect("peeked");
                match self.orphan(object) {
                    Some(joined) => return Ok(Some(joined)),
                    None => continue,
                }
            }
            let (source, target_key) = self.pending.take().expect("checked above");
            let matched = self
                .target
                .peek()
                .await?
                .is_some_and(|t| t.key == target_key);
            let target = if matched {
                self.target.next().await?
            } else {
                None
            };
            if self.selection.keep(&source) {
                return Ok(Some(Joined::Pair {
                    source,
                    target_key,
                    target,
                }));
            }
        }
    }

    /// A target object with no source counterpart: a deletion in mirror mode when the filters
    /// would have selected it as a source key, never one of airlock's own state objects.
    fn orphan(&mut self, object: ObjectInfo) -> Option<Joined> {
        let filter = self.mirror.as_mut()?;
        if object.key.starts_with(&self.state_prefix) {
            return None;
        }
        let relative = object.key.strip_prefix(self.target_prefix.as_str())?;
        let as_source = ObjectInfo {
            key: format!("{}{relative}", self.source_prefix),
            ..object.clone()
        };
        filter.keep(&as_source).then_some(Joined::Orphan(object))
    }
}

/// Whether [`enrich`] would make a request for `joined` (its conditions, without the
/// requests).
pub(crate) fn needs_heads(compare: CompareMode, joined: &Joined) -> bool {
    let Joined::Pair { source, target, .. } = joined else {
        return false;
    };
    let unknown = compare == CompareMode::Checksum
        && target.as_ref().is_some_and(|listed| {
            matches!(plan::verdict(source, listed, compare), Verdict::Unknown(_))
        });
    unknown || (plan::archived_class(source).is_some() && source.restored.is_none())
}

/// HEAD what the listings cannot decide for one joined pair (as `inventory` does for a whole
/// listing): in checksum mode, a pair whose listing verdict is unknown; an archived source
/// object whose restore status is unknown. Returns the pair and the HEADs made.
pub(crate) async fn enrich(
    sides: &Sides,
    compare: CompareMode,
    joined: Joined,
) -> std::result::Result<(Joined, usize), Stop> {
    let Joined::Pair {
        mut source,
        target_key,
        mut target,
    } = joined
    else {
        return Ok((joined, 0));
    };
    let mut heads = 0;
    if compare == CompareMode::Checksum
        && let Some(listed) = target.as_mut()
        && matches!(plan::verdict(&source, listed, compare), Verdict::Unknown(_))
    {
        let t = head(&sides.target, &listed.key).await?;
        heads += 1;
        // The target HEAD often decides alone; a target checksum must meet the source's
        // before provenance may say "same" (the rule of `inventory::enrich`).
        let decided =
            t.as_ref()
                .is_some_and(|t| match plan::verdict(&source, t, CompareMode::Checksum) {
                    Verdict::Unknown(_) => false,
                    Verdict::Same(_) => t.checksum.is_none() || source.checksum.is_some(),
                    Verdict::Differs(_) => true,
                });
        if !decided {
            let version = source.version_id.clone();
            if let Some(s) = head_version(&sides.source, &source.key, version.as_deref()).await? {
                merge_headed(&mut source, s);
            }
            heads += 1;
        }
        if let Some(t) = t {
            merge_headed(listed, t);
        }
    }
    if plan::archived_class(&source).is_some() && source.restored.is_none() {
        let version = source.version_id.clone();
        let headed = head_version(&sides.source, &source.key, version.as_deref()).await?;
        heads += 1;
        source.restored = headed.and_then(|h| h.restored);
    }
    Ok((
        Joined::Pair {
            source,
            target_key,
            target,
        },
        heads,
    ))
}

#[cfg(test)]
#[path = "stream_plan_tests.rs"]
mod tests;
