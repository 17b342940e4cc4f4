//! Bad command lines, run through the real binary: unknown subcommands and flags, bad `--shard`
//! values and shard environment variables, missing or unreadable plan files, bad durations and
//! ports. Each must exit 2 with a message that quotes the bad value and says what to write, and
//! never panic. The cases that reach a config run against the two in-process servers, and the
//! target bucket must stay empty.

use crate::common::*;

/// Shard environment variables, what stderr must say, what it must not say.
type EnvCase<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a [&'a str]);

/// Asserts the shape every refusal shares, then that stderr says each of `says`.
#[track_caller]
fn assert_refused(what: &str, out: &Output, says: &[&str]) {
    assert!(
        !out.stderr.contains("panicked") && out.code != 101,
        "{what}: panicked\n{}",
        out.stderr
    );
    assert_eq!(out.code, 2, "{what}: exit code\n{}", out.all());
    assert_eq!(out.stdout, "", "{what}: printed to stdout");
    for part in says {
        assert!(
            out.stderr.contains(part),
            "{what}: expected {part:?} in stderr:\n{}",
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clap_refuses_unknown_commands_flags_and_values() {
    let sandbox = Sandbox::new();
    let cases: &[(&[&str], &[&str])] = &[
        (&["frobnicate"], &["unrecognized subcommand 'frobnicate'"]),
        (&["Run"], &["unrecognized subcommand 'Run'", "'run'"]),
        (
            &["run", "--shrad", "0/2"],
            &["unexpected argument '--shrad'", "--shard"],
        ),
        (&["run", "extra"], &["unexpected argument 'extra'"]),
        (
            &["ls", "sideways"],
            &["invalid value 'sideways'", "source, target"],
        ),
        (&["ls"], &["required arguments were not provided", "<SIDE>"]),
        (&["config"], &["Usage: airlock config"]),
        (&["config", "fix"], &["unrecognized subcommand 'fix'"]),
        (&["uploads", "nuke"], &["unrecognized subcommand 'nuke'"]),
        (
            &["completions", "tcsh"],
            &["invalid value 'tcsh'", "bash, zsh, fish"],
        ),
        (
            &["run", "--shards", "many"],
            &["invalid value 'many' for '--shards <N>'"],
        ),
        (&["run", "--shards", "-1"], &["unexpected argument '-1'"]),
        (
            &["--config"],
            &["a value is required for '--config <PATH>'"],
        ),
        (
            &["plan", "-o"],
            &["a value is required for '--output <FILE|s3://BUCKET/KEY>'"],
        ),
        (
            &["demo", "--ports", "9001"],
            &["'9001' is not two ports: write SOURCE,TARGET like 9001,9002"],
        ),
        (
            &["demo", "--ports", "9001,ninety"],
            &["'ninety' is not a port number"],
        ),
        (
            &["demo", "--ports", "9001,70000"],
            &["'70000' is not a port number"],
        ),
        (
            &["run", "--grace", "5x"],
            &["'5x' is not a duration", "25s"],
        ),
        (&["run", "--grace", "2h"], &["'2h' is not a duration"]),
    ];
    for (args, says) in cases {
        let out = sandbox.airlock(*args).run().await;
        assert_refused(&args.join(" "), &out, says);
    }
}

/// A config for the two servers and a plan file made with it (one object in the source).
async fn servers_with_a_plan() -> (TwoServers, std::path::PathBuf, std::path::PathBuf) {
    let servers = TwoServers::start().await;
    servers.source.put("one.txt", b"one".to_vec()).await;
    let config = servers.config().write(&servers.sandbox);
    let plan = servers.sandbox.path().join("plan.json");
    servers
        .airlock_with(&config, &["plan", "-o", plan.to_str().unwrap()])
        .run()
        .await
        .expect_code(0);
    (servers, config, plan)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_shards_are_refused_before_anything_is_copied() {
    let (servers, config, plan) = servers_with_a_plan().await;
    let plan = plan.to_str().unwrap();
    for shard in [
        "4/4",
        "1/0",
        "x/2",
        "3",
        "-1/2",
        "1/2/3",
        "",
        " / ",
        "99999999999/2",
        "0.5/2",
    ] {
        for with_plan in [true, false] {
            // `--shard=VALUE`, so clap does not read '-1/2' as a flag.
            let flag = format!("--shard={shard}");
            let mut args = vec!["run", flag.as_str()];
            if with_plan {
                args.extend(["--plan", plan]);
            }
            let out = servers.airlock_with(&config, &args).run().await;
            assert_refused(
                &format!("--shard '{shard}'"),
                &out,
                &[
                    &format!("--shard '{shard}' is not a shard"),
                    "write INDEX/COUNT with 0 <= INDEX < COUNT, e.g. '0/4'",
                ],
            );
        }
    }
    let env_cases: &[EnvCase] = &[
        (
            &[("AWS_BATCH_JOB_ARRAY_INDEX", "three")],
            &[],
            &["AWS_BATCH_JOB_ARRAY_INDEX='three' is not a number"],
        ),
        (
            &[("AWS_BATCH_JOB_ARRAY_INDEX", "1")],
            &[],
            &["AWS_BATCH_JOB_ARRAY_INDEX is set but AWS_BATCH_JOB_ARRAY_SIZE is not"],
        ),
        (
            &[
                ("AWS_BATCH_JOB_ARRAY_INDEX", "5"),
                ("AWS_BATCH_JOB_ARRAY_SIZE", "5"),
            ],
            &[],
            &["index 5 is not below count 5"],
        ),
        (
            &[("JOB_COMPLETION_INDEX", "0")],
            &[],
            &["JOB_COMPLETION_INDEX is set: pass --shards N"],
        ),
        (
            &[("JOB_COMPLETION_INDEX", "0")],
            &["--shards", "0"],
            &["index 0 is not below count 0"],
        ),
    ];
    for (env, extra, says) in env_cases {
        let mut args = vec!["run", "--plan", plan];
        args.extend(*extra);
        let mut cmd = servers.airlock_with(&config, &args);
        for (key, value) in *env {
            cmd = cmd.env(key, value);
        }
        let out = cmd.run().await;
        assert_refused(&format!("{env:?} {extra:?}"), &out, says);
    }
    assert_eq!(servers.target.keys("").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_files_that_cannot_be_read_are_refused() {
    let (servers, config, _plan) = servers_with_a_plan().await;
    let missing = servers.sandbox.path().join("no-such-plan.json");
    let directory = servers.sandbox.path().join("plans");
    std::fs::create_dir(&directory).unwrap();
    for path in [&missing, &directory] {
        let out = servers
            .airlock_with(&config, &["run", "--plan", path.to_str().unwrap()])
            .run()
            .await;
        assert_refused(
            &path.display().to_string(),
            &out,
            &[
                &format!("plan file '{}' cannot be read", path.display()),
                "make one with 'airlock plan -o",
            ],
        );
    }
    assert_eq!(servers.target.keys("").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_upload_abort_arguments_are_refused() {
    let (servers, config, _plan) = servers_with_a_plan().await;
    let cases: &[(&[&str], &str)] = &[
        (
            &["uploads", "abort", "--older-than", "soon"],
            "--older-than 'soon' is not a duration",
        ),
        (
            &["uploads", "abort", "--older-than", "1d", "--all"],
            "give either --older-than or --all, not both",
        ),
        (
            &["uploads", "abort"],
            "say which uploads to abort: --older-than 24h",
        ),
    ];
    for (args, says) in cases {
        let out = servers.airlock_with(&config, args).run().await;
        assert_refused(&args.join(" "), &out, &[says]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_output_path_that_cannot_be_written_is_refused() {
    let (servers, config, _plan) = servers_with_a_plan().await;
    // A directory where the file should go.
    let directory = servers.sandbox.path().join("out-dir");
    std::fs::create_dir(&directory).unwrap();
    let out = servers
        .airlock_with(&config, &["plan", "-o", directory.to_str().unwrap()])
        .run()
        .await;
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr.contains(&format!("'{}'", directory.display())),
        "{}",
        out.stderr
    );
}
