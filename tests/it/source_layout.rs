//! Multipart sources copied in their own part layout (issue #19): the plan learns each
//! multipart source's parts (GetObjectAttributes `ObjectParts` / HEAD `partNumber=1`), the
//! copy uses the same part boundaries, and the source hop is checked against the source's
//! COMPOSITE CRC32/CRC32C or multipart ETag before CompleteMultipartUpload; a full-object
//! CRC64NVME is checked as before, and the target's ETag now equals the source's. A layout S3
//! would refuse falls back to airlock's own parts with the reason in the event; a corrupted
//! byte in one source part fails its object before Complete; a rerun skips what was verified.

use crate::common::engine::{Rig, streamed_plan};
use crate::common::multipart_upload::{Upload, put_in_parts};
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::{Account, MIB};
use airlock_core::plan::{ChecksumAlgorithm, Plan, Route, SourceHop};
use aws_sdk_s3::types::ChecksumAlgorithm as SdkAlgorithm;

/// airlock's own part size in these tests: no source below is cut like it.
const TRANSFER: [&str; 2] = ["multipart_threshold = \"8MiB\"", "part_size = \"8MiB\""];

async fn etag(account: &Account, key: &str) -> String {
    let head = account
        .client
        .head_object()
        .bucket(&account.bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("HEAD '{key}': {e:?}"));
    head.e_tag().expect("an ETag").to_string()
}

fn item<'a>(plan: &'a Plan, key: &str) -> &'a airlock_core::plan::PlanItem {
    let found = plan.items.iter().find(|i| i.source_key == key);
    found.unwrap_or_else(|| panic!("'{key}' is not in the plan"))
}

/// The four kinds of multipart source, uniform parts and short last parts.
async fn four_sources(source: &Account) {
    let crc32 = Upload::Composite(SdkAlgorithm::Crc32);
    let crc32c = Upload::Composite(SdkAlgorithm::Crc32C);
    put_in_parts(source, "crc32.bin", 1, &[5 * MIB, 5 * MIB, 2 * MIB], crc32).await;
    put_in_parts(source, "crc32c.bin", 2, &[6 * MIB, 6 * MIB], crc32c).await;
    put_in_parts(
        source,
        "crc64.bin",
        3,
        &[5 * MIB, 5 * MIB, MIB],
        Upload::FullCrc64,
    )
    .await;
    put_in_parts(
        source,
        "etag.bin",
        4,
        &[7 * MIB, 7 * MIB, 3 * MIB],
        Upload::EtagOnly,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_sources_are_copied_in_their_own_parts_and_checked_by_them() {
    let rig = Rig::start().await;
    four_sources(rig.source()).await;
    let settings = rig.config().transfer(&TRANSFER).settings();

    let (plan, _) = rig.plan(&settings).await;
    let expected = [
        (
            "crc32.bin",
            5 * MIB,
            3,
            SourceHop::Composite {
                algorithm: ChecksumAlgorithm::Crc32,
            },
        ),
        (
            "crc32c.bin",
            6 * MIB,
            2,
            SourceHop::Composite {
                algorithm: ChecksumAlgorithm::Crc32c,
            },
        ),
        // Checked by its full-object CRC whatever the parts: airlock's own 8 MiB parts.
        (
            "crc64.bin",
            8 * MIB,
            2,
            SourceHop::FullObject {
                algorithm: ChecksumAlgorithm::Crc64nvme,
            },
        ),
        ("etag.bin", 7 * MIB, 3, SourceHop::MultipartEtag),
    ];
    for (key, part_size, parts, check) in &expected {
        let item = item(&plan, key);
        assert_eq!(item.route, Route::Multipart, "{item:?}");
        assert_eq!(
            (item.part_size, item.parts),
            (*part_size, *parts),
            "{item:?}"
        );
        let layout = item.source_layout.as_ref().expect("a source layout");
        let own_parts = *key == "crc64.bin";
        assert_eq!(
            layout.part_size,
            (!own_parts).then_some(*part_size),
            "{item:?}"
        );
        assert_eq!(&layout.check, check, "{item:?}");
    }

    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.verified),
        (4, 4),
        "{}",
        events.describe()
    );
    rig.assert_all_copied().await;
    let words = [
        (
            "crc32.bin",
            "composite crc32 of the 3 parts read (in the source's layout) matched the source's",
        ),
        (
            "crc32c.bin",
            "composite crc32c of the 2 parts read (in the source's layout) matched the source's",
        ),
        (
            "crc64.bin",
            "crc64nvme of all bytes read matched the source's full-object checksum",
        ),
        (
            "etag.bin",
            "MD5s of the 3 parts read (in the source's layout) matched the source's multipart ETag",
        ),
    ];
    for (key, source_words) in words {
        let verification = events.verification(key);
        assert!(verification.verified, "{key}: {verification:?}");
        assert_eq!(verification.source, source_words, "{key}");
        // Same parts, same bytes: the target's multipart ETag is the source's.
        let (source_etag, target_etag) =
            (etag(rig.source(), key).await, etag(rig.target(), key).await);
        match key {
            "crc64.bin" => assert_ne!(source_etag, target_etag, "{key}: other parts"),
            _ => assert_eq!(source_etag, target_etag, "{key}"),
        }
    }
    // The UploadParts were the source's parts (3 + 2 + 3), and airlock's for crc64.bin (2).
    let parts = rig.target_proxy.count(Op::UploadPart);
    assert_eq!(parts, 10);

    // A rerun skips every one of them.
    let (plan, _) = rig.plan(&settings).await;
    for (key, ..) in &expected {
        assert_eq!(
            item(&plan, key).route,
            Route::Skip,
            "{:?}",
            item(&plan, key)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layout_s3_would_refuse_falls_back_to_own_parts_and_says_why() {
    let rig = Rig::start().await;
    // A kinder store accepted 1 MiB parts; S3 never makes them, and UploadPart could not copy
    // them as they are (EntityTooSmall at Complete).
    rig.source()
        .server
        .behaviours()
        .set_small_parts_allowed(true);
    let small = [MIB; 10];
    put_in_parts(
        rig.source(),
        "small-parts.bin",
        5,
        &small,
        Upload::Composite(SdkAlgorithm::Crc32),
    )
    .await;
    let settings = rig.config().transfer(&TRANSFER).settings();

    let (plan, _) = rig.plan(&settings).await;
    let item = item(&plan, "small-parts.bin");
    assert_eq!((item.part_size, item.parts), (8 * MIB, 2), "{item:?}");
    let layout = item.source_layout.as_ref().expect("a source layout");
    assert_eq!(layout.part_size, None);
    let SourceHop::SizeOnly { reason } = &layout.check else {
        panic!("{layout:?}");
    };
    assert!(reason.contains("under S3's 5 MiB minimum"), "{reason}");

    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.verified),
        (1, 0),
        "{}",
        events.describe()
    );
    rig.assert_all_copied().await;
    let verification = events.verification("small-parts.bin");
    assert!(!verification.verified);
    assert!(
        verification.source.starts_with("size only: its part layout cannot be used (parts of 1048576 bytes, under S3's 5 MiB minimum"),
        "{verification:?}"
    );
    assert!(
        verification
            .source
            .contains("every part was pinned to ETag"),
        "{verification:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_source_part_fails_its_object_before_complete_and_a_rerun_copies_only_it() {
    let rig = Rig::start().await;
    four_sources(rig.source()).await;
    let settings = rig.config().transfer(&TRANSFER).settings();
    // One flipped byte in the second part read of each checksum-less or composite source.
    for key in ["crc32.bin", "etag.bin"] {
        let corrupt = Fault::CorruptResponse { at_byte: 1234 };
        let rule = Rule::new(corrupt)
            .on(Op::GetObjectRange)
            .key(key)
            .skip(1)
            .times(1);
        rig.source_proxy.add_rule(rule);
    }

    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (2, 2),
        "{}",
        events.describe()
    );
    for (key, reason) in [("crc32.bin", "crc32"), ("etag.bin", "multipart ETag")] {
        let failure = summary.failures.iter().find(|(k, _)| k == key);
        let (_, message) = failure.unwrap_or_else(|| panic!("{key} did not fail: {summary:?}"));
        assert!(
            message.contains(&format!(
                "the parts read do not match the source's {reason}"
            )),
            "{message}"
        );
    }
    // Never completed: nothing at the target under those keys, no upload left open.
    let mut at_target = rig.target().keys("").await;
    at_target.sort();
    assert_eq!(at_target, ["crc32c.bin", "crc64.bin"]);
    assert_eq!(rig.target_proxy.count(Op::CompleteMultipartUpload), 2);
    assert!(rig.target_uploads().await.is_empty());

    // The rerun copies exactly the two that failed, and skips the two verified.
    rig.source_proxy.clear_rules();
    let (plan, _) = rig.plan(&settings).await;
    let routes: Vec<(&str, Route)> = plan
        .items
        .iter()
        .map(|i| (i.source_key.as_str(), i.route))
        .collect();
    assert_eq!(
        routes,
        [
            ("crc32.bin", Route::Multipart),
            ("crc32c.bin", Route::Skip),
            ("crc64.bin", Route::Skip),
            ("etag.bin", Route::Multipart),
        ]
    );
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.verified, summary.skipped),
        (2, 2, 2),
        "{}",
        events.describe()
    );
    rig.assert_all_copied().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_get_object_attributes_is_refused_head_part_number_tells_the_layout() {
    let rig = Rig::start().await;
    let crc32 = Upload::Composite(SdkAlgorithm::Crc32);
    let source = rig.source();
    put_in_parts(
        source,
        "even.bin",
        6,
        &[5 * MIB, 5 * MIB, 2 * MIB],
        crc32.clone(),
    )
    .await;
    // S3 allows parts of different sizes; the AWS CLI never makes them.
    put_in_parts(source, "uneven.bin", 7, &[6 * MIB, 5 * MIB, 2 * MIB], crc32).await;
    let settings = rig.config().transfer(&TRANSFER).settings();
    let reason = |plan: &Plan, key: &str| match &item(plan, key).source_layout {
        Some(layout) => match &layout.check {
            SourceHop::SizeOnly { reason } => reason.clone(),
            other => format!("{other:?}"),
        },
        None => "no layout".into(),
    };

    // GetObjectAttributes lists every part's size.
    let (plan, _) = rig.plan(&settings).await;
    assert_eq!(item(&plan, "even.bin").part_size, 5 * MIB);
    assert!(
        reason(&plan, "uneven.bin").contains("part 2 has 5242880 bytes, part 1 has 6291456"),
        "{}",
        reason(&plan, "uneven.bin")
    );

    // Not allowed (or not implemented): HEAD partNumber=1 and partNumber=N instead.
    let refuse = Rule::new(Fault::Status(403, "AccessDenied")).on(Op::GetObjectAttributes);
    let refused = rig.source_proxy.add_rule(refuse);
    let (plan, _) = rig.plan(&settings).await;
    assert!(rig.source_proxy.fired(refused) >= 2);
    let even = item(&plan, "even.bin");
    assert_eq!((even.part_size, even.parts), (5 * MIB, 3), "{even:?}");
    assert!(
        reason(&plan, "uneven.bin").contains("part 3 has 2097152 bytes, not the 1048576"),
        "{}",
        reason(&plan, "uneven.bin")
    );

    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.verified),
        (2, 1),
        "{}",
        events.describe()
    );
    rig.assert_all_copied().await;
    assert!(events.verification("even.bin").verified);
    let uneven = events.verification("uneven.bin");
    assert!(
        uneven
            .source
            .starts_with("size only: its part layout cannot be used"),
        "{uneven:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_s3s_fs_reports_no_layout_and_the_copy_says_so() {
    let rig = Rig::start_plain().await;
    rig.source().put_seeded("parts.bin", 12 * MIB, 8).await;
    let settings = rig.config().transfer(&TRANSFER).settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.verified),
        (1, 0),
        "{}",
        events.describe()
    );
    let verification = events.verification("parts.bin");
    assert!(
        verification
            .source
            .starts_with("size only: the source does not report its part layout"),
        "{verification:?}"
    );
    rig.assert_all_copied().await;
}

/// The streamed plan (`airlock plan --summary`, `plan -o X.jsonl*`) learns the same layouts as
/// the in-memory one, before the item is counted: its totals hold the source's part counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_streamed_plan_learns_the_same_layouts_and_counts_their_parts() {
    let rig = Rig::start().await;
    four_sources(rig.source()).await;
    let settings = rig.config().transfer(&TRANSFER).settings();
    let (plan, sides) = rig.plan(&settings).await;

    let (streamed, header) = streamed_plan(&sides, &settings).await;
    assert_eq!(
        streamed, plan.items,
        "streamed items against the in-memory plan"
    );
    assert!(
        streamed.iter().all(|i| i.source_layout.is_some()),
        "{streamed:?}"
    );
    // 3 + 2 (crc64.bin: airlock's 8 MiB parts) + 2 + 3 parts.
    assert_eq!(header.summary.multipart.parts, 10, "{:?}", header.summary);
    assert_eq!(header.summary, plan.summary);
}

/// A saved plan without layouts (the TUI's `w`, an older airlock's) learns them when it is
/// run: the composite source is copied in its own parts and verified by its composite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_without_layouts_learns_them_when_run() {
    use crate::common::{events_named, json_lines};

    let rig = Rig::start().await;
    let crc32 = Upload::Composite(SdkAlgorithm::Crc32);
    let sizes = [5 * MIB, 5 * MIB, 2 * MIB];
    put_in_parts(rig.source(), "crc32.bin", 1, &sizes, crc32).await;
    let servers = &rig.servers;
    let sandbox = &servers.sandbox;
    let config = rig.config().transfer(&TRANSFER).write(sandbox);
    let plan_path = sandbox.path().join("plan.json");
    let plan_arg = plan_path.to_str().unwrap();
    servers
        .airlock_with(&config, &["plan", "--summary", "-o", plan_arg])
        .run()
        .await
        .expect_code(0);
    // As the TUI saves it: airlock's own 8 MiB parts, no layout.
    let mut saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&plan_path).unwrap()).unwrap();
    let item = &mut saved["items"][0];
    assert!(item["source_layout"].is_object(), "{item}");
    item.as_object_mut().unwrap().remove("source_layout");
    (item["part_size"], item["parts"]) = (serde_json::json!(8 * MIB), serde_json::json!(2));
    saved["summary"]["multipart"]["parts"] = serde_json::json!(2);
    std::fs::write(&plan_path, serde_json::to_vec_pretty(&saved).unwrap()).unwrap();

    let out = servers
        .airlock_with(&config, &["run", "--plan", plan_arg, "--json"])
        .run()
        .await;
    out.expect_code(0);
    let lines = json_lines(&out.stdout);
    let done = events_named(&lines, "object_done");
    assert_eq!(done.len(), 1, "{}", out.stdout);
    let verification = &done[0]["verification"];
    assert_eq!(verification["verified"], true, "{}", done[0]);
    assert_eq!(
        verification["source"],
        "composite crc32 of the 3 parts read (in the source's layout) matched the source's",
        "{}",
        done[0]
    );
    assert_eq!(rig.target_proxy.count(Op::UploadPart), 3);
}
