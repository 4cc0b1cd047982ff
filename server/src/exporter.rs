//! The metrics listener (`--metrics-listen`): `GET /metrics` answers every metric of
//! [`boucle::metrics`] in the OpenMetrics text format, after reading the gauges that
//! describe the store now. A listener of its own, so that the API's port, its budgets and
//! its access rules stay the API's, and the metrics can be bound to the monitoring network.

use std::future::Future;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use boucle::metrics::{CONTENT_TYPE, metrics};
use boucle::store::Store;
use tokio::net::TcpListener;

/// Serves `/metrics` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(store);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn scrape(State(store): State<Store>) -> Response {
    store.refresh_metrics();
    match metrics().encode() {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics could not be encoded");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
