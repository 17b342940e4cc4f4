//! Composite sources below the multipart threshold (issue #19): the AWS CLI uploads every
//! object from 8 MiB in 8 MiB parts, so most composite and multipart-ETag objects are smaller
//! than airlock's threshold. The plan learns their layout too and copies them as multipart in
//! the source's parts (the listing's `-N` ETag tells which; the source server lists ETags as
//! S3 does), so the source hop is checked by the composite or the multipart ETag and the
//! target's ETag equals the source's. A layout that cannot be used keeps the single route,
//! size only, with the reason.

use crate::common::engine::{Rig, streamed_plan};
use crate::common::multipart_upload::{Upload, put_in_parts};
use crate::common::proxy::Op;
use crate::common::{Account, MIB};
use airlock_core::plan::{ChecksumAlgorithm, Plan, PlanItem, Route, SourceHop};
use aws_sdk_s3::types::ChecksumAlgorithm as SdkAlgorithm;

/// Every source below is under this threshold.
const TRANSFER: [&str; 2] = ["multipart_threshold = \"64MiB\"", "part_size = \"16MiB\""];

async fn etag(account: &Account, key: &str) -> String {
    let head = account
        .client
        .head_object()
        .bucket(&account.bucket)
        .key(key);
    let head = head.send().await;
    let head = head.unwrap_or_else(|e| panic!("HEAD '{key}': {e:?}"));
    head.e_tag().expect("an ETag").to_string()
}

fn item<'a>(plan: &'a Plan, key: &str) -> &'a PlanItem {
    let found = plan.items.iter().find(|i| i.source_key == key);
    found.unwrap_or_else(|| panic!("'{key}' is not in the plan"))
}

/// A 7+7+2 MiB CRC32 composite, a 6+6 MiB ETag-only and an uneven 6+5+2 MiB CRC32 source.
async fn small_sources(rig: &Rig) {
    let source = rig.source();
    source.server.behaviours().set_listed_etags(true);
    let crc32 = Upload::Composite(SdkAlgorithm::Crc32);
    put_in_parts(
        source,
        "crc32.bin",
        1,
        &[7 * MIB, 7 * MIB, 2 * MIB],
        crc32.clone(),
    )
    .await;
    put_in_parts(source, "etag.bin", 2, &[6 * MIB, 6 * MIB], Upload::EtagOnly).await;
    put_in_parts(source, "uneven.bin", 3, &[6 * MIB, 5 * MIB, 2 * MIB], crc32).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_sources_below_the_threshold_are_copied_in_their_parts_and_verified() {
    let rig = Rig::start().await;
    small_sources(&rig).await;
    let settings = rig.config().transfer(&TRANSFER).settings();

    let (plan, _) = rig.plan(&settings).await;
    let crc32 = SourceHop::Composite {
        algorithm: ChecksumAlgorithm::Crc32,
    };
    for (key, part_size, parts, check) in [
        ("crc32.bin", 7 * MIB, 3, crc32),
        ("etag.bin", 6 * MIB, 2, SourceHop::MultipartEtag),
    ] {
        let item = item(&plan, key);
        assert_eq!(item.route, Route::Multipart, "{item:?}");
        assert_eq!((item.part_size, item.parts), (part_size, parts), "{item:?}");
        let layout = item.source_layout.as_ref().expect("a source layout");
        assert_eq!(layout.part_size, Some(part_size), "{item:?}");
        assert_eq!(layout.check, check, "{item:?}");
    }
    // The uneven one stays single, and the plan says why.
    let uneven = item(&plan, "uneven.bin");
    assert_eq!(
        (uneven.route, uneven.parts),
        (Route::Single, 1),
        "{uneven:?}"
    );
    let Some(SourceHop::SizeOnly { reason }) = uneven.source_layout.as_ref().map(|l| &l.check)
    else {
        panic!("{uneven:?}")
    };
    assert!(reason.contains("parts of different sizes"), "{reason}");
    // The totals follow the reroute.
    assert_eq!(
        (plan.summary.multipart.objects, plan.summary.multipart.parts),
        (2, 5),
        "{:?}",
        plan.summary
    );
    assert_eq!(plan.summary.single.objects, 1, "{:?}", plan.summary);

    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.verified),
        (3, 2),
        "{}",
        events.describe()
    );
    rig.assert_all_copied().await;
    for (key, words) in [
        (
            "crc32.bin",
            "composite crc32 of the 3 parts read (in the source's layout) matched the source's",
        ),
        (
            "etag.bin",
            "MD5s of the 2 parts read (in the source's layout) matched the source's multipart ETag",
        ),
    ] {
        let verification = events.verification(key);
        assert!(verification.verified, "{key}: {verification:?}");
        assert_eq!(verification.source, words, "{key}");
        let (source_etag, target_etag) =
            (etag(rig.source(), key).await, etag(rig.target(), key).await);
        assert_eq!(source_etag, target_etag, "{key}");
    }
    let uneven = events.verification("uneven.bin");
    assert!(!uneven.verified, "{uneven:?}");
    assert!(
        uneven
            .source
            .starts_with("size only: its part layout cannot be used (part 2 has"),
        "{uneven:?}"
    );
    // The source's parts: 3 + 2 UploadParts; the uneven one went in one PUT.
    assert_eq!(rig.target_proxy.count(Op::UploadPart), 5);

    // A rerun skips the three.
    let (plan, _) = rig.plan(&settings).await;
    assert!(
        plan.items.iter().all(|i| i.route == Route::Skip),
        "{plan:?}"
    );
}

/// The streamed plan reroutes the same items before counting them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_streamed_plan_reroutes_small_composite_sources_before_counting() {
    let rig = Rig::start().await;
    small_sources(&rig).await;
    let settings = rig.config().transfer(&TRANSFER).settings();
    let (plan, sides) = rig.plan(&settings).await;
    let (streamed, header) = streamed_plan(&sides, &settings).await;
    assert_eq!(streamed, plan.items);
    assert_eq!(header.summary, plan.summary);
    assert_eq!(header.summary.multipart.parts, 5, "{:?}", header.summary);
}
