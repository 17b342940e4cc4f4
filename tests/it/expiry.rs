//! Session credentials that expire mid-run. The strict server's `set_token_lifetime(Some(n))`
//! lets each session-token value sign `n` requests, then answers 400 ExpiredToken for good, as
//! S3 does for expired temporary keys. Keys read from SSM are read again (the rotation wrote
//! new ones there) and the run goes on; the objects that met the expiry are tried again with
//! the new keys.
//!
//! Ignored without `AIRLOCK_MOTO` at build time (run, and failing, under `CI=true`).

use crate::common::engine::{Rig, WAIT};
use crate::common::moto::Moto;
use crate::common::*;

const ACCESS_KEY_PARAMETER: &str = "/airlock/source/access-key-id";
const SECRET_PARAMETER: &str = "/airlock/source/secret-access-key";
const TOKEN_PARAMETER: &str = "/airlock/source/session-token";
const OBJECTS: u64 = 12;
/// Requests one token value may sign: the listing and a few GETs, not the whole run.
const TOKEN_LIFETIME: u32 = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn keys_from_ssm_are_read_again_when_their_token_expires() {
    let moto = Moto::start();
    let rig = Rig::start().await;
    moto.put_secure_string(ACCESS_KEY_PARAMETER, SOURCE_ACCESS_KEY)
        .await;
    moto.put_secure_string(SECRET_PARAMETER, SOURCE_SECRET_KEY)
        .await;
    moto.put_secure_string(TOKEN_PARAMETER, "session-token-1")
        .await;
    for i in 0..OBJECTS {
        rig.source()
            .put(
                &format!("obj/{i:02}"),
                seeded_bytes(i, 0, 1000 + i as usize),
            )
            .await;
    }
    rig.source()
        .server
        .behaviours()
        .set_token_lifetime(Some(TOKEN_LIFETIME));
    let settings = rig
        .config()
        .ssm_keys(
            "source",
            &moto.endpoint,
            ACCESS_KEY_PARAMETER,
            SECRET_PARAMETER,
        )
        .set_str(
            "source.credentials",
            "session_token_parameter",
            TOKEN_PARAMETER,
        )
        .transfer(&["concurrency = 4"])
        .settings();

    // Planning reads the parameters (token 1) and lists; then the rotation writes token 2.
    let (plan, sides) = rig.plan(&settings).await;
    moto.put_secure_string(TOKEN_PARAMETER, "session-token-2")
        .await;
    let (handle, mut events) = rig.start_plan(plan, sides, &settings);
    let summary = tokio::time::timeout(WAIT, handle.join())
        .await
        .expect("run finished in time")
        .expect("engine task");
    events.drain().await;

    assert_eq!(
        summary.failed,
        0,
        "{:?}\n{}",
        summary.failures,
        events.describe()
    );
    assert_eq!(summary.copied, OBJECTS, "{}", events.describe());
    rig.source().server.behaviours().set_token_lifetime(None);
    rig.assert_all_copied().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_keys_whose_token_expires_stop_the_run_once_and_the_rerun_resumes() {
    let servers = TwoServers::start().await;
    for i in 0..OBJECTS {
        servers
            .source
            .put(
                &format!("obj/{i:02}"),
                seeded_bytes(i, 0, 1000 + i as usize),
            )
            .await;
    }
    servers
        .source
        .server
        .behaviours()
        .set_token_lifetime(Some(TOKEN_LIFETIME));
    let config = servers
        .config()
        .set_str("source.credentials", "session_token", "a-session-token")
        .transfer(&["concurrency = 2"])
        .write(&servers.sandbox);

    let out = servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;

    out.expect_code(2);
    let summary = run_summary(&json_lines(&out.stdout)).clone();
    let failed = summary["failed"].as_u64().unwrap();
    let not_started = summary["not_started"].as_u64().unwrap();
    assert!(
        failed <= 2,
        "more failures than requests in flight: {}",
        out.all()
    );
    assert!(not_started > 0, "{}", out.all());
    let expected = "the source's session token expired: renew source.credentials and run again \
                    to resume";
    assert_eq!(
        lines_with(&out.stderr, "airlock: stopped, no new objects started").len(),
        1,
        "{}",
        out.all()
    );
    assert!(out.stderr.contains(expected), "{}", out.all());

    // Renewed keys (a new token value): the rerun copies the rest.
    let config = servers
        .config()
        .set_str("source.credentials", "session_token", "a-renewed-token")
        .transfer(&["concurrency = 2"])
        .write(&servers.sandbox);
    servers
        .source
        .server
        .behaviours()
        .set_token_lifetime(Some(100));
    let out = servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;
    out.expect_code(0);
    servers.source.server.behaviours().set_token_lifetime(None);
    assert_eq!(servers.target.keys("").await.len(), OBJECTS as usize);
}
