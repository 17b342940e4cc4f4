//! Bad S3 Inventories, each refused with a clear error naming the value, exit 2, and nothing
//! written at the target, by `plan` and by `run`: an inventory of another bucket, one in
//! Parquet format, a data file whose MD5 does not match the manifest, and a manifest that is
//! not there. Also the config and flag errors of the new keys, and whose credentials read the
//! inventory: the target's when it lives in the target account, and a refused read names the
//! side and what to set.

use crate::common::*;
use crate::s3_inventory::{INVENTORY_BUCKET, Inventory, config, rows_of};

/// Both commands on the inventory at `manifest`: exit 2, each message holding `wanted`, nothing
/// at the target.
async fn refused(servers: &TwoServers, manifest: &str, wanted: &[&str]) {
    let config = servers
        .config()
        .prefixes("in/", "out/")
        .set_str("source", "inventory", manifest)
        .write(&servers.sandbox);
    for command in [&["plan"][..], &["run"][..]] {
        let out = servers.airlock_with(&config, command).run().await;
        out.expect_code(2);
        for text in wanted {
            assert!(
                out.stderr.contains(text),
                "{command:?}: {text}\n{}",
                out.stderr
            );
        }
        assert!(servers.target.keys("").await.is_empty(), "{command:?}");
    }
}

async fn source_rows(servers: &TwoServers) -> Vec<Vec<String>> {
    servers.source.put("in/a.txt", "alpha").await;
    rows_of(&servers.source, &["in/a.txt"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inventory_of_another_bucket_is_refused() {
    let servers = TwoServers::start().await;
    let mut inventory = Inventory::csv(vec![source_rows(&servers).await]);
    inventory.source_bucket = "someone-else".into();
    let manifest = inventory.put(&servers.source, INVENTORY_BUCKET).await;
    refused(
        &servers,
        &manifest,
        &["lists bucket 'someone-else', not the source bucket 'source-bucket'"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parquet_inventory_is_refused() {
    let servers = TwoServers::start().await;
    let mut inventory = Inventory::csv(vec![source_rows(&servers).await]);
    inventory.format = "Parquet".into();
    let manifest = inventory.put(&servers.source, INVENTORY_BUCKET).await;
    refused(
        &servers,
        &manifest,
        &["is in 'Parquet' format", "output format to CSV"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_file_with_the_wrong_md5_is_refused() {
    let servers = TwoServers::start().await;
    let mut inventory = Inventory::csv(vec![source_rows(&servers).await]);
    inventory.wrong_md5 = Some("00000000000000000000000000000000".into());
    let manifest = inventory.put(&servers.source, INVENTORY_BUCKET).await;
    refused(
        &servers,
        &manifest,
        &[
            "does not match its manifest",
            "MD5checksum '00000000000000000000000000000000'",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_manifest_is_refused() {
    let servers = TwoServers::start().await;
    source_rows(&servers).await;
    servers
        .source
        .server
        .create_bucket(INVENTORY_BUCKET)
        .unwrap();
    let manifest =
        format!("s3://{INVENTORY_BUCKET}/source-bucket/daily/2026-12-05T00-00Z/manifest.json");
    refused(
        &servers,
        &manifest,
        &[
            &format!("could not read its manifest of the inventory '{manifest}' with the source credentials"),
            "check the location",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inventory_settings_are_named() {
    let servers = TwoServers::start().await;
    let base = servers.config().prefixes("in/", "out/");
    for (config, wanted) in [
        (
            base.clone()
                .set_str("source", "inventory", "inv/manifest.json"),
            "source.inventory 'inv/manifest.json' is not an s3:// location",
        ),
        (
            base.clone()
                .set_str("source", "inventory", "s3://inv/m.json")
                .set_str("source", "inventory_credentials", "both"),
            "source.inventory_credentials 'both' is not a side",
        ),
        (
            base.clone()
                .set_str("target", "inventory", "s3://inv/m.json"),
            "target.inventory 's3://inv/m.json': an inventory lists the source",
        ),
        (
            base.clone()
                .set_str("source", "inventory", "s3://inv/m.json")
                .transfer(&["mode = \"mirror\""]),
            "cannot plan mirror mode",
        ),
    ] {
        let config = config.write(&servers.sandbox);
        let out = servers.airlock_with(&config, &["plan"]).run().await;
        out.expect_code(2);
        assert!(out.stderr.contains(wanted), "{wanted}\n{}", out.stderr);
    }
    let config = base.write(&servers.sandbox);
    let out = servers
        .airlock_with(&config, &["plan", "--inventory", "s3://inv/"])
        .run()
        .await;
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("--inventory 's3://inv/' does not name an object"),
        "{}",
        out.stderr
    );
    let out = servers
        .airlock_with(&config, &["plan", "--inventory", "s3://inv/m.json", "-o"])
        .arg(servers.sandbox.path().join("plan.json"))
        .run()
        .await;
    out.expect_code(2);
    assert!(out.stderr.contains("as a line plan"), "{}", out.stderr);
    // Paths that plan in memory would list the source: refused, not silently listed.
    let rows = source_rows(&servers).await;
    let manifest = Inventory::csv(vec![rows])
        .put(&servers.source, INVENTORY_BUCKET)
        .await;
    let list = servers.sandbox.path().join("keys.txt");
    std::fs::write(&list, "in/a.txt\n").unwrap();
    let list = list.to_str().unwrap();
    for args in [&["run", "--dry-run", "--shard", "0/2", "--from-list", list][..]] {
        let mut all = args.to_vec();
        all.extend(["--inventory", manifest.as_str()]);
        let out = servers.airlock_with(&config, &all).run().await;
        out.expect_code(2);
        assert!(
            out.stderr.contains("is made streaming only")
                && out.stderr.contains("give the shards --plan"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // A dry run, a fresh shard and a fresh `--mode copy` stream the inventory now (#17).
    for args in [
        &["run", "--dry-run"][..],
        &["run", "--dry-run", "--shard", "0/2"][..],
        &["run", "--dry-run", "--mode", "copy"][..],
        &["run", "--dry-run", "--from-list", list][..],
    ] {
        let mut all = args.to_vec();
        all.extend(["--inventory", manifest.as_str()]);
        let out = servers.airlock_with(&config, &all).run().await;
        out.expect_code(0);
        assert!(
            out.stdout.contains("dry run: nothing copied"),
            "{args:?}: {}",
            out.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inventory_in_the_target_account_is_read_with_the_target_credentials() {
    let servers = TwoServers::start().await;
    servers.source.put("in/a.txt", "alpha").await;
    let rows = rows_of(&servers.source, &["in/a.txt"]).await;
    let manifest = Inventory::csv(vec![rows])
        .put(&servers.target, INVENTORY_BUCKET)
        .await;
    let base = config(&servers, "out/", &manifest);

    // With the source's credentials (the default) the inventory bucket is not there.
    let config = base.clone().write(&servers.sandbox);
    let out = servers.airlock_with(&config, &["plan"]).run().await;
    out.expect_code(2);
    assert!(
        out.stderr.contains(&format!(
            "could not read its manifest of the inventory '{manifest}' with the source credentials"
        )),
        "{}",
        out.stderr
    );

    let config = base
        .set_str("source", "inventory_credentials", "target")
        .write(&servers.sandbox);
    servers
        .airlock_with(&config, &["run"])
        .run()
        .await
        .expect_code(0);
    assert_eq!(servers.target.get("out/a.txt").await, b"alpha");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_read_names_the_credentials_and_what_to_set() {
    let servers = TwoServers::start().await;
    let rows = source_rows(&servers).await;
    let manifest = Inventory::csv(vec![rows])
        .put(&servers.source, INVENTORY_BUCKET)
        .await;
    // The target's keys at the source's server: refused (403), as another account's bucket.
    let config = config(&servers, "out/", &manifest)
        .set_str("source", "inventory_credentials", "target")
        .set_str("target", "endpoint_url", &servers.source.server.endpoint)
        .write(&servers.sandbox);
    for command in ["plan", "run"] {
        let out = servers.airlock_with(&config, &[command]).run().await;
        out.expect_code(2);
        for wanted in [
            format!(
                "could not read its manifest of the inventory '{manifest}' with the target credentials"
            ),
            "set source.inventory_credentials = 'source'".to_string(),
        ] {
            assert!(
                out.stderr.contains(&wanted),
                "{command}: {wanted}\n{}",
                out.stderr
            );
        }
    }
    assert!(servers.target.keys("").await.is_empty());
}
