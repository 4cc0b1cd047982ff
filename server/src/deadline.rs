//! A deadline for the request message to arrive.
//!
//! A peer can open a stream, send its headers and never send the message: the call then
//! holds a slot of the in-flight budget ([`crate::overload`]) for as long as the connection
//! lives. Here every request body must deliver its next frame within the delay once the
//! server waits for it; a body that does not is failed with DEADLINE_EXCEEDED, the handler
//! answers, the stream is closed and the slot is given back. Only time spent *waiting for
//! the client* counts: a handler busy storing the previous items of an import does not make
//! its client late.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Wraps every request body in a [`Deadline`] (`None`: no deadline).
#[derive(Clone)]
pub struct RequestDeadlineLayer {
    wait: Option<Duration>,
}

impl RequestDeadlineLayer {
    pub fn new(wait: Option<Duration>) -> Self {
        Self { wait }
    }
}

impl<S> tower::Layer<S> for RequestDeadlineLayer {
    type Service = RequestDeadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestDeadline {
            inner,
            wait: self.wait,
        }
    }
}

#[derive(Clone)]
pub struct RequestDeadline<S> {
    inner: S,
    wait: Option<Duration>,
}

impl<S, B> tower::Service<http::Request<B>> for RequestDeadline<S>
where
    S: tower::Service<http::Request<tonic::body::Body>>,
    B: Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let wait = self.wait;
        self.inner.call(request.map(|body| match wait {
            Some(wait) => tonic::body::Body::new(Deadline::new(body, wait)),
            None => tonic::body::Body::new(body),
        }))
    }
}

/// A request body whose frames must each arrive within `wait` of the server asking for them.
pub struct Deadline<B> {
    inner: B,
    wait: Duration,
    /// Armed at the first poll that found nothing, disarmed by every frame.
    timer: Option<Pin<Box<Sleep>>>,
    done: bool,
}

impl<B> Deadline<B> {
    pub fn new(inner: B, wait: Duration) -> Self {
        Self {
            inner,
            wait,
            timer: None,
            done: false,
        }
    }
}

impl<B> Body for Deadline<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        // The request body (tonic's) is Unpin: no box needed to poll it.
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.timer = None;
                if frame.is_none() {
                    this.done = true;
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let wait = this.wait;
                let timer = this.timer.get_or_insert_with(|| {
                    Box::pin(tokio::time::sleep_until(Instant::now() + wait))
                });
                match timer.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => {
                        this.done = true;
                        tracing::debug!(
                            wait_ms = wait.as_millis() as u64,
                            "request message not received in time: call ended"
                        );
                        Poll::Ready(Some(Err(Box::new(tonic::Status::deadline_exceeded(
                            format!(
                                "the request message did not arrive within {} s",
                                wait.as_secs_f64()
                            ),
                        )))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A body that never sends anything.
    struct Silent;

    impl Body for Silent {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_sends_nothing_fails_with_deadline_exceeded() {
        let mut body = Deadline::new(Silent, Duration::from_secs(10));
        let started = Instant::now();
        let error = body
            .frame()
            .await
            .and_then(Result::err)
            .expect("an error, not a frame");
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        let status = error.downcast::<tonic::Status>().expect("a status");
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
        assert!(body.frame().await.is_none(), "then the body is over");
    }

    #[tokio::test(start_paused = true)]
    async fn time_the_server_spends_between_frames_does_not_count() {
        let (mut tx, rx) =
            futures::channel::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(4);
        let mut body = Deadline::new(http_body_util::StreamBody::new(rx), Duration::from_secs(10));
        tx.try_send(Ok(Frame::data(Bytes::from_static(b"a"))))
            .expect("send");
        assert!(body.frame().await.is_some_and(|f| f.is_ok()));
        // The handler works for a minute without asking; the client sent meanwhile.
        tokio::time::sleep(Duration::from_secs(60)).await;
        tx.try_send(Ok(Frame::data(Bytes::from_static(b"b"))))
            .expect("send");
        assert!(body.frame().await.is_some_and(|f| f.is_ok()));
        drop(tx);
        assert!(body.frame().await.is_none());
    }
}
