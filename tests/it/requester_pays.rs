//! Requester Pays buckets (strict server `set_requester_pays(true)`): every request without
//! `x-amz-request-payer: requester` answers 403. `request_payer = true` on a side adds it to
//! every request of that side, so listing, GET, PUT, multipart and tagging all work.

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_payer_makes_a_copy_between_requester_pays_buckets_work() {
    let servers = TwoServers::start().await;
    servers.source.put("small.txt", b"hello".to_vec()).await;
    servers.source.put_seeded("big.bin", 6 * MIB, 7).await;
    for account in [&servers.source, &servers.target] {
        account.server.behaviours().set_requester_pays(true);
    }
    let transfer = ["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""];

    let without = servers.config().transfer(&transfer).write(&servers.sandbox);
    let out = servers
        .airlock_with(&without, &["run", "--json"])
        .run()
        .await;
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(out.all().contains("AccessDenied"), "{}", out.all());

    let with = servers
        .config()
        .transfer(&transfer)
        .set("source", "request_payer", "true")
        .set("target", "request_payer", "true")
        .write(&servers.sandbox);
    let out = servers.airlock_with(&with, &["run", "--json"]).run().await;
    out.expect_code(0);
    let out = servers
        .airlock_with(&with, &["config", "check"])
        .run()
        .await;
    out.expect_code(0);

    for account in [&servers.source, &servers.target] {
        account.server.behaviours().set_requester_pays(false);
    }
    assert_eq!(servers.target.get("small.txt").await, b"hello");
    assert_eq!(
        servers.target.get("big.bin").await,
        servers.source.get("big.bin").await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_request_payer_is_refused() {
    let servers = TwoServers::start().await;
    let config = servers
        .config()
        .set("source", "request_payers", "true")
        .write(&servers.sandbox);
    let out = servers
        .airlock_with(&config, &["config", "check"])
        .run()
        .await;
    out.expect_code(2);
    assert!(out.stderr.contains("request_payers"), "{}", out.all());
}
