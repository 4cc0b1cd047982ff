//! `boucle-jobs`: the monthly batch and its scheduler.
//!
//! Exit codes: 0 done; 1 failed; 2 bad usage; 75 (EX_TEMPFAIL) another
//! worker holds the period — retry later.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use boucle::domain::Period;
use boucle::store::locations::LocationKey;
use boucle::store::{DatabaseSettings, Store};
use boucle::telemetry::{self, LogFormat};
use boucle_jobs::deliver::{TlsMode, Transport};
use boucle_jobs::pipeline::Step;
use boucle_jobs::pipeline::{self, Options};
use boucle_jobs::retry::{Backoff, Retry};
use boucle_jobs::{EXIT_BUSY, JobError, daemon, lease, schedule};
use chrono_tz::Tz;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "boucle-jobs",
    version,
    about = "boucle batch jobs: monthly aggregation, open data, reports, delivery"
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
    /// Time zone of reporting periods.
    #[arg(
        long,
        env = "BOUCLE_TIMEZONE",
        default_value = "Europe/Paris",
        global = true
    )]
    timezone: Tz,
    /// Folder of the published files (open data, reports).
    #[arg(long, env = "BOUCLE_OUT", default_value = "out", global = true)]
    out: PathBuf,
    /// The public address the `--out` folder is served from (e.g.
    /// `https://data.example.gouv.fr/boucle/`): the open-data catalogue then gives absolute
    /// download addresses, which data.gouv.fr needs to harvest it. Without it they are
    /// relative to the catalogue.
    #[arg(long, env = "BOUCLE_OPEN_DATA_BASE_URL", value_parser = boucle_jobs::open_data::catalogue::base_url, global = true)]
    open_data_base_url: Option<url::Url>,
    /// SMTP relay host; without it, messages are written as .eml files to `<out>/outbox`.
    #[arg(long, env = "BOUCLE_SMTP_HOST", global = true)]
    smtp_host: Option<String>,
    #[arg(long, env = "BOUCLE_SMTP_PORT", default_value_t = 587, global = true)]
    smtp_port: u16,
    #[arg(
        long,
        env = "BOUCLE_SMTP_TLS",
        value_enum,
        default_value = "starttls",
        global = true
    )]
    smtp_tls: TlsMode,
    #[arg(long, env = "BOUCLE_SMTP_USER", global = true)]
    smtp_user: Option<String>,
    /// Read from the environment only, so that it never shows in `ps`.
    #[arg(
        long,
        env = "BOUCLE_SMTP_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    smtp_password: Option<String>,
    /// Sender of the report e-mails.
    #[arg(
        long,
        env = "BOUCLE_MAIL_FROM",
        default_value = "boucle <noreply@localhost>",
        global = true
    )]
    mail_from: String,
    /// How long a period stays taken after its worker died without releasing it (the lease
    /// is renewed every third of this while the worker lives).
    #[arg(
        long,
        env = "BOUCLE_LEASE_SECONDS",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(3..),
        global = true
    )]
    lease_seconds: u64,
    /// First wait before retrying a delivery whose relay or database failed, within the
    /// run (then doubling: five attempts in all).
    #[arg(
        long,
        env = "BOUCLE_DELIVER_RETRY_SECONDS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    deliver_retry_seconds: u64,
    /// Attempts at the delivery within one run (1: no retry within the run).
    #[arg(
        long,
        env = "BOUCLE_DELIVER_ATTEMPTS",
        default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..=20),
        global = true
    )]
    deliver_attempts: u32,
    /// The daemon's first wait before retrying a failed period (then doubling, up to
    /// `--retry-max-seconds`), rather than waiting for the next monthly run.
    #[arg(
        long,
        env = "BOUCLE_RETRY_SECONDS",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    retry_seconds: u64,
    /// The longest wait between two attempts at a failed period.
    #[arg(
        long,
        env = "BOUCLE_RETRY_MAX_SECONDS",
        default_value_t = 6 * 3600,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    retry_max_seconds: u64,
    /// Write the jobs' metrics to this file after each step, for node_exporter's textfile
    /// collector (a `.prom` file in its folder).
    #[arg(long, env = "BOUCLE_METRICS_TEXTFILE", global = true)]
    metrics_textfile: Option<PathBuf>,
    /// `auto` (text on a terminal, JSON otherwise), `text` or `json`.
    #[arg(long, env = "BOUCLE_LOG_FORMAT", default_value = "auto", global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Debug)]
struct Target {
    /// `YYYY-MM`, or `previous` for the last complete month.
    #[arg(long)]
    period: String,
    /// Restrict to the subtree of this location code.
    #[arg(long)]
    location: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Aggregate → report → export → deliver for a period.
    Run(Target),
    /// Compute the monthly indicators of a period.
    Aggregate(Target),
    /// Write the open data of a period: résultats, expériences, structures (CSV, CSV for
    /// spreadsheets, JSON), their schemas and the DCAT catalogue.
    Export(Target),
    /// Render the PDF transparency reports of a period (and their manifest).
    Report(Target),
    /// E-mail the reports of a period to their recipients (or write .eml files).
    Deliver(Target),
    /// List the messages a stopped run may have handed to the SMTP relay: never resent
    /// automatically, they wait for `settle`.
    Uncertain,
    /// Settle an uncertain message once the relay's log says whether it left: `--sent`
    /// records it as delivered, `--not-sent` lets the next delivery send it.
    Settle {
        /// Its Message-ID, as `uncertain` lists it (angle brackets optional).
        message_id: String,
        /// The relay accepted it.
        #[arg(
            long,
            conflicts_with = "not_sent",
            required_unless_present = "not_sent"
        )]
        sent: bool,
        /// The relay never accepted it.
        #[arg(long)]
        not_sent: bool,
    },
    /// Run on a schedule; catch up missed periods at start; stop cleanly on SIGTERM.
    Daemon {
        /// Cron expression, evaluated in the reporting time zone.
        #[arg(long, env = "BOUCLE_SCHEDULE", default_value = schedule::DEFAULT_SCHEDULE)]
        schedule: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(JobError::Busy(period)) => {
            tracing::warn!(%period, "another worker holds the period; nothing done");
            eprintln!("period {period} is being processed by another worker; retry later");
            ExitCode::from(EXIT_BUSY)
        }
        Err(JobError::LeaseLost(period)) => {
            eprintln!("period {period} was taken over by another worker; this run stopped");
            ExitCode::from(EXIT_BUSY)
        }
        Err(JobError::Interrupted(why)) => {
            eprintln!("{why}");
            ExitCode::from(2)
        }
        Err(e) => {
            // The operator's log: a database error's cause too (the server keeps it from
            // clients; here the reader is whoever runs the jobs).
            let cause = match &e {
                JobError::Store(boucle::Error::Database(cause)) => cause.as_str(),
                _ => "",
            };
            tracing::error!(error = %e, cause, "boucle-jobs failed");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_period(text: &str, tz: Tz) -> Result<Period, JobError> {
    if text == "previous" {
        return Ok(schedule::previous_period(boucle::store::now_ms(), tz));
    }
    text.parse()
        .map_err(|e| JobError::Interrupted(format!("--period {text}: {e}")))
}

/// A progress bar on a terminal; nothing otherwise (the structured logs say what happens).
fn progress_bar(label: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(0),
        if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {elapsed}") {
        bar.set_style(style);
    }
    bar.set_message(label.to_owned());
    bar
}

async fn options(store: &Store, cli: &Cli, location: Option<&str>) -> Result<Options, JobError> {
    let root = match location {
        Some(code) => {
            let view = boucle::app::locations::find(store, &LocationKey::Code(code.to_owned()))
                .await
                .map_err(|_| {
                    JobError::Interrupted(format!("--location {code}: no such location"))
                })?;
            Some((view.location.id, view.location.code))
        }
        None => None,
    };
    let transport = match &cli.smtp_host {
        Some(host) => {
            boucle_jobs::deliver::check_sender(&cli.mail_from).map_err(JobError::Interrupted)?;
            Transport::Smtp {
                host: host.clone(),
                port: cli.smtp_port,
                tls: cli.smtp_tls,
                credentials: cli.smtp_user.clone().zip(cli.smtp_password.clone()),
            }
        }
        None => Transport::Outbox(cli.out.join("outbox")),
    };
    Ok(Options {
        tz: cli.timezone,
        root,
        out_dir: cli.out.clone(),
        open_data_base_url: cli.open_data_base_url.clone(),
        holder: lease::worker_id(),
        lease_ttl: std::time::Duration::from_secs(cli.lease_seconds),
        transport,
        mail_from: cli.mail_from.clone(),
        retry: Retry::within_run(
            std::time::Duration::from_secs(cli.deliver_retry_seconds),
            cli.deliver_attempts,
        ),
        metrics_file: cli.metrics_textfile.clone(),
    })
}

async fn run(cli: Cli) -> Result<(), JobError> {
    let settings = DatabaseSettings::new(cli.database_url.clone());
    // The jobs work on the server's database; on SQLite, connecting would create an empty
    // file and report "0 locations aggregated" as if all were well.
    if let Some(file) = settings.sqlite_file()
        && !file.exists()
    {
        return Err(JobError::Store(boucle::Error::FailedPrecondition(format!(
            "no database at {}: boucle-jobs works on the server's database; pass its \
             --database-url (or start boucle-server, or run `boucle-server migrate`, first)",
            file.display()
        ))));
    }
    let store = Store::connect(&settings).await?;
    store.migrate().await.map_err(boucle::Error::from)?;
    match &cli.command {
        Command::Aggregate(target) | Command::Run(target) => {
            let period = parse_period(&target.period, cli.timezone)?;
            let opts = options(&store, &cli, target.location.as_deref()).await?;
            if matches!(cli.command, Command::Run(_)) {
                // A bar per step, named by it (a new bar, so a frame never shows the next
                // step's start under the last one's name); a finished step leaves a line.
                let mut current: Option<(Step, ProgressBar)> = None;
                let mut progress = |step: Step, done: u64, total: u64| {
                    if current.as_ref().is_none_or(|(s, _)| *s != step) {
                        if let Some((finished, bar)) = current.take() {
                            bar.println(format!("{period} {}: done", finished.label()));
                            bar.finish_and_clear();
                        }
                        current = Some((step, progress_bar(&format!("{period} {}", step.label()))));
                    }
                    if let Some((_, bar)) = &current {
                        bar.set_length(total);
                        bar.set_position(done.max(bar.position()));
                    }
                    Ok(())
                };
                let s = pipeline::run_period(&store, period, &opts, &mut progress).await?;
                if let Some((finished, bar)) = current.take() {
                    bar.println(format!("{period} {}: done", finished.label()));
                    bar.finish_and_clear();
                }
                tracing::info!(%period, locations = s.aggregate.locations, reports = s.reports.written, messages = s.delivery.messages, "period run");
                println!(
                    "{period}: {} locations aggregated, {} figures",
                    s.aggregate.locations, s.aggregate.rows
                );
                println!(
                    "reports: {} written, {} unchanged ({})",
                    s.reports.written,
                    s.reports.unchanged,
                    s.reports.manifest.display()
                );
                let files: Vec<String> = s.files.iter().map(|f| f.display().to_string()).collect();
                println!("open data: {}", files.join(", "));
                println!(
                    "delivery: {} messages, {} attachments, {} recipients up to date, {} uncertain",
                    s.delivery.messages,
                    s.delivery.attachments,
                    s.delivery.up_to_date,
                    s.delivery.uncertain
                );
            } else {
                let bar = progress_bar(&format!("{period} aggregate"));
                let mut progress = |done: u64, total: u64| {
                    bar.set_length(total);
                    bar.set_position(done.max(bar.position()));
                    Ok(())
                };
                let summary =
                    pipeline::aggregate_period(&store, period, &opts, &mut progress).await?;
                bar.finish_and_clear();
                tracing::info!(%period, locations = summary.locations, rows = summary.rows, "period aggregated");
                println!(
                    "{period}: {} locations aggregated, {} figures",
                    summary.locations, summary.rows
                );
            }
            Ok(())
        }
        Command::Export(target) => {
            let period = parse_period(&target.period, cli.timezone)?;
            let opts = options(&store, &cli, target.location.as_deref()).await?;
            let exported = pipeline::export_period(&store, period, &opts).await?;
            for (file, rows) in &exported.rows {
                tracing::info!(%period, file, rows, "open data written");
            }
            for file in &exported.files {
                println!("{}", file.path.display());
            }
            Ok(())
        }
        Command::Report(target) => {
            let period = parse_period(&target.period, cli.timezone)?;
            let opts = options(&store, &cli, target.location.as_deref()).await?;
            let bar = progress_bar(&format!("{period} reports"));
            let mut progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done.max(bar.position()));
                Ok(())
            };
            let s = pipeline::report_period(&store, period, &opts, &mut progress).await?;
            bar.finish_and_clear();
            println!(
                "{period}: {} reports written, {} unchanged; manifest {}",
                s.written,
                s.unchanged,
                s.manifest.display()
            );
            Ok(())
        }
        Command::Deliver(target) => {
            let period = parse_period(&target.period, cli.timezone)?;
            let opts = options(&store, &cli, target.location.as_deref()).await?;
            let s = pipeline::deliver_period(&store, period, &opts).await?;
            println!(
                "{period}: {} messages, {} attachments, {} recipients up to date, {} uncertain",
                s.messages, s.attachments, s.up_to_date, s.uncertain
            );
            Ok(())
        }
        Command::Uncertain => {
            let messages = store.pending_messages().await?;
            if messages.is_empty() {
                println!("no uncertain message");
            }
            for m in messages {
                let since = chrono::DateTime::from_timestamp_millis(m.since_ms)
                    .map(|t| t.with_timezone(&cli.timezone).to_rfc3339())
                    .unwrap_or_default();
                println!(
                    "<{}>\t{}\t{}\t{} reports\tsince {since}",
                    m.message_id, m.period, m.recipient, m.reports
                );
            }
            Ok(())
        }
        Command::Settle {
            message_id,
            sent,
            not_sent: _,
        } => {
            let opts = options(&store, &cli, None).await?;
            let (message, period) =
                pipeline::settle_uncertain(&store, &opts, message_id, *sent).await?;
            let id = &message.message_id;
            if *sent {
                println!("<{id}> recorded as sent ({} reports)", message.reports);
            } else {
                println!("<{id}> forgotten: the next delivery of {period} sends it");
            }
            Ok(())
        }
        Command::Daemon {
            schedule: expression,
        } => {
            let cron = schedule::parse(expression).map_err(JobError::Interrupted)?;
            let opts = options(&store, &cli, None).await?;
            let retry = Backoff {
                first: std::time::Duration::from_secs(cli.retry_seconds),
                max: std::time::Duration::from_secs(cli.retry_max_seconds.max(cli.retry_seconds)),
            };
            daemon::daemon(&store, &cron, &opts, retry, shutdown_signal()).await
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
