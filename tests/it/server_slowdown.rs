//! The test server's request-rate limit (`Behaviours::set_request_limit`, or
//! `AIRLOCK_TEST_S3_SLOWDOWN` for a benchmark's servers): above a kind's rate the server answers
//! 503 SlowDown as S3 does above a prefix's rate, other kinds pass, and airlock's default
//! settings copy everything through it without failing an object.

use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use futures::future::join_all;

use crate::common::engine::Rig;
use crate::common::{TwoServers, seeded_bytes};
use airlock_s3server::{Delay, LatencyProfile, RequestKind, RequestLimit};

/// 20 PUTs at once against 8 PutObject/s (a quarter second's worth, 2, saved up): most are
/// refused with S3's SlowDown; GETs at the same time are not limited; off again, all pass.
#[tokio::test]
async fn a_request_limit_answers_slowdown_above_its_rate_for_its_kind_only() {
    let servers = TwoServers::start().await;
    let account = &servers.source;
    account.put("k", b"bytes".to_vec()).await;
    let once = aws_sdk_s3::Client::from_conf(
        account
            .client
            .config()
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .build(),
    );
    let behaviours = account.server.behaviours();
    behaviours.set_request_limit(Some(RequestLimit::new().with(RequestKind::Put, 8)));

    let puts = (0..20).map(|i| {
        once.put_object()
            .bucket(&account.bucket)
            .key(format!("burst/{i}"))
            .body(ByteStream::from(vec![b'x'; 64]))
            .send()
    });
    let gets = (0..20).map(|_| once.get_object().bucket(&account.bucket).key("k").send());
    let (puts, gets) = tokio::join!(join_all(puts), join_all(gets));
    let mut refused = 0;
    for put in &puts {
        if let Err(e) = put {
            let status = e.raw_response().map(|r| r.status().as_u16());
            assert_eq!((status, e.code()), (Some(503), Some("SlowDown")), "{e:?}");
            refused += 1;
        }
    }
    assert!((1..=4).contains(&(20 - refused)), "{refused} of 20 refused");
    assert_eq!(behaviours.slowdowns_answered(), refused as u64);
    assert!(gets.iter().all(Result::is_ok), "GETs are not limited");

    behaviours.set_request_limit(None);
    for i in 0..10 {
        once.put_object()
            .bucket(&account.bucket)
            .key(format!("after/{i}"))
            .body(ByteStream::from(vec![b'y'; 64]))
            .send()
            .await
            .expect("no limit any more");
    }
}

/// Default settings against a target that takes 40 PutObject/s, both stores 50 ms away: the
/// server refuses some PUTs, the engine backs off, every object is copied, none fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_settings_copy_everything_through_the_servers_request_limit() {
    const OBJECTS: u64 = 300;
    let rig = Rig::start().await;
    let batch = (0..OBJECTS)
        .map(|i| (format!("limited/{i:04}.bin"), seeded_bytes(i, 0, 1024)))
        .collect();
    rig.source().put_many(batch, 32).await;
    let far = LatencyProfile::new().with_all(Delay::Fixed(Duration::from_millis(50)));
    for account in [rig.source(), rig.target()] {
        account.server.behaviours().set_latency(Some(far.clone()));
    }
    let target = rig.target().server.behaviours();
    target.set_request_limit(Some("put=40/s".parse().expect("limit")));

    let (summary, events) = rig.run(&rig.config().settings()).await;
    assert_eq!(
        (summary.copied, summary.failed),
        (OBJECTS, 0),
        "{}",
        events.describe()
    );
    assert!(
        target.slowdowns_answered() > 0,
        "the limit was reached (else this test shows nothing)"
    );
    assert!(summary.slowdowns > 0, "the engine backed off: {summary:?}");
    rig.assert_all_copied().await;
}
