//! Mirror mode with a saved plan: a rerun of it never deletes what the source has again or a
//! target object overwritten since it was planned, and `--mode copy` leaves its deletions out
//! while `--mode mirror` cannot add them.

use super::*;

/// `airlock plan -o plan.json` in the sandbox; returns the plan's path.
async fn save_plan(servers: &TwoServers, config: &Path) -> PathBuf {
    let plan_file = servers.sandbox.path().join("plan.json");
    servers
        .airlock_with(config, &["plan", "-o", plan_file.to_str().unwrap()])
        .run()
        .await
        .expect_code(0);
    plan_file
}

/// `airlock run --plan FILE --confirm-delete`.
async fn run_plan_confirmed(servers: &TwoServers, config: &Path, plan: &Path) -> Output {
    servers
        .airlock_with(
            config,
            &["run", "--plan", plan.to_str().unwrap(), "--confirm-delete"],
        )
        .run()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_never_deletes_what_the_source_has_again() {
    let servers = TwoServers::start().await;
    fixture(&servers).await;
    let config = config(&servers, &["mode = \"mirror\""], &[]);
    let plan_file = save_plan(&servers, &config).await;
    // After planning, the source gets 'old.txt' back: its target copy is no orphan any more.
    servers.source.put("in/old.txt", b"back".to_vec()).await;
    let out = run_plan_confirmed(&servers, &config, &plan_file).await;
    out.expect_code(0);
    assert!(
        out.stderr
            .contains("1 deletions of the plan dropped: the source has those objects again"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("mirror: deleted 1 target objects (5 B)"),
        "{}",
        out.stderr
    );
    assert_eq!(
        servers.target.keys("out/").await,
        ["out/a.txt", "out/old.txt", "out/sub/b.txt"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_never_deletes_a_target_object_overwritten_since() {
    let servers = TwoServers::start().await;
    fixture(&servers).await;
    let config = config(&servers, &["mode = \"mirror\""], &[]);
    let plan_file = save_plan(&servers, &config).await;
    // After planning: someone writes new bytes to one orphan (same size: only the ETag tells)
    // and removes the other.
    servers.target.put("out/old.txt", vec![b'n'; 7]).await;
    servers
        .target
        .client
        .delete_object()
        .bucket(&servers.target.bucket)
        .key("out/sub/gone.txt")
        .send()
        .await
        .unwrap();
    let out = run_plan_confirmed(&servers, &config, &plan_file).await;
    out.expect_code(0);
    assert!(
        out.stderr.contains(
            "1 deletions of the plan dropped: those target objects were overwritten since the plan was made"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("1 deletions of the plan dropped: those target objects are gone already"),
        "{}",
        out.stderr
    );
    assert_eq!(
        servers.target.get("out/old.txt").await,
        vec![b'n'; 7],
        "the overwritten object is kept"
    );
    assert_eq!(
        servers.target.keys("out/").await,
        ["out/a.txt", "out/old.txt", "out/sub/b.txt"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_copy_leaves_a_saved_plans_deletions_out_and_mode_mirror_cannot_add_them() {
    let servers = TwoServers::start().await;
    fixture(&servers).await;
    let config = config(&servers, &[], &[]);
    let copy_plan = servers.sandbox.path().join("copy-plan.json");
    servers
        .airlock_with(&config, &["plan", "-o", copy_plan.to_str().unwrap()])
        .run()
        .await
        .expect_code(0);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&copy_plan).unwrap()).unwrap();
    assert_eq!(
        saved["format"], 2,
        "a plan without deletions stays format 2"
    );
    assert!(saved.get("deletions").is_none());
    let out = servers
        .airlock_with(
            &config,
            &[
                "run",
                "--plan",
                copy_plan.to_str().unwrap(),
                "--mode",
                "mirror",
            ],
        )
        .run()
        .await;
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("a saved plan's deletions are part of the plan"),
        "{}",
        out.stderr
    );

    let mirror_plan = servers.sandbox.path().join("mirror-plan.json");
    servers
        .airlock_with(
            &config,
            &[
                "plan",
                "--mode",
                "mirror",
                "-o",
                mirror_plan.to_str().unwrap(),
            ],
        )
        .run()
        .await
        .expect_code(0);
    let out = servers
        .airlock_with(
            &config,
            &[
                "run",
                "--plan",
                mirror_plan.to_str().unwrap(),
                "--mode",
                "copy",
                "--confirm-delete",
            ],
        )
        .run()
        .await;
    out.expect_code(0);
    assert!(
        out.stderr
            .contains("--mode copy: the plan's 2 deletions are left out of this run"),
        "{}",
        out.stderr
    );
    assert_eq!(
        servers.target.keys("out/").await,
        [
            "out/a.txt",
            "out/old.txt",
            "out/sub/b.txt",
            "out/sub/gone.txt"
        ]
    );
}
