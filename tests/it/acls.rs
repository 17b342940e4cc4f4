//! A configured `acl` against a bucket with ACLs disabled (strict server
//! `set_acls_disabled(true)`): S3 answers 400 AccessControlListNotSupported to every write
//! that carries an ACL. One clear message naming the setting to remove, not retried, and the
//! run stops instead of failing every object one by one.

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acl_on_a_bucket_without_acls_stops_the_run_with_one_message() {
    let servers = TwoServers::start().await;
    for i in 0..6 {
        servers
            .source
            .put(&format!("obj/{i}"), seeded_bytes(i, 0, 500))
            .await;
    }
    servers.target.server.behaviours().set_acls_disabled(true);
    let config = servers
        .config()
        .set_str("target", "acl", "private")
        .transfer(&["concurrency = 1", "max_retries = 3"])
        .write(&servers.sandbox);

    let out = servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;

    out.expect_code(2);
    let summary = run_summary(&json_lines(&out.stdout)).clone();
    assert_eq!(summary["failed"], 1, "{}", out.all());
    assert_eq!(summary["retries"], 0, "{}", out.all());
    assert_eq!(summary["not_started"], 5, "{}", out.all());
    let stopped = lines_with(&out.stderr, "airlock: stopped, no new objects started");
    assert_eq!(stopped.len(), 1, "{}", out.all());
    assert!(
        stopped[0].contains("remove target.acl from the config"),
        "{}",
        out.all()
    );
}
