//! Tells the integration tests (tests/it) which outside tools they may count on, as cfgs, so a
//! test that needs a missing tool is reported as *ignored*, never as passed:
//!
//! - `airlock_moto`: `AIRLOCK_MOTO` names moto's server (`.ci/run` installs it into `.venv`);
//! - `airlock_tmux`: a `tmux` executable is on `PATH`.
//!
//! Under `CI=true` both are set whatever is found, so in CI those tests run and fail when their
//! tool is missing. Nothing else reads these cfgs; the library and the binary do not change.
//!
//! Cargo reruns this script when `CI`, `AIRLOCK_MOTO` or `PATH` change. Installing tmux into a
//! directory already on `PATH` changes none of them: `touch build.rs` after that.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(airlock_moto)");
    println!("cargo::rustc-check-cfg=cfg(airlock_tmux)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=AIRLOCK_MOTO");
    println!("cargo::rerun-if-env-changed=PATH");

    let ci = env::var("CI").is_ok_and(|value| value == "true");
    let moto = env::var_os("AIRLOCK_MOTO").is_some_and(|value| !value.is_empty());
    if ci || moto {
        println!("cargo::rustc-cfg=airlock_moto");
    }
    if ci || on_path("tmux") {
        println!("cargo::rustc-cfg=airlock_tmux");
    }
}

/// Whether `PATH` holds an executable file named `program`.
fn on_path(program: &str) -> bool {
    let Some(path) = env::var_os("PATH") else {
        return false;
    };
    env::split_paths(&path).any(|dir| is_executable(&dir.join(program)))
}

#[cfg(unix)]
fn is_executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    file.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(file: &Path) -> bool {
    file.is_file()
}
