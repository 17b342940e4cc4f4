//! S3's 2 KB user-metadata limit (strict server `set_metadata_limit(true)`): airlock adds its
//! provenance key (`airlock-source-etag`) to the metadata it carries from the source. When the
//! source's metadata leaves no room for it, the object is written without it (and the log says
//! so) instead of failing with MetadataTooLarge.

use aws_sdk_s3::primitives::ByteStream;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_near_the_limit_is_copied_without_the_provenance_key() {
    let servers = TwoServers::start().await;
    // 2,030 bytes: 'note' (4) + 2,026 bytes of value.
    let value = "m".repeat(2026);
    servers
        .source
        .client
        .put_object()
        .bucket(SOURCE_BUCKET)
        .key("full.txt")
        .metadata("note", &value)
        .body(ByteStream::from_static(b"full of notes"))
        .send()
        .await
        .expect("put the source object");
    servers.source.put("plain.txt", b"plain".to_vec()).await;
    servers.target.server.behaviours().set_metadata_limit(true);
    let config = servers.config().write(&servers.sandbox);

    let out = servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;

    out.expect_code(0);
    let log = std::fs::read_to_string(servers.sandbox.log_file()).unwrap_or_default();
    assert!(
        log.contains("'full.txt' has 2030 bytes of user metadata; with airlock's provenance key"),
        "{log}"
    );
    let head = |key: &'static str| {
        servers
            .target
            .client
            .head_object()
            .bucket(TARGET_BUCKET)
            .key(key)
            .send()
    };
    let full = head("full.txt").await.expect("HEAD full.txt");
    let metadata = full.metadata().cloned().unwrap_or_default();
    assert_eq!(metadata.get("note"), Some(&value));
    assert!(
        !metadata.contains_key("airlock-source-etag"),
        "{metadata:?}"
    );
    let plain = head("plain.txt").await.expect("HEAD plain.txt");
    assert!(
        plain
            .metadata()
            .is_some_and(|m| m.contains_key("airlock-source-etag"))
    );
}
