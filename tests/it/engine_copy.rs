//! The engine copies what it is given, fault-free, between two faithful servers (through
//! counting proxies): hundreds of small objects with awkward keys, metadata and tags; a 256 MiB
//! object in 5 MiB parts (with coalesced events); objects at the size boundaries; and big
//! objects (multipart and single) under a small memory budget, checked on the engine's
//! high-water mark; sources written with aws-chunked framing or their own Content-Encoding.
//! Connections are counted at the proxies to show they are reused. Every test compares the
//! bytes at the target with the source.

use crate::common;

use crate::common::engine::{Rig, assert_seeded, put_seeded_crc};
use crate::common::proxy::{Op, Rule};
use crate::common::{MIB, seeded_bytes};
use airlock_core::engine::Event;
use aws_sdk_s3::config::RequestChecksumCalculation;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Tag, Tagging};

/// Keys that break naive URL handling.
const ODD_KEYS: [&str; 6] = [
    "odd/with space.txt",
    "odd/ünïcödé ✓ 日本.bin",
    "odd/a+b=c&d.txt",
    "odd/100% sure.txt",
    "odd/nested/deeper/still deeper/x",
    "odd/zero-bytes",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_hundreds_of_small_objects_with_odd_keys_metadata_tags_and_storage_class() {
    let rig = Rig::start().await;
    let source = rig.source();
    let mut objects: Vec<(String, Vec<u8>)> = (0..300u64)
        .map(|i| {
            let size = (i * 7919) % 40_000; // 0 for i = 0
            (format!("small/{i:03}"), seeded_bytes(i, 0, size as usize))
        })
        .collect();
    for (i, key) in ODD_KEYS.iter().enumerate() {
        let size = if key.ends_with("zero-bytes") {
            0
        } else {
            1000 + i
        };
        objects.push((key.to_string(), seeded_bytes(1000 + i as u64, 0, size)));
    }
    source.put_many(objects.clone(), 16).await;
    source
        .client
        .put_object()
        .bucket(&source.bucket)
        .key("odd/described.csv")
        .content_type("text/csv")
        .cache_control("max-age=60")
        .content_disposition("attachment; filename=\"d.csv\"")
        .content_language("en-GB")
        .content_encoding("identity")
        .expires(aws_sdk_s3::primitives::DateTime::from_secs(1_900_000_000))
        .metadata("owner", "data-eng")
        .metadata("batch", "2024-06-01")
        .tagging("team=data&class=pii%20free")
        .body(ByteStream::from(b"a,b\n1,2\n".to_vec()))
        .send()
        .await
        .expect("PUT with metadata and tags");

    let settings = rig
        .config()
        .set_str("target", "storage_class", "REDUCED_REDUNDANCY")
        .transfer(&["copy_tags = true", "concurrency = 16"])
        .settings();
    let (summary, events) = rig.run(&settings).await;
    let expected = objects.len() as u64 + 1;
    assert_eq!(
        (
            summary.copied,
            summary.verified,
            summary.failed,
            summary.retries
        ),
        (expected, expected, 0, 0),
        "{summary:?}\n{}",
        events.describe()
    );
    rig.assert_all_copied().await;

    let verification = events.verification("small/001");
    assert!(verification.verified);
    assert_eq!(
        verification.source,
        "MD5 of all bytes read matched the source ETag"
    );
    assert_eq!(
        verification.target,
        "crc64nvme matched the target's checksum of the bytes it stored (PutObject)"
    );
    assert!(events.verification("odd/zero-bytes").verified);

    let target = rig.target();
    let head = target
        .client
        .head_object()
        .bucket(&target.bucket)
        .key("odd/described.csv")
        .send()
        .await
        .expect("HEAD target");
    assert_eq!(head.content_type(), Some("text/csv"));
    assert_eq!(head.cache_control(), Some("max-age=60"));
    assert_eq!(
        head.content_disposition(),
        Some("attachment; filename=\"d.csv\"")
    );
    assert_eq!(head.content_language(), Some("en-GB"));
    assert_eq!(head.content_encoding(), Some("identity"));
    let source_head = source
        .client
        .head_object()
        .bucket(&source.bucket)
        .key("odd/described.csv")
        .send()
        .await
        .expect("HEAD source");
    assert!(source_head.expires_string().is_some());
    assert_eq!(head.expires_string(), source_head.expires_string());
    let plain = target
        .client
        .head_object()
        .bucket(&target.bucket)
        .key("small/001")
        .send()
        .await
        .expect("HEAD target");
    assert_eq!(
        plain.content_encoding(),
        None,
        "aws-chunked is framing only"
    );
    let metadata = head.metadata().cloned().unwrap_or_default();
    assert_eq!(metadata.get("owner").map(String::as_str), Some("data-eng"));
    assert_eq!(
        metadata.get("batch").map(String::as_str),
        Some("2024-06-01")
    );
    assert_eq!(
        tags(target, "odd/described.csv").await,
        ["class=pii free", "team=data"]
    );

    // s3s-fs keeps no storage class (HEAD reports none), so check what was asked of it.
    let puts: Vec<_> = rig
        .target_proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.op == Op::PutObject)
        .collect();
    assert_eq!(puts.len() as u64, expected);
    for put in &puts {
        assert_eq!(
            put.headers
                .get("x-amz-storage-class")
                .map(|v| v.to_str().unwrap()),
            Some("REDUCED_REDUNDANCY"),
            "PutObject of '{}'",
            put.key
        );
    }
    // One GET per object: nothing was read twice.
    assert_eq!(rig.source_proxy.count(Op::GetObject) as u64, expected);
    // Connections are reused across objects: about one per request in flight, not one per
    // object (a client built per object would open over 300 on each side).
    for (side, proxy) in [("source", &rig.source_proxy), ("target", &rig.target_proxy)] {
        let opened = proxy.connections();
        assert!(
            (1..=2 * 16).contains(&opened),
            "{side}: {opened} connections for {expected} objects at concurrency 16"
        );
    }
}

/// Sources written by the SDK's default upload (an aws-chunked body with a CRC32 trailer) and
/// objects with their own Content-Encoding copy cleanly: each PutObject to the target carries
/// one Content-Encoding header naming aws-chunked at most once, and the target keeps exactly
/// the object's own encoding. (From the early smoke test; nothing else writes sources this way.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_sources_written_with_aws_chunked_and_content_encoding() {
    let rig = Rig::start().await;
    let source = rig.source();
    // What the AWS CLI or a default SDK client sends: checksum trailer, aws-chunked framing.
    let sdk_default = aws_sdk_s3::Client::from_conf(
        source
            .client
            .config()
            .to_builder()
            .request_checksum_calculation(RequestChecksumCalculation::WhenSupported)
            .build(),
    );
    let objects = [
        ("chunked.bin", 3, 70_000, None, &sdk_default),
        ("page.html.gz", 4, 5_000, Some("gzip"), &source.client),
        ("chunked.gz", 5, 9_000, Some("gzip"), &sdk_default),
    ];
    for (key, seed, size, encoding, client) in objects {
        client
            .put_object()
            .bucket(&source.bucket)
            .key(key)
            .set_content_encoding(encoding.map(str::to_string))
            .body(ByteStream::from(seeded_bytes(seed, 0, size)))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PUT '{key}': {}", common::describe(&e)));
    }

    let (summary, events) = rig.run(&rig.config().settings()).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (3, 0),
        "{}",
        events.describe()
    );
    rig.assert_all_copied().await;
    let puts = rig.target_proxy.exchanges();
    for (key, _, _, encoding, _) in objects {
        let head = rig
            .target()
            .client
            .head_object()
            .bucket(&rig.target().bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("HEAD '{key}': {}", common::describe(&e)));
        assert_eq!(head.content_encoding(), encoding, "'{key}' at the target");
        let put = puts
            .iter()
            .find(|e| e.op == Op::PutObject && e.key == key)
            .unwrap_or_else(|| panic!("no PutObject of '{key}'"));
        let headers: Vec<&str> = put
            .headers
            .get_all("content-encoding")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert!(headers.len() <= 1, "'{key}': {headers:?}");
        let chunked = headers
            .iter()
            .flat_map(|v| v.split(','))
            .filter(|t| t.trim() == "aws-chunked")
            .count();
        assert!(chunked <= 1, "'{key}' names aws-chunked twice: {headers:?}");
    }
}

/// The object's tags at `account`, sorted, as `key=value`.
async fn tags(account: &common::Account, key: &str) -> Vec<String> {
    let out = account
        .client
        .get_object_tagging()
        .bucket(&account.bucket)
        .key(key)
        .send()
        .await
        .expect("GetObjectTagging");
    let mut tags: Vec<String> = out
        .tag_set()
        .iter()
        .map(|t| format!("{}={}", t.key(), t.value()))
        .collect();
    tags.sort();
    tags
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_a_256_mib_object_in_5_mib_parts_and_objects_at_the_size_boundaries() {
    let rig = Rig::start().await;
    let source = rig.source();
    let big_size = 256 * MIB + 123;
    put_seeded_crc(source, "big/256MiB.bin", big_size, 42, 8 * MIB).await;
    source
        .client
        .put_object_tagging()
        .bucket(&source.bucket)
        .key("big/256MiB.bin")
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key("origin").value("lab").build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("tag the big object");
    source
        .put("edge/at-threshold", seeded_bytes(1, 0, 8 * MIB as usize))
        .await;
    source
        .put(
            "edge/below-threshold",
            seeded_bytes(2, 0, 8 * MIB as usize - 1),
        )
        .await;
    source.put("edge/zero", Vec::new()).await;

    let settings = rig
        .config()
        .set_str("target", "storage_class", "REDUCED_REDUNDANCY")
        .transfer(&[
            "multipart_threshold = \"8MiB\"",
            "part_size = \"5MiB\"",
            "copy_tags = true",
        ])
        .settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (4, 0),
        "{}",
        events.describe()
    );
    // The big one against the bytes it was made from (one GET), the rest against the source.
    assert_seeded(rig.target(), "big/256MiB.bin", big_size, 42).await;
    for key in ["edge/at-threshold", "edge/below-threshold", "edge/zero"] {
        rig.assert_copied(key).await;
    }
    assert_eq!(rig.target().keys("").await.len(), 4);

    let routes: Vec<(String, u32, u64)> = events
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::ObjectStarted {
                key,
                parts,
                part_size,
                ..
            } => Some((key.clone(), *parts, *part_size)),
            _ => None,
        })
        .collect();
    let big_parts = big_size.div_ceil(5 * MIB) as u32;
    assert!(
        routes.contains(&("big/256MiB.bin".into(), big_parts, 5 * MIB)),
        "{routes:?}"
    );
    assert!(
        routes.contains(&("edge/at-threshold".into(), 2, 5 * MIB)),
        "{routes:?}"
    );
    assert!(
        routes.contains(&("edge/below-threshold".into(), 1, 8 * MIB - 1)),
        "{routes:?}"
    );

    let big = events.verification("big/256MiB.bin");
    assert!(big.verified, "{big:?}");
    assert_eq!(
        big.source,
        "crc64nvme of all bytes read matched the source's full-object checksum"
    );
    assert_eq!(
        big.target,
        "crc64nvme of the whole object matched the target's full-object checksum (HEAD after complete)"
    );
    // Plain multipart source without a checksum: read in parts, its MD5 ETag cannot be checked.
    let edge = events.verification("edge/at-threshold");
    assert!(!edge.verified, "{edge:?}");

    // Each part was read and sent exactly once.
    let parts = u64::from(big_parts) + 2;
    assert_eq!(rig.source_proxy.count(Op::GetObjectRange) as u64, parts);
    assert_eq!(rig.target_proxy.count(Op::UploadPart) as u64, parts);
    let multipart_bytes = big_size + 8 * MIB;
    assert_eq!(
        rig.source_proxy.response_bytes(Op::GetObjectRange),
        multipart_bytes
    );
    let sent = rig.target_proxy.request_bytes(Op::UploadPart);
    assert!(
        (multipart_bytes..multipart_bytes + multipart_bytes / 100).contains(&sent),
        "UploadPart bodies (aws-chunked) carried {sent} bytes for {multipart_bytes}"
    );
    let creates: Vec<_> = rig
        .target_proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.op == Op::CreateMultipartUpload)
        .collect();
    assert_eq!(creates.len(), 2);
    for create in creates {
        assert_eq!(
            create
                .headers
                .get("x-amz-storage-class")
                .map(|v| v.to_str().unwrap()),
            Some("REDUCED_REDUNDANCY")
        );
    }
    assert_eq!(tags(rig.target(), "big/256MiB.bin").await, ["origin=lab"]);
    assert!(rig.target_uploads().await.is_empty());
    assert!(
        rig.journal_files().is_empty(),
        "finished uploads leave no journal"
    );

    // Coalesced events: per part one PartStarted and one PartDone, byte progress only on the
    // scheduler's tick (never per network chunk: 256 MiB is thousands of chunks).
    let count = |f: fn(&Event) -> bool| events.seen.iter().filter(|e| f(e)).count();
    let all_parts = (u64::from(big_parts) + 2 + 2) as usize; // + two single objects
    assert_eq!(count(|e| matches!(e, Event::PartStarted { .. })), all_parts);
    assert_eq!(count(|e| matches!(e, Event::PartDone { .. })), all_parts);
    let ticks = count(|e| matches!(e, Event::Progress { .. }));
    let tick_bound = (summary.elapsed_ms / 200 + 3) as usize;
    assert!(
        (1..=tick_bound).contains(&ticks),
        "{ticks} progress events in {} ms",
        summary.elapsed_ms
    );
    let last = events
        .seen
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Progress {
                get_bytes,
                put_bytes,
                ..
            } => Some((*get_bytes, *put_bytes)),
            _ => None,
        })
        .unwrap();
    let total = big_size + 8 * MIB + (8 * MIB - 1);
    assert_eq!(
        last,
        (total, total),
        "the last tick accounts for every byte"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffers_stay_within_the_memory_budget_for_objects_many_times_its_size() {
    let rig = Rig::start().await;
    let size = 40 * MIB + 5;
    put_seeded_crc(rig.source(), "huge.bin", size, 9, 8 * MIB).await;
    // Below the threshold: one GET streamed into one PUT, 12x the budget.
    rig.source().put_seeded("single.bin", 24 * MIB, 10).await;
    let settings = rig
        .config()
        .transfer(&[
            "multipart_threshold = \"32MiB\"",
            "part_size = \"5MiB\"",
            "memory_limit = \"2MiB\"",
            "concurrency = 32",
        ])
        .settings();
    let (handle, mut events) = rig.start_engine(&settings).await;
    let started = events
        .wait_for("run started", |e| matches!(e, Event::RunStarted { .. }))
        .await;
    assert!(
        matches!(started, Event::RunStarted { concurrency: 2, .. }),
        "2 MiB of 1 MiB stream buffers allow 2 streams: {started:?}"
    );
    events
        .wait_count("both objects", 2, |e| matches!(e, Event::ObjectDone { .. }))
        .await;
    let (_, peak) = handle.buffered_bytes();
    let summary = handle.join().await.unwrap();
    events.drain().await;
    assert_eq!(summary.copied, 2, "{}", events.describe());
    rig.assert_copied("huge.bin").await;
    rig.assert_copied("single.bin").await;
    assert!(peak > 0 && peak <= 2 * MIB, "peak buffered {peak} bytes");
    assert_eq!(summary.peak_buffered_bytes, peak);
    // No progress tick ever saw more buffered than the budget either.
    for e in &events.seen {
        if let Event::Progress { buffered_bytes, .. } = e {
            assert!(*buffered_bytes <= 2 * MIB, "{e:?}");
        }
    }
    assert!(rig.source_proxy.peak_in_flight(Op::GetObjectRange) <= 2);
    assert!(rig.target_proxy.peak_in_flight(Op::UploadPart) <= 2);
    assert_eq!(rig.target_proxy.count(Op::UploadPart), 9);
    let puts: Vec<String> = (rig.target_proxy.exchanges().into_iter())
        .filter(|e| e.op == Op::PutObject && !e.key.starts_with(".airlock/uploads/"))
        .map(|e| e.key)
        .collect();
    assert_eq!(
        puts,
        ["single.bin"],
        "single.bin in one PUT (and huge.bin's state object)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_scheduler_shares_the_limit_between_a_big_object_and_many_small_ones() {
    let rig = Rig::start().await;
    rig.source().put_seeded("big.bin", 30 * MIB, 5).await;
    let objects = (0..40u64)
        .map(|i| (format!("small/{i:02}"), seeded_bytes(i, 0, 2000)))
        .collect();
    rig.source().put_many(objects, 8).await;
    // Every source request takes a little while, so the limit is reached and held.
    rig.source_proxy
        .add_rule(Rule::new(common::proxy::Fault::Latency(
            std::time::Duration::from_millis(30),
        )));
    let settings = rig
        .config()
        .transfer(&[
            "multipart_threshold = \"5MiB\"",
            "part_size = \"5MiB\"",
            "concurrency = 3",
        ])
        .settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (41, 0),
        "{}",
        events.describe()
    );
    // HEADs, ranged part reads and whole-object GETs all count against the same 3.
    assert_eq!(rig.source_proxy.peak_in_flight_total(), 3);
    assert!(rig.target_proxy.peak_in_flight_total() <= 3);
    assert_eq!(rig.source_proxy.count(Op::GetObjectRange), 6);
    assert_eq!(rig.source_proxy.count(Op::GetObject), 40);
    rig.assert_all_copied().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_encryption_and_acl_are_asked_for_on_every_new_object() {
    let rig = Rig::start().await;
    rig.source().put("small.txt", b"small".to_vec()).await;
    rig.source().put_seeded("multi.bin", 11 * MIB, 2).await;
    let settings = rig
        .config()
        .lines(
            "target",
            &[
                "sse = \"aws:kms\"",
                "sse_kms_key_id = \"alias/target-account-key\"",
                "acl = \"bucket-owner-full-control\"",
            ],
        )
        .transfer(&["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""])
        .settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(summary.copied, 2, "{}", events.describe());
    rig.assert_all_copied().await;
    let header = |e: &common::proxy::Exchange, name: &str| {
        e.headers.get(name).map(|v| v.to_str().unwrap().to_string())
    };
    let exchanges = rig.target_proxy.exchanges();
    let creates: Vec<_> = exchanges
        .iter()
        .filter(|e| matches!(e.op, Op::PutObject | Op::CreateMultipartUpload))
        .collect();
    // The two objects, and the multipart upload's state object (`.airlock/uploads/`), which
    // asks for the same encryption and ACL.
    let state = creates
        .iter()
        .filter(|e| e.key.starts_with(".airlock/uploads/"));
    assert_eq!((creates.len(), state.count()), (3, 1));
    for e in creates {
        assert_eq!(
            header(e, "x-amz-server-side-encryption").as_deref(),
            Some("aws:kms"),
            "{:?}",
            e.op
        );
        assert_eq!(
            header(e, "x-amz-server-side-encryption-aws-kms-key-id").as_deref(),
            Some("alias/target-account-key")
        );
        assert_eq!(
            header(e, "x-amz-acl").as_deref(),
            Some("bucket-owner-full-control")
        );
    }
    // S3 refuses SSE-KMS headers on UploadPart: the upload's settings apply to its parts.
    for e in exchanges.iter().filter(|e| e.op == Op::UploadPart) {
        assert_eq!(header(e, "x-amz-server-side-encryption"), None);
    }
}
