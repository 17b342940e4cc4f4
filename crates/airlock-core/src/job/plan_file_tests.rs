//! Format 5 files written and read back: every compression, the checks a plan read back must
//! pass, and the older formats still read through the same door.

use super::*;
use crate::job::plan_store::{check_lines, load_plan};
use crate::plan::lines::PlanHeader;
use crate::plan::{DELETE_REASON, Deletion, PlanItem, PlanSettings, PlanSide, Route, Summary};

const CONFIG: &str =
    "[source]\nbucket = \"src\"\nprefix = \"in/\"\n[target]\nbucket = \"dst\"\nprefix = \"out/\"\n";

fn settings() -> crate::config::Settings {
    crate::config::parse_settings(CONFIG, "test").unwrap()
}

fn item(n: usize) -> PlanItem {
    PlanItem {
        source_etag: Some(format!("{n:032x}")),
        source_modified_ms: Some(1_700_000_000_000 + n as i64),
        route: if n.is_multiple_of(3) {
            Route::Skip
        } else {
            Route::Single
        },
        part_size: if n.is_multiple_of(3) { 0 } else { n as u64 },
        parts: u32::from(!n.is_multiple_of(3)),
        ..PlanItem::new_single(format!("in/{n:05}"), format!("out/{n:05}"), n as u64)
    }
}

fn deletion(key: &str) -> Deletion {
    Deletion {
        route: Default::default(),
        target_key: key.into(),
        size: 7,
        etag: None,
        modified_ms: None,
        reason: DELETE_REASON.into(),
    }
}

/// Entries in target-key order (two deletions among the items) and their header.
fn plan_entries(n: usize) -> (PlanHeader, Vec<Entry>) {
    let settings = settings();
    let mut entries: Vec<Entry> = (0..n).map(|i| Entry::Item(item(i))).collect();
    entries.insert(1, Entry::Deletion(deletion("out/00000a")));
    entries.push(Entry::Deletion(deletion("out/zz")));
    let plan_settings = PlanSettings::of(&settings.transfer);
    let items: Vec<PlanItem> = (0..n).map(item).collect();
    let header = PlanHeader {
        format: 5,
        source: PlanSide::of(&settings.source),
        target: PlanSide::of(&settings.target),
        summary: Summary::of(&items, &plan_settings),
        settings: plan_settings,
        version_at: None,
        selection: Default::default(),
        items: n as u64,
        deletions: crate::plan::DeleteTotals {
            objects: 2,
            bytes: 14,
        },
        split_objects: 0,
        warnings: vec!["a warning".into()],
        inventory: None,
    };
    (header, entries)
}

fn write(dir: &Path, name: &str, header: &PlanHeader, entries: &[Entry]) -> PathBuf {
    let path = dir.join(name);
    let mut writer = PlanWriter::new(dir, Compression::of_name(name)).unwrap();
    for entry in entries {
        writer.push(entry).unwrap();
    }
    writer.finish_to(header, &path).unwrap();
    path
}

fn read(path: &Path) -> (PlanHeader, Vec<Entry>) {
    let Opened::Lines(lines) = open(path, path).unwrap() else {
        panic!("'{}' read as a JSON document", path.display())
    };
    let mut entries = Vec::new();
    let header = check_lines(*lines, path, &settings(), |e| entries.push(e)).unwrap();
    (header, entries)
}

#[test]
fn every_compression_round_trips_and_is_known_by_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (header, entries) = plan_entries(2000);
    let mut sizes = Vec::new();
    for name in ["p.jsonl", "p.jsonl.zst", "p.jsonl.gz"] {
        let path = write(dir.path(), name, &header, &entries);
        sizes.push(std::fs::metadata(&path).unwrap().len());
        assert_eq!(read(&path), (header.clone(), entries.clone()), "{name}");
        // Compression is known by its magic bytes, not the name.
        let renamed = dir.path().join(format!("renamed-{name}.bin"));
        std::fs::copy(&path, &renamed).unwrap();
        assert_eq!(read(&renamed).1.len(), entries.len(), "{name} renamed");
        // The whole plan in memory, as `run --plan` takes it.
        let plan = load_plan(&path, &settings()).unwrap();
        assert_eq!(plan.items.len(), 2000);
        assert_eq!(plan.deletions.len(), 2);
        assert_eq!(plan.format, crate::plan::MIRROR_FORMAT_VERSION);
    }
    assert!(
        sizes[1] < sizes[0] / 4 && sizes[2] < sizes[0] / 4,
        "{sizes:?}"
    );
    // Only the writer's two files came and went: no temporary file is left.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".airlock"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_truncated_or_reordered_plan_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (header, mut entries) = plan_entries(50);
    let last = entries.pop().unwrap();
    let path = write(dir.path(), "short.jsonl.zst", &header, &entries);
    let Opened::Lines(lines) = open(&path, &path).unwrap() else {
        panic!()
    };
    let err = check_lines(*lines, &path, &settings(), |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("truncated or was edited"), "{err}");
    assert!(
        err.contains("1 deletions, but its header says 50 items"),
        "{err}"
    );

    entries.push(last);
    entries.swap(3, 4);
    let path = write(dir.path(), "swapped.jsonl", &header, &entries);
    let err = load_plan(&path, &settings()).unwrap_err().to_string();
    assert!(err.contains("does not come after"), "{err}");
}

#[test]
fn a_plan_for_another_config_or_a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut header, entries) = plan_entries(3);
    header.source.bucket = "elsewhere".into();
    let path = write(dir.path(), "other.jsonl.gz", &header, &entries);
    let err = load_plan(&path, &settings()).unwrap_err().to_string();
    assert!(
        err.contains("was made for source 's3://elsewhere/in/'"),
        "{err}"
    );

    let path = dir.path().join("future.jsonl");
    std::fs::write(&path, b"{\"format\":6}\n").unwrap();
    let err = load_plan(&path, &settings()).unwrap_err().to_string();
    assert!(
        err.contains("has format 6 but this airlock reads formats 1 to 5"),
        "{err}"
    );
}

#[test]
fn names_choose_the_format() {
    for (name, lines) in [
        ("plan.jsonl", true),
        ("s3://b/plans/p.jsonl.zst", true),
        ("p.jsonl.gz", true),
        ("plan.json", false),
        ("plan.json.zst", false),
    ] {
        assert_eq!(is_lines_name(name), lines, "{name}");
    }
}
