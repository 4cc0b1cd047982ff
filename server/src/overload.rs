//! Load shedding: budgets of calls in flight that no single client can exhaust.
//!
//! Past saturation, a server that queues every call grows its memory with the backlog and
//! answers everything late (the soak showed 30,000 queued calls and 1.2 GiB before the
//! clients' deadlines expired). Answering at once instead keeps the accepted calls fast and
//! bounded, and tells clients to back off and retry — a submission retried with the same
//! `request_id` is stored once. Health and reflection are exempt: an orchestrator must keep
//! seeing a shedding server as alive, not restart it.
//!
//! Three budgets, so that one peer cannot take the service down:
//! - calls carrying an `authorization` header share the main budget (`--max-in-flight`);
//! - keyless calls (the public ResultsService, and anything sent without a key) have their
//!   own (`--max-keyless-in-flight`): a flood of anonymous calls can saturate it, never the
//!   capture and the agents' work;
//! - every peer address (an IPv6 /64 counts as one, [`crate::peer::address_key`]) may hold
//!   at most `--max-in-flight-per-peer` calls of either kind (RESOURCE_EXHAUSTED beyond it:
//!   the excess is that client's own).
//!
//! Per connection, HTTP/2 itself bounds the streams (`--max-concurrent-streams`), and
//! [`crate::deadline`] ends calls whose request message does not arrive, so a held slot is
//! given back within that delay.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

/// Paths never shed.
const EXEMPT: [&str; 2] = ["/grpc.health.v1.Health/", "/grpc.reflection."];
/// What the client is told to wait before retrying.
const RETRY_AFTER: Duration = Duration::from_millis(200);
/// The message of a shed call.
pub const OVERLOADED: &str = "server at capacity: retry shortly (same request_id for submissions)";
/// The message of a call refused because its peer holds too many.
pub const PEER_OVER_BUDGET: &str =
    "too many calls in flight from this address: wait for answers before sending more";

/// The budgets (0 = no limit for each).
#[derive(Clone, Copy, Debug)]
pub struct Budgets {
    /// Calls with an `authorization` header, across all services.
    pub authenticated: usize,
    /// Calls without one.
    pub keyless: usize,
    /// Calls of either kind from one peer address.
    pub per_peer: usize,
}

/// A tower layer sharing the [`Budgets`] between every connection.
#[derive(Clone)]
pub struct InFlightLimitLayer {
    shared: Arc<Shared>,
}

struct Shared {
    authenticated: Option<Arc<Semaphore>>,
    keyless: Option<Arc<Semaphore>>,
    per_peer: usize,
    peers: Mutex<HashMap<IpAddr, usize>>,
    /// Unix second of the last warning: at most one log line a second while shedding.
    warned_at: AtomicU64,
    shed: AtomicU64,
}

impl InFlightLimitLayer {
    pub fn new(budgets: Budgets) -> Self {
        let semaphore = |max: usize| (max > 0).then(|| Arc::new(Semaphore::new(max)));
        Self {
            shared: Arc::new(Shared {
                authenticated: semaphore(budgets.authenticated),
                keyless: semaphore(budgets.keyless),
                per_peer: budgets.per_peer,
                peers: Mutex::new(HashMap::new()),
                warned_at: AtomicU64::new(0),
                shed: AtomicU64::new(0),
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
    shared: Arc<Shared>,
}

/// What a call holds while it runs; dropping it gives everything back.
struct Admitted {
    _permit: Option<OwnedSemaphorePermit>,
    _peer: Option<PeerSlot>,
}

/// One call counted against its peer's budget.
struct PeerSlot {
    shared: Arc<Shared>,
    ip: IpAddr,
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut peers = self
            .shared
            .peers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = peers.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                peers.remove(&self.ip);
            }
        }
    }
}

enum Refusal {
    /// A shared budget is spent: UNAVAILABLE with a retry delay.
    AtCapacity,
    /// The peer's own budget is spent: RESOURCE_EXHAUSTED.
    PeerOverBudget,
}

impl Shared {
    fn admit(self: &Arc<Self>, peer: Option<IpAddr>, keyless: bool) -> Result<Admitted, Refusal> {
        // The peer's slot first: a peer over its budget takes nothing from the shared ones.
        let peer_slot = match peer {
            Some(ip) if self.per_peer > 0 => {
                let mut peers = self
                    .peers
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let held = peers.entry(ip).or_insert(0);
                if *held >= self.per_peer {
                    return Err(Refusal::PeerOverBudget);
                }
                *held += 1;
                Some(PeerSlot {
                    shared: Arc::clone(self),
                    ip,
                })
            }
            _ => None,
        };
        let budget = if keyless {
            &self.keyless
        } else {
            &self.authenticated
        };
        let permit = match budget {
            Some(semaphore) => Some(
                Arc::clone(semaphore)
                    .try_acquire_owned()
                    .map_err(|_| Refusal::AtCapacity)?,
            ),
            None => None,
        };
        Ok(Admitted {
            _permit: permit,
            _peer: peer_slot,
        })
    }
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
        let path = request.uri().path();
        if EXEMPT.iter().any(|prefix| path.starts_with(prefix)) {
            return Box::pin(self.inner.call(request));
        }
        let peer = crate::peer::remote_addr(request.extensions())
            .map(|a| crate::peer::address_key(a.ip()));
        let keyless = !request.headers().contains_key(http::header::AUTHORIZATION);
        // The permits live until the handler has answered (the response future resolves
        // once the handler returns; a unary body is already computed by then).
        match self.shared.admit(peer, keyless) {
            Ok(admitted) => {
                let answer = self.inner.call(request);
                Box::pin(async move {
                    let response = answer.await;
                    drop(admitted);
                    response
                })
            }
            Err(refusal) => {
                self.shared.note_shed(path, keyless, &refusal);
                let status = match refusal {
                    Refusal::AtCapacity => tonic::Status::with_error_details(
                        Code::Unavailable,
                        OVERLOADED,
                        ErrorDetails::with_retry_info(Some(RETRY_AFTER)),
                    ),
                    Refusal::PeerOverBudget => tonic::Status::resource_exhausted(PEER_OVER_BUDGET),
                };
                Box::pin(std::future::ready(Ok(status.into_http())))
            }
        }
    }
}

impl Shared {
    fn note_shed(&self, path: &str, keyless: bool, refusal: &Refusal) {
        let total = self.shed.fetch_add(1, Ordering::Relaxed) + 1;
        let budget = match (refusal, keyless) {
            (Refusal::PeerOverBudget, _) => "per_peer",
            (Refusal::AtCapacity, true) => "keyless",
            (Refusal::AtCapacity, false) => "authenticated",
        };
        boucle::metrics::metrics()
            .shed
            .get_or_create(&boucle::metrics::ReasonLabel { reason: budget })
            .inc();
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
                budget,
                shed_since_start = total,
                "at capacity: calls refused"
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
        InFlightLimitLayer::new(Budgets {
            authenticated: 2,
            keyless: 2,
            per_peer: 0,
        })
        .layer(tower::service_fn(move |_: http::Request<()>| {
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
            .header("authorization", "Bearer k")
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
        let layer = InFlightLimitLayer::new(Budgets {
            authenticated: 0,
            keyless: 0,
            per_peer: 0,
        });
        assert!(layer.shared.authenticated.is_none() && layer.shared.keyless.is_none());
    }

    #[test]
    fn a_peer_over_its_budget_takes_nothing_from_the_shared_ones() {
        let layer = InFlightLimitLayer::new(Budgets {
            authenticated: 10,
            keyless: 3,
            per_peer: 2,
        });
        let shared = &layer.shared;
        let (a, b): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        let first = shared.admit(Some(a), true).ok();
        let second = shared.admit(Some(a), false).ok();
        assert!(first.is_some() && second.is_some());
        assert!(matches!(
            shared.admit(Some(a), true),
            Err(Refusal::PeerOverBudget)
        ));
        // The refused call took no keyless permit: another peer still gets two.
        let others = [
            shared.admit(Some(b), true).ok(),
            shared.admit(Some(b), true).ok(),
        ];
        assert!(others.iter().all(Option::is_some));
        // Keyless budget (3) spent by a's one and b's two; authenticated calls still pass.
        assert!(matches!(shared.admit(None, true), Err(Refusal::AtCapacity)));
        assert!(shared.admit(None, false).is_ok());
        drop(first);
        assert!(shared.admit(Some(a), true).is_ok(), "slots come back");
    }
}
