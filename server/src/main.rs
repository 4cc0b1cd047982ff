//! `boucle-server`: serve the API, apply migrations, create keys, seed the demo.

use std::path::Path;
use std::process::ExitCode;

use boucle::domain::Role;
use boucle::store::Store;
use boucle::store::locations::LocationKey;
use boucle::telemetry;
use boucle_server::{Application, DatabaseArgs, ServeArgs, shutdown_signal};
use clap::{Parser, Subcommand, ValueEnum};
use secrecy::ExposeSecret;

#[derive(Parser)]
#[command(
    name = "boucle-server",
    version,
    about = "boucle: the feedback loop of public services (gRPC server)"
)]
struct Cli {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(subcommand)]
    command: Option<Command>,
    /// The server's settings (also read by `demo` and the log format of every command).
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gRPC API (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Seed the demo data set (if absent) and print a demo ADMIN key.
    Demo {
        /// Seed of the generator: the same seed and month give the same data.
        #[arg(long, default_value_t = boucle::demo::DEFAULT_SEED)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key and print its secret, once.
    Create {
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Code of the location whose subtree the key may see (default: everything).
        #[arg(long)]
        scope: Option<String>,
        #[arg(long, default_value = "Clé créée en ligne de commande")]
        name: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Collector,
    Agent,
    Validator,
    Moderator,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(value: RoleArg) -> Self {
        match value {
            RoleArg::Collector => Role::Collector,
            RoleArg::Agent => Role::Agent,
            RoleArg::Validator => Role::Validator,
            RoleArg::Moderator => Role::Moderator,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_format = cli.serve.log_format;
    let telemetry = match telemetry::init_with_traces(
        log_format,
        cli.serve.otlp_endpoint.as_deref(),
        "boucle-server",
    ) {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let code = match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "boucle-server failed");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    };
    telemetry.shutdown();
    code
}

async fn open(database: &DatabaseArgs) -> anyhow::Result<Store> {
    let store = Store::connect(&database.settings()).await?;
    store.migrate().await?;
    Ok(store)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli {
        database,
        command,
        serve,
    } = cli;
    match command {
        None | Some(Command::Serve) => serve_api(&database, serve).await,
        Some(Command::Migrate) => {
            open(&database).await?;
            println!("migrations applied");
            Ok(())
        }
        Some(Command::Keys(KeysCommand::Create { role, scope, name })) => {
            let store = open(&database).await?;
            let scope = match scope {
                Some(code) => Some(
                    boucle::app::locations::find(&store, &LocationKey::Code(code.clone()))
                        .await
                        .map_err(|_| anyhow::anyhow!("no location with code {code}"))?
                        .location
                        .id,
                ),
                None => None,
            };
            let (key, secret) =
                boucle::app::keys::create(&store, None, &name, role.into(), scope).await?;
            println!("{}", secret.secret.expose_secret());
            eprintln!(
                "API key {} ({}) created; the secret above is shown only once.",
                key.key.id, key.key.role
            );
            Ok(())
        }
        Some(Command::Demo { seed }) => {
            let store = open(&database).await?;
            demo(&store, seed, "127.0.0.1:50051", &serve.out).await
        }
    }
}

async fn serve_api(database: &DatabaseArgs, args: ServeArgs) -> anyhow::Result<()> {
    let demo_requested = args.demo;
    let out = args.out.clone();
    let app = Application::build(&database.settings(), args).await?;
    if demo_requested {
        let addr = app.local_addr()?.to_string();
        demo(app.store(), boucle::demo::DEFAULT_SEED, &addr, &out).await?;
    }
    app.run_until_stopped(shutdown_signal()).await
}

/// The demo data set, its improvement actions, measurements and recipients, then the
/// monthly runs of every complete month (aggregation, PDF reports and open data in `out`,
/// messages in `out/outbox`), so that results, trends and reports are there at once.
async fn demo(store: &Store, seed: u64, addr: &str, out: &Path) -> anyhow::Result<()> {
    let tz = chrono_tz::Europe::Paris;
    let now = boucle::store::now_ms();
    let summary = boucle::demo::seed(store, seed, tz, now).await?;
    if !summary.already_present {
        let work = boucle::demo::seed_work(store, seed, tz, now).await?;
        println!("{summary}");
        println!("{work}");
        let options = boucle_jobs::pipeline::Options {
            tz,
            root: None,
            out_dir: out.to_owned(),
            open_data_base_url: None,
            holder: boucle_jobs::lease::worker_id(),
            lease_ttl: std::time::Duration::from_secs(300),
            transport: boucle_jobs::deliver::Transport::Outbox(out.join("outbox")),
            mail_from: "Résultats Services Publics + <resultats@demo.boucle.test>".to_owned(),
            retry: boucle_jobs::retry::Retry::within_run(std::time::Duration::from_secs(1), 1),
            metrics_file: None,
        };
        let stop = std::sync::atomic::AtomicBool::new(false);
        let months = boucle_jobs::daemon::catch_up(store, &options, &stop)
            .await
            .map_err(|e| anyhow::anyhow!("demo monthly runs: {e}"))?;
        println!(
            "Demo results published: {} months aggregated, PDF reports and open data in {}, messages in {}.",
            months.done,
            out.display(),
            out.join("outbox").display()
        );
    } else {
        println!("{summary}");
    }
    let (_, secret) =
        boucle::app::keys::create(store, None, "Démo — administrateur", Role::Admin, None).await?;
    let key = secret.secret.expose_secret();
    println!();
    println!("Demo ADMIN key (shown once): {key}");
    println!();
    println!("Try it with grpcurl (the server answers reflection):");
    println!("  export BOUCLE_KEY={key}");
    println!("  grpcurl -plaintext {addr} list");
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $BOUCLE_KEY\" -d '{{\"roots_only\": true}}' {addr} boucle.v1.LocationService/ListLocations"
    );
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $BOUCLE_KEY\" -d '{{\"request_id\": \"essai-1\", \"feedback\": {{\"location_code\": \"CAF69-LYON-PARTDIEU\", \"channel\": \"CHANNEL_IN_PERSON\", \"satisfaction\": \"SATISFACTION_POSITIVE\", \"nps\": 9, \"story\": \"Accueil rapide, merci !\"}}}}' {addr} boucle.v1.FeedbackService/SubmitFeedback"
    );
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $BOUCLE_KEY\" -d '{{\"page_size\": 5}}' {addr} boucle.v1.FeedbackService/ListFeedback"
    );
    Ok(())
}
