//! The real TUI in tmux on a folder of 1,000,000 direct children (issue #17): a synthetic
//! source (`SyntheticS3`: keys computed, nothing stored) holding `events/part-00000000.parquet`
//! ... and a synthetic target holding every third of them. The test opens `events/`, measures
//! how long the first screen of it takes to show (printed; the bound here is generous for a
//! debug build on a loaded 2-core host, the goal is under 1 s), walks the cursor far past the
//! pages loaded at first (page 45+), checks that later rows appear, that the window dropped the
//! first pages (the title says which rows are loaded), that the badges of the rows shown are
//! decided (the target paged along), and that the process's peak RSS (VmHWM) stays bounded.
//!
//! A second test plans that folder (`P` on it): the totals show while it lists, the plan of
//! 1,000,000 keys completes, `G` shows the last key (read back from the plan file), the peak RSS
//! stays bounded, and the temporary plan file is gone after `q`.
//!
//! Ignored when tmux was not on `PATH` at build time, like `tui_tmux`. Print the screens and
//! figures with `cargo test --test it tui_scale -- --nocapture`.

use std::path::Path;
use std::time::{Duration, Instant};

use airlock_s3server::Dataset;

use crate::common::synthetic::SyntheticPair;

use crate::tui_tmux::tmux::{self, Tmux, frame, row};

const KEYS: u64 = 1_000_000;
const COLUMNS: usize = 100;
/// Generous: a debug build on two busy cores. The measured time is printed.
const FIRST_PAINT: Duration = Duration::from_secs(5);
const STEP: Duration = Duration::from_secs(30);
/// Peak RSS of the TUI process (measured: ~42 MiB). Before the window, the TUI held every row:
/// 387 MiB with 437,000 of the 1,000,000 rows loaded, 30 s after opening the folder.
const PEAK_RSS_KIB: u64 = 160 * 1024;
/// Walk the source cursor past this row: beyond the first window of both panes (the target
/// holds every third key, so its first 10,000 rows reach row 30,000 of the source).
const WALK_TO: u64 = 45_000;

/// Source and target synthetic servers, on a runtime of their own, and a config for them.
struct Servers {
    _runtime: tokio::runtime::Runtime,
    pair: SyntheticPair,
}

fn servers() -> Servers {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the servers");
    let pair = runtime.block_on(SyntheticPair::start(
        Dataset::flat(KEYS),
        ("events-src", "events-dst"),
        "",
    ));
    Servers {
        _runtime: runtime,
        pair,
    }
}

/// A pane is listing: a braille spinner on the title row.
fn listing(screen: &str) -> bool {
    row(screen, 1)
        .chars()
        .any(|c| ('\u{2800}'..='\u{28ff}').contains(&c))
}

fn source_rows(screen: &str) -> Vec<String> {
    tmux::columns(screen, 0, COLUMNS / 2)
}

/// The key number in a row (`part-00012345.parquet` -> 12345).
fn number(text: &str) -> Option<u64> {
    let at = text.find("part-")? + 5;
    text.get(at..at + 8)?.parse().ok()
}

/// The key number under the source cursor.
fn cursor_number(screen: &str) -> Option<u64> {
    source_rows(screen)
        .iter()
        .find(|r| r.starts_with("│▸"))
        .and_then(|r| number(r))
}

/// Peak resident set of a process, KiB (`VmHWM` in /proc/<pid>/status).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

/// The real binary in tmux on `servers`, in a temporary home (returned: it must outlive the
/// session).
fn start_tui(servers: &Servers) -> (tempfile::TempDir, Tmux) {
    let dir = tempfile::Builder::new()
        .prefix("airlock-tmux-scale-")
        .tempdir()
        .expect("temp dir");
    let config = dir.path().join("airlock.toml");
    std::fs::write(&config, &servers.pair.config).expect("config");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let private = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(&config, private).expect("config mode");
    }
    let (data, home) = (dir.path().join("data"), dir.path().join("config"));
    let tmux = Tmux::start(
        dir.path(),
        (COLUMNS as u16, 30),
        &[
            ("AIRLOCK_DATA_DIR", &data),
            ("XDG_CONFIG_HOME", &home),
            ("HOME", dir.path()),
            ("TMPDIR", dir.path()),
        ],
        Path::new(env!("CARGO_BIN_EXE_airlock")),
        &["-c", config.to_str().expect("utf-8 temp path")],
    );
    (dir, tmux)
}

/// The bucket root, listed, the cursor on `events/`.
fn root(tmux: &Tmux) -> String {
    tmux.wait_for("the bucket root with events/", STEP, |s| {
        source_rows(s)
            .iter()
            .any(|r| r.starts_with("│▸") && r.contains("events/"))
            && !listing(s)
    })
}

#[test]
#[cfg_attr(
    not(airlock_tmux),
    ignore = "needs tmux on PATH: install it (apt-get install tmux)"
)]
fn a_folder_of_a_million_keys_opens_at_once_and_pages_in_bounded_memory() {
    tmux::require("a_folder_of_a_million_keys_opens_at_once_and_pages_in_bounded_memory");
    let servers = servers();
    let (_dir, tmux) = start_tui(&servers);
    let screen = root(&tmux);
    println!("--- root\n{}", frame(&screen));
    let pid = tmux
        .program_pid()
        .expect("the airlock process under the pane's shell");

    // Open the folder and time its first screen (polled every 10 ms).
    tmux.send(&["Enter"]);
    let opened = Instant::now();
    let first = loop {
        let screen = tmux.screen();
        if source_rows(&screen)
            .iter()
            .any(|r| r.contains("part-00000000.parquet"))
        {
            break screen;
        }
        assert!(
            opened.elapsed() < STEP,
            "events/ never showed:\n{}",
            frame(&screen)
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let first_paint = opened.elapsed();
    println!(
        "--- events/ first screen after {} ms\n{}",
        first_paint.as_millis(),
        frame(&first)
    );
    assert!(
        first_paint < FIRST_PAINT,
        "the first screen of a 1,000,000-key folder took {first_paint:?}"
    );

    // The first window loads in the background, and the title says it is part of the folder.
    let screen = tmux.wait_for("the first window loaded", STEP, |s| {
        !listing(s) && row(s, 1).contains("1–10,000 of 10,000+")
    });
    println!("--- first window\n{}", frame(&screen));

    // Walk to the end of what is loaded, again and again: later pages come in.
    let walked = Instant::now();
    let mut screen = screen;
    while cursor_number(&screen).is_none_or(|n| n < WALK_TO) {
        let before = cursor_number(&screen);
        tmux.send(&["G"]);
        screen = tmux.wait_for("the cursor past more rows", STEP, |s| {
            !listing(s) && cursor_number(s) > before
        });
        assert!(walked.elapsed() < 4 * STEP, "walking took too long");
    }
    // Settled: no listing, no HEAD in flight changes the screen any more.
    let screen = tmux.wait_for("the badges decided", STEP, |s| {
        !listing(s) && !source_rows(s).iter().any(|r| r.contains(" … "))
    });
    println!(
        "--- walked to row {:?} in {} ms\n{}",
        cursor_number(&screen),
        walked.elapsed().as_millis(),
        frame(&screen)
    );
    let title = row(&screen, 1);
    assert!(
        !title.contains(" 1–") && title.contains("–") && title.contains("+"),
        "the source window dropped its first pages and says which rows it holds:\n{}",
        frame(&screen)
    );
    let target_rows = tmux::columns(&screen, COLUMNS / 2, COLUMNS / 2);
    let target_cursor = target_rows
        .iter()
        .find(|r| r.starts_with("│▸"))
        .and_then(|r| number(r));
    let source_cursor = cursor_number(&screen).expect("a source cursor");
    assert!(
        target_cursor.is_some_and(|t| (source_cursor..source_cursor + 3).contains(&t)),
        "the target's cursor is on the counterpart of the source's (or the next key there):\n{}",
        frame(&screen)
    );
    assert!(
        !target_rows[1].contains(" 1–")
            && target_rows
                .iter()
                .filter(|r| number(r).is_some_and(|n| n > 40_000))
                .count()
                >= 20
            && !target_rows.iter().any(|r| r.contains(" … ")),
        "the target pane paged along, to rows the source window decides:\n{}",
        frame(&screen)
    );
    let rows: Vec<(u64, String)> = source_rows(&screen)
        .into_iter()
        .filter_map(|r| Some((number(&r)?, r)))
        .collect();
    assert!(rows.len() >= 20, "rows shown:\n{}", frame(&screen));
    for (n, row_text) in &rows {
        assert!(*n > 40_000, "a later page's row: {row_text}");
        let badge = row_text.trim_end_matches('│').trim_end();
        if n % 3 != 0 {
            assert!(badge.ends_with("new"), "not at the target: {row_text}");
        } else {
            assert!(
                badge.ends_with("same") || badge.ends_with("diff") || badge.ends_with('?'),
                "at the target (the target pane paged along): {row_text}"
            );
        }
    }

    let peak_kib = peak_rss_kib(pid);
    println!(
        "--- figures: first screen {} ms, peak RSS {} MiB",
        first_paint.as_millis(),
        peak_kib / 1024
    );
    assert!(
        peak_kib < PEAK_RSS_KIB,
        "peak RSS {peak_kib} KiB over {PEAK_RSS_KIB} KiB"
    );

    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(STEP), 0, "{}", frame(&tmux.screen()));
}

/// Peak RSS of the TUI planning the 1,000,000-key folder (the plan on disk, a window of rows
/// in memory). Before the plan file, `P` on this folder peaked at 918 MiB (debug).
const PLAN_PEAK_RSS_KIB: u64 = 200 * 1024;
/// Generous: the whole plan of 1,000,000 keys, debug build, two busy cores.
const PLAN_DONE: Duration = Duration::from_secs(180);

/// The Plan tab's object table title (`Objects 1,234…` while planning).
fn objects_title(screen: &str) -> Option<String> {
    screen
        .lines()
        .find_map(|l| l.split("┌ Objects ").nth(1))
        .map(|t| t.split(" ─").next().unwrap_or_default().trim().to_string())
}

/// Temporary plan files of the TUI in `dir` (its TMPDIR).
fn plan_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("the temp dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(".airlock-tui-plan-"))
        .collect()
}

#[test]
#[cfg_attr(
    not(airlock_tmux),
    ignore = "needs tmux on PATH: install it (apt-get install tmux)"
)]
fn planning_a_folder_of_a_million_keys_shows_totals_at_once_and_a_window_of_rows() {
    tmux::require("planning_a_folder_of_a_million_keys_shows_totals_at_once_and_a_window_of_rows");
    let servers = servers();
    let (dir, tmux) = start_tui(&servers);
    root(&tmux);
    let pid = tmux
        .program_pid()
        .expect("the airlock process under the pane's shell");

    // Select the folder and plan it.
    tmux.send(&["Space"]);
    tmux.send(&["P"]);
    let asked = Instant::now();
    let first = tmux.wait_for("the first totals", STEP, |s| {
        s.contains("listing… ") && !s.contains("listing… 0 planned")
    });
    let first_totals = asked.elapsed();
    println!(
        "--- first totals after {} ms\n{}",
        first_totals.as_millis(),
        frame(&first)
    );
    assert!(first.contains("to copy"), "{}", frame(&first));
    let done = tmux.wait_for("the plan of 1,000,000 keys", PLAN_DONE, |s| {
        objects_title(s).as_deref() == Some("1,000,000")
    });
    let planned = asked.elapsed();
    println!(
        "--- planned after {} ms\n{}",
        planned.as_millis(),
        frame(&done)
    );
    // A third of the keys are at the target, three quarters of those the same: skipped.
    let skip = done
        .lines()
        .find(|l| l.contains("│skip "))
        .expect("the skip row");
    assert!(skip.contains("250,000"), "{}", frame(&done));
    assert!(done.contains("part-00000000.parquet"), "{}", frame(&done));

    // The last row, from the file: Tab to the table, G to the bottom.
    tmux.send(&["Tab"]);
    tmux.send(&["G"]);
    let last = tmux.wait_for("the last key under the cursor", STEP, |s| {
        s.lines()
            .any(|l| l.contains("│▸ ") && l.contains("part-00999999.parquet"))
    });
    println!("--- last row\n{}", frame(&last));
    let files = plan_files(dir.path());
    assert_eq!(
        files.len(),
        1,
        "one plan file while the plan is shown: {files:?}"
    );

    let peak_kib = peak_rss_kib(pid);
    println!(
        "--- figures: first totals {} ms, plan done {} ms, peak RSS {} MiB (debug build)",
        first_totals.as_millis(),
        planned.as_millis(),
        peak_kib / 1024
    );
    assert!(
        peak_kib < PLAN_PEAK_RSS_KIB,
        "peak RSS {peak_kib} KiB over {PLAN_PEAK_RSS_KIB} KiB"
    );

    tmux.send(&["q"]);
    assert_eq!(tmux.wait_exit(STEP), 0, "{}", frame(&tmux.screen()));
    assert_eq!(
        plan_files(dir.path()),
        Vec::<String>::new(),
        "removed on exit"
    );
}
