//! [`Collector`]: a [`ShardReport`] built from a run's events, in memory bounded whatever the
//! plan's size. An object's counters (start time, requests, retries, resumed parts) are held
//! from its start to its end; its target key from the moment the plan gives it (through a
//! [`ReportTap`], by the code that feeds the engine, or all at once for a plan in hand) to its
//! end. An object that ended goes into the report's list while it holds fewer than
//! [`REPORT_LIST_LIMIT`] entries, else is only counted (`objects_left_out`); skips planned as
//! skips and objects not started are counted by the run summary only. So nothing per object stays once it is
//! done, and the report lists at most [`REPORT_LIST_LIMIT`] objects.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::oneshot;

use super::{
    ItemsDigest, ObjectReport, Outcome, PLAN_NOT_READ, REPORT_FORMAT, REPORT_LIST_LIMIT, ShardId,
    ShardReport,
};
use crate::engine::{Event, ObjectId, RunSummary};
use crate::job::shard::Shard;
use crate::plan::{Plan, PlanItem, PlanSide, Route};

/// Where the report's `plan_id` (the whole plan's fingerprint, [`super::plan_id_of`]) comes from.
pub(crate) enum PlanId {
    /// Known before the run (a plan in hand).
    Known(String),
    /// Computed by the reader of a saved plan as it reads the whole file (every shard's items),
    /// sent when it reached the end; a reader that failed sends nothing.
    Reading(oneshot::Receiver<String>),
    /// Computed from the items given through the [`ReportTap`] (a fresh run, not sharded,
    /// whose tap sees the whole plan).
    Tapped,
}

/// What the feeder gives the collector: the target key of each item to copy, until it ends.
struct Given {
    keys: HashMap<ObjectId, String>,
    digest: Option<ItemsDigest>,
}

/// Gives a [`Collector`] the plan's items as they are fed to the engine, with their ids
/// (position among the items); cheap to clone. Give each item before the engine can see it.
#[derive(Clone)]
pub(crate) struct ReportTap(Arc<Mutex<Given>>);

impl ReportTap {
    fn given(&self) -> std::sync::MutexGuard<'_, Given> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn item(&self, id: ObjectId, item: &PlanItem) {
        let mut given = self.given();
        if let Some(digest) = given.digest.as_mut() {
            digest.push(item);
        }
        if item.route != Route::Skip {
            given.keys.insert(id, item.target_key.clone());
        }
    }

    fn take_key(&self, id: ObjectId) -> Option<String> {
        self.given().keys.remove(&id)
    }
}

/// An object between its start and its end.
struct Live {
    started: Instant,
    requests: u32,
    retries: u32,
    resumed_parts: u32,
}

/// Builds a [`ShardReport`] from the events of a run (see the module docs).
pub(crate) struct Collector {
    report: ShardReport,
    plan_id: PlanId,
    tap: ReportTap,
    live: HashMap<ObjectId, Live>,
    /// Listed objects by id (at most [`REPORT_LIST_LIMIT`]), for events after their end.
    listed: HashMap<ObjectId, usize>,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Collector {
    /// A report of a run between `source` and `target` whose items come through [`Self::tap`].
    pub(crate) fn new(
        source: &PlanSide,
        target: &PlanSide,
        plan_id: PlanId,
        shard: Option<&Shard>,
    ) -> Self {
        let shard = shard.map_or(
            ShardId {
                index: 0,
                count: 1,
                source: "none".into(),
            },
            |s| ShardId {
                index: s.index,
                count: s.count,
                source: s.source.clone(),
            },
        );
        let side = |s: &PlanSide| format!("s3://{}/{}", s.bucket, s.prefix);
        let digest = matches!(plan_id, PlanId::Tapped).then(|| ItemsDigest::new(false));
        Collector {
            report: ShardReport {
                format: REPORT_FORMAT,
                shard,
                plan_id: String::new(),
                source: side(source),
                target: side(target),
                started_unix_ms: unix_ms(),
                finished_unix_ms: 0,
                summary: RunSummary::default(),
                objects: Vec::new(),
                objects_left_out: 0,
                copied_keys: None,
            },
            plan_id,
            tap: ReportTap(Arc::new(Mutex::new(Given {
                keys: HashMap::new(),
                digest,
            }))),
            live: HashMap::new(),
            listed: HashMap::new(),
        }
    }

    /// A report of `plan`, in hand (this shard's items, ids by position); `plan_id` is the
    /// whole plan's fingerprint.
    pub(crate) fn of_plan(plan: &Plan, plan_id: String, shard: Option<&Shard>) -> Self {
        let collector = Self::new(&plan.source, &plan.target, PlanId::Known(plan_id), shard);
        for (id, item) in plan.items.iter().enumerate() {
            collector.tap.item(id, item);
        }
        collector
    }

    /// The tap for the code that feeds the plan's items to the engine.
    pub(crate) fn tap(&self) -> ReportTap {
        self.tap.clone()
    }

    /// The object ended: its line goes into the list (or is counted), its state goes.
    fn end(&mut self, id: ObjectId, key: &str, outcome: Outcome, bytes: u64, detail: String) {
        let live = self.live.remove(&id);
        let target_key = self.tap.take_key(id).unwrap_or_else(|| key.to_string());
        if outcome == Outcome::Copied {
            let range = self
                .report
                .copied_keys
                .get_or_insert_with(|| (target_key.clone(), target_key.clone()));
            if target_key < range.0 {
                range.0 = target_key.clone();
            }
            if target_key > range.1 {
                range.1 = target_key.clone();
            }
        }
        if self.report.objects.len() >= REPORT_LIST_LIMIT {
            self.report.objects_left_out += 1;
            return;
        }
        self.listed.insert(id, self.report.objects.len());
        self.report.objects.push(ObjectReport {
            key: key.to_string(),
            target_key,
            outcome,
            bytes,
            parts: None,
            requests: live.as_ref().map_or(0, |l| l.requests),
            resumed_parts: live.as_ref().map_or(0, |l| l.resumed_parts),
            retries: live.as_ref().map_or(0, |l| l.retries),
            duration_ms: live.map_or(0, |l| l.started.elapsed().as_millis() as u64),
            verified: false,
            detail,
        });
    }

    /// The listed line of an object that ended (None when it was only counted).
    fn listed(&mut self, id: ObjectId) -> Option<&mut ObjectReport> {
        let index = *self.listed.get(&id)?;
        self.report.objects.get_mut(index)
    }

    /// Record one engine event.
    pub(crate) fn event(&mut self, event: &Event) {
        match event {
            Event::ObjectStarted {
                id, resumed_parts, ..
            } => {
                let live = self.live.entry(*id).or_insert_with(|| Live {
                    started: Instant::now(),
                    requests: 0,
                    retries: 0,
                    resumed_parts: 0,
                });
                live.resumed_parts = *resumed_parts;
            }
            Event::PartStarted { id, .. } => {
                if let Some(live) = self.live.get_mut(id) {
                    live.requests += 1;
                }
            }
            Event::PartRetry { id, .. } => {
                if let Some(live) = self.live.get_mut(id) {
                    live.retries += 1;
                }
            }
            Event::ObjectDone {
                id,
                key,
                bytes,
                verification,
                ..
            } => {
                let detail = format!("{}; {}", verification.source, verification.target);
                self.end(*id, key, Outcome::Copied, *bytes, detail);
                if let Some(object) = self.listed(*id) {
                    object.verified = verification.verified;
                }
            }
            Event::PartsUploaded {
                id,
                key,
                upload_id,
                first_part,
                last_part,
                bytes,
                ..
            } => {
                let detail = format!(
                    "parts in upload '{upload_id}'; 'airlock finalize' completes and verifies it"
                );
                self.end(*id, key, Outcome::PartsUploaded, *bytes, detail);
                if let Some(object) = self.listed(*id) {
                    object.parts = Some((*first_part, *last_part));
                }
            }
            Event::ObjectFailed { id, key, error, .. } => {
                self.end(*id, key, Outcome::Failed, 0, error.clone());
            }
            Event::ObjectCancelled { id, key } => {
                self.end(*id, key, Outcome::Cancelled, 0, "cancelled".into());
            }
            // Gone from the source since its S3 Inventory listed it: a skip with its reason.
            Event::ObjectGone { id, key, reason } => {
                self.end(*id, key, Outcome::Skipped, 0, reason.clone());
            }
            Event::UploadLeft { id, upload_id, .. } => {
                if let Some(object) = self.listed(*id) {
                    object.detail.push_str(&format!(
                        "; upload '{upload_id}' left at the target (abort refused)"
                    ));
                }
            }
            Event::RunFinished { summary } => {
                self.report.summary = summary.clone();
            }
            Event::RunStarted { .. }
            | Event::PlanGrew { .. }
            | Event::PartDone { .. }
            | Event::Progress { .. }
            | Event::ConcurrencyChanged { .. }
            | Event::BandwidthChanged { .. }
            | Event::ChecksumMode { .. }
            | Event::Paused
            | Event::Resumed
            // The summary carries a mirror run's deletions.
            | Event::DeletionsStarted { .. }
            | Event::ObjectDeleted { .. }
            | Event::DeleteFailed { .. }
            | Event::DeletionsSkipped { .. }
            // The summary names them (`foreign_uploads`), and so does the summary's list.
            | Event::ForeignUpload { .. } => {}
        }
    }

    /// The finished report (`summary` is the engine's final one). Waits for a saved plan's
    /// reader to reach the end of the plan for the `plan_id`.
    pub(crate) async fn finish(self, summary: &RunSummary) -> ShardReport {
        let Collector {
            mut report,
            plan_id,
            tap,
            ..
        } = self;
        report.plan_id = match plan_id {
            PlanId::Known(id) => id,
            PlanId::Reading(id) => id.await.unwrap_or_else(|_| PLAN_NOT_READ.into()),
            PlanId::Tapped => (tap.given().digest.take())
                .map_or_else(|| PLAN_NOT_READ.into(), ItemsDigest::finish),
        };
        report.summary = summary.clone();
        report.finished_unix_ms = unix_ms();
        report
    }

    /// Objects held between their start and their end, and target keys given and not ended
    /// (for tests: both stay bounded however many objects the run ends).
    #[cfg(test)]
    pub(crate) fn held(&self) -> (usize, usize) {
        (self.live.len(), self.tap.given().keys.len())
    }
}

#[cfg(test)]
#[path = "collector_tests.rs"]
mod tests;
