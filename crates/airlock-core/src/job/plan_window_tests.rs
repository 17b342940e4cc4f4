//! The TUI's plan file: windows read back at any position (across index strides), totals
//! counted while writing, a re-route rewriting routes and totals, and a save that a `run
//! --plan` reads back (target-key order, totals that add up).

use super::*;
use crate::config::{ByteSize, PartSize};
use crate::plan::lines::PlanHeader;
use crate::plan::{DELETE_REASON, Deletion, PlanItem, PlanSide, Route};

/// Loopback sides with static keys: connecting sends nothing (a local save sends nothing).
const CONFIG: &str = "[source]\nbucket = \"src\"\nprefix = \"in/\"\n\
    endpoint_url = \"http://127.0.0.1:9\"\n[source.credentials]\nkind = \"static\"\n\
    access_key_id = \"source-key\"\nsecret_access_key = \"source-secret-0000\"\n\
    [target]\nbucket = \"dst\"\nprefix = \"out/\"\nendpoint_url = \"http://127.0.0.1:10\"\n\
    [target.credentials]\nkind = \"static\"\naccess_key_id = \"target-key\"\n\
    secret_access_key = \"target-secret-0000\"\n";

const MIB: u64 = 1024 * 1024;

fn settings() -> crate::config::Settings {
    crate::config::parse_settings(CONFIG, "test").unwrap()
}

fn item(n: u64) -> PlanItem {
    PlanItem {
        source_etag: Some(format!("{n:032x}")),
        source_modified_ms: Some(1_700_000_000_000),
        ..PlanItem::new_single(format!("in/{n:07}"), format!("out/{n:07}"), 20 * MIB)
    }
}

fn written(n: u64) -> PlanFile {
    let mut writer = PlanFileWriter::new().unwrap();
    for i in 0..n {
        writer.push(&Entry::Item(item(i))).unwrap();
    }
    assert_eq!(writer.totals().items, n);
    assert_eq!(writer.totals().summary.single.bytes, n * 20 * MIB);
    writer.finish().unwrap()
}

fn keys(entries: &[Entry]) -> Vec<String> {
    entries.iter().map(|e| e.target_key().to_string()).collect()
}

#[test]
fn windows_read_back_at_any_position() {
    let file = written(3 * INDEX_STRIDE + 10);
    assert_eq!(file.len(), 3 * INDEX_STRIDE + 10);
    for start in [0, 1, INDEX_STRIDE - 1, INDEX_STRIDE, 2 * INDEX_STRIDE + 500] {
        let rows = file.read(start, 7).unwrap();
        let want: Vec<String> = (start..start + 7).map(|i| format!("out/{i:07}")).collect();
        assert_eq!(keys(&rows), want, "from {start}");
    }
    let end = file.read(3 * INDEX_STRIDE + 8, 50).unwrap();
    assert_eq!(keys(&end), ["out/0003080", "out/0003081"]);
    assert!(file.read(file.len(), 5).unwrap().is_empty());
    let path = file.path().to_path_buf();
    assert!(path.exists());
    drop(file);
    assert!(!path.exists(), "the file goes with its PlanFile");
}

#[test]
fn reroute_rewrites_routes_and_totals() {
    let settings = settings();
    let file = written(INDEX_STRIDE + 3);
    let header = PlanHeader {
        format: 5,
        source: PlanSide::of(&settings.source),
        target: PlanSide::of(&settings.target),
        settings: PlanSettings::of(&settings.transfer),
        version_at: None,
        selection: Default::default(),
        summary: Summary::default(),
        items: file.len(),
        deletions: Default::default(),
        split_objects: 0,
        warnings: vec![],
        inventory: None,
    };
    let mut transfer = settings.transfer.clone();
    transfer.multipart_threshold = ByteSize::mib(16);
    transfer.part_size = PartSize::Fixed(ByteSize::mib(8));
    let (rerouted, header) = file.reroute(&header, &transfer).unwrap();
    assert_eq!(rerouted.len(), INDEX_STRIDE + 3);
    assert_eq!(header.summary.multipart.objects, INDEX_STRIDE + 3);
    assert_eq!(header.summary.multipart.parts, 3 * (INDEX_STRIDE + 3));
    assert_eq!(header.summary.single.objects, 0);
    assert_eq!(header.settings.multipart_threshold, 16 * MIB);
    let Entry::Item(last) = rerouted.read(INDEX_STRIDE + 2, 1).unwrap().remove(0) else {
        panic!("an item")
    };
    assert_eq!(
        (last.route, last.part_size, last.parts),
        (Route::Multipart, 8 * MIB, 3)
    );
}

#[tokio::test]
async fn a_saved_plan_is_in_key_order_and_adds_up() {
    let settings = settings();
    let mut plan = Plan {
        format: crate::plan::PLAN_FORMAT_VERSION,
        source: PlanSide::of(&settings.source),
        target: PlanSide::of(&settings.target),
        settings: PlanSettings::of(&settings.transfer),
        items: (0..5).map(item).collect(),
        summary: Summary::default(),
        warnings: vec![],
        selection: Default::default(),
        version_at: None,
        deletions: vec![],
    };
    plan.set_deletions(vec![Deletion {
        route: Default::default(),
        target_key: "out/0000002a".into(),
        size: 7,
        etag: None,
        modified_ms: None,
        reason: DELETE_REASON.into(),
    }]);
    plan.summary = Summary::of(&plan.items, &plan.settings);
    let file = PlanFile::of_plan(&plan).unwrap();
    // Shown as the plan holds them: items, then the deletion.
    assert_eq!(keys(&file.read(5, 1).unwrap()), ["out/0000002a"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("saved.jsonl.zst");
    let sides = crate::aws::connect(&settings).await.unwrap();
    file.save(&PlanHeader::of(&plan), &path, &sides)
        .await
        .unwrap();
    let super::super::plan_file::Opened::Lines(lines) =
        super::super::plan_file::open(&path, &path).unwrap()
    else {
        panic!("a format 5 plan")
    };
    let mut checker =
        crate::plan::lines::Checker::new(lines.header().clone(), &path, &settings).unwrap();
    let mut read = Vec::new();
    for entry in *lines {
        let entry = entry.unwrap();
        checker.check(&entry).unwrap();
        read.push(entry.target_key().to_string());
    }
    checker.finish().unwrap();
    assert_eq!(read[2], "out/0000002");
    assert_eq!(read[3], "out/0000002a");
}
