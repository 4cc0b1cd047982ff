//! Load shedding: one limit on the calls in flight across every service.
//!
//! Past saturation, a server that queues every call grows its memory with the backlog and
//! answers everything late (the soak showed 30,000 queued calls and 1.2 GiB before the
//! clients' deadlines expired). Answering UNAVAILABLE at once instead keeps the accepted
//! calls fast and bounded, and tells clients to back off and retry — a submission retried
//! with the same `request_id` is stored once. Health and reflection are exempt: an
//! orchestrator must keep seeing a shedding server as alive, not restart it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use tokio::sync::Semaphore;
use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

/// Paths never shed.
const EXEMPT: [&str; 2] = ["/grpc.health.v1.Health/", "/grpc.reflection."];
/// What the client is told to wait before retrying.
const RETRY_AFTER: Duration = Duration::from_millis(200);
/// The message of a shed call.
pub const OVERLOADED: &str = "server at capacity: retry shortly (same request_id for submissions)";

/// A tower layer sharing one budget of `max` calls in flight (0 = no limit).
#[derive(Clone)]
pub struct InFlightLimitLayer {
    shared: Option<Arc<Shared>>,
}

struct Shared {
    permits: Arc<Semaphore>,
    /// Unix second of the last warning: at most one log line a second while shedding.
    warned_at: AtomicU64,
    shed: AtomicU64,
}

impl InFlightLimitLayer {
    pub fn new(max: usize) -> Self {
        Self {
            shared: (max > 0).then(|| {
                Arc::new(Shared {
                    permits: Arc::new(Semaphore::new(max)),
                    warned_at: AtomicU64::new(0),
                    shed: AtomicU64::new(0),
                })
            }),
        }
    }
}

impl<S> tower::Layer<S> for InFlightLimitLayer {
    type Service = InFlightLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InFlightLimit {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
pub struct InFlightLimit<S> {
    inner: S,
    shared: Option<Arc<Shared>>,
}

impl<S, B, RB> tower::Service<http::Request<B>> for InFlightLimit<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    RB: Default + Send + 'static,
{
    type Response = http::Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let Some(shared) = &self.shared else {
            return Box::pin(self.inner.call(request));
        };
        let path = request.uri().path();
        if EXEMPT.iter().any(|prefix| path.starts_with(prefix)) {
            return Box::pin(self.inner.call(request));
        }
        // The permit lives until the handler has answered (the response future resolves once
        // the handler returns; a unary body is already computed by then).
        match Arc::clone(&shared.permits).try_acquire_owned().ok() {
            Some(permit) => {
                let answer = self.inner.call(request);
                Box::pin(async move {
                    let response = answer.await;
                    drop(permit);
                    response
                })
            }
            None => {
                shared.note_shed(path);
                let status = tonic::Status::with_error_details(
                    Code::Unavailable,
                    OVERLOADED,
                    ErrorDetails::with_retry_info(Some(RETRY_AFTER)),
                );
                Box::pin(std::future::ready(Ok(status.into_http())))
            }
        }
    }
}

impl Shared {
    fn note_shed(&self, path: &str) {
        let total = self.shed.fetch_add(1, Ordering::Relaxed) + 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.warned_at.load(Ordering::Relaxed);
        if now > last
            && self
                .warned_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                method = path,
                shed_since_start = total,
                "at capacity: calls answered UNAVAILABLE"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::AtomicUsize;

    use tower::{Layer, Service, ServiceExt};

    use super::*;

    type Answer = Result<http::Response<String>, Infallible>;

    /// The services of these tests, named once.
    trait Held:
        Service<
            http::Request<()>,
            Response = http::Response<String>,
            Error = Infallible,
            Future: Send,
        > + Clone
        + Send
        + 'static
    {
    }
    impl<S> Held for S where
        S: Service<
                http::Request<()>,
                Response = http::Response<String>,
                Error = Infallible,
                Future: Send,
            > + Clone
            + Send
            + 'static
    {
    }

    /// Calls through a limit of 2 to a handler that counts its entries and waits for the
    /// gate to open.
    fn held(gate: Arc<Semaphore>, entered: Arc<AtomicUsize>) -> impl Held {
        InFlightLimitLayer::new(2).layer(tower::service_fn(move |_: http::Request<()>| {
            let (gate, entered) = (gate.clone(), entered.clone());
            async move {
                entered.fetch_add(1, Ordering::SeqCst);
                let _ = gate.acquire().await.map(|p| p.forget());
                Ok::<_, Infallible>(http::Response::new("answered".to_owned()))
            }
        }))
    }

    fn call(service: &impl Held, path: &str) -> tokio::task::JoinHandle<Answer> {
        let request = http::Request::builder()
            .uri(path)
            .body(())
            .expect("request");
        tokio::spawn(service.clone().oneshot(request))
    }

    fn grpc_status(response: &http::Response<String>) -> Option<&str> {
        response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
    }

    const SUBMIT: &str = "/boucle.v1.FeedbackService/SubmitFeedback";

    #[tokio::test]
    async fn beyond_the_limit_calls_are_unavailable_at_once_and_health_is_exempt() {
        let gate = Arc::new(Semaphore::new(0));
        let entered = Arc::new(AtomicUsize::new(0));
        let service = held(gate.clone(), entered.clone());
        let first = call(&service, SUBMIT);
        let second = call(&service, "/boucle.v1.ResultsService/GetLocationResults");
        while entered.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        // Both permits are held: the next call is answered at once, without the handler.
        let shed = call(&service, SUBMIT).await.expect("task").expect("answer");
        assert_eq!(grpc_status(&shed), Some("14"), "UNAVAILABLE");
        assert_eq!(entered.load(Ordering::SeqCst), 2, "the handler never ran");
        // Health is not counted: it reaches the handler although the budget is spent.
        let health = call(&service, "/grpc.health.v1.Health/Check");
        while entered.load(Ordering::SeqCst) < 3 {
            tokio::task::yield_now().await;
        }
        gate.add_permits(3);
        for answered in [first, second, health] {
            let response = answered.await.expect("task").expect("answer");
            assert_eq!(response.body(), "answered");
        }
        // The permits came back with the answers.
        let again = call(&service, SUBMIT);
        while entered.load(Ordering::SeqCst) < 4 {
            tokio::task::yield_now().await;
        }
        gate.add_permits(1);
        let response = again.await.expect("task").expect("answer");
        assert_eq!(response.body(), "answered");
    }

    #[test]
    fn zero_means_no_limit() {
        assert!(InFlightLimitLayer::new(0).shared.is_none());
    }
}
