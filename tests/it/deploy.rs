//! The deploy examples in assets/deploy/ (and the commands in the README's 'Scaling out'
//! section) say only what the binary understands: every airlock command line in them parses
//! with airlock's own clap definition, every environment variable they set for airlock is one
//! it reads, the shard counts agree with the array sizes, and the Dockerfile builds a non-root
//! image without the demo server whose entrypoint is the binary it copies.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use airlock::cli::{Args, ENV_VARS};
use clap::CommandFactory;
use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("read '{path}': {e}"))
}

/// Environment variables the binary reads: the list it publishes plus every flag's `env`.
fn known_env() -> BTreeSet<String> {
    fn walk(cmd: &clap::Command, out: &mut BTreeSet<String>) {
        for arg in cmd.get_arguments() {
            if let Some(env) = arg.get_env() {
                out.insert(env.to_string_lossy().into_owned());
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut names: BTreeSet<String> = ENV_VARS.iter().map(|s| s.to_string()).collect();
    walk(&Args::command(), &mut names);
    names
}

#[track_caller]
fn assert_env_known(file: &str, name: &str) {
    assert!(
        known_env().contains(name),
        "{file} sets {name}, which airlock does not read (it reads {:?})",
        known_env()
    );
}

/// `args` (without the program name) parse as an airlock command line; returns the subcommand.
#[track_caller]
fn assert_parses(file: &str, args: &[String]) -> String {
    let argv = std::iter::once("airlock".to_string()).chain(args.iter().cloned());
    match Args::command().try_get_matches_from(argv) {
        Ok(matches) => matches
            .subcommand_name()
            .unwrap_or_else(|| panic!("{file}: {args:?} names no subcommand"))
            .to_string(),
        Err(e) => panic!("{file}: airlock {args:?} does not parse:\n{e}"),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect()
}

#[test]
fn every_flag_of_the_binary_is_found_by_this_check() {
    // The check itself can fail: a flag airlock lacks and an env var it does not read.
    let bad = ["run".to_string(), "--shard-count".into(), "3".into()];
    let argv = std::iter::once("airlock".to_string()).chain(bad);
    assert!(Args::command().try_get_matches_from(argv).is_err());
    assert!(!known_env().contains("AIRLOCK_SHARD_COUNT"));
    for name in [
        "AIRLOCK_SHARDS",
        "AIRLOCK_REPORT",
        "AIRLOCK_CONFIG",
        "AWS_BATCH_JOB_ARRAY_INDEX",
        "AWS_BATCH_JOB_ARRAY_SIZE",
        "JOB_COMPLETION_INDEX",
    ] {
        assert!(known_env().contains(name), "{name}");
    }
}

#[test]
fn batch_job_definition_and_submission_match_the_binary() {
    let file = "assets/deploy/batch/job-definition.json";
    let definition: Value = serde_json::from_str(&read(file)).expect("job definition is JSON");
    let container = &definition["containerProperties"];
    let command = strings(&container["command"]);
    assert_eq!(assert_parses(file, &command), "run");
    assert!(
        !command.contains(&"--shard".to_string()),
        "array children take the shard from AWS_BATCH_JOB_ARRAY_INDEX"
    );
    for env in container["environment"].as_array().unwrap() {
        assert_env_known(file, env["name"].as_str().unwrap());
    }
    assert_ne!(container["user"], "0", "runs as non-root");
    let grace = grace_seconds(&command);
    assert!(
        grace < 30,
        "--grace {grace}s must end before ECS's default stop timeout (30 s) sends SIGKILL"
    );
    // Spot host termination and airlock's SIGTERM exit (143) are retried; real failures (1:
    // objects failed, 2: config) are not. Batch takes the first rule that matches.
    let rules = definition["retryStrategy"]["evaluateOnExit"]
        .as_array()
        .expect("retryStrategy.evaluateOnExit");
    let action_for = |field: &str, value: &str| {
        rules
            .iter()
            .find(|r| {
                r[field]
                    .as_str()
                    .is_some_and(|pattern| match pattern.strip_suffix('*') {
                        Some(prefix) => value.starts_with(prefix),
                        None => pattern == value,
                    })
            })
            .map(|r| r["action"].as_str().unwrap().to_string())
    };
    assert_eq!(
        action_for("onStatusReason", "Host EC2 (instance i-0abc) terminated.").as_deref(),
        Some("RETRY")
    );
    assert_eq!(action_for("onExitCode", "143").as_deref(), Some("RETRY"));
    assert_eq!(action_for("onExitCode", "1").as_deref(), Some("EXIT"));
    assert_eq!(action_for("onExitCode", "2").as_deref(), Some("EXIT"));
    assert!(definition["retryStrategy"]["attempts"].as_u64().unwrap() >= 2);

    let file = "assets/deploy/batch/submit-array-job.json";
    let submit: Value = serde_json::from_str(&read(file)).expect("submission is JSON");
    assert_eq!(submit["jobDefinition"], definition["jobDefinitionName"]);
    let size = submit["arrayProperties"]["size"]
        .as_u64()
        .expect("array size");
    assert!(size >= 2, "an array job has at least 2 children");
    let env = submit["containerOverrides"]["environment"]
        .as_array()
        .unwrap();
    for var in env {
        assert_env_known(file, var["name"].as_str().unwrap());
    }
    let declared = env
        .iter()
        .find(|v| v["name"] == "AWS_BATCH_JOB_ARRAY_SIZE")
        .expect("the submission sets AWS_BATCH_JOB_ARRAY_SIZE (Batch sets only the index)");
    assert_eq!(declared["value"], size.to_string());
}

/// The `--grace` a deploy example passes to `airlock run`, in seconds (the binary's default,
/// 25, when it passes none).
fn grace_seconds(args: &[String]) -> u64 {
    let value = args
        .iter()
        .position(|a| a == "--grace")
        .map_or("25s", |i| args[i + 1].as_str());
    value
        .strip_suffix('s')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("--grace '{value}': write it in seconds, like 25s"))
}

fn yaml_docs(file: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&read(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn yaml_strings(value: &Yaml) -> Vec<String> {
    value
        .as_vec()
        .unwrap_or_else(|| panic!("not a list: {value:?}"))
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect()
}

#[test]
fn kubernetes_indexed_job_matches_the_binary() {
    let file = "assets/deploy/kubernetes/indexed-job.yaml";
    let docs = yaml_docs(file);
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d["kind"].as_str() == Some(k))
            .unwrap_or_else(|| panic!("{file} has no {k}"))
    };
    let job = kind("Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_i64().expect("completions");
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let containers = pod["containers"].as_vec().expect("containers");
    assert_eq!(containers.len(), 1);
    let container = &containers[0];
    let args = yaml_strings(&container["args"]);
    assert_eq!(assert_parses(file, &args), "run");
    let period = pod["terminationGracePeriodSeconds"]
        .as_i64()
        .expect("terminationGracePeriodSeconds");
    assert!(
        grace_seconds(&args) < period as u64,
        "--grace must end before the pod's SIGKILL"
    );
    let rules = spec["podFailurePolicy"]["rules"]
        .as_vec()
        .expect("podFailurePolicy.rules");
    let on_code = |code: i64| {
        rules
            .iter()
            .find(|r| {
                r["onExitCodes"]["values"]
                    .as_vec()
                    .is_some_and(|v| v.iter().any(|c| c.as_i64() == Some(code)))
            })
            .and_then(|r| r["action"].as_str())
    };
    assert_eq!(on_code(143), Some("Count"), "SIGTERM'd pods are retried");
    assert_eq!(on_code(1), Some("FailIndex"));
    assert_eq!(on_code(2), Some("FailIndex"));
    assert!(
        rules.iter().any(|r| r["action"].as_str() == Some("Ignore")
            && r["onPodConditions"].as_vec().is_some_and(|c| c
                .iter()
                .any(|c| c["type"].as_str() == Some("DisruptionTarget")))),
        "an evicted pod is retried without counting against its index's backoff"
    );
    let mut shards = None;
    for env in container["env"].as_vec().expect("env") {
        let name = env["name"].as_str().expect("env name");
        assert_env_known(file, name);
        if name == "AIRLOCK_SHARDS" {
            shards = env["value"].as_str().map(str::to_string);
        }
    }
    assert_eq!(
        shards.as_deref(),
        Some(completions.to_string().as_str()),
        "AIRLOCK_SHARDS must equal spec.completions"
    );
    // The config it mounts is one airlock accepts.
    let config = kind("ConfigMap")["data"]["config.toml"]
        .as_str()
        .expect("config.toml in the ConfigMap");
    airlock_core::config::parse_settings(config, file)
        .unwrap_or_else(|e| panic!("{file}: the ConfigMap's config.toml is refused: {e}"));
}

/// `NAME_ARGS = [...]` lists in the DAG: JSON-style literals, by the DAG's own convention.
fn dag_commands(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((name, list)) = line.split_once(" = [") else {
            continue;
        };
        if !name.ends_with("_ARGS") {
            continue;
        }
        let list: Value = serde_json::from_str(&format!("[{list}"))
            .unwrap_or_else(|e| panic!("{name} is not a one-line JSON-style list: {e}"));
        out.push((name.to_string(), strings(&list)));
    }
    out
}

#[test]
fn airflow_dag_plans_fans_out_and_merges_with_flags_the_binary_reads() {
    let file = "assets/deploy/airflow/airlock_dag.py";
    let text = read(file);
    let commands = dag_commands(&text);
    let subcommands: Vec<String> = commands
        .iter()
        .map(|(_, args)| assert_parses(file, args))
        .collect();
    assert_eq!(
        subcommands,
        ["plan", "prepare", "run", "finalize", "report"]
    );
    let names: BTreeSet<&str> = text
        .split("\"name\": \"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert!(names.contains("AWS_BATCH_JOB_ARRAY_SIZE"), "{names:?}");
    for name in names {
        assert_env_known(file, name);
    }
    // It runs the Batch job definition shipped beside it.
    let definition: Value =
        serde_json::from_str(&read("assets/deploy/batch/job-definition.json")).unwrap();
    let name = definition["jobDefinitionName"].as_str().unwrap();
    assert!(text.contains(&format!("job_definition=\"{name}\"")));
}

/// Dockerfile instructions, continuation lines joined, comments dropped.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (word, rest) = current.split_once(' ').unwrap_or((current.as_str(), ""));
        out.push((word.to_uppercase(), rest.trim().to_string()));
        current.clear();
    }
    out
}

#[test]
fn dockerfile_is_multi_stage_non_root_with_airlock_as_entrypoint() {
    let file = "assets/deploy/Dockerfile";
    let steps = instructions(&read(file));
    let stages: Vec<usize> = (0..steps.len()).filter(|&i| steps[i].0 == "FROM").collect();
    assert!(stages.len() >= 2, "multi-stage: {stages:?}");
    // The build stage uses the toolchain the crate declares, and the committed lock file.
    let manifest = read("Cargo.toml");
    let rust_version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("rust-version in Cargo.toml")
        .trim_matches('"');
    assert!(
        steps[stages[0]]
            .1
            .starts_with(&format!("rust:{rust_version}")),
        "build stage {:?} should use rust:{rust_version}",
        steps[stages[0]].1
    );
    // Every build uses the committed lock file and leaves out the demo (an embedded S3 server).
    let builds: Vec<&String> = steps
        .iter()
        .filter(|(w, r)| w == "RUN" && r.contains("cargo build"))
        .map(|(_, r)| r)
        .collect();
    assert!(!builds.is_empty(), "{file} runs no cargo build");
    for build in builds {
        assert!(
            build.contains("--locked") && build.contains("--no-default-features"),
            "{file}: every cargo build should pass --locked --no-default-features: {build}"
        );
    }
    // Every file the build copies exists, and the ignore file lets it through.
    let ignore = read("assets/deploy/Dockerfile.dockerignore");
    for (word, rest) in &steps[..*stages.last().unwrap()] {
        if word != "COPY" {
            continue;
        }
        let parts: Vec<&str> = rest.split_whitespace().collect();
        for source in &parts[..parts.len() - 1] {
            assert!(
                repo().join(source).exists(),
                "{file} copies '{source}', which does not exist"
            );
            let pattern = format!("!{}", source.trim_end_matches('/'));
            assert!(
                ignore.lines().any(|l| l.trim_end_matches('/') == pattern),
                "Dockerfile.dockerignore does not let '{source}' into the build context"
            );
        }
    }
    // The final stage: not root, entrypoint is the binary copied from the build stage.
    let last = &steps[*stages.last().unwrap()..];
    let user = last
        .iter()
        .rev()
        .find(|(w, _)| w == "USER")
        .map(|(_, r)| r.clone())
        .expect("final stage sets USER");
    let user_name = user.split(':').next().unwrap();
    assert!(!["root", "0"].contains(&user_name), "USER {user}");
    let entrypoint: Vec<String> = last
        .iter()
        .find(|(w, _)| w == "ENTRYPOINT")
        .map(|(_, r)| serde_json::from_str(r).expect("ENTRYPOINT in exec (JSON) form"))
        .expect("final stage has an ENTRYPOINT");
    assert_eq!(Path::new(&entrypoint[0]).file_name().unwrap(), "airlock");
    let copied = last
        .iter()
        .any(|(w, r)| w == "COPY" && r.contains("--from=") && r.ends_with(&entrypoint[0]));
    assert!(
        copied,
        "the final stage copies the binary to {}",
        entrypoint[0]
    );
    for (word, rest) in last {
        if word == "ENV" {
            let name = rest.split(['=', ' ']).next().unwrap();
            assert_env_known(file, name);
        }
    }
}

/// `airlock ...` lines in fenced code blocks of a Markdown file.
fn markdown_commands(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let line = line.split(" #").next().unwrap().trim();
        if let Some(rest) = line.strip_prefix("airlock ").filter(|_| in_code) {
            out.push(rest.split_whitespace().map(str::to_string).collect());
        }
    }
    out
}

#[test]
fn commands_in_the_deploy_and_scaling_out_docs_parse() {
    let readme = read("README.md");
    let start = readme
        .find("## Scaling out")
        .expect("README has a 'Scaling out' section");
    let end = readme[start + 3..]
        .find("\n## ")
        .map_or(readme.len(), |i| start + 3 + i);
    let mut checked = 0;
    for (file, text) in [
        ("README.md#scaling-out", &readme[start..end]),
        (
            "assets/deploy/batch/README.md",
            read("assets/deploy/batch/README.md").as_str(),
        ),
    ] {
        let commands = markdown_commands(text);
        assert!(!commands.is_empty(), "{file} shows no airlock commands");
        for args in commands {
            assert_parses(file, &args);
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked}");
}
