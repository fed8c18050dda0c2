//! `weft validate`: every problem in a project, rendered like cargo's errors.

use crate::App;
use crate::project::{LoadError, Project};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub project: super::ProjectArg,
    /// Print diagnostics as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: Args, app: &App) -> anyhow::Result<i32> {
    let root = &args.project.project;
    let (diags, summary) = match Project::load(root, app) {
        Ok((project, diags)) => {
            let summary = format!("{} workflow version(s) OK", project.workflows.len());
            (diags, Some(summary))
        }
        Err(LoadError { diagnostics }) => (diagnostics, None),
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&diags.iter().collect::<Vec<_>>())?
        );
    } else {
        print!("{}", diags.render(root));
        let (e, w) = (diags.error_count(), diags.warning_count());
        match summary {
            Some(s) if w == 0 => println!("{s}"),
            Some(s) => println!("{s}, {w} warning(s)"),
            None => println!("{e} error(s), {w} warning(s)"),
        }
    }
    Ok(if diags.has_errors() { 1 } else { 0 })
}
