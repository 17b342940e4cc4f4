use super::*;
use crate::config::bytesize::{GIB, MIB, TIB};
use crate::config::{CredentialSpec, Side, SideSettings, WriteOptions};

fn side(side: Side, prefix: &str) -> SideSettings {
    SideSettings {
        side,
        bucket: format!("{side}-bucket"),
        prefix: prefix.into(),
        region: "us-east-1".into(),
        endpoint_url: None,
        force_path_style: false,
        request_payer: false,
        credentials: CredentialSpec::Default,
        write: WriteOptions::default(),
    }
}

fn object(key: &str, size: u64) -> ObjectInfo {
    ObjectInfo {
        key: key.into(),
        size,
        ..Default::default()
    }
}

fn plan_with(source: &[ObjectInfo], target: &[ObjectInfo], transfer: &TransferSettings) -> Plan {
    let (s, t) = (side(Side::Source, "in/"), side(Side::Target, "out/"));
    build(
        source,
        target,
        PlanInput {
            source: &s,
            target: &t,
            transfer,
        },
    )
}

fn route_of(size: u64) -> (Route, u64, u32) {
    let plan = plan_with(&[object("in/x", size)], &[], &TransferSettings::default());
    let item = &plan.items[0];
    (item.route, item.part_size, item.parts)
}

#[test]
fn routes_at_the_size_edges() {
    let threshold = 3 * GIB / 2;
    assert_eq!(route_of(0), (Route::Single, 0, 1));
    assert_eq!(route_of(1), (Route::Single, 1, 1));
    assert_eq!(route_of(5 * MIB - 1), (Route::Single, 5 * MIB - 1, 1));
    assert_eq!(route_of(threshold - 1), (Route::Single, threshold - 1, 1));
    assert_eq!(route_of(threshold), (Route::Multipart, 16 * MIB, 96));
    assert_eq!(route_of(5 * GIB), (Route::Multipart, 16 * MIB, 320));
    assert_eq!(route_of(5 * GIB + 1), (Route::Multipart, 16 * MIB, 321));
    // 5 TiB needs 525 MiB parts to stay within 10,000 parts.
    let (route, part, parts) = route_of(5 * TIB);
    assert_eq!((route, part), (Route::Multipart, 525 * MIB));
    assert!(u64::from(parts) <= MAX_PARTS && u64::from(parts) * part >= 5 * TIB);
}

#[test]
fn above_five_gib_is_multipart_whatever_the_threshold() {
    let transfer = TransferSettings {
        multipart_threshold: ByteSize(5 * GIB),
        ..Default::default()
    };
    let plan = plan_with(
        &[object("in/a", 5 * GIB), object("in/b", 5 * GIB + 1)],
        &[],
        &transfer,
    );
    assert_eq!(plan.items[0].route, Route::Multipart, "at the threshold");
    assert_eq!(plan.items[1].route, Route::Multipart);
    assert_eq!(route_for_size(5 * GIB + 1, u64::MAX), Route::Multipart);
}

#[test]
fn auto_part_size_gives_small_multipart_objects_several_parts() {
    assert_eq!(part_layout(12 * MIB, PartSize::Auto), (5 * MIB, 3, None));
    assert_eq!(part_layout(40 * MIB, PartSize::Auto), (10 * MIB, 4, None));
    assert_eq!(part_layout(GIB, PartSize::Auto), (16 * MIB, 64, None));
}

#[test]
fn fixed_part_size_below_minimum_is_raised_with_a_warning() {
    let (size, parts, warning) = part_layout(100 * MIB, PartSize::Fixed(ByteSize(MIB)));
    assert_eq!((size, parts), (5 * MIB, 20));
    assert!(warning.unwrap().contains("below S3's 5 MiB minimum"));
}

#[test]
fn fixed_part_size_with_too_many_parts_is_raised() {
    let (size, parts, warning) = part_layout(TIB, PartSize::Fixed(ByteSize(8 * MIB)));
    assert_eq!(size, 105 * MIB);
    assert!(u64::from(parts) <= MAX_PARTS);
    assert!(warning.unwrap().contains("more than 10000 parts"));
    assert_eq!(
        part_layout(TIB, PartSize::Fixed(ByteSize(128 * MIB))).2,
        None
    );
}

#[test]
fn keys_map_from_source_prefix_to_target_prefix() {
    let keys = [
        "in/a b.csv",
        "in/ünï/ß.txt",
        "in/x+y%20z",
        "in/dir/",
        "in/sub/deep/f",
    ];
    let source: Vec<_> = keys.iter().map(|k| object(k, 3)).collect();
    let plan = plan_with(&source, &[], &TransferSettings::default());
    let mapped: Vec<_> = plan.items.iter().map(|i| i.target_key.as_str()).collect();
    assert_eq!(
        mapped,
        [
            "out/a b.csv",
            "out/ünï/ß.txt",
            "out/x+y%20z",
            "out/dir/",
            "out/sub/deep/f"
        ]
    );
    assert_eq!(target_key("data/x", "", "backup/"), "backup/data/x");
    assert_eq!(target_key("data/x", "data/", ""), "x");
}

#[test]
fn skip_needs_positive_evidence_in_checksum_mode() {
    let mut src = object("in/a", 10);
    let mut dst = object("out/a", 10);
    // Same size, nothing else known: copy again.
    let plan = plan_with(&[src.clone()], &[dst.clone()], &TransferSettings::default());
    assert_eq!(plan.items[0].route, Route::Single);
    assert!(plan.items[0].reason.contains("nothing comparable"));

    src.etag = Some("abc".into());
    dst.etag = Some("abc".into());
    let plan = plan_with(&[src.clone()], &[dst.clone()], &TransferSettings::default());
    assert_eq!(plan.items[0].route, Route::Skip);

    // Two different listed ETags: nothing is known of their encryption (SSE-KMS, DSSE-KMS
    // and SSE-C ETags are not MD5s), so a HEAD decides.
    dst.etag = Some("def".into());
    let verdict_now = |src: &ObjectInfo, dst: &ObjectInfo| verdict(src, dst, CompareMode::Checksum);
    assert!(matches!(verdict_now(&src, &dst), Verdict::Unknown(_)));
    src.etag_md5 = Some(true);
    dst.etag_md5 = Some(false);
    assert!(matches!(verdict_now(&src, &dst), Verdict::Unknown(_)));
    dst.etag_md5 = Some(true);
    let plan = plan_with(&[src.clone()], &[dst.clone()], &TransferSettings::default());
    assert_eq!(plan.items[0].route, Route::Single);
    assert_eq!(plan.items[0].reason, "differs: ETag");

    // Multipart ETags of different layouts say nothing; a recorded source ETag decides.
    src.etag = Some("aaa-3".into());
    dst.etag = Some("bbb-5".into());
    dst.copied_from_etag = Some("aaa-3".into());
    let plan = plan_with(&[src.clone()], &[dst.clone()], &TransferSettings::default());
    assert_eq!(plan.items[0].route, Route::Skip);
    dst.copied_from_etag = Some("old-3".into());
    let plan = plan_with(&[src], &[dst], &TransferSettings::default());
    assert_eq!(plan.items[0].route, Route::Single);
}

#[test]
fn full_object_checksums_decide_when_etags_cannot() {
    let checksum = |v: &str| Checksum {
        algorithm: ChecksumAlgorithm::Crc64nvme,
        value: v.into(),
        full_object: true,
    };
    let mut src = object("in/a", 10);
    let mut dst = object("out/a", 10);
    src.etag = Some("x-2".into());
    dst.etag = Some("y-4".into());
    src.checksum = Some(checksum("AAAA"));
    dst.checksum = Some(checksum("AAAA"));
    assert!(same_object(&src, &dst, CompareMode::Checksum).is_ok());
    dst.checksum = Some(checksum("BBBB"));
    assert!(same_object(&src, &dst, CompareMode::Checksum).is_err());
}

#[test]
fn checksums_decide_before_provenance() {
    let crc = |v: &str| Checksum {
        algorithm: ChecksumAlgorithm::Crc64nvme,
        value: v.into(),
        full_object: true,
    };
    let mut src = object("in/a", 10);
    let mut dst = object("out/a", 10);
    src.etag = Some("e1".into());
    dst.etag = Some("e2".into());
    dst.copied_from_etag = Some("e1".into());
    src.checksum = Some(crc("AAAA"));
    dst.checksum = Some(crc("BBBB"));
    assert_eq!(
        same_object(&src, &dst, CompareMode::Checksum),
        Err("differs: crc64nvme checksum".into())
    );
    // Checksums of another algorithm say nothing: provenance decides.
    dst.checksum = Some(Checksum {
        algorithm: ChecksumAlgorithm::Crc32,
        ..crc("BBBB")
    });
    assert!(same_object(&src, &dst, CompareMode::Checksum).is_ok());
}

#[test]
fn composite_checksums_compare_only_over_the_same_part_count() {
    let composite = |v: &str| Checksum {
        algorithm: ChecksumAlgorithm::Crc32,
        value: v.into(),
        full_object: false,
    };
    let mut src = object("in/a", 10);
    let mut dst = object("out/a", 10);
    // S3 sends 'value-N'; moto sends the bare value and the multipart ETag tells N.
    src.checksum = Some(composite("AAAA-3"));
    dst.checksum = Some(composite("AAAA"));
    dst.etag = Some("f00-3".into());
    assert!(same_object(&src, &dst, CompareMode::Checksum).is_ok());
    dst.checksum = Some(composite("BBBB"));
    assert_eq!(
        same_object(&src, &dst, CompareMode::Checksum),
        Err("differs: crc32 checksum".into())
    );
    // A differing recorded source ETag does not decide against a composite target until the
    // source's checksum is known (a HEAD); then the composite does, whatever was recorded.
    dst.checksum = Some(composite("AAAA"));
    dst.copied_from_etag = Some("old-3".into());
    src.etag = Some("new-3".into());
    let known = src.checksum.take();
    assert!(matches!(
        verdict(&src, &dst, CompareMode::Checksum),
        Verdict::Unknown(_)
    ));
    src.checksum = known;
    assert_eq!(
        same_object(&src, &dst, CompareMode::Checksum),
        Ok("same size and crc32 checksum".into())
    );
    dst.copied_from_etag = None;
    // Another part layout: the composite values cannot be compared.
    dst.etag = Some("f00-4".into());
    assert!(matches!(
        verdict(&src, &dst, CompareMode::Checksum),
        Verdict::Unknown(_)
    ));
    // Full-object against composite: not comparable either.
    dst.checksum = Some(Checksum {
        full_object: true,
        ..composite("AAAA")
    });
    assert!(matches!(
        verdict(&src, &dst, CompareMode::Checksum),
        Verdict::Unknown(_)
    ));
}

#[test]
fn size_and_mtime_modes() {
    let mut src = object("in/a", 10);
    let mut dst = object("out/a", 10);
    assert!(same_object(&src, &dst, CompareMode::Size).is_ok());
    src.modified_ms = Some(2_000);
    dst.modified_ms = Some(1_000);
    assert!(same_object(&src, &dst, CompareMode::SizeAndMtime).is_err());
    dst.modified_ms = Some(3_000);
    assert!(same_object(&src, &dst, CompareMode::SizeAndMtime).is_ok());
    dst.size = 11;
    assert!(same_object(&src, &dst, CompareMode::Size).is_err());
}

#[test]
fn summary_adds_up_per_route_with_memory_and_eta() {
    let source = [
        object("in/same", 10),
        object("in/small", 1000),
        object("in/big", 2 * GIB),
    ];
    let mut same = object("out/same", 10);
    same.etag = Some("e".into());
    let mut source = source.to_vec();
    source[0].etag = Some("e".into());
    let transfer = TransferSettings::default();
    let plan = plan_with(&source, &[same], &transfer);
    let s = &plan.summary;
    assert_eq!((s.skip.objects, s.skip.bytes), (1, 10));
    assert_eq!(
        (s.single.objects, s.single.bytes, s.single.parts),
        (1, 1000, 1)
    );
    assert_eq!(
        (s.multipart.objects, s.multipart.bytes, s.multipart.parts),
        (1, 2 * GIB, 128)
    );
    // concurrency = "auto" (the default): the ceiling, 256, which the 256 MiB budget allows.
    assert_eq!(s.streams, 256);
    assert_eq!(s.peak_memory_bytes, 256 * MIB);
    assert_eq!(s.eta_seconds, (2 * GIB + 1000).div_ceil(100 * MIB));
}

#[test]
fn reroute_follows_new_settings_and_keeps_skips() {
    let mut same = object("out/s", 5);
    same.etag = Some("e".into());
    let mut s = object("in/s", 5);
    s.etag = Some("e".into());
    let mut plan = plan_with(
        &[s, object("in/m", 64 * MIB)],
        &[same],
        &TransferSettings::default(),
    );
    assert_eq!(plan.items[1].route, Route::Single);
    let transfer = TransferSettings {
        multipart_threshold: ByteSize(32 * MIB),
        part_size: PartSize::Fixed(ByteSize(8 * MIB)),
        ..Default::default()
    };
    plan.reroute(&transfer);
    assert_eq!(plan.items[0].route, Route::Skip);
    assert_eq!(
        (
            plan.items[1].route,
            plan.items[1].part_size,
            plan.items[1].parts
        ),
        (Route::Multipart, 8 * MIB, 8)
    );
    assert_eq!(plan.summary.multipart.parts, 8);
    assert_eq!(plan.settings.multipart_threshold, 32 * MIB);
}

#[test]
fn reroute_keeps_a_source_layout_below_the_threshold() {
    // A 12 MiB composite source learnt in its 6 MiB parts: multipart whatever the threshold.
    let mut plan = plan_with(
        &[object("in/c", 12 * MIB)],
        &[],
        &TransferSettings::default(),
    );
    let item = &mut plan.items[0];
    assert_eq!(item.route, Route::Single);
    (item.route, item.part_size, item.parts) = (Route::Multipart, 6 * MIB, 2);
    item.source_layout = Some(crate::plan::SourceLayout {
        part_size: Some(6 * MIB),
        parts: 2,
        check: crate::plan::SourceHop::MultipartEtag,
    });
    plan.reroute(&TransferSettings::default());
    let item = &plan.items[0];
    assert_eq!(
        (item.route, item.part_size, item.parts),
        (Route::Multipart, 6 * MIB, 2)
    );
    assert_eq!(
        (plan.summary.multipart.objects, plan.summary.single.objects),
        (1, 0)
    );
}

#[test]
fn plan_json_round_trips_and_holds_no_credentials() {
    let plan = plan_with(&[object("in/a", 1)], &[], &TransferSettings::default());
    let json = serde_json::to_string(&plan).unwrap();
    assert!(!json.contains("credentials"));
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, plan);
}

#[test]
fn pinned_versions_reach_the_items_and_make_a_format_3_plan() {
    let transfer = TransferSettings::default();
    let plain = plan_with(&[object("in/a", 5)], &[], &transfer);
    assert_eq!(
        plain.format, 2,
        "a plan without versions stays readable by format-2 airlocks"
    );
    assert_eq!(plain.items[0].source_version_id, None);
    let json = serde_json::to_value(&plain).unwrap();
    assert!(json["items"][0].get("source_version_id").is_none());
    assert!(json.get("version_at").is_none());

    let pinned = ObjectInfo {
        version_id: Some("v-old".into()),
        etag: Some("e-old".into()),
        ..object("in/a", 5)
    };
    // The target holds the pinned version: a skip, decided on its size and ETag.
    let at_target = ObjectInfo {
        etag: Some("e-old".into()),
        ..object("out/a", 5)
    };
    let plan = plan_with(&[pinned], &[at_target], &transfer);
    assert_eq!(plan.format, PINNED_FORMAT_VERSION);
    assert_eq!(plan.items[0].source_version_id.as_deref(), Some("v-old"));
    assert_eq!(plan.items[0].route, Route::Skip);
    // An old plan file (no version fields) still loads as unpinned.
    let mut old = serde_json::to_value(&plain).unwrap();
    old["format"] = 1.into();
    let loaded: Plan = serde_json::from_value(old).unwrap();
    assert_eq!(loaded.version_at, None);
    assert_eq!(loaded.items[0].source_version_id, None);
}
