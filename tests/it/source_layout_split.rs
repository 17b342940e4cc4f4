//! Split objects in the source's own layout (issue #19): `prepare` opens the upload (COMPOSITE
//! in the source's algorithm where it has one), the shards fill it, and `finalize` checks the
//! source hop before CompleteMultipartUpload: the composite recombined from the part
//! checksums ListParts returns, or the multipart ETag from the MD5s of the part ETags. A
//! flipped byte in one part read completes nothing and says why.

use crate::common::MIB;
use crate::common::engine::{Rig, run_to_end};
use crate::common::multipart_upload::{Upload, put_in_parts};
use crate::common::proxy::{Fault, Op, Rule};
use airlock_core::engine::{EngineOptions, Finalized, finalize, open_split};
use aws_sdk_s3::types::ChecksumAlgorithm as SdkAlgorithm;

const TRANSFER: [&str; 2] = ["multipart_threshold = \"8MiB\"", "part_size = \"8MiB\""];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finalize_checks_the_sources_composite_or_multipart_etag_before_complete() {
    let rig = Rig::start().await;
    let crc32 = Upload::Composite(SdkAlgorithm::Crc32);
    let sizes = [5 * MIB, 5 * MIB, 2 * MIB];
    put_in_parts(rig.source(), "crc32.bin", 1, &sizes, crc32.clone()).await;
    put_in_parts(rig.source(), "good.bin", 2, &sizes, crc32).await;
    let sizes = [6 * MIB, 6 * MIB];
    put_in_parts(rig.source(), "etag.bin", 3, &sizes, Upload::EtagOnly).await;
    put_in_parts(rig.source(), "md5-parts.bin", 4, &sizes, Upload::EtagOnly).await;
    let settings = rig.config().transfer(&TRANSFER).settings();
    let options = EngineOptions::from_settings(&settings);

    // `airlock prepare`: every object is split, its upload opened in the source's layout.
    let (mut plan, sides) = rig.plan(&settings).await;
    for item in &mut plan.items {
        assert!(
            item.source_layout.as_ref().is_some_and(|l| l.used()),
            "{item:?}"
        );
        let split = open_split(sides.clone(), &options, item).await;
        item.split = Some(split.expect("open the split upload"));
    }
    let composite = |key: &str| {
        let item = plan.items.iter().find(|i| i.source_key == key).unwrap();
        item.split.as_ref().unwrap().composite
    };
    use airlock_core::plan::ChecksumAlgorithm::Crc32;
    assert_eq!(
        (composite("crc32.bin"), composite("etag.bin")),
        (Some(Crc32), None)
    );

    // The shard run, with one byte flipped in the second part read of two of them.
    for key in ["crc32.bin", "etag.bin"] {
        let corrupt = Fault::CorruptResponse { at_byte: 1234 };
        let rule = Rule::new(corrupt).on(Op::GetObjectRange).key(key);
        rig.source_proxy.add_rule(rule.skip(1).times(1));
    }
    let (handle, events) = rig.start_plan(plan.clone(), sides.clone(), &settings);
    let (summary, events) = run_to_end(handle, events).await;
    assert_eq!(summary.failed, 0, "{}", events.describe());
    assert_eq!(rig.target_proxy.count(Op::UploadPart), 10);

    // `airlock finalize`.
    for item in &plan.items {
        let finalized = finalize(sides.clone(), &options, item).await;
        match item.source_key.as_str() {
            "good.bin" => {
                let Ok(Finalized::Completed(verification)) = finalized else {
                    panic!("{finalized:?}")
                };
                assert!(verification.verified, "{verification:?}");
                assert_eq!(
                    verification.source,
                    "composite crc32 of the 3 parts read (in the source's layout) matched the source's"
                );
                // A second finalize compares the two composites and touches nothing.
                let again = finalize(sides.clone(), &options, item).await;
                let Ok(Finalized::AlreadyComplete(verification)) = again else {
                    panic!("{again:?}")
                };
                assert!(verification.verified, "{verification:?}");
                assert_eq!(
                    verification.source,
                    "composite crc32 of the source matches the target's"
                );
            }
            "md5-parts.bin" => {
                let Ok(Finalized::Completed(verification)) = finalized else {
                    panic!("{finalized:?}")
                };
                assert!(verification.verified, "{verification:?}");
                assert_eq!(
                    verification.source,
                    "MD5s of the 2 parts the target holds (their ETags) matched the source's multipart ETag"
                );
            }
            key => {
                let what = match key {
                    "crc32.bin" => "crc32",
                    _ => "multipart ETag",
                };
                let message = finalized.expect_err(key).to_string();
                assert!(
                    message.contains(&format!("do not match the source's {what}"))
                        && message.contains("abort it ('airlock uploads abort')"),
                    "{key}: {message}"
                );
            }
        }
    }
    // Nothing completed for the two: only the good ones are at the target.
    let mut at_target = rig.target().keys("").await;
    at_target.sort();
    assert_eq!(at_target, ["good.bin", "md5-parts.bin"]);
    assert_eq!(rig.target_proxy.count(Op::CompleteMultipartUpload), 2);
}
