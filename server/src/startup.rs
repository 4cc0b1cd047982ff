//! Building and running the server. `Application::build` binds first (port 0 in tests) and
//! exposes the port; `run_until_stopped` serves until the shutdown future resolves, then
//! lets in-flight calls finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use boucle::pb::FILE_DESCRIPTOR_SET;
use boucle::pb::action_service_server::ActionServiceServer;
use boucle::pb::admin_service_server::AdminServiceServer;
use boucle::pb::feedback_service_server::FeedbackServiceServer;
use boucle::pb::indicator_service_server::IndicatorServiceServer;
use boucle::pb::location_service_server::LocationServiceServer;
use boucle::pb::results_service_server::ResultsServiceServer;
use boucle::store::{DatabaseSettings, Store};
use http::header::HeaderName;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::codec::CompressionEncoding;
use tonic::transport::Server;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::access::AccessLayer;
use crate::auth::Authenticator;
use crate::calls::CallLayer;
use crate::client_fault::ClientFaultLayer;
use crate::config::ServeArgs;
use crate::deadline::RequestDeadlineLayer;
use crate::health::Health;
use crate::overload::{Budgets, InFlightLimitLayer};
use crate::rate::{SubmitLimiter, VoteLimiter};
use crate::services::action::ActionApi;
use crate::services::admin::AdminApi;
use crate::services::feedback::FeedbackApi;
use crate::services::indicator::IndicatorApi;
use crate::services::location::LocationApi;
use crate::services::results::ResultsApi;
use crate::services::{AppState, State};
use crate::tls::Tls;
use boucle::domain::vote::VotePolicy;

/// Largest response message: import answers list one outcome per item.
const MAX_ENCODING_BYTES: usize = 16 * 1024 * 1024;
/// Upper bound on any single call, whatever deadline the client sets.
const SERVER_TIMEOUT: Duration = Duration::from_secs(120);
/// HTTP/2 flow-control windows. h2 closes a connection (ENHANCE_YOUR_CALM,
/// `too_many_data_frames`) when the framing overhead of the small DATA frames it holds
/// unread exceeds half the connection window. Clients that send one message per frame
/// (grpcio) import tiny items of ~35 bytes; each costs about 220 bytes of that budget. A
/// stream window of 128 KiB holds at most about 3,700 such frames (0.8 MB of overhead) even
/// when the server reads nothing; a connection window of 16 MiB gives a budget of 8 MiB, so
/// about ten such streams would have to stall on one connection at once. The imports also
/// read their stream ahead (`services::import`), so they do not stall. docs/decisions.md has
/// the figures.
const STREAM_WINDOW_BYTES: u32 = 128 * 1024;
const CONNECTION_WINDOW_BYTES: u32 = 16 * 1024 * 1024;
/// How long a pinged peer has to answer before its connection is dropped.
const HTTP2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Application {
    listener: TcpListener,
    tls: Option<Arc<Tls>>,
    metrics_listener: Option<TcpListener>,
    state: State,
    args: ServeArgs,
}

impl Application {
    /// Opens the database, applies migrations and binds the listener.
    pub async fn build(database: &DatabaseSettings, args: ServeArgs) -> anyhow::Result<Self> {
        args.check().map_err(anyhow::Error::msg)?;
        let store = Store::connect(database).await?;
        store.migrate().await?;
        Self::with_store(store, args).await
    }

    /// Binds the listener over an already migrated store.
    pub async fn with_store(store: Store, args: ServeArgs) -> anyhow::Result<Self> {
        args.check().map_err(anyhow::Error::msg)?;
        let tls = match args.tls_files() {
            Some(files) => Some(Arc::new(Tls::load(files).map_err(anyhow::Error::msg)?)),
            None => None,
        };
        let listener = TcpListener::bind(args.listen).await?;
        let metrics_listener = match args.metrics_listen {
            Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
                anyhow::anyhow!("cannot listen for metrics on {addr} (--metrics-listen): {e}")
            })?),
            None => None,
        };
        let state = Arc::new(AppState {
            auth: Arc::new(Authenticator::new(store.clone(), args.key_cache_ttl())),
            limiter: SubmitLimiter::new(args.submit_rate_per_second, args.submit_burst),
            votes: VoteLimiter::new(args.vote_rate_per_address, args.vote_rate_per_answer),
            vote_policy: VotePolicy::daily(args.votes_per_answer_per_address),
            trusted_proxies: args.trusted_proxies.clone(),
            timezone: args.timezone,
            max_import_items: args.max_import_items,
            public_cache: Default::default(),
            store,
        });
        Ok(Self {
            listener,
            tls,
            metrics_listener,
            state,
            args,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The metrics listener's address, when `--metrics-listen` was given.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Serves until `shutdown` resolves; then stops accepting calls, reports NOT_SERVING on
    /// health, and waits for in-flight calls to finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            tls,
            metrics_listener,
            state,
            args,
        } = self;
        let max_decoding = args.max_message_bytes;

        macro_rules! limited {
            ($server:expr) => {
                $server
                    .max_decoding_message_size(max_decoding)
                    .max_encoding_message_size(MAX_ENCODING_BYTES)
                    .accept_compressed(CompressionEncoding::Gzip)
                    .accept_compressed(CompressionEncoding::Zstd)
                    .send_compressed(CompressionEncoding::Gzip)
                    .send_compressed(CompressionEncoding::Zstd)
            };
        }

        let (reporter, health_service) = tonic_health::server::health_reporter();
        let health = Health::serving(reporter).await;
        let health_watch = tokio::spawn(
            health
                .clone()
                .watch(state.store.clone(), args.health_check_interval()),
        );

        // Both reflection versions: several clients (Python's among them) still only speak
        // v1alpha. The google.rpc error details (BadRequest, RetryInfo…) are served too, so
        // that grpcurl and other reflecting clients decode them without local proto files.
        let described = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(boucle::pb::WELL_KNOWN_DESCRIPTOR_SET)
        };
        let reflection_v1 = described().build_v1()?;
        let reflection_v1alpha = described().build_v1alpha()?;

        let cors = cors_layer(&args.cors_allow_origins);

        // Periodically forget the rate-limit state of idle keys.
        let limiter_state = state.clone();
        let housekeeping = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limiter_state.limiter.shrink();
                limiter_state.votes.shrink();
            }
        });

        let router = Server::builder()
            .accept_http1(true)
            .timeout(SERVER_TIMEOUT)
            // HTTP/2 defences of the kind nginx and envoy ship: a bound on a connection's
            // streams, pings that drop dead peers, and (h2's own) bounds on resets.
            .max_concurrent_streams(args.max_concurrent_streams)
            .http2_keepalive_interval(args.http2_keepalive())
            .http2_keepalive_timeout(Some(HTTP2_KEEPALIVE_TIMEOUT))
            .initial_stream_window_size(STREAM_WINDOW_BYTES)
            .initial_connection_window_size(CONNECTION_WINDOW_BYTES)
            .layer(tower::util::option_layer(cors))
            .layer(tonic_web::GrpcWebLayer::new())
            // Inside grpc-web, so every call is seen as native gRPC: its request id, span,
            // access line and metrics, refused and shed calls included.
            .layer(tower::util::option_layer(
                args.observe_calls.then_some(CallLayer),
            ))
            // Inside grpc-web, so its answers are rewritten before grpc-web encodes them.
            .layer(ClientFaultLayer)
            // Inside grpc-web, so a shed grpc-web call gets a grpc-web answer.
            .layer(InFlightLimitLayer::new(Budgets {
                authenticated: args.max_in_flight,
                keyless: args.max_keyless_in_flight,
                per_peer: args.max_in_flight_per_peer,
            }))
            .layer(RequestDeadlineLayer::new(args.request_message_timeout()))
            // Innermost: every call of the API is authorized here, by its method's rule,
            // before its handler runs.
            .layer(AccessLayer::new(state.auth.clone()))
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(limited!(LocationServiceServer::new(LocationApi {
                state: state.clone()
            })))
            .add_service(limited!(FeedbackServiceServer::new(FeedbackApi {
                state: state.clone()
            })))
            .add_service(limited!(ActionServiceServer::new(ActionApi {
                state: state.clone()
            })))
            .add_service(limited!(IndicatorServiceServer::new(IndicatorApi {
                state: state.clone()
            })))
            .add_service(limited!(ResultsServiceServer::new(ResultsApi {
                state: state.clone()
            })))
            .add_service(limited!(AdminServiceServer::new(AdminApi {
                state: state.clone()
            })));

        // The metrics listener stops once the API has drained, so the last scrape sees
        // the drain.
        let (metrics_stop, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
        let exporter = match metrics_listener {
            Some(metrics_listener) => {
                let addr = metrics_listener.local_addr()?;
                tracing::info!(%addr, "metrics listening on /metrics");
                let store = state.store.clone();
                Some(tokio::spawn(crate::exporter::serve(
                    metrics_listener,
                    store,
                    async move {
                        let _ = metrics_stopped.await;
                    },
                )))
            }
            None => None,
        };

        let addr = listener.local_addr()?;
        tracing::info!(%addr, timezone = %args.timezone, tls = tls.is_some(), mutual_tls = args.tls_client_ca.is_some(), "boucle-server listening");
        let drain_delay = args.drain_delay();
        let shutdown = async move {
            shutdown.await;
            // Health first, for every service: load balancers stop sending new calls while
            // the server still serves what they send during the delay; then the drain.
            health.drain().await;
            if !drain_delay.is_zero() {
                tracing::info!(
                    delay_seconds = drain_delay.as_secs(),
                    "shutdown requested: reporting NOT_SERVING before draining"
                );
                tokio::time::sleep(drain_delay).await;
            }
            tracing::info!("shutdown requested: draining in-flight calls");
        };
        let served = match tls {
            Some(tls) => {
                let watch = tokio::spawn(tls.clone().watch());
                let served = router
                    .serve_with_incoming_shutdown(crate::tls::incoming(listener, tls), shutdown)
                    .await;
                watch.abort();
                served
            }
            None => {
                router
                    .serve_with_incoming_shutdown(incoming(listener), shutdown)
                    .await
            }
        };
        housekeeping.abort();
        health_watch.abort();
        let _ = metrics_stop.send(());
        if let Some(exporter) = exporter {
            match exporter.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "metrics listener failed"),
                Err(e) => tracing::warn!(error = %e, "metrics listener panicked"),
            }
        }
        served?;
        tracing::info!("boucle-server stopped");
        Ok(())
    }
}

/// Accepted connections with Nagle's algorithm off. `serve_with_incoming` does not apply
/// `Server::tcp_nodelay` to streams it did not accept itself, and small gRPC frames held
/// back by Nagle meet the peer's delayed ACK: 40 ms added to some calls.
pub fn incoming(
    listener: TcpListener,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use futures::StreamExt;
    TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
}

/// CORS for grpc-web browsers: none by default (same-origin), a list of origins, or `*`.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let expose = [
        HeaderName::from_static("grpc-status"),
        HeaderName::from_static("grpc-message"),
        HeaderName::from_static("grpc-status-details-bin"),
        // A portal's script reads the call's id to quote it to support.
        HeaderName::from_static(crate::calls::REQUEST_ID),
    ];
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        // Every value was checked when the arguments were read (`config::origin`).
        AllowOrigin::list(origins.iter().filter_map(|o| o.parse().ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_headers(Any)
            .allow_methods([http::Method::POST, http::Method::OPTIONS])
            .expose_headers(expose)
            .max_age(Duration::from_secs(24 * 3600)),
    )
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
