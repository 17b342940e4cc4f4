//! The `airlock` binary: parse arguments, set up logging and the panic hook, dispatch to the
//! library, and turn errors into exit codes (0 ok, 1 some objects failed, 2 config /
//! credential / usage error, 130 interrupted).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use airlock::cli::{self, Args, Command, ConfigAction};
use airlock::config::{Side, load_settings};
use airlock::{Error, aws};

fn main() -> ExitCode {
    let args = Args::parse();
    let headless = !matches!(args.command, None | Some(Command::Demo(_)));
    let _log = airlock::logging::init(args.verbose, headless);
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
    let code = runtime.block_on(dispatch(args));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

async fn dispatch(args: Args) -> i32 {
    match run_command(args).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %e, "command failed");
            let _ = writeln!(std::io::stderr(), "airlock: {e}");
            e.exit_code()
        }
    }
}

async fn run_command(args: Args) -> Result<i32, Error> {
    let stdout = &mut std::io::stdout();
    match args.command {
        Some(Command::Completions { shell }) => {
            cli::completions(shell, stdout);
            Ok(0)
        }
        Some(Command::Config {
            action: ConfigAction::Check,
        }) => {
            let settings = load_settings(args.config.as_deref())?;
            cli::config_check(&settings, stdout).await
        }
        Some(Command::Ls(ls)) => {
            let settings = warn(load_settings(args.config.as_deref())?);
            let sides = aws::connect(&settings).await?;
            let side = sides.get(Side::from(ls.side));
            cli::ls(side, ls.prefix.as_deref(), ls.recursive, stdout).await?;
            Ok(0)
        }
        Some(Command::Plan(plan)) => {
            let settings = warn(load_settings(args.config.as_deref())?);
            let sides = aws::connect(&settings).await?;
            cli::plan(
                &sides,
                &settings,
                plan.output.as_deref(),
                plan.summary,
                stdout,
            )
            .await?;
            Ok(0)
        }
        None => {
            // Everything that can fail before the UI starts fails here, on the normal screen.
            let settings = load_settings(args.config.as_deref())?;
            let sides = aws::connect(&settings).await?;
            airlock::tui::run(settings, sides).await
        }
        Some(Command::Run(_)) | Some(Command::Uploads { .. }) | Some(Command::Demo(_)) => {
            Err(Error::usage("this command is not built yet"))
        }
    }
}

/// Print config warnings to stderr for headless commands.
fn warn(settings: airlock::config::Settings) -> airlock::config::Settings {
    for warning in &settings.warnings {
        eprintln!("warning: {warning}");
        tracing::warn!("{warning}");
    }
    settings
}
