//! The tests' fault proxy itself: requests go through unchanged (SigV4 still valid), are
//! classified and counted, and each fault does what it says, to the right requests only.

use crate::common;

use std::time::Duration;

use crate::common::proxy::{FaultProxy, Op, Rule, classify};
use crate::common::{
    MIB, SOURCE_ACCESS_KEY, SOURCE_SECRET_KEY, TwoServers, describe, seeded_bytes,
};
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;

/// A client for the source server through `proxy`, with SDK retries off so each fault shows.
fn client_via(proxy: &FaultProxy) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&proxy.endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            SOURCE_ACCESS_KEY,
            SOURCE_SECRET_KEY,
            None,
            None,
            "proxy-test",
        ))
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

async fn get(
    client: &aws_sdk_s3::Client,
    key: &str,
    range: Option<&str>,
) -> Result<Vec<u8>, String> {
    let out = client
        .get_object()
        .bucket("source-bucket")
        .key(key)
        .set_range(range.map(str::to_string))
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let body = out.body.collect().await.map_err(|e| describe(&e))?;
    Ok(body.into_bytes().to_vec())
}

#[test]
fn classifies_s3_operations() {
    let cases = [
        ("GET", "/b/k", "", true, Op::GetObjectRange),
        ("GET", "/b/k", "x-id=GetObject", false, Op::GetObject),
        ("HEAD", "/b/a/b c", "", false, Op::HeadObject),
        ("HEAD", "/b", "", false, Op::HeadBucket),
        (
            "PUT",
            "/b/k",
            "partNumber=3&uploadId=u&x-id=UploadPart",
            false,
            Op::UploadPart,
        ),
        ("PUT", "/b/k", "x-id=PutObject", false, Op::PutObject),
        ("PUT", "/b/k", "tagging", false, Op::PutObjectTagging),
        ("POST", "/b/k", "uploads", false, Op::CreateMultipartUpload),
        (
            "POST",
            "/b/k",
            "uploadId=u",
            false,
            Op::CompleteMultipartUpload,
        ),
        (
            "DELETE",
            "/b/k",
            "uploadId=u",
            false,
            Op::AbortMultipartUpload,
        ),
        ("DELETE", "/b/k", "", false, Op::DeleteObject),
        ("GET", "/b", "list-type=2&prefix=", false, Op::ListObjectsV2),
        ("GET", "/b/k", "uploadId=u", false, Op::ListParts),
        ("GET", "/b", "uploads", false, Op::ListMultipartUploads),
        ("GET", "/b/k", "tagging", false, Op::GetObjectTagging),
        ("GET", "/b/k", "attributes", false, Op::GetObjectAttributes),
        ("PUT", "/b", "", false, Op::Other),
    ];
    for (method, path, query, range, op) in cases {
        assert_eq!(
            classify(method, path, query, range).op,
            op,
            "{method} {path}?{query}"
        );
    }
    let part = classify(
        "PUT",
        "/b/dir/a%20b%2Bc%25d%C3%A9",
        "partNumber=12&uploadId=u",
        false,
    );
    assert_eq!(part.key, "dir/a b+c%dé");
    assert_eq!(part.part, Some(12));
    assert_eq!(op_name(Op::GetObjectRange), "GetObject(range)");
}

fn op_name(op: Op) -> String {
    op.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_unchanged_and_counts_per_operation() {
    let servers = TwoServers::start().await;
    let proxy = FaultProxy::start(servers.source.server.addr).await;
    let client = client_via(&proxy);
    let bytes = seeded_bytes(1, 0, 3 * MIB as usize);
    client
        .put_object()
        .bucket("source-bucket")
        .key("dir/a b+c.bin")
        .body(ByteStream::from(bytes.clone()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT through the proxy (signature kept): {}", describe(&e)));
    assert_eq!(get(&client, "dir/a b+c.bin", None).await.unwrap(), bytes);
    let range = get(&client, "dir/a b+c.bin", Some("bytes=10-19"))
        .await
        .unwrap();
    assert_eq!(range, bytes[10..20]);
    assert_eq!(
        servers.source.get("dir/a b+c.bin").await,
        bytes,
        "stored as sent"
    );

    assert_eq!(proxy.count(Op::PutObject), 1);
    assert_eq!(proxy.count(Op::GetObject), 1);
    assert_eq!(proxy.count(Op::GetObjectRange), 1);
    assert_eq!(proxy.request_bytes(Op::PutObject), 3 * MIB);
    assert_eq!(proxy.response_bytes(Op::GetObject), 3 * MIB);
    assert_eq!(proxy.response_bytes(Op::GetObjectRange), 10);
    let put = &proxy.exchanges()[0];
    assert_eq!((put.key.as_str(), put.status), ("dir/a b+c.bin", Some(200)));
    assert_eq!(
        put.headers["host"],
        proxy.addr.to_string(),
        "Host kept as sent"
    );
    proxy.reset_stats();
    assert!(proxy.exchanges().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_answers_fire_only_on_matching_requests_and_only_n_times() {
    let servers = TwoServers::start().await;
    servers.source.put("keep/one", b"one".to_vec()).await;
    servers.source.put("flaky/two", b"two".to_vec()).await;
    let proxy = FaultProxy::start(servers.source.server.addr).await;
    let client = client_via(&proxy);
    let internal = proxy.add_rule(
        Rule::new(common::proxy::Fault::InternalError)
            .on(Op::GetObject)
            .key("flaky/")
            .skip(1)
            .times(2),
    );
    let slow = proxy.add_rule(
        Rule::new(common::proxy::Fault::SlowDown)
            .on(Op::HeadObject)
            .times(1),
    );

    assert!(
        get(&client, "flaky/two", None).await.is_ok(),
        "first match skipped"
    );
    for _ in 0..2 {
        let err = client
            .get_object()
            .bucket("source-bucket")
            .key("flaky/two")
            .send()
            .await;
        let err = err.expect_err("500 injected");
        assert_eq!(err.code(), Some("InternalError"), "{}", describe(&err));
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    }
    assert!(
        get(&client, "flaky/two", None).await.is_ok(),
        "fired twice only"
    );
    assert!(
        get(&client, "keep/one", None).await.is_ok(),
        "other keys untouched"
    );
    assert_eq!(proxy.fired(internal), 2);

    let head = client
        .head_object()
        .bucket("source-bucket")
        .key("keep/one")
        .send()
        .await;
    let head = head.expect_err("503 injected");
    assert_eq!(head.raw_response().map(|r| r.status().as_u16()), Some(503));
    assert!(
        client
            .head_object()
            .bucket("source-bucket")
            .key("keep/one")
            .send()
            .await
            .is_ok()
    );
    assert_eq!(proxy.fired(slow), 1);

    let put = client
        .put_object()
        .bucket("source-bucket")
        .key("flaky/three");
    proxy.add_rule(
        Rule::new(common::proxy::Fault::SlowDown)
            .on(Op::PutObject)
            .times(1),
    );
    let err = put
        .body(ByteStream::from(vec![7u8; 100_000]))
        .send()
        .await
        .expect_err("503");
    assert_eq!(err.code(), Some("SlowDown"), "{}", describe(&err));
    let faulted: Vec<_> = proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.fault.is_some())
        .collect();
    assert_eq!(faulted.len(), 4);
    assert_eq!(
        faulted[3].request_bytes, 100_000,
        "request body read before the 503"
    );
    assert_eq!(
        servers.source.keys("flaky/").await,
        ["flaky/two"],
        "nothing stored on error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_faults_cut_responses_and_requests() {
    use common::proxy::Fault;
    let servers = TwoServers::start().await;
    let bytes = seeded_bytes(2, 0, 2 * MIB as usize);
    servers.source.put("big", bytes.clone()).await;
    let proxy = FaultProxy::start(servers.source.server.addr).await;
    let client = client_via(&proxy);

    proxy.add_rule(
        Rule::new(Fault::ResetResponse {
            after_bytes: 100_000,
        })
        .times(1),
    );
    let err = get(&client, "big", None).await.expect_err("reset mid-body");
    assert_eq!(proxy.exchanges()[0].response_bytes, 100_000, "{err}");

    proxy.add_rule(
        Rule::new(Fault::Truncate {
            after_bytes: 50_000,
        })
        .times(1),
    );
    let err = get(&client, "big", None).await.expect_err("truncated body");
    assert_eq!(proxy.exchanges()[1].response_bytes, 50_000, "{err}");
    assert_eq!(
        get(&client, "big", None).await.unwrap(),
        bytes,
        "rules exhausted"
    );

    proxy.add_rule(
        Rule::new(Fault::ResetRequest {
            after_bytes: 64 * 1024,
        })
        .on(Op::PutObject)
        .times(1),
    );
    let put = client
        .put_object()
        .bucket("source-bucket")
        .key("cut")
        .body(ByteStream::from(vec![1u8; MIB as usize]))
        .send()
        .await;
    assert!(put.is_err(), "request body reset");
    let cut = proxy
        .exchanges()
        .into_iter()
        .find(|e| e.op == Op::PutObject)
        .unwrap();
    assert_eq!(cut.request_bytes, 64 * 1024);
    assert!(
        servers.source.keys("cut").await.is_empty(),
        "no object from a cut PUT"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_and_hold_keep_requests_until_told() {
    use common::proxy::Fault;
    let servers = TwoServers::start().await;
    servers.source.put("k", b"value".to_vec()).await;
    let proxy = FaultProxy::start(servers.source.server.addr).await;
    let client = client_via(&proxy);

    let stall = proxy.add_rule(Rule::new(Fault::Stall).times(1));
    let stalled = tokio::time::timeout(Duration::from_millis(500), get(&client, "k", None)).await;
    assert!(stalled.is_err(), "a stalled request is never answered");
    assert_eq!(proxy.fired(stall), 1);
    assert_eq!(proxy.exchanges()[0].status, None);

    proxy.add_rule(Rule::new(Fault::Hold).times(1));
    let held = tokio::spawn({
        let client = client.clone();
        async move { get(&client, "k", None).await }
    });
    proxy
        .wait_for("the GET to be held", |p| p.held() == 1)
        .await;
    assert!(!held.is_finished());
    proxy.release_held();
    assert_eq!(held.await.unwrap().unwrap(), b"value");
    assert_eq!(proxy.held(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rates_are_deterministic_for_a_seed() {
    use common::proxy::Fault;
    let servers = TwoServers::start().await;
    servers.source.put("k", b"v".to_vec()).await;
    let mut patterns = Vec::new();
    for seed in [7, 7, 8] {
        let proxy = FaultProxy::start_seeded(servers.source.server.addr, seed).await;
        proxy.add_rule(Rule::new(Fault::InternalError).rate(0.5));
        let client = client_via(&proxy);
        let mut pattern = Vec::new();
        for _ in 0..32 {
            pattern.push(get(&client, "k", None).await.is_ok());
        }
        let ok = pattern.iter().filter(|ok| **ok).count();
        assert!((4..=28).contains(&ok), "about half fail: {ok}/32");
        patterns.push(pattern);
    }
    assert_eq!(patterns[0], patterns[1], "same seed, same faults");
    assert_ne!(patterns[0], patterns[2], "another seed, other faults");
}
