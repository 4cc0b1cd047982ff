//! Server settings, from flags or environment variables. Every default works with no
//! configuration at all: SQLite file in the working directory, 127.0.0.1:50051.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use boucle::store::DatabaseSettings;
use boucle::telemetry::LogFormat;
use chrono_tz::Tz;

/// Where the data lives (shared by every subcommand).
#[derive(Clone, Debug, clap::Args)]
pub struct DatabaseArgs {
    /// `sqlite://path?mode=rwc` (embedded default) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://boucle.db?mode=rwc",
        global = true
    )]
    pub database_url: String,
    /// Connections in the pool.
    #[arg(long, env = "BOUCLE_DB_POOL", default_value_t = 8, global = true)]
    pub db_pool: u32,
}

impl DatabaseArgs {
    pub fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: self.database_url.clone(),
            max_connections: self.db_pool,
        }
    }
}

/// How the server listens and what it allows. Every setting is global: it may be given
/// before or after the subcommand (`boucle-server --listen … serve`, `serve --listen …`).
#[derive(Clone, Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(
        long,
        env = "BOUCLE_LISTEN",
        default_value = "127.0.0.1:50051",
        global = true
    )]
    pub listen: SocketAddr,
    /// Time zone of reporting periods (calendar months).
    #[arg(
        long,
        env = "BOUCLE_TIMEZONE",
        default_value = "Europe/Paris",
        global = true
    )]
    pub timezone: Tz,
    /// Largest accepted request message, in bytes.
    #[arg(long, env = "BOUCLE_MAX_MESSAGE_BYTES", default_value_t = 1024 * 1024, global = true)]
    pub max_message_bytes: usize,
    /// Most items accepted in one ImportFeedback or ImportLocations call.
    #[arg(
        long,
        env = "BOUCLE_MAX_IMPORT_ITEMS",
        default_value_t = 10_000,
        global = true
    )]
    pub max_import_items: usize,
    /// Sustained SubmitFeedback calls per second allowed per API key (0 = unlimited).
    #[arg(long, env = "BOUCLE_SUBMIT_RATE", default_value_t = 100, global = true)]
    pub submit_rate_per_second: u32,
    /// Burst of SubmitFeedback calls allowed per API key above the sustained rate.
    #[arg(
        long,
        env = "BOUCLE_SUBMIT_BURST",
        default_value_t = 500,
        global = true
    )]
    pub submit_burst: u32,
    /// Most calls in flight at once across all services (0 = no limit). Beyond it calls are
    /// answered UNAVAILABLE at once (load shedding) instead of queueing without bound;
    /// health and reflection are exempt.
    #[arg(
        long,
        env = "BOUCLE_MAX_IN_FLIGHT",
        default_value_t = 1024,
        global = true
    )]
    pub max_in_flight: usize,
    /// Most calls without an API key in flight at once (the public ResultsService), a budget
    /// of their own: anonymous traffic can never starve capture (0 = no limit).
    #[arg(
        long,
        env = "BOUCLE_MAX_KEYLESS_IN_FLIGHT",
        default_value_t = 256,
        global = true
    )]
    pub max_keyless_in_flight: usize,
    /// Most calls in flight from one peer address, keyed or not (RESOURCE_EXHAUSTED beyond
    /// it; 0 = no limit). Behind a proxy every call has the proxy's address: set 0 there and
    /// limit per client in the proxy.
    #[arg(
        long,
        env = "BOUCLE_MAX_IN_FLIGHT_PER_PEER",
        default_value_t = 512,
        global = true
    )]
    pub max_in_flight_per_peer: usize,
    /// Most concurrent HTTP/2 streams per connection, advertised to clients; a client that
    /// opens more has them refused.
    #[arg(
        long,
        env = "BOUCLE_MAX_CONCURRENT_STREAMS",
        default_value_t = 128,
        global = true
    )]
    pub max_concurrent_streams: u32,
    /// Seconds the server waits for each frame of a request message once it asks for it; a
    /// stream whose message does not come is ended with DEADLINE_EXCEEDED (0 = wait forever).
    #[arg(
        long,
        env = "BOUCLE_REQUEST_MESSAGE_TIMEOUT_SECONDS",
        default_value_t = 10,
        global = true
    )]
    pub request_message_timeout_seconds: u64,
    /// Seconds between HTTP/2 pings to an idle connection; a peer that does not answer
    /// within 10 s is dropped (0 = no pings).
    #[arg(
        long,
        env = "BOUCLE_HTTP2_KEEPALIVE_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub http2_keepalive_seconds: u64,
    /// Votes (VoteResponseUseful) per minute from one voter address, across answers.
    #[arg(
        long,
        env = "BOUCLE_VOTE_RATE_PER_ADDRESS",
        default_value_t = 20,
        global = true
    )]
    pub vote_rate_per_address: u32,
    /// Votes per minute on one answer, from every address (0 = no limit).
    #[arg(
        long,
        env = "BOUCLE_VOTE_RATE_PER_ANSWER",
        default_value_t = 300,
        global = true
    )]
    pub vote_rate_per_answer: u32,
    /// Votes one address may cast on one answer per day, whatever voter tokens it sends
    /// (replacing one's own vote does not count). Counted in the database: holds across
    /// replicas.
    #[arg(
        long,
        env = "BOUCLE_VOTES_PER_ANSWER_PER_ADDRESS",
        default_value_t = 3,
        global = true
    )]
    pub votes_per_answer_per_address: u64,
    /// Proxies (addresses or CIDR ranges, repeatable) whose `x-forwarded-for` names the voter's
    /// address. A portal that relays its visitors' votes must be listed here and send the
    /// visitor's address, or all its votes count as one address.
    #[arg(
        long = "trusted-proxy",
        env = "BOUCLE_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a verified API key is trusted before it is read again from the database:
    /// a revocation made on another replica takes effect within this delay.
    #[arg(
        long,
        env = "BOUCLE_KEY_CACHE_SECONDS",
        default_value_t = 5,
        global = true
    )]
    pub key_cache_seconds: u64,
    /// Browser origins allowed to call the server with grpc-web (repeatable; `*` for any,
    /// for development only). None: no CORS headers, same-origin only.
    #[arg(
        long = "cors-allow-origin",
        env = "BOUCLE_CORS_ALLOW_ORIGINS",
        value_delimiter = ',',
        value_parser = origin,
        global = true
    )]
    pub cors_allow_origins: Vec<String>,
    /// On SIGTERM, how long health reports NOT_SERVING while calls are still served, before
    /// the drain: a load balancer's health interval times its failure threshold. 0 drains
    /// at once.
    #[arg(
        long,
        env = "BOUCLE_DRAIN_DELAY_SECONDS",
        default_value_t = 0,
        global = true
    )]
    pub drain_delay_seconds: u64,
    /// Serve TLS with this certificate chain (PEM), with `--tls-key`. Reloaded on SIGHUP
    /// and when the file changes.
    #[arg(long, env = "BOUCLE_TLS_CERT", requires = "tls_key", global = true)]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1) of `--tls-cert`.
    #[arg(long, env = "BOUCLE_TLS_KEY", requires = "tls_cert", global = true)]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by one of these CAs (PEM): mutual TLS.
    #[arg(
        long,
        env = "BOUCLE_TLS_CLIENT_CA",
        requires = "tls_cert",
        global = true
    )]
    pub tls_client_ca: Option<PathBuf>,
    /// How often the database is pinged; health reports NOT_SERVING while it does not
    /// answer.
    #[arg(
        long,
        env = "BOUCLE_HEALTH_CHECK_SECONDS",
        default_value_t = 5,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        global = true
    )]
    pub health_check_seconds: u64,
    /// Export every call's span as an OpenTelemetry trace to this OTLP/gRPC collector
    /// (`http://collector:4317`). Off by default.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,
    /// Serve Prometheus metrics (`GET /metrics`, OpenMetrics text) on this address, apart
    /// from the API: give it to the monitoring network only. Off by default.
    #[arg(long, env = "BOUCLE_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,
    /// Whether every call gets its request id, access line and metrics (see
    /// `crate::calls`). Always on from the command line; off only for the benchmark that
    /// measures what they cost.
    #[arg(skip = true)]
    pub observe_calls: bool,
    /// Seed the demo data set (if absent) and print a demo ADMIN key.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Folder of the published files (PDF reports, open data, the outbox) that the demo's
    /// monthly runs write, as `boucle-jobs --out`.
    #[arg(long, env = "BOUCLE_OUT", default_value = "out", global = true)]
    pub out: PathBuf,
    /// `auto` (text on a terminal, JSON otherwise), `text` or `json`.
    #[arg(long, env = "BOUCLE_LOG_FORMAT", default_value = "auto", global = true)]
    pub log_format: LogFormat,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            timezone: chrono_tz::Europe::Paris,
            max_message_bytes: 1024 * 1024,
            max_import_items: 10_000,
            submit_rate_per_second: 100,
            submit_burst: 500,
            max_in_flight: 1024,
            max_keyless_in_flight: 256,
            max_in_flight_per_peer: 512,
            max_concurrent_streams: 128,
            request_message_timeout_seconds: 10,
            http2_keepalive_seconds: 30,
            key_cache_seconds: 5,
            vote_rate_per_address: 20,
            vote_rate_per_answer: 300,
            votes_per_answer_per_address: 3,
            trusted_proxies: Vec::new(),
            cors_allow_origins: Vec::new(),
            drain_delay_seconds: 0,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            health_check_seconds: 5,
            metrics_listen: None,
            otlp_endpoint: None,
            observe_calls: true,
            demo: false,
            out: PathBuf::from("out"),
            log_format: LogFormat::Auto,
        }
    }
}

impl ServeArgs {
    /// What clap cannot check value by value; before anything is opened or bound.
    pub fn check(&self) -> Result<(), String> {
        check_origins(&self.cors_allow_origins)?;
        if self.tls_cert.is_some() != self.tls_key.is_some()
            || (self.tls_client_ca.is_some() && self.tls_cert.is_none())
        {
            return Err(
                "TLS needs both --tls-cert and --tls-key (and them for --tls-client-ca)".into(),
            );
        }
        Ok(())
    }

    pub fn drain_delay(&self) -> Duration {
        Duration::from_secs(self.drain_delay_seconds)
    }

    /// The TLS files, when TLS is asked for.
    pub fn tls_files(&self) -> Option<crate::tls::TlsFiles> {
        Some(crate::tls::TlsFiles {
            cert: self.tls_cert.clone()?,
            key: self.tls_key.clone()?,
            client_ca: self.tls_client_ca.clone(),
        })
    }

    pub fn health_check_interval(&self) -> Duration {
        Duration::from_secs(self.health_check_seconds.max(1))
    }

    pub fn key_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.key_cache_seconds)
    }

    pub fn request_message_timeout(&self) -> Option<Duration> {
        (self.request_message_timeout_seconds > 0)
            .then(|| Duration::from_secs(self.request_message_timeout_seconds))
    }

    pub fn http2_keepalive(&self) -> Option<Duration> {
        (self.http2_keepalive_seconds > 0)
            .then(|| Duration::from_secs(self.http2_keepalive_seconds))
    }
}

/// A browser origin as browsers send it in `Origin`: `http(s)://host[:port]` and nothing
/// after, or `*`. A value that can never match (a trailing `/`, a path, another scheme) is
/// refused at startup with the reason: silently ignored, it made the browser portal fail
/// with a CORS error far from its cause. Scheme and host are compared lower-case, as
/// browsers send them.
pub fn origin(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value == "*" {
        return Ok(value.to_owned());
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return Err(format!(
            "{value:?} is not an origin: expected http(s)://host[:port], or *"
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(format!("{value:?}: the scheme must be https or http"));
    }
    if rest.is_empty() {
        return Err(format!("{value:?}: the host is missing"));
    }
    if let Some(at) = rest.find(['/', '?', '#']) {
        let what = if &rest[at..] == "/" {
            "remove the trailing /".to_owned()
        } else {
            format!(
                "an origin has no path, query or fragment ({:?})",
                &rest[at..]
            )
        };
        return Err(format!("{value:?}: {what}"));
    }
    if rest.contains('@') {
        return Err(format!("{value:?}: an origin has no user name"));
    }
    // Browsers send an internationalised host in its ASCII (punycode) form:
    // `https://mairie-évry.fr` arrives as `https://xn--mairie-vry-….fr`.
    let rest = if rest.is_ascii() {
        rest.to_ascii_lowercase()
    } else {
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => (host, Some(port)),
            _ => (rest, None),
        };
        let host = idna::domain_to_ascii(host)
            .map_err(|e| format!("{value:?}: the host is not a valid domain name ({e})"))?;
        match port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        }
    };
    let origin = format!("{scheme}://{rest}");
    let parsed: http::Uri = origin
        .parse()
        .map_err(|e| format!("{value:?} is not an origin: {e}"))?;
    if parsed.host().is_none_or(str::is_empty) {
        return Err(format!("{value:?}: the host is missing"));
    }
    http::HeaderValue::from_str(&origin)
        .map_err(|e| format!("{value:?} cannot be a header value: {e}"))?;
    Ok(origin)
}

/// `*` allows every origin; listed with others it would silently widen them all.
pub fn check_origins(origins: &[String]) -> Result<(), String> {
    if origins.len() > 1 && origins.iter().any(|o| o == "*") {
        return Err(
            "--cors-allow-origin: * allows every origin; list origins or give * alone".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_what_browsers_send() {
        assert_eq!(
            origin("https://portail.example.fr"),
            Ok("https://portail.example.fr".into())
        );
        assert_eq!(
            origin(" HTTPS://Portail.Example.fr:8443 "),
            Ok("https://portail.example.fr:8443".into())
        );
        assert_eq!(
            origin("http://localhost:5173"),
            Ok("http://localhost:5173".into())
        );
        assert_eq!(origin("*"), Ok("*".into()));
        // Typed on a French keyboard: the punycode form browsers send, case folded.
        let accented = origin("https://mairie-évry.fr").expect("an internationalised host");
        assert!(
            accented.is_ascii() && accented.starts_with("https://xn--"),
            "{accented}"
        );
        assert_eq!(
            origin("https://MAIRIE-ÉVRY.fr:8443"),
            Ok(format!("{accented}:8443"))
        );
    }

    #[test]
    fn an_origin_that_can_never_match_is_refused_with_its_reason() {
        let reason = |v: &str| origin(v).expect_err(v);
        assert!(reason("https://portail.example.fr/").contains("trailing /"));
        assert!(reason("https://portail.example.fr/resultats").contains("no path"));
        assert!(reason("portail.example.fr").contains("expected http(s)://host"));
        assert!(reason("ftp://portail.example.fr").contains("scheme"));
        assert!(reason("https://").contains("host is missing"));
        assert!(reason("https://moi@portail.example.fr").contains("user name"));
        assert!(reason("https://porta il.fr").contains("not an origin"));
        assert!(check_origins(&["*".into(), "https://a.fr".into()]).is_err());
        assert!(check_origins(&["*".into()]).is_ok());
    }
}
