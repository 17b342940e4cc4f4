//! The `airlock` binary: parse arguments, set up logging, convert the arguments once into an
//! [`Invocation`](airlock::cli::Invocation), dispatch it to the library, and turn errors into
//! exit codes (0 ok, 1 some objects failed, 2 config / credential / usage error, 130
//! interrupted).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use airlock::cli::{self, Args, Invocation};
use airlock_core::Error;

fn main() -> ExitCode {
    let args = Args::parse();
    let _log = airlock::logging::init(args.verbose, cli::is_headless(&args));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("airlock: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async {
        let outcome = match Invocation::from_args(args) {
            Ok(invocation) => cli::dispatch(invocation, &mut std::io::stdout()).await,
            Err(e) => Err(e),
        };
        outcome.unwrap_or_else(|e| {
            tracing::error!(error = %e, "command failed");
            let _ = writeln!(std::io::stderr(), "airlock: {e}{}", hint(&e));
            e.exit_code()
        })
    });
    // Everything that matters has finished inside `dispatch`; what is left are blocking
    // helper threads (file I/O of the embedded demo servers, an idle terminal reader) that
    // must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// What this binary adds to an error from the core: with the demo built in, a missing config
/// suggests it (a build without the demo must not).
fn hint(e: &Error) -> &'static str {
    #[cfg(feature = "demo")]
    if airlock_core::config::is_missing_config(e) {
        return " (try 'airlock demo' to see airlock without AWS)";
    }
    #[cfg(not(feature = "demo"))]
    let _ = e;
    ""
}
