//! The observation layer alone (`boucle_server::calls::CallLayer`), without network or
//! database: CPU per call through a service that answers at once, with and without the
//! layer, in the same process, with the production JSON subscriber writing into a sink.
//! The difference is what the access line, the request id, the span and the metrics cost a
//! call, whatever the call does; `observe` gives it in proportion of a SubmitFeedback.

use std::convert::Infallible;

use http_body_util::BodyExt;
use tower::{Layer, Service, ServiceExt};

/// CPU microseconds per call, with the layer and without.
pub struct Outcome {
    pub with_us: f64,
    pub without_us: f64,
}

fn request() -> http::Request<tonic::body::Body> {
    let mut request = http::Request::new(tonic::body::Body::empty());
    *request.uri_mut() = http::Uri::from_static("/boucle.v1.FeedbackService/SubmitFeedback");
    request.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/grpc"),
    );
    request
}

/// Answers every call at once, OK, trailers-only.
fn answer() -> impl Service<
    http::Request<tonic::body::Body>,
    Response = http::Response<tonic::body::Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<http::Response<tonic::body::Body>, Infallible>> + Send,
> + Clone
+ Send
+ 'static {
    tower::service_fn(|_request: http::Request<tonic::body::Body>| async {
        Ok::<_, Infallible>(tonic::Status::ok("").into_http())
    })
}

async fn drive<S>(service: S, calls: u64) -> anyhow::Result<f64>
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<tonic::body::Body>>
        + Clone,
    S::Error: std::fmt::Debug,
{
    let before = crate::load::cpu_seconds();
    for _ in 0..calls {
        let response = service
            .clone()
            .oneshot(request())
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        // The body ends (and the call is finished) as hyper would see it end.
        response
            .into_body()
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok((crate::load::cpu_seconds() - before) * 1e6 / calls as f64)
}

pub async fn run(calls: u64, rounds: usize) -> anyhow::Result<Vec<Outcome>> {
    let observed = boucle_server::calls::CallLayer.layer(answer());
    // Warm-up: the method table, the metric series, the subscriber.
    drive(observed.clone(), 10_000).await?;
    drive(answer(), 10_000).await?;
    let mut outcomes = Vec::new();
    for round in 0..rounds {
        let (with_us, without_us) = if round % 2 == 0 {
            let with = drive(observed.clone(), calls).await?;
            (with, drive(answer(), calls).await?)
        } else {
            let without = drive(answer(), calls).await?;
            (drive(observed.clone(), calls).await?, without)
        };
        outcomes.push(Outcome {
            with_us,
            without_us,
        });
    }
    Ok(outcomes)
}
