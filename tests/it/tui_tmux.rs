//! The real `airlock demo` binary in a real terminal: tmux runs it, `send-keys` types, and
//! `capture-pane` reads the screen back. Two scenarios:
//!
//! - `copy_a_selection_end_to_end` (100x30), as a person would: browse into a client folder,
//!   select the folder holding a multipart-sized object, filter the daily folders and select
//!   three (one already at the target, one that differs, one only at the source), clear the
//!   filter, open the plan and check its routes and totals, edit the part size (the plan
//!   updates at once) and the concurrency, start and confirm the run, pause it at once and see
//!   it hold still, resume, wait for the Transfers tab to say everything finished verified,
//!   see the browser's target pane listed again, visit the plan, its help and the message log,
//!   quit (exit status 0), and compare the demo's files: every selected object is
//!   byte-identical at the target, and an unselected one was not copied.
//! - `help_and_resize_redraw` (80x24): `?` lists keys, `esc` closes it, and resizing the window
//!   redraws a whole, clean screen, identical to the one before once the size is back.
//!
//! Ignored when tmux was not on `PATH` at build time; run (and failing without tmux) under
//! `CI=true` (`.ci/run` installs it). See `build.rs`. Print the screens with
//! `cargo test --test it tui_tmux -- --nocapture`.

pub(crate) mod tmux;

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

/// A pane is still listing: its title shows the spinner (a braille character) by the count.
fn listing(screen: &str) -> bool {
    row(screen, 1)
        .chars()
        .any(|c| ('\u{2800}'..='\u{28ff}').contains(&c))
}

/// The root of the demo's source listing has loaded (`clients/` with four client folders).
fn wait_for_browser(tmux: &Tmux) -> String {
    tmux.wait_for("the demo's listing", START, |s| {
        s.contains("Source") && s.contains("acme/") && s.contains("umbrella/") && !listing(s)
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
    let is_entry =
        |r: &String| r.contains(&format!(" {name} ")) || r.contains(&format!("●{name} "));
    let cursor = rows.iter().position(|r| r.starts_with("│▸"));
    let wanted = rows.iter().position(is_entry);
    let (Some(cursor), Some(wanted)) = (cursor, wanted) else {
        panic!(
            "no cursor or no '{name}' in the source pane:\n{}",
            frame(&screen)
        );
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
        row(s, 1).contains(&format!("{name} ")) && s.contains(expect) && !listing(s)
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

/// The first line of the Settings box naming `label`, words after the label.
fn setting(screen: &str, label: &str) -> String {
    screen
        .lines()
        .filter_map(|l| l.split('│').find(|cell| cell.contains(label)))
        .find(|cell| cell.trim_start_matches(['▸', ' ']).starts_with(label))
        .map(|cell| {
            let after = &cell[cell.find(label).expect("label") + label.len()..];
            after.trim().trim_end_matches('▏').to_string()
        })
        .unwrap_or_default()
}

/// Edit the plan setting `label`: focus it with `j`/`k`, `enter`, clear, type, `enter`.
fn edit_setting(tmux: &Tmux, label: &str, value: &str) {
    const ORDER: [&str; 4] = [
        "multipart threshold",
        "part size",
        "concurrency",
        "memory limit",
    ];
    let screen = tmux.screen();
    let focused = ORDER
        .iter()
        .position(|l| screen.contains(&format!("▸ {l}")))
        .unwrap_or_else(|| panic!("no focused setting:\n{}", frame(&screen)));
    let wanted = ORDER.iter().position(|l| *l == label).expect("a setting");
    let key = if wanted > focused { "j" } else { "k" };
    let moves = vec![key; wanted.abs_diff(focused)];
    if !moves.is_empty() {
        tmux.send(&moves);
    }
    tmux.wait_for_text(&[&format!("▸ {label}")], STEP);
    tmux.send(&["Enter"]);
    tmux.wait_for_text(&["enter applies"], STEP);
    tmux.send(&["C-u"]);
    tmux.type_text(value);
    tmux.send(&["Enter"]);
}

/// The "N of TOTAL · n/m objects" line of the Run box.
fn progress_line(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.contains(" objects "))
        .and_then(|l| l.split('│').nth(1))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
#[cfg_attr(
    not(airlock_tmux),
    ignore = "needs tmux on PATH: install it (apt-get install tmux)"
)]
fn copy_a_selection_end_to_end() {
    tmux::require("copy_a_selection_end_to_end");
    let sandbox = Sandbox::new();
    let columns = 100;
    let tmux = sandbox.demo((columns as u16, 30));

    // Browse: into a client folder, select the folder with the multipart-sized object.
    let screen = wait_for_browser(&tmux);
    show("browser", &screen);
    open(&tmux, columns, "acme/", "backfill/");
    select(&tmux, columns, "backfill/");
    open(&tmux, columns, "daily/", "2026-11-02/");

    // Filter the 18 daily folders down to the first nine days.
    tmux.send(&["/"]);
    tmux.type_text("-11-0");
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("the filter applied", STEP, |s| {
        row(s, 1).contains("9 of 18") && s.contains("filter: -11-0")
    });
    show("filtered", &screen);
    let source = source_rows(&screen, columns).join("\n");
    assert!(
        source.contains("2026-11-09/") && !source.contains("2026-11-10/"),
        "the source pane shows only the matching folders:\n{}",
        frame(&screen)
    );

    // 2026-11-01 is already at the target (skip), 2026-11-02 differs there (copied again),
    // 2026-11-03 is only at the source (new).
    select(&tmux, columns, "2026-11-01/");
    select(&tmux, columns, "2026-11-02/");
    select(&tmux, columns, "2026-11-03/");
    tmux.send(&["Escape"]);
    let screen = tmux.wait_for("the filter cleared, 4 folders selected", STEP, |s| {
        s.contains("4 dir sel") && s.contains("2026-11-18/") && !s.contains("filter:")
    });
    show("selection", &screen);
    let new_before = source_rows(&screen, columns)
        .iter()
        .any(|r| r.contains("●2026-11-03/") && r.trim_end_matches('│').trim_end().ends_with("new"));
    assert!(new_before, "2026-11-03/ is new:\n{}", frame(&screen));

    // The plan: P (the key the help shows for "plan the selection").
    tmux.send(&["P"]);
    let screen = tmux.wait_for("the plan", START, |s| {
        s.contains("selection: 4 folders") && s.contains("to copy") && s.contains("ETA")
    });
    show("plan", &screen);
    // 3 objects at 2026-11-01 skip; 3 at 2026-11-02 and 3 at 2026-11-03 single; 1 multipart
    // (32 MiB + 12,345 B in 5 MiB parts: 7 parts).
    assert_eq!(summary_row(&screen, "skip")[1], "3", "{}", frame(&screen));
    assert_eq!(summary_row(&screen, "single")[1], "6", "{}", frame(&screen));
    let multipart = summary_row(&screen, "multipart");
    assert_eq!(multipart[1], "1", "{}", frame(&screen));
    assert_eq!(
        multipart.last().map(String::as_str),
        Some("7"),
        "{}",
        frame(&screen)
    );
    assert_eq!(
        summary_row(&screen, "to copy")[2],
        "7",
        "{}",
        frame(&screen)
    );
    assert!(
        screen.contains("backfill/2026-10/orders.parquet") && screen.contains("multipart"),
        "the object table names the multipart object:\n{}",
        frame(&screen)
    );

    // Edit in place: 8 MiB parts make 5 of them; one stream makes the run slow enough to pause.
    edit_setting(&tmux, "part size", "8MiB");
    let screen = tmux.wait_for("5 parts of 8 MiB", STEP, |s| {
        setting(s, "part size") == "8 MiB"
            && summary_row(s, "multipart").last().map(String::as_str) == Some("5")
    });
    let object_row: Vec<&str> = screen
        .lines()
        .find(|l| l.contains("backfill/2026-10/orders.parquet"))
        .unwrap_or_default()
        .trim_matches('│')
        .split_whitespace()
        .collect();
    assert!(
        object_row.ends_with(&["multipart", "8", "MiB", "5"]),
        "the object table follows the edit:\n{}",
        frame(&screen)
    );
    edit_setting(&tmux, "concurrency", "1");
    let screen = tmux.wait_for("concurrency 1", STEP, |s| setting(s, "concurrency") == "1");
    show("plan edited", &screen);

    // Start (g) and confirm (y), then pause (p) at once: with one stream, at most one request
    // is in flight when the pause lands, so the run cannot finish while paused.
    tmux.send(&["g"]);
    let screen = tmux.wait_for_text(&["Start the run?", "Copy 7 objects", "concurrency 1"], STEP);
    show("confirm", &screen);
    tmux.send(&["y", "p"]);
    tmux.wait_for("the run paused", STEP, |s| {
        row(s, 0).contains("‖ paused") && s.contains("Run · paused")
    });
    // In-flight requests finish; then nothing moves.
    let deadline = std::time::Instant::now() + STEP;
    let mut before = progress_line(&tmux.screen());
    let screen = loop {
        std::thread::sleep(Duration::from_millis(700));
        let screen = tmux.screen();
        let now = progress_line(&screen);
        if now == before {
            break screen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "progress kept moving while paused:\n{}",
            frame(&screen)
        );
        before = now;
    };
    show("paused", &screen);
    assert!(
        row(&screen, 0).contains("‖ paused") && !screen.contains("7/7 objects"),
        "still paused, not finished:\n{}",
        frame(&screen)
    );
    assert!(
        screen.contains("p resume"),
        "the status line offers resume:\n{}",
        frame(&screen)
    );

    tmux.send(&["p"]);
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
        screen.contains("7/7 objects")
            && screen.contains("0 failed · 7 verified")
            && screen.contains("3 skipped"),
        "7 copied and verified, 3 skipped:\n{}",
        frame(&screen)
    );
    let verified_rows = screen
        .lines()
        .filter(|l| l.contains('✓') && l.contains("verified"))
        .count();
    assert_eq!(verified_rows, 7, "the done list:\n{}", frame(&screen));

    // Back in the browser, the target has 2026-11-03/ now, and the source no longer calls it
    // new.
    tmux.send(&["1"]);
    let screen = tmux.wait_for("the browser with the target listed again", STEP, |s| {
        let target = tmux::columns(s, columns / 2, columns / 2).join("\n");
        let source = source_rows(s, columns);
        target.contains("2026-11-03/")
            && source
                .iter()
                .any(|r| r.contains("2026-11-03/") && !r.contains("new"))
    });
    show("browser after the run", &screen);

    // The other tabs keep their state; help follows the tab.
    tmux.send(&["2"]);
    tmux.wait_for_text(&["Plan · selection: 4 folders", "8 MiB"], STEP);
    tmux.send(&["?"]);
    let help = tmux.wait_for_text(&["Help · Plan", "start the run"], STEP);
    show("help on the plan", &help);
    // Escape alone: a key right behind it would arrive as alt-<key>.
    tmux.send(&["Escape"]);
    tmux.wait_for("help closed", STEP, |s| !s.contains("Help ·"));
    tmux.send(&["3"]);
    tmux.wait_for_text(&["Run · finished", "Done 7"], STEP);
    // The message log keeps what the status line said.
    tmux.send(&["L"]);
    let log = tmux.wait_for_text(&["Messages", "run finished: 7 copied"], STEP);
    assert!(
        log.contains("concurrency set to 1") && log.contains("run started"),
        "the log lists the session's messages:\n{}",
        frame(&log)
    );
    tmux.send(&["Escape"]);
    tmux.wait_for("the log closed", STEP, |s| !s.contains("Messages"));

    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(STEP), 0, "{}", frame(&tmux.screen()));
    drop(tmux);

    // The bytes: every selected object is at the target, identical; nothing else was copied.
    let demo = sandbox.path("demo");
    let source = demo.join("source/legacy-deliveries/clients/acme");
    let target = demo.join("target/deliveries/clients/acme");
    let mut compared = 0;
    for folder in [
        "backfill",
        "daily/2026-11-01",
        "daily/2026-11-02",
        "daily/2026-11-03",
    ] {
        let files = files_under(&source.join(folder));
        assert!(!files.is_empty(), "source folder '{folder}' has objects");
        for file in files {
            let (from, to) = (
                source.join(folder).join(&file),
                target.join(folder).join(&file),
            );
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
    assert_eq!(compared, 10, "3 x 3 daily objects and the backfill object");
    let big = target.join("backfill/2026-10/orders.parquet");
    assert_eq!(
        std::fs::metadata(&big).expect("the multipart object").len(),
        32 * 1024 * 1024 + 12_345
    );
    // 2026-11-04 is only at the source and was not selected.
    assert!(
        !target.join("daily/2026-11-04").exists(),
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
    assert!(
        row(screen, 0).starts_with(" airlock "),
        "tab bar:\n{}",
        frame(screen)
    );
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

/// The screen once the listings and the HEADs that decide the badges are done (no spinner,
/// no `?` badge) and it is the same in two captures 300 ms apart (polled, with a deadline).
fn settled(tmux: &Tmux) -> String {
    let deadline = std::time::Instant::now() + STEP;
    let mut before = tmux.screen();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = tmux.screen();
        if now == before && !listing(&now) && !now.contains("?│") {
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
#[cfg_attr(
    not(airlock_tmux),
    ignore = "needs tmux on PATH: install it (apt-get install tmux)"
)]
fn help_and_resize_redraw() {
    tmux::require("help_and_resize_redraw");
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
        assert!(
            help.contains(text),
            "help lists '{text}':\n{}",
            frame(&help)
        );
    }
    tmux.send(&["Escape"]);
    let closed = tmux.wait_for("help closed", STEP, |s| !s.contains("Help ·"));
    assert_boxed(&closed, small);

    let big = (100usize, 30usize);
    tmux.resize((big.0 as u16, big.1 as u16));
    // The whole frame: a capture can land while the redraw is half written (seen under
    // load), and the status line is the last row written.
    tmux.wait_for("a redraw at 100x30", STEP, |s| {
        row(s, 1).chars().count() == big.0 && row(s, big.1 - 1).trim_end().ends_with("? help")
    });
    let screen = settled(&tmux);
    show("100x30", &screen);
    assert_boxed(&screen, big);

    tmux.resize((small.0 as u16, small.1 as u16));
    let without_status = |s: &str| s.lines().take(small.1 - 1).collect::<Vec<_>>().join("\n");
    tmux.wait_for("the 80x24 screen back", STEP, |s| {
        without_status(s) == without_status(&before)
    });
    let screen = settled(&tmux);
    show("80x24 again", &screen);
    assert_boxed(&screen, small);

    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(STEP), 0, "{}", frame(&tmux.screen()));
}
