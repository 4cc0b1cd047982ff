//! Statuses for requests that cannot be read, named for whose fault they are.
//!
//! tonic answers a request it cannot decode — a protobuf that does not parse (invalid UTF-8
//! in a string field among others), a message frame with an invalid compression flag or a
//! compressed flag without `grpc-encoding`, a compressed payload that does not inflate, a
//! stream ending inside a message — with INTERNAL, as gRPC's status table suggests. But
//! INTERNAL is what operators page on: it must mean a fault of the server. These are the
//! client's, so this layer answers them INVALID_ARGUMENT, and logs the cause at debug.
//!
//! An unknown `grpc-encoding` stays UNIMPLEMENTED, as gRPC specifies.
//!
//! A message larger than `--max-message-bytes` is OUT_OF_RANGE in tonic; gRPC specifies
//! RESOURCE_EXHAUSTED for a message over the receiver's limit, and that is the API's
//! documented status: it is answered so.
//!
//! The decoder's statuses are recognised by their code and message (tonic 0.14's texts);
//! `bad_input::malformed_requests_are_the_clients_fault` sends each kind and guards them
//! across upgrades. A status answered by a handler never has these texts (`pb::status`
//! writes its own), so nothing of ours is rewritten.

use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::HeaderValue;

/// Messages of tonic's decoder for a request that is malformed (INTERNAL there).
const MALFORMED: [&str; 4] = [
    "failed to decode Protobuf message",
    "protocol error: received message with",
    "Error decompressing",
    "Unexpected EOF decoding stream",
];
/// tonic's message for a request message over the size limit (OUT_OF_RANGE there).
const TOO_LARGE: &str = "Error, decoded message length too large";

#[derive(Clone, Default)]
pub struct ClientFaultLayer;

impl<S> tower::Layer<S> for ClientFaultLayer {
    type Service = ClientFault<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientFault { inner }
    }
}

#[derive(Clone)]
pub struct ClientFault<S> {
    inner: S,
}

/// The status a trailers-only answer should have instead of its own, if any.
fn corrected(code: &str, message: &str) -> Option<tonic::Code> {
    match code {
        "13" if MALFORMED.iter().any(|m| message.starts_with(m)) => {
            Some(tonic::Code::InvalidArgument)
        }
        "11" if message.starts_with(TOO_LARGE) => Some(tonic::Code::ResourceExhausted),
        _ => None,
    }
}

impl<S, B, RB> tower::Service<http::Request<B>> for ClientFault<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<RB>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // A cheap clone (shared bytes), for the debug line of the rare call rewritten.
        let uri = request.uri().clone();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let mut response = answer.await?;
            // Only trailers-only answers (an error before any message) carry the status in
            // their headers; decoding a request fails before anything is sent.
            let headers = response.headers();
            let Some(code) = headers.get("grpc-status").and_then(|v| v.to_str().ok()) else {
                return Ok(response);
            };
            let message = headers
                .get("grpc-message")
                .and_then(|v| v.to_str().ok())
                .map(percent_decoded)
                .unwrap_or_default();
            if let Some(status) = corrected(code, &message) {
                tracing::debug!(
                    method = uri.path(),
                    cause = %message,
                    status = ?status,
                    "request could not be read"
                );
                response
                    .headers_mut()
                    .insert("grpc-status", HeaderValue::from(status as i32));
            }
            Ok(response)
        })
    }
}

/// `grpc-message` is percent-encoded (gRPC's HTTP/2 mapping); enough of a decoder to compare
/// prefixes and to log it.
fn percent_decoded(message: &str) -> String {
    let bytes = message.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_decoders_statuses_are_corrected() {
        assert_eq!(
            corrected("13", "failed to decode Protobuf message: invalid string"),
            Some(tonic::Code::InvalidArgument)
        );
        assert_eq!(
            corrected(
                "11",
                "Error, decoded message length too large: found 2000000 bytes"
            ),
            Some(tonic::Code::ResourceExhausted)
        );
        // Ours keep their code.
        assert_eq!(corrected("13", "internal error"), None);
        assert_eq!(corrected("3", "failed to decode Protobuf message"), None);
        assert_eq!(percent_decoded("a%20b%zz%25"), "a b%zz%");
    }
}
