//! A private tmux server running one program in one pane: keys go in with `send-keys`, the
//! screen comes out with `capture-pane -p`. Waiting is polling: every wait re-captures the
//! pane until a condition holds or a deadline passes, and a failed wait panics with the last
//! screen so the failure says what was shown.
//!
//! The server has its own socket in a temp dir and reads no tmux.conf. Dropping [`Tmux`] kills
//! the program in the pane (SIGKILL, by pid) and then the server, also when a test panics.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How often a wait re-captures the screen.
const POLL: Duration = Duration::from_millis(100);

/// tmux's name for the one pane we drive.
const PANE: &str = "airlock:0.0";

/// Panics unless tmux can be run. The tests that call this are ignored when tmux was not found
/// at build time (`build.rs`); when one runs anyway (under `CI=true`, or with `--ignored`),
/// a missing tmux is a failure, never a pass.
pub(crate) fn require(test: &str) {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "tmux cannot be run, so '{test}' cannot: install it (apt-get install tmux; .ci/run does \
         under CI=true)"
    );
}

/// One tmux server with one session, `airlock`, running one program.
pub(crate) struct Tmux {
    socket: PathBuf,
    /// The pane's shell, leader of the process group killed on drop (the program may ignore
    /// the SIGHUP tmux sends).
    pid: Option<u32>,
    /// Where the pane's shell writes the program's exit status.
    status_file: PathBuf,
}

impl Tmux {
    /// Start `program args` in a `columns` x `rows` pane with `env` set. The socket goes in
    /// `dir`. The pane stays after the program exits so its exit status and last screen can be
    /// read.
    pub(crate) fn start(
        dir: &Path,
        (columns, rows): (u16, u16),
        env: &[(&str, &Path)],
        program: &Path,
        args: &[&str],
    ) -> Tmux {
        let mut tmux = Tmux {
            socket: dir.join("tmux.sock"),
            pid: None,
            status_file: dir.join("exit-status"),
        };
        let mut new_session = vec![
            "new-session".to_string(),
            "-d".into(),
            "-s".into(),
            "airlock".into(),
            "-x".into(),
            columns.to_string(),
            "-y".into(),
            rows.to_string(),
        ];
        for (name, value) in env {
            new_session.push("-e".into());
            new_session.push(format!("{name}={}", value.display()));
        }
        // A shell records the exit status in a file: under load tmux 3.3 was seen to leave a
        // pane undead for many seconds after its program had exited.
        new_session.extend([
            "sh".to_string(),
            "-c".into(),
            format!("\"$0\" \"$@\"; echo $? > '{}'", tmux.status_file.display()),
        ]);
        new_session.push(program.display().to_string());
        new_session.extend(args.iter().map(|a| a.to_string()));
        // One invocation, so the options hold before the program can exit.
        new_session.extend(
            [
                ";",
                "set-option",
                "-g",
                "remain-on-exit",
                "on",
                ";",
                "set-option",
                "-g",
                "history-limit",
                "0",
            ]
            .map(String::from),
        );
        let out = tmux.run(&new_session);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux.pid = tmux.format("#{pane_pid}").trim().parse().ok();
        tmux
    }

    fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        Command::new("tmux")
            .arg("-f")
            .arg("/dev/null")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// The process the pane's shell runs (the program under test), by its `/proc` children.
    pub(crate) fn program_pid(&self) -> Option<u32> {
        let shell = self.pid?;
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"));
        children.ok()?.split_whitespace().next()?.parse().ok()
    }

    /// A tmux format (`#{...}`) evaluated for the pane.
    pub(crate) fn format(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", PANE, format]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Send keys, as tmux names them (`Space`, `Enter`, `Escape`, `j`, `?`).
    pub(crate) fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", PANE];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "tmux send-keys {keys:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Type `text` literally (`send-keys -l`: no key names, a leading `-` is not a flag).
    pub(crate) fn type_text(&self, text: &str) {
        let out = self.run(&["send-keys", "-t", PANE, "-l", "--", text]);
        assert!(
            out.status.success(),
            "tmux send-keys -l {text:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The visible screen, one line per row, trailing spaces trimmed.
    pub(crate) fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", PANE]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Resize the window (and so the pane and the program's terminal).
    pub(crate) fn resize(&self, (columns, rows): (u16, u16)) {
        let out = self.run(&[
            "resize-window",
            "-t",
            "airlock",
            "-x",
            &columns.to_string(),
            "-y",
            &rows.to_string(),
        ]);
        assert!(
            out.status.success(),
            "tmux resize-window failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Capture until `done(screen)` holds; panic with the last screen after `timeout`.
    pub(crate) fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if self.exited().is_some() || Instant::now() > deadline {
                panic!(
                    "waited {timeout:?} for {what}; airlock {}; the screen:\n{}",
                    match self.exited() {
                        Some(code) => format!("exited with status {code}"),
                        None => "is still running".into(),
                    },
                    frame(&screen)
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// [`Tmux::wait_for`] the screen to contain every one of `texts`.
    pub(crate) fn wait_for_text(&self, texts: &[&str], timeout: Duration) -> String {
        self.wait_for(&format!("{texts:?}"), timeout, |screen| {
            texts.iter().all(|t| screen.contains(t))
        })
    }

    /// The program's exit status once it has exited (128+N: killed by signal N), as its shell
    /// recorded it; else, if the shell itself died, tmux's view (-N: killed by signal N).
    pub(crate) fn exited(&self) -> Option<i32> {
        if let Some(code) = std::fs::read_to_string(&self.status_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            return Some(code);
        }
        let state = self.format("#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}");
        let mut fields = state.trim().split(':');
        if fields.next() != Some("1") {
            return None;
        }
        let status = fields.next().and_then(|s| s.parse::<i32>().ok());
        let signal = fields.next().and_then(|s| s.parse::<i32>().ok());
        status.or(signal.map(|n| -n))
    }

    /// Wait for the program to exit; panic with the screen after `timeout`.
    pub(crate) fn wait_exit(&self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(code) = self.exited() {
                return code;
            }
            assert!(
                Instant::now() < deadline,
                "airlock did not exit within {timeout:?}; the screen:\n{}",
                frame(&self.screen())
            );
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        if let Some(pid) = self.pid
            && self.exited().is_none()
        {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
        let _ = self.run(&["kill-server"]);
    }
}

/// The screen with a ruler, for failure messages and `--nocapture` runs.
pub(crate) fn frame(screen: &str) -> String {
    let mut out = String::from("    +----------------------------------------\n");
    for (i, line) in screen.lines().enumerate() {
        out.push_str(&format!("{i:>3} |{line}\n"));
    }
    out
}

/// Row `row` of the screen, `""` past the end.
pub(crate) fn row(screen: &str, row: usize) -> &str {
    screen.lines().nth(row).unwrap_or("")
}

/// The first `width` characters of each row (a pane's columns).
pub(crate) fn columns(screen: &str, from: usize, width: usize) -> Vec<String> {
    screen
        .lines()
        .map(|l| l.chars().skip(from).take(width).collect())
        .collect()
}
