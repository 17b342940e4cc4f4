//! The collector on a run of many objects: bounded list, nothing held for objects that ended,
//! and the streamed plan id equal to the one of the plan in hand.

use super::*;
use crate::engine::Verification;

fn item(n: usize, route: Route) -> PlanItem {
    PlanItem {
        source_etag: Some(format!("{n:032x}")),
        route,
        ..PlanItem::new_single(format!("in/{n:06}"), format!("out/{n:06}"), n as u64)
    }
}

fn side(bucket: &str) -> PlanSide {
    PlanSide {
        bucket: bucket.into(),
        prefix: String::new(),
        region: "us-east-1".into(),
        endpoint_url: None,
    }
}

/// The plan id as it was defined before reports streamed: CRC64NVME of the items' JSON.
fn id_of(items: &[PlanItem]) -> String {
    let json = serde_json::to_vec(items).unwrap();
    format!(
        "{:016x}",
        crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, &json)
    )
}

/// A plan of these items (settings of a loopback config; nothing is sent).
fn plan_of(items: Vec<PlanItem>) -> Plan {
    let text = "[source]\nbucket = \"src\"\n[target]\nbucket = \"dst\"\n";
    let settings = crate::config::parse_settings(text, "test.toml").unwrap();
    let input = crate::plan::PlanInput {
        source: &settings.source,
        target: &settings.target,
        transfer: &settings.transfer,
    };
    let mut plan = crate::plan::build(&[], &[], input);
    plan.items = items;
    plan
}

fn done(id: ObjectId, key: String) -> Event {
    Event::ObjectDone {
        id,
        key,
        bytes: id as u64,
        verification: Verification {
            source: "crc32 matched".into(),
            target: "crc64nvme matched".into(),
            verified: true,
        },
        attempts: 1,
    }
}

fn started(id: ObjectId, key: String) -> Event {
    Event::ObjectStarted {
        id,
        key,
        size: id as u64,
        route: Route::Single,
        parts: 1,
        part_size: id as u64,
        resumed_parts: 0,
    }
}

#[tokio::test]
async fn a_run_of_many_objects_keeps_a_bounded_list_and_nothing_of_ended_objects() {
    const OBJECTS: usize = 5 * REPORT_LIST_LIMIT;
    let mut collector = Collector::new(&side("src"), &side("dst"), PlanId::Tapped, None);
    let tap = collector.tap();
    let mut whole = Vec::new();
    let mut most_held = (0, 0);
    for id in 0..OBJECTS {
        // Every 7th is a skip: counted by the summary only, never held.
        let route = if id % 7 == 0 {
            Route::Skip
        } else {
            Route::Single
        };
        let it = item(id, route);
        tap.item(id, &it);
        whole.push(it.clone());
        if route == Route::Skip {
            continue;
        }
        collector.event(&started(id, it.source_key.clone()));
        collector.event(&Event::PartStarted { id, part: 1 });
        let held = collector.held();
        most_held = (most_held.0.max(held.0), most_held.1.max(held.1));
        if id % 1000 == 1 {
            collector.event(&Event::ObjectFailed {
                id,
                key: it.source_key.clone(),
                class: crate::error::Class::Fatal,
                error: "no".into(),
                kept_upload: None,
                removed_after_failed_check: false,
                wrong_object_left: None,
            });
        } else {
            collector.event(&done(id, it.source_key.clone()));
        }
    }
    assert_eq!(most_held, (1, 1), "only the object in flight is held");
    assert_eq!(
        collector.held(),
        (0, 0),
        "nothing is held once every object ended"
    );
    let report = collector.finish(&RunSummary::default()).await;
    let ended = (0..OBJECTS).filter(|id| id % 7 != 0).count() as u64;
    assert_eq!(report.objects.len(), REPORT_LIST_LIMIT);
    assert_eq!(report.objects.len() as u64 + report.objects_left_out, ended);
    assert_eq!(report.objects[0].target_key, "out/000001");
    assert_eq!(report.objects[0].outcome, Outcome::Failed);
    assert_eq!(report.objects[1].outcome, Outcome::Copied);
    assert!(report.objects[1].verified);
    assert_eq!(report.objects[1].requests, 1);
    let last_copied = (0..OBJECTS)
        .rev()
        .find(|id| id % 7 != 0 && id % 1000 != 1)
        .unwrap();
    assert_eq!(
        report.copied_keys,
        Some(("out/000002".into(), format!("out/{last_copied:06}")))
    );
    assert_eq!(report.plan_id, id_of(&whole));
    assert_eq!(
        report.plan_id,
        super::super::plan_id_of(&plan_of(whole.clone()), false)
    );
    whole.pop();
    assert_ne!(report.plan_id, id_of(&whole));
}

#[tokio::test]
async fn a_plan_in_hand_names_its_objects_by_target_key_and_keeps_its_id() {
    let items: Vec<PlanItem> = (0..3).map(|n| item(n, Route::Single)).collect();
    let plan = plan_of(items);
    let mut collector = Collector::of_plan(&plan, "id-1".into(), None);
    assert_eq!(collector.held(), (0, 3));
    collector.event(&started(2, "in/000002".into()));
    collector.event(&done(2, "in/000002".into()));
    assert_eq!(collector.held(), (0, 2));
    let report = collector.finish(&RunSummary::default()).await;
    assert_eq!(report.plan_id, "id-1");
    assert_eq!(report.objects.len(), 1);
    assert_eq!(report.objects[0].key, "in/000002");
    assert_eq!(report.objects[0].target_key, "out/000002");
}

#[tokio::test]
async fn a_plan_id_from_a_reader_that_failed_says_so() {
    let (tx, rx) = oneshot::channel::<String>();
    drop(tx);
    let collector = Collector::new(&side("s"), &side("t"), PlanId::Reading(rx), None);
    let report = collector.finish(&RunSummary::default()).await;
    assert_eq!(report.plan_id, PLAN_NOT_READ);
}
