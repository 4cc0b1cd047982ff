//! `boucle-bench`: every figure of BENCHMARKS.md, each beside a baseline measured in the same
//! run on the same machine. `cargo run --release -p boucle-bench -- all --postgres URL`.

mod aggregate;
mod bare;
mod db;
mod export;
mod generate;
mod ingest;
mod layer;
mod load;
mod reads;
mod reports;
mod servers;

use std::time::Duration;

use clap::{Parser, Subcommand};

use db::Target;

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Also run on PostgreSQL, through this admin URL (databases are created beside it).
    #[arg(long, env = "BENCH_POSTGRES_URL", global = true)]
    postgres: Option<String>,
    /// Only PostgreSQL (with --postgres).
    #[arg(long, global = true)]
    postgres_only: bool,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 2026, global = true)]
    seed: u64,
}

#[derive(Subcommand)]
enum Command {
    /// SubmitFeedback throughput and latency against the bare server.
    Ingest {
        #[arg(long, value_delimiter = ',', default_value = "16,64,256")]
        streams: Vec<usize>,
        #[arg(long, default_value_t = 3)]
        warmup_seconds: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// SubmitFeedback with and without the access log and metrics, in alternated pairs.
    Observe {
        #[arg(long, default_value_t = 16)]
        streams: usize,
        #[arg(long, default_value_t = 4)]
        pairs: usize,
        #[arg(long, default_value_t = 2)]
        warmup_seconds: u64,
        #[arg(long, default_value_t = 8)]
        seconds: u64,
    },
    /// The observation layer alone: CPU per call with and without it, no network.
    Layer {
        #[arg(long, default_value_t = 200_000)]
        calls: u64,
        #[arg(long, default_value_t = 6)]
        rounds: usize,
    },
    /// A month's aggregation against the hand-written GROUP BY.
    Aggregate {
        #[arg(long, default_value_t = 10_000_000)]
        rows: u64,
        #[arg(long, default_value_t = 20_000)]
        locations: usize,
    },
    /// Every PDF of the month for the aggregation data set.
    Reports {
        #[arg(long, default_value_t = 10_000_000)]
        rows: u64,
        #[arg(long, default_value_t = 20_000)]
        locations: usize,
    },
    /// GetLocationResults, then SearchLocations, throughput against the bare server.
    Reads {
        #[arg(long, value_delimiter = ',', default_value = "64")]
        streams: Vec<usize>,
        /// Locations of the search data set; 0 skips the search.
        #[arg(long, default_value_t = 20_000)]
        search_locations: usize,
        #[arg(long, default_value_t = 3)]
        warmup_seconds: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// The open data of the aggregation data set's month, in a child process, for its
    /// peak memory and throughput.
    Export {
        #[arg(long, default_value_t = 1_220_000)]
        rows: u64,
        #[arg(long, default_value_t = 20_000)]
        locations: usize,
    },
    /// (internal) The export, in its own process for its peak memory.
    #[command(hide = true)]
    ExportChild {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        out: String,
        #[arg(long)]
        idle: bool,
    },
    /// (internal) The aggregation, in its own process for its peak memory.
    #[command(hide = true)]
    AggregateChild {
        #[arg(long)]
        database_url: String,
    },
}

impl Cli {
    fn targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        if !self.postgres_only {
            targets.push(Target::Sqlite);
        }
        if let Some(url) = &self.postgres {
            targets.push(Target::Postgres(url.clone()));
        }
        targets
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The server logs every call as in production (JSON, info), into a sink: its cost counts.
    tracing_subscriber::fmt()
        .json()
        .with_env_filter("info")
        .with_writer(std::io::sink)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        match &cli.command {
            Command::Ingest {
                streams,
                warmup_seconds,
                seconds,
            } => {
                let settings = ingest::Settings {
                    levels: streams.clone(),
                    warmup: Duration::from_secs(*warmup_seconds),
                    measure: Duration::from_secs(*seconds),
                    seed: cli.seed,
                };
                for target in cli.targets() {
                    let outcome = ingest::run(&target, &settings).await?;
                    print_ingest(&outcome);
                }
            }
            Command::Observe {
                streams,
                pairs,
                warmup_seconds,
                seconds,
            } => {
                let settings = ingest::Settings {
                    levels: vec![*streams],
                    warmup: Duration::from_secs(*warmup_seconds),
                    measure: Duration::from_secs(*seconds),
                    seed: cli.seed,
                };
                for target in cli.targets() {
                    let o = ingest::observation(&target, *streams, *pairs, &settings).await?;
                    print_observation(&o);
                }
            }
            Command::Layer { calls, rounds } => {
                let outcomes = layer::run(*calls, *rounds).await?;
                println!("\n### The observation layer alone, {calls} calls per round\n");
                println!("| round | CPU µs per call with | without | added µs |");
                println!("|---:|---:|---:|---:|");
                for (i, o) in outcomes.iter().enumerate() {
                    println!(
                        "| {} | {:.2} | {:.2} | **{:.2}** |",
                        i + 1,
                        o.with_us,
                        o.without_us,
                        o.with_us - o.without_us
                    );
                }
            }
            Command::Aggregate { rows, locations } => {
                for target in cli.targets() {
                    let o = aggregate::run(&target, *rows, *locations, cli.seed).await?;
                    print_aggregate(&o);
                }
            }
            Command::Reports { rows, locations } => {
                for target in cli.targets() {
                    let o = reports::run(&target, *rows, *locations, cli.seed).await?;
                    println!("\n### Reports — one month on {}\n", o.target);
                    println!("| reports | wall s | CPU s | reports/s | reports per CPU-second | mean KB | max KB |");
                    println!("|---:|---:|---:|---:|---:|---:|---:|");
                    println!(
                        "| {} | {:.1} | {:.1} | {:.0} | **{:.0}** | {:.1} | {:.1} |",
                        o.reports,
                        o.seconds,
                        o.cpu_seconds,
                        o.reports as f64 / o.seconds,
                        o.reports as f64 / o.cpu_seconds,
                        o.mean_kb,
                        o.max_kb
                    );
                }
            }
            Command::Reads {
                streams,
                search_locations,
                warmup_seconds,
                seconds,
            } => {
                let (warmup, measure) = (
                    Duration::from_secs(*warmup_seconds),
                    Duration::from_secs(*seconds),
                );
                for target in cli.targets() {
                    let o = reads::run(&target, streams, warmup, measure).await?;
                    print_reads(&o);
                    if *search_locations > 0 {
                        let o = reads::search(&target, *search_locations, streams, warmup, measure)
                            .await?;
                        println!(
                            "\n### Public search — SearchLocations on {} at {} locations ({} bytes per page of hits)\n",
                            o.target, o.locations, o.answer_bytes
                        );
                        print_levels(&o.levels);
                        let hits: Vec<String> = streams
                            .iter()
                            .zip(&o.cache_hits)
                            .map(|(s, h)| format!("{:.0} % at {s}", h * 100.0))
                            .collect();
                        println!("\nsearches answered from the cache: {}", hits.join(", "));
                    }
                }
            }
            Command::AggregateChild { database_url } => aggregate::child(database_url).await?,
            Command::Export { rows, locations } => {
                println!(
                    "\n### Open data — the month and its cumulated files\n\n| database | published experiences | bytes written | seconds | experiences/s | MB/s | peak RSS MB | idle RSS MB |\n|---|---:|---:|---:|---:|---:|---:|---:|"
                );
                for target in cli.targets() {
                    let o = export::run(&target, *rows, *locations, cli.seed).await?;
                    println!(
                        "| {} | {} | {} | {:.1} | {:.0} | {:.1} | {:.1} | {:.1} |",
                        o.target,
                        o.published,
                        o.bytes,
                        o.seconds,
                        o.published as f64 / o.seconds,
                        o.bytes as f64 / 1e6 / o.seconds,
                        o.peak_rss_mb,
                        o.idle_rss_mb
                    );
                }
            }
            Command::ExportChild {
                database_url,
                out,
                idle,
            } => export::child(database_url, out, *idle).await?,
        }
        Ok(())
    })
}

fn print_observation(o: &ingest::Observation) {
    println!(
        "\n### Observation — SubmitFeedback on {}, {} streams, with / without access log and metrics\n",
        o.target, o.streams
    );
    println!(
        "| pair | calls/s on | calls/s off | ratio | server CPU µs/call on | off | ratio | process CPU µs/call on | off | ratio | errors on/off |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (i, (on, off)) in o.pairs.iter().enumerate() {
        println!(
            "| {} | {:.0} | {:.0} | {:.2} | {:.0} | {:.0} | **{:.3}** | {:.0} | {:.0} | {:.3} | {}/{} |",
            i + 1,
            on.per_second(),
            off.per_second(),
            on.per_second() / off.per_second(),
            on.server_cpu_us_per_call(),
            off.server_cpu_us_per_call(),
            on.server_cpu_us_per_call() / off.server_cpu_us_per_call(),
            on.cpu_us_per_call(),
            off.cpu_us_per_call(),
            on.cpu_us_per_call() / off.cpu_us_per_call(),
            on.errors,
            off.errors
        );
    }
}

fn print_aggregate(o: &aggregate::Outcome) {
    println!("\n### Aggregation — one month on {}\n", o.target);
    if let Some(g) = o.generated_in {
        println!("(data generated in {:.0} s)\n", g.as_secs_f64());
    }
    println!(
        "| experiences | locations | hand GROUP BY s | boucle aggregation s | ratio | boucle peak RSS MB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {:.2} | {:.2} | **{:.2}** | {:.0} |",
        o.rows,
        o.locations,
        o.baseline.as_secs_f64(),
        o.boucle.as_secs_f64(),
        o.boucle.as_secs_f64() / o.baseline.as_secs_f64(),
        o.peak_rss_mb
    );
}

fn print_ingest(o: &ingest::Outcome) {
    println!("\n### Ingest — SubmitFeedback on {}\n", o.target);
    print_levels(&o.levels);
    println!(
        "\nacknowledged submissions: {}, rows stored: {} ({})",
        o.acknowledged,
        o.stored,
        if o.stored == o.acknowledged {
            "all stored, none twice"
        } else {
            "MISMATCH"
        }
    );
}

fn print_reads(o: &reads::Outcome) {
    println!(
        "\n### Public reads — GetLocationResults on {} ({} bytes per answer)\n",
        o.target, o.answer_bytes
    );
    print_levels(&o.levels);
}

/// One line per load level: boucle, the bare server, and their ratio; then what each cost
/// in CPU (the process's: load generator and server alike), which says whether a level was
/// bound by the two cores or by waiting.
fn print_levels(levels: &[(load::Measured, load::Measured)]) {
    println!(
        "| streams | boucle calls/s | p50 ms | p99 ms | errors | bare calls/s | bare p50 | bare p99 | ratio | boucle CPU µs/call | cores busy | bare CPU µs/call | cores busy |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (m, b) in levels {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {} | {:.0} | {:.2} | {:.2} | **{:.2}** | {:.0} | {:.2} | {:.0} | {:.2} |",
            m.streams,
            m.per_second(),
            m.p50_ms(),
            m.p99_ms(),
            m.errors,
            b.per_second(),
            b.p50_ms(),
            b.p99_ms(),
            m.per_second() / b.per_second(),
            m.cpu_us_per_call(),
            m.cores_busy(),
            b.cpu_us_per_call(),
            b.cores_busy(),
        );
        if let Some(e) = &m.first_error {
            println!("\nfirst boucle error at {} streams: {e}\n", m.streams);
        }
    }
}
