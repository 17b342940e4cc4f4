//! A bucket in another region than the config says. AWS answers 301 with
//! `x-amz-bucket-region` (HeadBucket with no body at all); airlock must name the region to set,
//! not print 'HTTP 301', and exit 2 (a config problem) from `config check`, `plan` and `run`.
//! Strict server: `set_bucket_region(Some(..))`.

use crate::common::*;

const WANTED: &str = "bucket 'target-bucket' is in 'eu-west-1', not 'us-east-1': set \
                      target.region = \"eu-west-1\"";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_in_another_region_names_the_region_to_set() {
    let servers = TwoServers::start().await;
    servers.source.put("a.txt", b"hello".to_vec()).await;
    servers
        .target
        .server
        .behaviours()
        .set_bucket_region(Some("eu-west-1"));
    let config = servers.config().write(&servers.sandbox);

    let out = servers
        .airlock_with(&config, &["config", "check"])
        .run()
        .await;
    out.expect_code(2);
    assert!(
        out.stdout
            .contains(&format!("  bucket: FAILED: {WANTED}\n")),
        "{}",
        out.all()
    );
    // Not "301" alone: the servers' random ports (e.g. 33017) may contain it.
    assert!(!out.all().contains("HTTP 301"), "{}", out.all());

    for args in [&["plan", "--summary"][..], &["run", "--json"][..]] {
        let out = servers.airlock_with(&config, args).run().await;
        out.expect_code(2);
        assert!(out.stderr.contains(WANTED), "{args:?}: {}", out.all());
        assert!(!out.all().contains("HTTP 301"), "{args:?}: {}", out.all());
    }
    servers.target.server.behaviours().set_bucket_region(None);
    assert!(servers.target.keys("").await.is_empty());
}
