//! The command line. This is the binary edge: `anyhow` is used here and nowhere below.
//!
//! `weft::cli::main(app)` is the whole `weft` binary, so programs that register their own nodes
//! through [`crate::App`] get the same commands.

mod run;
mod serve;
mod validate;
mod watch;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::App;
use crate::config::ProjectConfig;
use crate::project::LoadError;
use crate::spec::Diagnostics;
use crate::spec::interpolate::ProcessEnv;
use crate::versions::{Registry, StartError};

#[derive(Parser, Debug)]
#[command(name = "weft", version, about = "A declarative YAML workflow engine")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a project and print every problem (exit 1 when there are errors).
    Validate(validate::Args),
    /// Run one workflow locally and print its result.
    Run(run::Args),
    /// Serve every enabled workflow version over HTTP.
    Serve(serve::Args),
}

/// Common `--project` option.
#[derive(clap::Args, Debug, Clone)]
pub struct ProjectArg {
    /// The project directory.
    #[arg(long, short = 'p', env = "WEFT_PROJECT", default_value = ".")]
    pub project: PathBuf,
}

/// Runs the command line and returns the process exit code.
pub fn main(app: App) -> i32 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    init_logging(&cli.command);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 2;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Validate(args) => validate::run(args, &app).await,
            Command::Run(args) => run::run(args, app).await,
            Command::Serve(args) => serve::run(args, app).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    }
}

fn init_logging(command: &Command) {
    let default = match command {
        // rmcp logs whole URLs (query strings included) at error level; weft reports MCP
        // failures itself, cleaned. `WEFT_LOG=rmcp=debug` brings rmcp's logs back.
        Command::Validate(_) | Command::Run(_) => "warn,rmcp=off",
        Command::Serve(_) => "weft=info,warn,rmcp=off",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WEFT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

impl ProjectArg {
    /// The project's absolute root and its `weft.yaml`; `None` (problems printed) when the config
    /// has errors.
    fn open(&self) -> anyhow::Result<Option<(PathBuf, ProjectConfig)>> {
        use anyhow::Context as _;
        let root = self
            .project
            .canonicalize()
            .with_context(|| format!("project directory {}", self.project.display()))?;
        Ok(read_config(&root).map(|config| (root, config)))
    }
}

/// Writes to stdout, ignoring a closed pipe (`weft validate | head` must not panic).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}
pub(crate) use out;

/// [`out!`] with a newline.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
pub(crate) use outln;

/// Reads `weft.yaml` alone (the store's URL is needed before the project loads); prints its
/// problems and returns `None` when it has errors.
fn read_config(root: &Path) -> Option<ProjectConfig> {
    let mut diags = Diagnostics::default();
    let config = crate::spec::load::load_config(root, &ProcessEnv, &mut diags);
    if diags.has_errors() {
        eprint!("{}", diags.render(root));
        eprintln!("error: weft.yaml has errors");
        return None;
    }
    Some(config)
}

/// Connects the store, loads the project against it and opens the version registry. Prints
/// the project's problems and returns `None` when it has errors (nothing is served or run).
async fn open_registry(
    root: &Path,
    database_url: &str,
    app: App,
) -> anyhow::Result<Option<(Registry, App)>> {
    match Registry::start(root, database_url, app).await {
        Ok((registry, app, warnings)) => {
            if !warnings.is_empty() {
                eprint!("{}", warnings.render(root));
            }
            Ok(Some((registry, app)))
        }
        Err(StartError::Load(LoadError { diagnostics })) => {
            eprint!("{}", diagnostics.render(root));
            eprintln!(
                "error: the project has {} error(s); refusing to start",
                diagnostics.error_count()
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}
