//! `boucle-jobs`: the monthly batch (aggregate → report → export → deliver) and its
//! scheduler. The commands are declared here so that `--help` shows the intended surface;
//! their behaviour arrives with the aggregation and reports issues, and until then each one
//! says so and exits with status 2 (so a scheduler never mistakes it for a success).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "boucle-jobs",
    version,
    about = "boucle batch jobs: monthly aggregation, PDF reports, open data, delivery"
)]
struct Cli {
    /// `sqlite://path?mode=rwc` or `postgres://…` (same as the server).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://boucle.db?mode=rwc",
        global = true
    )]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Aggregate → report → export → deliver for a period (`2026-10` or `previous`).
    Run {
        #[arg(long)]
        period: String,
    },
    /// Compute the monthly indicators of a period.
    Aggregate {
        #[arg(long)]
        period: String,
    },
    /// Render the PDF transparency reports of a period.
    Report {
        #[arg(long)]
        period: String,
    },
    /// Write the open-data CSV/JSON of a period.
    Export {
        #[arg(long)]
        period: String,
    },
    /// E-mail the reports of a period to their recipients.
    Deliver {
        #[arg(long)]
        period: String,
    },
    /// Run on a schedule (default: 1st of each month, 02:00 Europe/Paris).
    Daemon,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = &cli.database_url;
    eprintln!(
        "boucle-jobs {:?}: not available yet — the batch jobs arrive with the aggregation (#5) and reports (#6) issues.",
        cli.command
    );
    ExitCode::from(2)
}
