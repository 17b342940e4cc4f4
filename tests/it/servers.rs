//! The two embedded servers behave like two accounts that cannot see each other, and the
//! harness's own helpers (seeded bytes, multipart put, listing) do what they claim.

use crate::common::*;
use aws_sdk_s3::error::SdkError;

/// The HTTP status of a failed ListObjectsV2, or a panic if it did not fail with one.
async fn list_status(client: &aws_sdk_s3::Client, bucket: &str) -> u16 {
    match client.list_objects_v2().bucket(bucket).send().await {
        Ok(_) => panic!("listing '{bucket}' with the other account's keys succeeded"),
        Err(SdkError::ServiceError(e)) => e.raw().status().as_u16(),
        Err(e) => panic!(
            "listing '{bucket}' failed without a response: {}",
            describe(&e)
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_server_refuses_the_other_accounts_keys() {
    let servers = TwoServers::start().await;
    servers.source.put("a.txt", b"hello".to_vec()).await;
    servers.target.put("b.txt", b"world".to_vec()).await;

    let target_keys_at_source = s3_client(
        &servers.source.server.endpoint,
        TARGET_ACCESS_KEY,
        TARGET_SECRET_KEY,
    );
    assert_eq!(
        list_status(&target_keys_at_source, SOURCE_BUCKET).await,
        403
    );

    let source_keys_at_target = s3_client(
        &servers.target.server.endpoint,
        SOURCE_ACCESS_KEY,
        SOURCE_SECRET_KEY,
    );
    assert_eq!(
        list_status(&source_keys_at_target, TARGET_BUCKET).await,
        403
    );

    // The right access key with a wrong secret is refused too.
    let wrong_secret = s3_client(
        &servers.source.server.endpoint,
        SOURCE_ACCESS_KEY,
        "not-the-secret",
    );
    assert_eq!(list_status(&wrong_secret, SOURCE_BUCKET).await, 403);

    // Each account's own keys work.
    assert_eq!(servers.source.keys("").await, ["a.txt"]);
    assert_eq!(servers.target.keys("").await, ["b.txt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_objects_round_trip_single_and_multipart() {
    let servers = TwoServers::start().await;
    let small = 1000;
    // Two full parts and a short one: exercises the multipart path of put_seeded.
    let big = 2 * UPLOAD_PART_SIZE as u64 + 12_345;
    servers.source.put_seeded("small.bin", small, 1).await;
    servers.source.put_seeded("big.bin", big, 2).await;

    assert_eq!(
        servers.source.get("small.bin").await,
        seeded_bytes(1, 0, small as usize)
    );
    let got = servers.source.get("big.bin").await;
    assert_eq!(got.len() as u64, big);
    assert!(got == seeded_bytes(2, 0, big as usize), "big.bin differs");
    assert_eq!(servers.source.keys("").await, ["big.bin", "small.bin"]);
}

#[test]
fn seeded_bytes_are_sliceable_and_depend_on_the_seed() {
    let whole = seeded_bytes(7, 0, 100);
    assert_eq!(seeded_bytes(7, 13, 50), whole[13..63]);
    assert_eq!(seeded_bytes(7, 99, 1), whole[99..]);
    assert_ne!(seeded_bytes(8, 0, 100), whole);
    // Not a constant pattern: many distinct byte values.
    let distinct: std::collections::HashSet<u8> = whole.iter().copied().collect();
    assert!(
        distinct.len() > 50,
        "only {} distinct bytes",
        distinct.len()
    );
}
