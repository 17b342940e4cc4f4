//! Mirror deletions on the streamed run path (#17): `run --plan X.jsonl --confirm-delete` of a
//! saved mirror plan starts copying before the plan is read to the end, rechecks the plan's
//! deletions against streamed listings (never deleting what the source has again or what was
//! overwritten since), and deletes exactly the plan's other orphans once every copy
//! succeeded; a failed copy deletes nothing.

use crate::common::engine::Rig;
use crate::common::fifo::{object_started, through_fifo};
use crate::common::proxy::{Fault, Op, Rule};
use crate::common::*;

const OBJECTS: usize = 12;
const ORPHANS: usize = 30;

/// `OBJECTS` small source objects under `in/`.
async fn put_objects(servers: &TwoServers) {
    let objects = (0..OBJECTS)
        .map(|i| {
            (
                format!("in/obj-{i:02}.txt"),
                format!("object {i}").into_bytes(),
            )
        })
        .collect();
    servers.source.put_many(objects, 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_mirror_plan_streams_and_deletes_exactly_its_orphans() {
    let servers = TwoServers::start().await;
    put_objects(&servers).await;
    let mut orphans: Vec<String> = (0..ORPHANS)
        .map(|i| format!("out/orphan-{i:02}.txt"))
        .collect();
    orphans.push("out/x-back.txt".into());
    orphans.push("out/x-changed.txt".into());
    for key in &orphans {
        servers.target.put(key, vec![b'o'; 9]).await;
    }
    servers.target.put("elsewhere/x.txt", b"x".to_vec()).await;
    let config = servers
        .config()
        .prefixes("in/", "out/")
        .transfer(&["mode = \"mirror\""])
        .write(&servers.sandbox);
    let plan = servers.save_plan(&config, "mirror.jsonl").await;
    let text = std::fs::read_to_string(&plan).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.contains("\"delete\"")).count(),
        ORPHANS + 2,
        "{text}"
    );
    // After planning: the source has one orphan's object again, another is overwritten.
    servers.source.put("in/x-back.txt", b"back".to_vec()).await;
    servers.target.put("out/x-changed.txt", vec![b'n'; 9]).await;

    // Header and two items: the first copies can start from them.
    let run = through_fifo(
        &servers,
        &config,
        &plan,
        3,
        &["run", "--json"],
        &["--confirm-delete"],
        object_started,
    )
    .await;
    let all = run.seen.join("\n");
    assert!(
        run.early,
        "no object started before the plan's tail was written:\n{all}"
    );
    assert_eq!(run.code, Some(0), "{all}");
    let events: Vec<serde_json::Value> = json_lines(&all);
    let started = events_named(&events, "deletions_started");
    assert_eq!(started.len(), 1, "{all}");
    assert_eq!(started[0]["objects"], ORPHANS, "{all}");
    let deleted: Vec<&str> = events_named(&events, "object_deleted")
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(deleted.len(), ORPHANS, "{all}");

    let mut expected: Vec<String> = (0..OBJECTS)
        .map(|i| format!("out/obj-{i:02}.txt"))
        .collect();
    expected.push("out/x-back.txt".into());
    expected.push("out/x-changed.txt".into());
    assert_eq!(servers.target.keys("out/").await, expected);
    assert_eq!(servers.target.get("out/x-changed.txt").await, vec![b'n'; 9]);
    assert_eq!(servers.target.keys("elsewhere/").await, ["elsewhere/x.txt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_copy_of_a_streamed_mirror_plan_deletes_nothing() {
    let rig = Rig::start().await;
    rig.source().put("keep/a.txt", b"a".to_vec()).await;
    rig.source().put("keep/broken.txt", b"never".to_vec()).await;
    rig.target().put("orphan.txt", b"orphan".to_vec()).await;
    let config = rig
        .config()
        .transfer(&["mode = \"mirror\"", "max_retries = 1"])
        .write(&rig.servers.sandbox);
    let plan = rig.servers.save_plan(&config, "mirror.jsonl.zst").await;
    // The target refuses this one object for good.
    rig.target_proxy.add_rule(
        Rule::new(Fault::Status(403, "AccessDenied"))
            .on(Op::PutObject)
            .key("broken"),
    );
    let args = [
        "run",
        "--json",
        "--confirm-delete",
        "--plan",
        plan.to_str().unwrap(),
    ];
    let out = rig.servers.airlock_with(&config, &args).run().await;
    out.expect_code(1);
    let lines = json_lines(&out.stdout);
    assert_eq!(
        events_named(&lines, "object_failed").len(),
        1,
        "{}",
        out.stdout
    );
    assert!(events_named(&lines, "object_deleted").is_empty());
    assert!(events_named(&lines, "deletions_started").is_empty());
    let skipped = events_named(&lines, "deletions_skipped");
    assert_eq!(skipped.len(), 1, "{}", out.stdout);
    assert_eq!(skipped[0]["objects"], 1);
    assert_eq!(rig.target().get("orphan.txt").await, b"orphan");

    // Fixed, the same plan copies the rest and then deletes the orphan.
    rig.target_proxy.clear_rules();
    let out = rig.servers.airlock_with(&config, &args).run().await;
    out.expect_code(0);
    let lines = json_lines(&out.stdout);
    assert_eq!(
        events_named(&lines, "object_deleted").len(),
        1,
        "{}",
        out.stdout
    );
    assert_eq!(
        rig.target().keys("").await,
        ["keep/a.txt", "keep/broken.txt"]
    );
}

/// A fresh `run --mode copy` over a mirror config plans no deletions and streams like any fresh
/// run: it starts without totals (`plan_grew` carries them), copies everything and leaves the
/// target's orphans where they are. It used to plan in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_copy_only_run_of_a_mirror_config_streams_and_deletes_nothing() {
    let servers = TwoServers::start().await;
    put_objects(&servers).await;
    servers
        .target
        .put("out/orphan.txt", b"orphan".to_vec())
        .await;
    let config = servers
        .config()
        .prefixes("in/", "out/")
        .transfer(&["mode = \"mirror\""])
        .write(&servers.sandbox);
    for args in [
        &["run", "--json", "--mode", "copy"][..],
        &["run", "--json", "--mode", "copy", "--confirm-delete"][..],
    ] {
        let out = servers.airlock_with(&config, args).run().await;
        out.expect_code(0);
        let lines = json_lines(&out.stdout);
        let started = events_named(&lines, "run_started");
        assert_eq!(
            started[0]["objects"], 0,
            "{args:?}: a streamed run starts without totals: {}",
            out.stdout
        );
        let grew = events_named(&lines, "plan_grew");
        let last = grew.last().expect("plan_grew events");
        assert_eq!(last["complete"], true, "{last}");
        assert!(events_named(&lines, "object_deleted").is_empty());
        assert!(events_named(&lines, "deletions_skipped").is_empty());
        let summary = run_summary(&lines);
        assert_eq!(
            summary["copied"].as_u64().unwrap() + summary["skipped"].as_u64().unwrap(),
            OBJECTS as u64,
            "{summary}"
        );
        assert_eq!(summary["deleted"], 0, "{summary}");
    }
    assert_eq!(servers.target.get("out/orphan.txt").await, b"orphan");
    assert_eq!(servers.target.keys("out/").await.len(), OBJECTS + 1);
}
