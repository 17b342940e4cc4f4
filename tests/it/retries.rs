//! Deterministic 4xx (and 501) answers are not retried: the same request gets the same answer.
//! Each error code is injected by the fault proxy on one object's request, every time; the
//! object fails after exactly one request, where a retried class would send
//! `max_retries + 1`.

use airlock_core::error::Class;

use crate::common::engine::Rig;
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::{MIB, seeded_bytes};

const MAX_RETRIES: &str = "max_retries = 3";

/// (status, code, request answered with it). GetObject is answered by the source's proxy,
/// everything else by the target's. AccessControlListNotSupported also stops the run (every
/// object would meet it): `acls.rs` checks that it is not retried.
const DETERMINISTIC: [(u16, &str, Op); 11] = [
    (400, "XAmzContentSHA256Mismatch", Op::PutObject),
    (400, "InvalidArgument", Op::PutObject),
    (501, "NotImplemented", Op::PutObject),
    (400, "MetadataTooLarge", Op::PutObject),
    (403, "InvalidObjectState", Op::GetObject),
    (403, "AccessDenied", Op::GetObject),
    (400, "InvalidRequest", Op::PutObject),
    (400, "EntityTooLarge", Op::PutObject),
    (400, "KeyTooLongError", Op::PutObject),
    (400, "EntityTooSmall", Op::CompleteMultipartUpload),
    (400, "InvalidPart", Op::CompleteMultipartUpload),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deterministic_answers_are_sent_once_not_retried() {
    let rig = Rig::start().await;
    let mut rules = Vec::new();
    for (i, (status, code, op)) in DETERMINISTIC.iter().enumerate() {
        let key = format!("k{i:02}-{code}");
        let multipart = *op == Op::CompleteMultipartUpload;
        let size = if multipart { 6 * MIB as usize } else { 1000 };
        rig.source()
            .put(&key, seeded_bytes(i as u64, 0, size))
            .await;
        let proxy = match op {
            Op::GetObject => &rig.source_proxy,
            _ => &rig.target_proxy,
        };
        let rule = Rule::new(Fault::Status(*status, code))
            .on(*op)
            .key(&key)
            .every_time();
        rules.push((key, *code, proxy.add_rule(rule), proxy));
    }
    let settings = rig
        .config()
        .transfer(&[
            MAX_RETRIES,
            "multipart_threshold = \"5MiB\"",
            "part_size = \"5MiB\"",
        ])
        .settings();

    let (summary, events) = rig.run(&settings).await;

    assert_eq!(
        summary.failed,
        DETERMINISTIC.len() as u64,
        "{}",
        events.describe()
    );
    for (key, code, rule, proxy) in rules {
        assert_eq!(
            proxy.fired(rule),
            1,
            "{code}: sent more than once for '{key}'\n{}",
            events.describe()
        );
    }
    let retried: Vec<String> = events.retries().iter().map(|e| format!("{e:?}")).collect();
    assert!(retried.is_empty(), "retried: {retried:#?}");
    assert_eq!(
        airlock_core::aws::errors::classify(400, Some("XAmzContentSHA256Mismatch")),
        Class::Fatal
    );
}

/// The HEAD that confirms a written object's size (a target that reports no CRC64NVME: the
/// strict server's legacy switch) runs inside the engine's retries; it must not bring the SDK's own retries with it
/// (4 requests per engine attempt).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_verify_head_is_sent_once_per_engine_attempt() {
    let rig = Rig::start().await;
    rig.target().server.behaviours().set_crc64nvme_unknown(true);
    rig.source().put("one.bin", seeded_bytes(1, 0, 1000)).await;
    let rule = rig.target_proxy.add_rule(
        Rule::new(Fault::Status(500, "InternalError"))
            .on(Op::HeadObject)
            .every_time(),
    );
    let settings = rig.config().transfer(&["max_retries = 1"]).settings();

    let (summary, events) = rig.run(&settings).await;

    assert_eq!(summary.failed, 1, "{}", events.describe());
    assert_eq!(
        rig.target_proxy.fired(rule),
        2,
        "HEAD requests for 2 engine attempts\n{}",
        events.describe()
    );
}
