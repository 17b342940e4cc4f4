//! The recorder's mirror deletions: every planned deletion gets its record with its outcome,
//! and none is held in memory after its outcome came (they wait on disk, [`DeletionSpool`]).

use super::*;
use crate::plan::DELETE_REASON;

fn deletion(key: &str, size: u64) -> Deletion {
    Deletion {
        route: Default::default(),
        target_key: key.into(),
        size,
        etag: None,
        modified_ms: None,
        reason: DELETE_REASON.into(),
    }
}

fn side() -> PlanSide {
    PlanSide {
        bucket: "b".into(),
        prefix: "p/".into(),
        region: "us-east-1".into(),
        endpoint_url: None,
    }
}

/// The records in the recorder's spool, in order.
fn spooled(recorder: &ManifestRecorder) -> Vec<Record> {
    let mut book = recorder.book();
    book.spool.flush().unwrap();
    let file = book.spool.get_ref().reopen().unwrap();
    BufReader::new(file)
        .lines()
        .map(|line| {
            let line = line.unwrap();
            serde_json::from_str(line.split_once('\t').unwrap().1).unwrap()
        })
        .collect()
}

#[test]
fn deletions_are_recorded_from_their_events_and_not_held_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mut recorder =
        ManifestRecorder::begin_stream(&dir.path().join("m.jsonl"), &side(), &side()).unwrap();
    let tap = recorder.tap();
    for (i, key) in ["p/a", "p/b", "p/c", "p/d"].iter().enumerate() {
        tap.deletion(&deletion(key, 10 + i as u64));
    }
    assert_eq!(
        recorder.book().deletions_held(),
        0,
        "planned deletions wait on disk, not in memory"
    );
    recorder.event(&Event::ObjectDeleted {
        key: "p/a".into(),
        bytes: 10,
    });
    recorder.event(&Event::DeleteFailed {
        key: "p/b".into(),
        error: "AccessDenied".into(),
    });
    assert_eq!(
        recorder.book().deletions_held(),
        0,
        "ended deletions are not held"
    );
    recorder.event(&Event::DeletionsSkipped {
        objects: 2,
        bytes: 25,
        reason: "the run was aborted while deleting".into(),
    });
    recorder.book().deletions_left();
    assert_eq!(recorder.book().deletions_held(), 0);
    assert!(recorder.book().failed.is_none());

    let records = spooled(&recorder);
    let seen: Vec<(&str, &str, u64)> = records
        .iter()
        .map(|r| (r.target_key.as_str(), r.outcome.as_str(), r.size))
        .collect();
    assert_eq!(
        seen,
        [
            ("p/a", "deleted", 10),
            ("p/b", "delete_failed", 11),
            ("p/c", "not_deleted", 12),
            ("p/d", "not_deleted", 13),
        ]
    );
    assert_eq!(records[1].error.as_deref(), Some("AccessDenied"));
    assert_eq!(
        records[2].error.as_deref(),
        Some("not deleted: the run was aborted while deleting")
    );
    assert!(
        records
            .iter()
            .all(|r| r.route == "delete" && r.reason == DELETE_REASON)
    );
}
