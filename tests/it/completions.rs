//! `airlock completions SHELL` prints a script for each supported shell.

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_for_every_shell() {
    let sandbox = Sandbox::new();
    // A line each script must hold: how the shell registers airlock's completions.
    for (shell, marker) in [
        ("bash", "complete -F _airlock"),
        ("zsh", "#compdef airlock"),
        ("fish", "complete -c airlock"),
    ] {
        let out = sandbox.airlock(["completions", shell]).run().await;
        out.expect_code(0);
        assert!(
            out.stdout.contains(marker),
            "{shell} completions lack {marker:?}:\n{}",
            out.stdout
        );
        // Subcommands are offered.
        for command in ["plan", "ls", "config"] {
            assert!(out.stdout.contains(command), "{shell}: no '{command}'");
        }
        assert_eq!(out.stderr, "", "{shell}");
    }

    let out = sandbox.airlock(["completions", "tcsh"]).run().await;
    out.expect_code(2);
    assert!(
        out.stderr.contains("invalid value 'tcsh'"),
        "{}",
        out.stderr
    );
}
