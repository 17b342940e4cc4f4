//! A saved plan fed to `airlock` through a named pipe: the first lines go in at once, the rest
//! only once the child printed the line the test waits for (an `object_started`, a dry run's
//! first item) or after 30 s. So a command that reads the whole plan before it acts never
//! prints that line early; one that streams does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::AsyncBufReadExt;

use super::TwoServers;

/// What a command fed through a named pipe came to.
pub(crate) struct FifoRun {
    /// The awaited line came before the plan's tail was written.
    pub early: bool,
    pub code: Option<i32>,
    /// Its stdout lines.
    pub seen: Vec<String>,
}

/// Six small source objects under `fifo/`, a config for `servers`, and their plan saved as
/// `saved.jsonl` (a header and six items): (config, plan).
pub(crate) async fn six_objects_planned(servers: &TwoServers) -> (PathBuf, PathBuf) {
    for i in 0..6 {
        servers
            .source
            .put(&format!("fifo/obj-{i}.txt"), format!("fifo object {i}"))
            .await;
    }
    let config = servers.config().write(&servers.sandbox);
    let saved = servers.save_plan(&config, "saved.jsonl").await;
    let text = std::fs::read_to_string(&saved).unwrap();
    assert_eq!(text.lines().count(), 7, "a header and 6 items:\n{text}");
    (config, saved)
}

/// `airlock COMMAND --plan FIFO EXTRA`: the first `head` lines of `plan` are written to the
/// pipe, the rest once a stdout line satisfies `awaited` (see the module docs).
pub(crate) async fn through_fifo(
    servers: &TwoServers,
    config: &Path,
    plan: &Path,
    head: usize,
    command: &[&str],
    extra: &[&str],
    awaited: impl Fn(&str) -> bool,
) -> FifoRun {
    let text = std::fs::read_to_string(plan).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > head, "the plan has a tail:\n{text}");
    let fifo: PathBuf = plan.with_file_name(format!(
        "fifo-{}.jsonl",
        plan.file_stem().unwrap().to_string_lossy()
    ));
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");
    let (first, rest) = (
        lines[..head].join("\n") + "\n",
        lines[head..].join("\n") + "\n",
    );
    let (seen_tx, seen_rx) = std::sync::mpsc::channel::<()>();
    let writer_fifo = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut pipe = std::fs::OpenOptions::new()
            .write(true)
            .open(&writer_fifo)
            .unwrap();
        pipe.write_all(first.as_bytes()).unwrap();
        pipe.flush().unwrap();
        let told = seen_rx.recv_timeout(Duration::from_secs(30)).is_ok();
        let _ = pipe.write_all(rest.as_bytes());
        told
    });
    let mut args: Vec<&str> = command.to_vec();
    args.extend(["--plan", fifo.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let mut child = servers.airlock_with(config, &args).spawn();
    let stdout = child.stdout.take().expect("piped stdout");
    let mut out = tokio::io::BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let first_seen = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = out.next_line().await.unwrap() {
            let hit = awaited(&line);
            seen.push(line);
            if hit {
                return true;
            }
        }
        false
    })
    .await;
    let _ = seen_tx.send(());
    let told = writer.join().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = out.next_line().await.unwrap() {
            seen.push(line);
        }
        child.wait().await.unwrap()
    })
    .await
    .expect("the command ends once the plan is whole");
    FifoRun {
        early: matches!(first_seen, Ok(true)) && told,
        code: status.code(),
        seen,
    }
}

/// A `--json` run's first `object_started` event.
pub(crate) fn object_started(line: &str) -> bool {
    line.contains("\"event\":\"object_started\"")
}
