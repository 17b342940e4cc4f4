//! Per-object badges in the browser (`new`, `differs`, `same`, `?`, `only at target`) and the
//! HEADs that decide `?`: listings alone cannot always tell (stores that list no ETag, same
//! size), so the visible undecided pairs are HEADed a few at a time, target first (airlock
//! records the source ETag it copied from), and the badge updates when the answer arrives.

use std::borrow::Cow;

use super::Out;
use super::browser::{Browser, Head, ListStatus};
use super::listing::Entry;
use crate::tui::msg::Effect;
use airlock_core::config::Side;
use airlock_core::error::Result;
use airlock_core::plan::{self, ObjectInfo, Verdict};

/// HEAD requests in flight for badges at once.
pub const HEADS_IN_FLIGHT: usize = 4;

/// What the browser says about one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Badge {
    /// Only at the source.
    New,
    Differs,
    Same,
    /// The listings cannot tell (HEADs may).
    Unknown,
    /// On the target pane: nothing at the source maps here.
    OnlyAtTarget,
    /// The other side has not listed that part of the folder (yet).
    Pending,
}

impl Browser {
    /// The counterpart of a key on the other side.
    fn counterpart_key(&self, side: Side, key: &str) -> String {
        match side {
            Side::Source => plan::target_key(key, &self.source.root, &self.target.root),
            Side::Target => plan::target_key(key, &self.target.root, &self.source.root),
        }
    }

    /// The listed object with what a HEAD added.
    fn effective<'a>(&self, side: Side, listed: &'a ObjectInfo) -> Cow<'a, ObjectInfo> {
        match self.heads.get(&(side, listed.key.clone())) {
            Some(Head::Done(Some(headed))) => {
                let mut merged = listed.clone();
                merged.etag = merged.etag.take().or_else(|| headed.etag.clone());
                merged.checksum.clone_from(&headed.checksum);
                merged.copied_from_etag.clone_from(&headed.copied_from_etag);
                Cow::Owned(merged)
            }
            _ => Cow::Borrowed(listed),
        }
    }

    /// The badge of an entry shown on `side`, or None when there is nothing to say (a folder
    /// on both sides, or panes showing unrelated folders).
    pub fn badge(&self, side: Side, entry: &Entry) -> Option<Badge> {
        if !self.following() {
            return None;
        }
        let other = self.pane(side.other());
        if matches!(other.status, ListStatus::Failed(_)) {
            return None;
        }
        let counterpart_key = self.counterpart_key(side, entry.key());
        let counterpart = other.listing.get(&counterpart_key);
        // Absent from the other window means absent only where that window spans.
        let missing = if other.listing.covers(&counterpart_key) {
            match side {
                Side::Source => Badge::New,
                Side::Target => Badge::OnlyAtTarget,
            }
        } else {
            Badge::Pending
        };
        match (entry, counterpart) {
            // A folder on both sides may hold anything: only its absence says something.
            (Entry::Folder(_), Some(_)) => None,
            (Entry::Folder(_), None) if missing == Badge::Pending => None,
            (Entry::Folder(_), None) => Some(missing),
            (Entry::Object(_), None) => Some(missing),
            (Entry::Object(here), Some(Entry::Object(there))) => {
                let (source, target) = match side {
                    Side::Source => (here, there),
                    Side::Target => (there, here),
                };
                Some(match self.verdict(source, target) {
                    Verdict::Same(_) => Badge::Same,
                    Verdict::Differs(_) => Badge::Differs,
                    Verdict::Unknown(_) => Badge::Unknown,
                })
            }
            (Entry::Object(_), Some(Entry::Folder(_))) => Some(Badge::Differs),
        }
    }

    /// The verdict for a listed pair, using HEAD results where they arrived.
    pub fn verdict(&self, source: &ObjectInfo, target: &ObjectInfo) -> Verdict {
        plan::verdict(
            &self.effective(Side::Source, source),
            &self.effective(Side::Target, target),
            self.compare,
        )
    }

    /// Ask HEADs for the visible pairs whose badge is `?`, within the in-flight budget.
    pub fn schedule_heads(&mut self, out: &mut Out) {
        if !self.following() {
            return;
        }
        let mut wanted: Vec<(Side, String)> = Vec::new();
        for side in [Side::Source, Side::Target] {
            let pane = self.pane(side);
            let end = (pane.offset + self.list_rows).min(pane.listing.len());
            for row in pane.offset..end {
                let Some(Entry::Object(here)) = pane.listing.at(row) else {
                    continue;
                };
                let other_key = self.counterpart_key(side, &here.key);
                let Some(Entry::Object(there)) = self.pane(side.other()).listing.get(&other_key)
                else {
                    continue;
                };
                let (source, target) = match side {
                    Side::Source => (here, there),
                    Side::Target => (there, here),
                };
                if !matches!(self.verdict(source, target), Verdict::Unknown(_)) {
                    continue;
                }
                let target_head = self.heads.get(&(Side::Target, target.key.clone()));
                let next = match target_head {
                    None => Some((Side::Target, target.key.clone())),
                    Some(Head::Done(_)) => {
                        let source_head = self.heads.get(&(Side::Source, source.key.clone()));
                        source_head
                            .is_none()
                            .then(|| (Side::Source, source.key.clone()))
                    }
                    Some(Head::InFlight | Head::Failed) => None,
                };
                if let Some(next) = next
                    && !wanted.contains(&next)
                {
                    wanted.push(next);
                }
            }
        }
        for (side, key) in wanted {
            if self.heads_in_flight >= HEADS_IN_FLIGHT {
                break;
            }
            self.heads_in_flight += 1;
            self.heads.insert((side, key.clone()), Head::InFlight);
            out.effects.push(Effect::Head { side, key });
        }
    }

    /// A HEAD came back: record it (the badge follows) and ask for the next ones.
    pub fn headed(
        &mut self,
        side: Side,
        key: String,
        result: Result<Option<ObjectInfo>>,
        out: &mut Out,
    ) {
        if self.heads.get(&(side, key.clone())) == Some(&Head::InFlight) {
            self.heads_in_flight = self.heads_in_flight.saturating_sub(1);
        }
        let state = match result {
            Ok(found) => Head::Done(found),
            Err(e) => {
                out.warn(format!("cannot compare '{key}': {e}"));
                Head::Failed
            }
        };
        self.heads.insert((side, key), state);
        self.schedule_heads(out);
    }
}
