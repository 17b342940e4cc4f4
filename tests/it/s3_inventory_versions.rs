//! A versioned S3 Inventory (VersionId, IsLatest, IsDeleteMarker columns): each key's latest
//! version that is not a delete marker is planned and copied; older versions and keys whose
//! latest version is a delete marker are not.

use crate::common::*;
use crate::s3_inventory::{INVENTORY_BUCKET, Inventory, config, encode_key};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_versioned_inventory_plans_each_keys_latest_version_only() {
    let servers = TwoServers::start().await;
    servers.source.put("in/kept.txt", "latest bytes").await;
    let row = |key: &str, version: &str, latest: bool, marker: bool, size: &str| {
        vec![
            SOURCE_BUCKET.to_string(),
            encode_key(key),
            version.to_string(),
            latest.to_string(),
            marker.to_string(),
            size.to_string(),
        ]
    };
    let rows = vec![
        row("in/deleted.txt", "v2", true, true, ""),
        row("in/deleted.txt", "v1", false, false, "5"),
        row("in/kept.txt", "v3", true, false, "12"),
        row("in/kept.txt", "v2", false, false, "99"),
        row("in/kept.txt", "v1", false, true, ""),
    ];
    let mut inventory = Inventory::csv(vec![rows]);
    inventory.schema = "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size".into();
    let manifest = inventory.put(&servers.source, INVENTORY_BUCKET).await;
    let config = config(&servers, "out/", &manifest).write(&servers.sandbox);

    let plan = servers.airlock_with(&config, &["plan"]).run().await;
    plan.expect_code(0);
    assert!(plan.stdout.contains("in/kept.txt"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("in/deleted.txt"), "{}", plan.stdout);
    assert!(plan.stdout.contains("(5 rows,"), "{}", plan.stdout);

    servers
        .airlock_with(&config, &["run"])
        .run()
        .await
        .expect_code(0);
    assert_eq!(servers.target.keys("").await, ["out/kept.txt"]);
    assert_eq!(servers.target.get("out/kept.txt").await, b"latest bytes");
}
