//! Secret hygiene, end to end. Known fake secrets (static keys in the config, and keys read
//! from SSM Parameter Store in moto) must never appear in: stdout/stderr of `config check`,
//! `plan` and `run` (progress bars and JSON events) at debug verbosity, the log file at trace
//! level, saved plan files, the resume journal, the Debug output panics are built from, or the
//! TUI's screen buffer. Also: journal files are created 0600 in a 0700 directory, and a
//! config holding secrets that group or others can read gets a warning naming the file and
//! `chmod 600`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use airlock::tui::app::plan::PlanStatus;
use airlock::tui::app::transfers::Phase;
use airlock::tui::app::{App, Tab, update};
use airlock::tui::{Keymap, Msg, Runtime};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::common::moto::Moto;
use crate::common::*;

/// Every secret the tests know. Access key ids are not secret (`config check` shows the last
/// four characters by design); the secret keys are.
const SECRETS: [&str; 2] = [SOURCE_SECRET_KEY, TARGET_SECRET_KEY];

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{what} holds the secret {secret:?}:\n{text}"
        );
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Reads every file airlock wrote in its data dir (log, journal) and checks each.
fn assert_data_dir_clean(servers: &TwoServers) -> usize {
    let files = files_under(&servers.sandbox.data_dir());
    for file in &files {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        assert_clean(&file.display().to_string(), &text);
    }
    let log = std::fs::read_to_string(servers.sandbox.log_file()).expect("the log file");
    assert!(
        log.lines().count() > 10,
        "the trace log is nearly empty, nothing was checked:\n{log}"
    );
    files.len()
}

/// Objects for the runs: one small, one multipart of 4 parts (so a run can be stopped mid-way).
const BIG_SIZE: u64 = 20 * MIB;

async fn seed(servers: &TwoServers) {
    servers.source.put("in/small.txt", b"small".to_vec()).await;
    servers.source.put_seeded("in/big.bin", BIG_SIZE, 11).await;
}

fn config(servers: &TwoServers) -> Config {
    servers.config().prefixes("in/", "out/").transfer(&[
        "multipart_threshold = \"5MiB\"",
        "part_size = \"5MiB\"",
        // One request at a time: the multipart upload is open long enough to be stopped.
        "concurrency = 1",
    ])
}

/// `airlock -vv ARGS` with trace logging to the file: the most there is to leak.
async fn verbose(servers: &TwoServers, config: &Path, args: &[&str]) -> Output {
    let mut all = vec!["-vv"];
    all.extend(args);
    let out = servers
        .airlock_with(config, &all)
        .env("AIRLOCK_LOG", "trace")
        .run()
        .await;
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_clean(&format!("output of airlock {}", args.join(" ")), &out.all());
    out
}

/// `airlock run` started as a child we can signal, with the sandbox's environment.
fn spawn_run(servers: &TwoServers, config: &Path, plan: &Path) -> tokio::process::Child {
    let sandbox = &servers.sandbox;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_airlock"));
    cmd.args(["--config", config.to_str().unwrap(), "-vv", "run", "--json"])
        .args(["--plan", plan.to_str().unwrap()])
        .env("AIRLOCK_DATA_DIR", sandbox.data_dir())
        .env("AIRLOCK_LOG", "trace")
        .env_remove("AIRLOCK_CONFIG")
        .env("AWS_CONFIG_FILE", sandbox.path().join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            sandbox.path().join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ] {
        cmd.env_remove(var);
    }
    cmd.spawn().expect("start airlock run")
}

/// The journal files under the sandbox's data dir.
fn journal_files(servers: &TwoServers) -> Vec<PathBuf> {
    files_under(&servers.sandbox.data_dir().join("journal"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_secrets_never_leave_the_config() {
    let servers = TwoServers::start().await;
    seed(&servers).await;
    let config = config(&servers).write(&servers.sandbox);
    let plan = servers.sandbox.path().join("plan.json");

    verbose(&servers, &config, &["config", "check"])
        .await
        .expect_code(0);
    verbose(&servers, &config, &["ls", "source", "-r"])
        .await
        .expect_code(0);
    verbose(&servers, &config, &["plan", "-o", plan.to_str().unwrap()])
        .await
        .expect_code(0);
    assert_clean("the plan file", &std::fs::read_to_string(&plan).unwrap());

    // Start the copy and stop it (Ctrl-C) once the multipart upload is journaled: the journal
    // is kept for the resume, so it can be read and its mode checked.
    let child = spawn_run(&servers, &config, &plan);
    let pid = child.id().expect("pid");
    let deadline = Instant::now() + Duration::from_secs(30);
    while journal_files(&servers).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no journal file appeared within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the stopped run ends")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{stderr}");
    assert_clean("JSON events of the stopped run", &stdout);
    assert_clean("stderr of the stopped run", &stderr);
    json_lines(&stdout);

    let journal = journal_files(&servers);
    assert_eq!(journal.len(), 1, "{journal:?}");
    let text = std::fs::read_to_string(&journal[0]).unwrap();
    assert!(text.contains("\"upload_id\""), "{text}");
    assert!(text.contains("in/big.bin"), "{text}");
    assert_clean("the journal", &text);
    assert_eq!(mode(&journal[0]), 0o600, "journal file mode");
    assert_eq!(
        mode(journal[0].parent().unwrap()),
        0o700,
        "journal dir mode"
    );
    assert_eq!(
        mode(&servers.sandbox.data_dir().join("logs")),
        0o700,
        "log dir mode"
    );

    // Resume to the end: JSON events and bytes.
    let out = verbose(
        &servers,
        &config,
        &["run", "--json", "--plan", plan.to_str().unwrap()],
    )
    .await;
    out.expect_code(0);
    assert!(
        servers.target.get("out/big.bin").await == seeded_bytes(11, 0, BIG_SIZE as usize),
        "the resumed copy differs"
    );
    assert!(
        journal_files(&servers).is_empty(),
        "the finished upload's journal is removed"
    );
    // The progress-bar reporter too (everything is skipped now).
    verbose(&servers, &config, &["run"]).await.expect_code(0);

    let checked = assert_data_dir_clean(&servers);
    assert!(checked >= 1, "nothing in the data dir was checked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_secret_is_not_echoed_in_errors() {
    // A wrong secret makes every target request fail: the errors, JSON failure events and the
    // log must describe the failure without the secret that was tried.
    const WRONG: &str = "WRONG-target-secret-5e8c";
    let servers = TwoServers::start().await;
    servers.source.put("in/small.txt", b"small".to_vec()).await;
    let config = config(&servers)
        .keys("target", TARGET_ACCESS_KEY, WRONG)
        .write(&servers.sandbox);
    for args in [
        &["config", "check"][..],
        &["run", "--json"][..],
        &["uploads", "list"][..],
    ] {
        let out = servers
            .airlock_with(&config, &[&["-vv"][..], args].concat())
            .env("AIRLOCK_LOG", "trace")
            .run()
            .await;
        assert_ne!(out.code, 0, "{args:?} should fail: {}", out.all());
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        assert!(
            !out.all().contains(WRONG),
            "{args:?} echoed the secret:\n{}",
            out.all()
        );
        assert_clean(&format!("{args:?}"), &out.all());
    }
    let log = std::fs::read_to_string(servers.sandbox.log_file()).unwrap();
    assert!(!log.contains(WRONG), "the log holds the refused secret");
    assert_clean("the log", &log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn ssm_secrets_never_leak() {
    let moto = Moto::start();
    let servers = TwoServers::start().await;
    seed(&servers).await;
    moto.put_secure_string("/airlock/source/id", SOURCE_ACCESS_KEY)
        .await;
    moto.put_secure_string("/airlock/source/secret", SOURCE_SECRET_KEY)
        .await;
    let config = config(&servers)
        .ssm_keys(
            "source",
            &moto.endpoint,
            "/airlock/source/id",
            "/airlock/source/secret",
        )
        .write(&servers.sandbox);
    let plan = servers.sandbox.path().join("plan.json");

    let out = verbose(&servers, &config, &["config", "check"]).await;
    out.expect_code(0);
    assert!(out.stdout.contains("SSM parameters"), "{}", out.stdout);
    verbose(&servers, &config, &["plan", "-o", plan.to_str().unwrap()])
        .await
        .expect_code(0);
    assert_clean("the plan file", &std::fs::read_to_string(&plan).unwrap());
    verbose(
        &servers,
        &config,
        &["run", "--json", "--plan", plan.to_str().unwrap()],
    )
    .await
    .expect_code(0);
    assert_eq!(servers.target.get("out/small.txt").await, b"small");
    assert_data_dir_clean(&servers);

    // The resolved clients (what a panic message or a debug log would format) redact it too.
    let settings = airlock_core::config::load_settings(Some(&config)).unwrap();
    let sides = airlock_core::aws::connect(&settings).await.unwrap();
    assert_clean("Debug of the settings", &format!("{settings:?}"));
    assert_clean("Debug of the connected sides", &format!("{sides:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_messages_are_built_from_redacted_debug_output() {
    // A panic prints its payload, which the code builds with Debug/Display; the types that hold
    // secrets must redact them there, including the SDK clients built from them.
    let servers = TwoServers::start().await;
    let config = config(&servers).write(&servers.sandbox);
    let settings = airlock_core::config::load_settings(Some(&config)).unwrap();
    let sides = airlock_core::aws::connect(&settings).await.unwrap();
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        panic!("{settings:?} {sides:?} {:#?}", settings.source)
    }))
    .expect_err("it panics");
    let message = payload
        .downcast_ref::<String>()
        .expect("a formatted payload");
    assert!(
        message.contains("target-bucket"),
        "the payload is the Debug output"
    );
    assert_clean("a panic message", message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_with_secrets_readable_by_others_warns() {
    let servers = TwoServers::start().await;
    let config = config(&servers).write(&servers.sandbox);
    for (mode_bits, warns) in [
        (0o644, true),
        (0o640, true),
        (0o604, true),
        (0o600, false),
        (0o400, false),
    ] {
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(mode_bits)).unwrap();
        let out = servers
            .airlock_with(&config, &["plan", "--summary"])
            .run()
            .await;
        out.expect_code(0);
        let warning = format!(
            "warning: '{}' holds secret keys and is readable by other users: run 'chmod 600 {}'",
            config.display(),
            config.display()
        );
        assert_eq!(
            out.stderr.contains(&warning),
            warns,
            "mode {mode_bits:o}: {}",
            out.stderr
        );
        assert_clean("plan output", &out.all());
    }
    // Without secrets in it, a readable config is fine.
    let profile_only = Config::minimal()
        .table(
            "source.credentials",
            &["kind = \"profile\"", "profile = \"p\""],
        )
        .write(&servers.sandbox);
    std::fs::set_permissions(&profile_only, std::fs::Permissions::from_mode(0o644)).unwrap();
    let settings = airlock_core::config::load_settings(Some(&profile_only)).unwrap();
    assert!(
        settings.warnings.iter().all(|w| !w.contains("chmod")),
        "{:?}",
        settings.warnings
    );
}

/// The screen as text.
fn screen(app: &App) -> String {
    let (width, height) = app.size;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| airlock::tui::views::render(app, f))
        .unwrap();
    terminal.backend().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_never_draws_a_secret() {
    let servers = TwoServers::start().await;
    seed(&servers).await;
    let settings = config(&servers).settings();
    let sides = airlock_core::aws::connect(&settings).await.unwrap();
    let (tx, mut messages) = tokio::sync::mpsc::unbounded_channel();
    let mut runtime = Runtime::new(sides, settings.clone(), tx);
    runtime.journal_dir = Some(servers.sandbox.data_dir());
    let mut app = App::new(settings, Keymap::default(), (120, 40));
    let started = Instant::now();
    let mut frames = 0;
    let mut step = |app: &mut App, runtime: &mut Runtime, msg: Option<Msg>| {
        app.now = started.elapsed();
        let effects = match msg {
            Some(msg) => update(app, msg),
            None => app.start(),
        };
        assert!(runtime.execute_all(effects));
        assert_clean("the TUI screen", &screen(app));
        frames += 1;
    };
    let key = |c: KeyCode| Some(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    step(&mut app, &mut runtime, None);

    // Feed the runtime's answers until `done`, drawing after each.
    macro_rules! wait_for {
        ($what:expr, $done:expr) => {{
            let deadline = Instant::now() + Duration::from_secs(60);
            while !$done(&app) {
                let left = deadline.saturating_duration_since(Instant::now());
                let msg = tokio::time::timeout(left, messages.recv())
                    .await
                    .unwrap_or_else(|_| panic!("timed out waiting for {}", $what))
                    .expect("runtime channel open");
                step(&mut app, &mut runtime, Some(msg));
            }
        }};
    }
    wait_for!("the listings", |app: &App| {
        app.browser.source.status == airlock::tui::app::browser::ListStatus::Done
    });
    // Select everything in the source pane, plan, and start.
    step(&mut app, &mut runtime, key(KeyCode::Char('a')));
    step(&mut app, &mut runtime, key(KeyCode::Char('?')));
    step(&mut app, &mut runtime, key(KeyCode::Esc));
    step(&mut app, &mut runtime, key(KeyCode::Char('2')));
    assert_eq!(app.tab, Tab::Plan);
    wait_for!("the plan", |app: &App| app.plan.status == PlanStatus::Ready);
    step(&mut app, &mut runtime, key(KeyCode::Char('g')));
    step(&mut app, &mut runtime, key(KeyCode::Char('y')));
    assert_eq!(app.tab, Tab::Transfers);
    wait_for!("the run", |app: &App| matches!(
        app.transfers.phase,
        Phase::Finished(_)
    ));
    for tab in ['1', '2', '3', '4'] {
        step(&mut app, &mut runtime, key(KeyCode::Char(tab)));
    }
    assert!(frames > 10, "only {frames} frames drawn");
    let Phase::Finished(summary) = &app.transfers.phase else {
        unreachable!()
    };
    assert_eq!((summary.copied, summary.failed), (2, 0), "{summary:?}");
    // The log pane's lines are part of the screen; check their text directly as well.
    assert_clean("the TUI log", &format!("{:?}", app.log));
}
