//! The pipeline's pure stage, [`Prepared::of_plan`], on loopback sides (nothing is sent).

use super::*;
use crate::config::parse_settings;
use crate::plan::{DELETE_REASON, Deletion, ObjectInfo, PlanInput, mirror::DeleteRoute};

/// Settings for two loopback endpoints with static keys: connecting sends nothing.
fn settings() -> Settings {
    let side = |name: &str, port: u16| {
        format!(
            "[{name}]\nbucket = \"{name}-bucket\"\nendpoint_url = \"http://127.0.0.1:{port}\"\n\
             force_path_style = true\n[{name}.credentials]\nkind = \"static\"\n\
             access_key_id = \"{name}-key\"\nsecret_access_key = \"{name}-secret-0000\"\n"
        )
    };
    let text = format!("{}{}", side("source", 9), side("target", 10));
    parse_settings(&text, "test.toml").unwrap()
}

/// A plan of `sizes` new objects, and `deletions` target objects to delete.
fn plan(settings: &Settings, sizes: &[u64], deletions: usize) -> Plan {
    let source: Vec<ObjectInfo> = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| ObjectInfo {
            key: format!("k{i}"),
            size,
            ..Default::default()
        })
        .collect();
    let input = PlanInput {
        source: &settings.source,
        target: &settings.target,
        transfer: &settings.transfer,
    };
    let mut plan = crate::plan::build(&source, &[], input);
    plan.set_deletions(
        (0..deletions)
            .map(|i| Deletion {
                route: DeleteRoute::Delete,
                target_key: format!("gone{i}"),
                size: 1,
                etag: None,
                modified_ms: None,
                reason: DELETE_REASON.into(),
            })
            .collect(),
    );
    plan
}

fn options(settings: &Settings) -> RunOptions {
    RunOptions::new(EngineOptions::from_settings(settings))
}

/// Prepare `plan`, returning the prepared plan (or error) and the notices, in words.
async fn prepared(
    plan: Plan,
    options: RunOptions,
) -> (Result<(Plan, Option<String>)>, Vec<String>) {
    let settings = settings();
    let sides = crate::aws::connect(&settings).await.unwrap();
    let mut notices = Vec::new();
    let result = Prepared::of_plan(plan, sides, options, &mut |n| {
        notices.push(format!("{n:?}"))
    });
    (result.map(|p| (p.plan, p.plan_id)), notices)
}

#[tokio::test]
async fn copy_only_leaves_the_deletions_out_and_says_how_many() {
    let settings = settings();
    let options = RunOptions {
        copy_only: true,
        ..options(&settings)
    };
    let (result, notices) = prepared(plan(&settings, &[5], 2), options).await;
    let (plan, _) = result.unwrap();
    assert!(plan.deletions.is_empty());
    assert_eq!(plan.settings.mode, TransferMode::Copy);
    assert_eq!(notices, ["DeletionsLeftOut { deletions: 2 }"]);
}

#[tokio::test]
async fn a_plan_that_deletes_is_not_sharded() {
    let settings = settings();
    let shard = Shard {
        index: 0,
        count: 2,
        source: "--shard".into(),
    };
    let options = RunOptions {
        shard: Some(shard),
        ..options(&settings)
    };
    let (result, notices) = prepared(plan(&settings, &[5], 1), options).await;
    let err = result.expect_err("refused").to_string();
    assert!(err.contains("deletions cannot be sharded"), "{err}");
    assert!(notices.is_empty(), "{notices:?}");
}

#[tokio::test]
async fn a_shard_keeps_its_share_and_the_whole_plan_id() {
    let settings = settings();
    let whole = plan(&settings, &[100, 60, 50], 0);
    let whole_id = shard_report::plan_id_of(&whole, false);
    let mut keys = Vec::new();
    for index in 0..2 {
        let shard = Shard {
            index,
            count: 2,
            source: "--shard".into(),
        };
        let options = RunOptions {
            shard: Some(shard),
            report: Some(ReportTarget::Local("reports/".into())),
            ..options(&settings)
        };
        let (result, notices) = prepared(whole.clone(), options).await;
        let (plan, plan_id) = result.unwrap();
        assert_eq!(
            plan_id.as_deref(),
            Some(whole_id.as_str()),
            "reports of every shard name one plan"
        );
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(notices[0].starts_with("Shard("), "{notices:?}");
        keys.extend(plan.items.into_iter().map(|i| i.source_key));
    }
    keys.sort();
    assert_eq!(
        keys,
        ["k0", "k1", "k2"],
        "every object in exactly one shard"
    );
}
