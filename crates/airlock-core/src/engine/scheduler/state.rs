//! What the scheduler knows of each object of the run ([`ObjectState`]: its status, its
//! parts, its units in flight) and what a unit hands back when it ends ([`UnitResult`]).

use std::collections::HashMap;
use std::ops::{Index, IndexMut};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use tokio_util::sync::CancellationToken;

use crate::engine::events::{LeftUpload, ObjectId, Verification};
use crate::engine::journal::JournalPart;
use crate::engine::retry::UnitError;
use crate::engine::single::SingleDone;
use crate::engine::upload::Upload;
use crate::plan::{PlanItem, Route};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Skipped,
    Queued,
    Preparing,
    Running,
    Completing,
    Done,
    /// Failed; `upload_busy` parts may still be finishing before the upload is aborted.
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PartStatus {
    Pending,
    InFlight,
    Done,
    /// A split object's part that another shard uploads.
    Elsewhere,
}

pub(super) struct ObjectState {
    pub item: Arc<PlanItem>,
    pub status: Status,
    pub cancel: CancellationToken,
    pub attempts: u32,
    pub restarts: u32,
    pub upload: Option<Arc<Upload>>,
    pub parts: Vec<PartStatus>,
    pub finished: Vec<Option<JournalPart>>,
    /// Units of this object running now, with their byte counters.
    pub running: Vec<(u32, Arc<AtomicU64>)>,
    /// Bytes confirmed by the target.
    pub confirmed: u64,
    /// Units of this object in flight (any kind).
    pub units: usize,
    /// The upload must be aborted once no unit of this object runs.
    pub abort_pending: bool,
    /// Queue the object again once no unit runs (Some(true): at the front, for a restart).
    pub requeue: Option<bool>,
}

impl ObjectState {
    pub(super) fn new(item: PlanItem, parent: &CancellationToken) -> Self {
        let status = if item.route == Route::Skip {
            Status::Skipped
        } else {
            Status::Queued
        };
        ObjectState {
            item: Arc::new(item),
            status,
            cancel: parent.child_token(),
            attempts: 0,
            restarts: 0,
            upload: None,
            parts: Vec::new(),
            finished: Vec::new(),
            running: Vec::new(),
            confirmed: 0,
            units: 0,
            abort_pending: false,
            requeue: None,
        }
    }

    pub(super) fn is_open(&self) -> bool {
        matches!(
            self.status,
            Status::Queued | Status::Preparing | Status::Running | Status::Completing
        )
    }

    /// Every part this run is responsible for is at the target.
    pub(super) fn parts_done(&self) -> bool {
        self.parts
            .iter()
            .all(|p| matches!(p, PartStatus::Done | PartStatus::Elsewhere))
    }
}

/// A unit's result, as it comes back to the scheduler.
pub(super) enum UnitResult {
    Single(ObjectId, Result<SingleDone, UnitError>),
    Prepared(ObjectId, Result<Box<Upload>, UnitError>),
    Part(ObjectId, u32, Result<(JournalPart, u32), UnitError>),
    Completed(ObjectId, Result<Verification, UnitError>),
    /// The object's upload was aborted, or the target refused and it is left (named here).
    Aborted(ObjectId, Option<LeftUpload>),
}

/// The objects the scheduler holds: admitted from the plan and not finished, keyed by their
/// [`ObjectId`] (position in the plan's item stream). Indexing an id that is not held is a
/// bug in the scheduler (it panics); `get` is for ids that may be gone.
#[derive(Default)]
pub(super) struct Objects(HashMap<ObjectId, ObjectState>);

impl Objects {
    pub(super) fn get(&self, id: ObjectId) -> Option<&ObjectState> {
        self.0.get(&id)
    }

    pub(super) fn get_mut(&mut self, id: ObjectId) -> Option<&mut ObjectState> {
        self.0.get_mut(&id)
    }

    pub(super) fn insert(&mut self, id: ObjectId, object: ObjectState) {
        self.0.insert(id, object);
    }

    pub(super) fn remove(&mut self, id: ObjectId) -> Option<ObjectState> {
        self.0.remove(&id)
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn ids(&self) -> Vec<ObjectId> {
        self.0.keys().copied().collect()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (ObjectId, &ObjectState)> {
        self.0.iter().map(|(id, o)| (*id, o))
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (ObjectId, &mut ObjectState)> {
        self.0.iter_mut().map(|(id, o)| (*id, o))
    }
}

impl Index<ObjectId> for Objects {
    type Output = ObjectState;

    fn index(&self, id: ObjectId) -> &ObjectState {
        self.0.get(&id).expect("the scheduler holds this object")
    }
}

impl IndexMut<ObjectId> for Objects {
    fn index_mut(&mut self, id: ObjectId) -> &mut ObjectState {
        self.0
            .get_mut(&id)
            .expect("the scheduler holds this object")
    }
}
