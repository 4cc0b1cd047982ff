//! What health (`grpc.health.v1`) reports: SERVING while the database answers, NOT_SERVING
//! while it does not, and NOT_SERVING for good once a drain has begun.
//!
//! Every service of the API needs the database, so one state is reported for the server as
//! a whole (`""`) and for each service. The database is pinged every `--health-check-seconds`
//! (a ping that takes longer than [`PING_TIMEOUT`] is a failure): a load balancer then
//! sends its calls to a replica that can answer them, and comes back when the database does.
//! A change is logged once, not at every ping.

use std::sync::Arc;
use std::time::Duration;

use boucle::store::Store;
use tokio::sync::Mutex;
use tonic::server::NamedService;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use boucle::pb::action_service_server::ActionServiceServer;
use boucle::pb::admin_service_server::AdminServiceServer;
use boucle::pb::feedback_service_server::FeedbackServiceServer;
use boucle::pb::indicator_service_server::IndicatorServiceServer;
use boucle::pb::location_service_server::LocationServiceServer;
use boucle::pb::results_service_server::ResultsServiceServer;

use crate::services::action::ActionApi;
use crate::services::admin::AdminApi;
use crate::services::feedback::FeedbackApi;
use crate::services::indicator::IndicatorApi;
use crate::services::location::LocationApi;
use crate::services::results::ResultsApi;

/// What health reports on: the server as a whole ("") and each service of the API, by
/// the names the services answer to.
const SERVICES: [&str; 7] = [
    "",
    <LocationServiceServer<LocationApi> as NamedService>::NAME,
    <FeedbackServiceServer<FeedbackApi> as NamedService>::NAME,
    <ActionServiceServer<ActionApi> as NamedService>::NAME,
    <IndicatorServiceServer<IndicatorApi> as NamedService>::NAME,
    <ResultsServiceServer<ResultsApi> as NamedService>::NAME,
    <AdminServiceServer<AdminApi> as NamedService>::NAME,
];

/// Longest wait for a ping's answer.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct Health {
    reporter: HealthReporter,
    state: Arc<Mutex<State>>,
}

struct State {
    database_up: bool,
    draining: bool,
}

impl Health {
    /// Every service SERVING (the database was just opened).
    pub async fn serving(reporter: HealthReporter) -> Self {
        let health = Self {
            reporter,
            state: Arc::new(Mutex::new(State {
                database_up: true,
                draining: false,
            })),
        };
        health.report(ServingStatus::Serving).await;
        health
    }

    async fn report(&self, status: ServingStatus) {
        for service in SERVICES {
            self.reporter.set_service_status(service, status).await;
        }
    }

    /// NOT_SERVING from now on, whatever the database does.
    pub async fn drain(&self) {
        let mut state = self.state.lock().await;
        state.draining = true;
        self.report(ServingStatus::NotServing).await;
    }

    /// Pings the database every `every`, and reports what it finds; runs until aborted.
    pub async fn watch(self, store: Store, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let up = match tokio::time::timeout(PING_TIMEOUT, store.ping()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {} s", PING_TIMEOUT.as_secs())),
            };
            let mut state = self.state.lock().await;
            if state.draining {
                return;
            }
            match (&up, state.database_up) {
                (Err(cause), true) => {
                    tracing::error!(cause = %cause, "database unreachable: health reports NOT_SERVING");
                    state.database_up = false;
                    self.report(ServingStatus::NotServing).await;
                }
                (Ok(()), false) => {
                    tracing::info!("database reachable again: health reports SERVING");
                    state.database_up = true;
                    self.report(ServingStatus::Serving).await;
                }
                _ => {}
            }
        }
    }
}
