//! The real `airlock demo` binary in a real terminal: tmux runs it, `send-keys` types, and
//! `capture-pane` reads the screen back. Two scenarios:
//!
//! - `copy_a_selection_end_to_end` (100x30): browse into a client folder, select a folder
//!   holding a multipart-sized object and two daily folders (one already at the target, one
//!   that differs), open the plan, check its routes and totals, start and confirm the run, wait
//!   for the Transfers tab to say it finished with everything verified, quit (exit status 0),
//!   and compare the demo's files: every selected object is byte-identical at the target, and
//!   an unselected one was not copied.
//! - `help_and_resize_redraw` (80x24): `?` lists keys, `esc` closes it, and resizing the window
//!   redraws a whole, clean screen, identical to the one before once the size is back.
//!
//! Skipped with a message when tmux is missing, except under `CI=true` (`.ci/run` installs it).
//! Print the screens with `cargo test --test tui_tmux -- --nocapture`.

#[path = "tui_tmux/tmux.rs"]
mod tmux;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tmux::{Tmux, frame, row};

/// Generous: a debug build on two busy cores.
const START: Duration = Duration::from_secs(30);
const STEP: Duration = Duration::from_secs(15);
const RUN: Duration = Duration::from_secs(40);

/// The demo's data dir, its own airlock data and config dirs, and the tmux socket.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("airlock-tmux-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `airlock demo --dir <sandbox>/demo` in a `size` terminal, with airlock's data (logs,
    /// journal) and config (keybindings) dirs inside the sandbox.
    fn demo(&self, size: (u16, u16)) -> Tmux {
        let (data, config, demo) = (self.path("data"), self.path("config"), self.path("demo"));
        let demo_dir = demo.to_str().expect("utf-8 temp path");
        Tmux::start(
            self.dir.path(),
            size,
            &[
                ("AIRLOCK_DATA_DIR", &data),
                ("XDG_CONFIG_HOME", &config),
                ("HOME", self.dir.path()),
            ],
            Path::new(env!("CARGO_BIN_EXE_airlock")),
            &["demo", "--dir", demo_dir],
        )
    }
}

fn show(title: &str, screen: &str) {
    println!("--- {title}\n{}", frame(screen));
}

/// The root of the demo's source listing has loaded (`clients/` with four client folders).
fn wait_for_browser(tmux: &Tmux) -> String {
    tmux.wait_for("the demo's listing", START, |s| {
        s.contains("Source") && s.contains("acme/") && s.contains("umbrella/") && !s.contains('…')
    })
}

/// The source pane's rows (the left half of the screen).
fn source_rows(screen: &str, columns: usize) -> Vec<String> {
    tmux::columns(screen, 0, columns / 2)
}

/// Move the source pane's cursor (`▸`) onto the entry named `name` with `j`/`k`.
fn cursor_to(tmux: &Tmux, columns: usize, name: &str) {
    let screen = tmux.screen();
    let rows = source_rows(&screen, columns);
    let is_entry = |r: &String| r.contains(&format!(" {name} ")) || r.contains(&format!("●{name} "));
    let cursor = rows.iter().position(|r| r.starts_with("│▸"));
    let wanted = rows.iter().position(is_entry);
    let (Some(cursor), Some(wanted)) = (cursor, wanted) else {
        panic!("no cursor or no '{name}' in the source pane:\n{}", frame(&screen));
    };
    let key = if wanted > cursor { "j" } else { "k" };
    let keys = vec![key; cursor.abs_diff(wanted)];
    if !keys.is_empty() {
        tmux.send(&keys);
    }
    tmux.wait_for(&format!("the cursor on '{name}'"), STEP, |s| {
        source_rows(s, columns)
            .iter()
            .any(|r| r.starts_with("│▸") && is_entry(r))
    });
}

/// Open the folder `name` (cursor onto it, `enter`) and wait for its listing.
fn open(tmux: &Tmux, columns: usize, name: &str, expect: &str) {
    cursor_to(tmux, columns, name);
    tmux.send(&["Enter"]);
    tmux.wait_for(&format!("'{name}' opened"), STEP, |s| {
        row(s, 1).contains(&format!("{name} ")) && s.contains(expect) && !row(s, 1).contains('…')
    });
}

/// Select the entry `name` with space and wait for its `●`.
fn select(tmux: &Tmux, columns: usize, name: &str) {
    cursor_to(tmux, columns, name);
    tmux.send(&["Space"]);
    tmux.wait_for(&format!("'{name}' selected"), STEP, |s| {
        source_rows(s, columns)
            .iter()
            .any(|r| r.contains(&format!("●{name} ")))
    });
}

/// The words of the first row that starts with `label` (after the border).
fn summary_row(screen: &str, label: &str) -> Vec<String> {
    screen
        .lines()
        .find(|l| l.trim_start_matches('│').starts_with(label))
        .unwrap_or_else(|| panic!("no '{label}' row in the plan:\n{}", frame(screen)))
        .trim_start_matches('│')
        .split('│')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Every file under `dir` (skipping dot-dirs: s3s-fs keeps its metadata there), relative.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).expect("read_dir") {
            let entry = entry.expect("dir entry");
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if entry.file_type().expect("file type").is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn copy_a_selection_end_to_end() {
    if !tmux::available("copy_a_selection_end_to_end") {
        return;
    }
    let sandbox = Sandbox::new();
    let columns = 100;
    let tmux = sandbox.demo((columns as u16, 30));

    let screen = wait_for_browser(&tmux);
    show("browser", &screen);
    open(&tmux, columns, "acme/", "backfill/");
    select(&tmux, columns, "backfill/");
    open(&tmux, columns, "daily/", "2026-11-02/");
    // 2026-11-01 is already at the target (skip), 2026-11-02 differs there (copied again).
    select(&tmux, columns, "2026-11-01/");
    select(&tmux, columns, "2026-11-02/");
    let screen = tmux.wait_for_text(&["3 dir sel"], STEP);
    show("selection", &screen);

    // The plan: P (the key the help shows for "plan the selection").
    tmux.send(&["P"]);
    let screen = tmux.wait_for("the plan", START, |s| {
        s.contains("selection: 3 folders") && s.contains("to copy") && s.contains("ETA")
    });
    show("plan", &screen);
    // 3 manifests/orders/events at 2026-11-01 skip; 3 at 2026-11-02 single; 1 multipart
    // (32 MiB + 12,345 B in 5 MiB parts: 7 parts).
    assert_eq!(summary_row(&screen, "skip")[1], "3", "{}", frame(&screen));
    assert_eq!(summary_row(&screen, "single")[1], "3", "{}", frame(&screen));
    let multipart = summary_row(&screen, "multipart");
    assert_eq!(multipart[1], "1", "{}", frame(&screen));
    assert_eq!(multipart.last().map(String::as_str), Some("7"), "{}", frame(&screen));
    assert_eq!(summary_row(&screen, "to copy")[2], "4", "{}", frame(&screen));
    assert!(
        screen.contains("backfill/2026-10/orders.parquet") && screen.contains("multipart"),
        "the object table names the multipart object:\n{}",
        frame(&screen)
    );

    // Start (g), confirm (y); the Transfers tab opens and the run finishes.
    tmux.send(&["g"]);
    let screen = tmux.wait_for_text(&["Start the run?", "Copy 4 objects"], STEP);
    show("confirm", &screen);
    tmux.send(&["y"]);
    let screen = tmux.wait_for("the run to finish", RUN, |s| {
        row(s, 0).contains("✓ done") || row(s, 0).contains("failed") || s.contains("stopped")
    });
    show("transfers finished", &screen);
    assert!(
        row(&screen, 0).contains("✓ done"),
        "the run succeeded:\n{}",
        frame(&screen)
    );
    assert!(
        screen.contains("4/4 objects")
            && screen.contains("0 failed · 4 verified")
            && screen.contains("3 skipped"),
        "4 copied and verified, 3 skipped:\n{}",
        frame(&screen)
    );
    let verified_rows = screen
        .lines()
        .filter(|l| l.contains('✓') && l.contains("verified"))
        .count();
    assert_eq!(verified_rows, 4, "the done list:\n{}", frame(&screen));

    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(STEP), 0, "{}", frame(&tmux.screen()));
    drop(tmux);

    // The bytes: every selected object is at the target, identical; nothing else was copied.
    let demo = sandbox.path("demo");
    let source = demo.join("source/legacy-deliveries/clients/acme");
    let target = demo.join("target/deliveries/clients/acme");
    let mut compared = 0;
    for folder in ["backfill", "daily/2026-11-01", "daily/2026-11-02"] {
        let files = files_under(&source.join(folder));
        assert!(!files.is_empty(), "source folder '{folder}' has objects");
        for file in files {
            let (from, to) = (source.join(folder).join(&file), target.join(folder).join(&file));
            let source_bytes = std::fs::read(&from).expect("source object");
            let target_bytes = std::fs::read(&to)
                .unwrap_or_else(|e| panic!("'{}' was not copied: {e}", to.display()));
            assert!(
                source_bytes == target_bytes,
                "'{}' differs from '{}' ({} vs {} bytes)",
                to.display(),
                from.display(),
                target_bytes.len(),
                source_bytes.len()
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 7, "3 + 3 daily objects and the backfill object");
    let big = target.join("backfill/2026-10/orders.parquet");
    assert_eq!(
        std::fs::metadata(&big).expect("the multipart object").len(),
        32 * 1024 * 1024 + 12_345
    );
    // 2026-11-03 is only at the source and was not selected.
    assert!(
        !target.join("daily/2026-11-03").exists(),
        "an unselected folder was copied"
    );
}

/// Rows 1..rows-1 (between the tab bar and the status line) are whole boxes: each starts
/// with a left border and ends with a right border exactly at the last column.
fn assert_boxed(screen: &str, (columns, rows): (usize, usize)) {
    let lines: Vec<&str> = screen.lines().collect();
    assert!(
        lines.len() <= rows,
        "{} lines on a {rows}-row screen:\n{}",
        lines.len(),
        frame(screen)
    );
    assert!(row(screen, 0).starts_with(" airlock "), "tab bar:\n{}", frame(screen));
    assert!(
        row(screen, rows - 1).trim_end().ends_with("? help"),
        "status line:\n{}",
        frame(screen)
    );
    for (i, line) in lines.iter().enumerate().take(rows - 1).skip(1) {
        let chars: Vec<char> = line.chars().collect();
        let (first, last) = (chars.first(), chars.last());
        assert!(
            chars.len() == columns
                && matches!(first, Some('┌' | '│' | '└'))
                && matches!(last, Some('┐' | '│' | '┘')),
            "row {i} is not a whole box line {columns} wide:\n{}",
            frame(screen)
        );
    }
}

/// The screen once the HEADs that decide the badges are done: the same in two captures
/// 300 ms apart (polled, with a deadline).
fn settled(tmux: &Tmux) -> String {
    let deadline = std::time::Instant::now() + STEP;
    let mut before = tmux.screen();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = tmux.screen();
        if now == before && !now.contains('…') {
            return now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the screen kept changing:\n{}",
            frame(&now)
        );
        before = now;
    }
}

#[test]
fn help_and_resize_redraw() {
    if !tmux::available("help_and_resize_redraw") {
        return;
    }
    let sandbox = Sandbox::new();
    let small = (80usize, 24usize);
    let tmux = sandbox.demo((small.0 as u16, small.1 as u16));
    wait_for_browser(&tmux);
    let before = settled(&tmux);
    show("80x24", &before);
    assert_boxed(&before, small);

    tmux.send(&["?"]);
    let help = tmux.wait_for_text(&["Help · Browser", "Everywhere"], STEP);
    show("help", &help);
    for text in [
        "quit",
        "this help",
        "select / unselect",
        "plan the selection",
        "open folder",
        "keybindings.toml",
    ] {
        assert!(help.contains(text), "help lists '{text}':\n{}", frame(&help));
    }
    tmux.send(&["Escape"]);
    let closed = tmux.wait_for("help closed", STEP, |s| !s.contains("Help ·"));
    assert_boxed(&closed, small);

    let big = (100usize, 30usize);
    tmux.resize((big.0 as u16, big.1 as u16));
    let screen = tmux.wait_for("a redraw at 100x30", STEP, |s| {
        row(s, 1).chars().count() == big.0 && s.lines().count() >= big.1 - 1
    });
    show("100x30", &screen);
    assert_boxed(&screen, big);

    tmux.resize((small.0 as u16, small.1 as u16));
    let without_status = |s: &str| s.lines().take(small.1 - 1).collect::<Vec<_>>().join("\n");
    let screen = tmux.wait_for("the 80x24 screen back", STEP, |s| {
        without_status(s) == without_status(&before)
    });
    show("80x24 again", &screen);
    assert_boxed(&screen, small);

    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(STEP), 0, "{}", frame(&tmux.screen()));
}
