//! Reading a client stream (ImportFeedback, ImportLocations) ahead of its processing.
//!
//! HTTP/2 lets a client send as fast as the flow-control window allows, and h2 counts the
//! small DATA frames it holds for the application: past a budget (half the connection
//! window) it closes the connection with ENHANCE_YOUR_CALM, `too_many_data_frames`. Clients
//! that send one message per frame (grpcio, most non-tonic clients) sent thousands of tiny
//! items faster than they were stored, and their imports were cut after a few hundred.
//!
//! A task here takes every message off the connection as soon as it arrives and queues it
//! for the handler, so h2 holds none; what the queue may hold is bounded in bytes
//! ([`READ_AHEAD_BYTES`]), and past it the reader waits, which stops the client through
//! flow control exactly as before — with frames large enough not to count against h2's
//! budget. Items keep their order; an error of the stream reaches the handler after the
//! items that preceded it.

use std::sync::Arc;

use futures::{Stream, StreamExt};
use prost::Message;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::{Status, Streaming};

/// Bytes of decoded items the queue may hold ahead of the handler.
pub const READ_AHEAD_BYTES: usize = 16 * 1024 * 1024;

/// The items of `stream`, read ahead of their consumer within [`READ_AHEAD_BYTES`].
pub fn read_ahead<T>(mut stream: Streaming<T>) -> impl Stream<Item = Result<T, Status>>
where
    T: Message + Send + 'static,
{
    let budget = Arc::new(Semaphore::new(READ_AHEAD_BYTES));
    let (tx, rx) = mpsc::unbounded_channel::<(Result<T, Status>, Option<OwnedSemaphorePermit>)>();
    tokio::spawn(async move {
        loop {
            match stream.message().await {
                Ok(Some(item)) => {
                    // An item larger than the whole budget waits for an empty queue.
                    let size = item.encoded_len().clamp(1, READ_AHEAD_BYTES);
                    let size = u32::try_from(size).unwrap_or(u32::MAX);
                    let Ok(permit) = budget.clone().acquire_many_owned(size).await else {
                        break;
                    };
                    if tx.send((Ok(item), Some(permit))).is_err() {
                        break; // the handler is gone
                    }
                }
                Ok(None) => break,
                Err(status) => {
                    let _ = tx.send((Err(status), None));
                    break;
                }
            }
        }
    });
    // The permit is given back as the consumer takes the item.
    UnboundedReceiverStream::new(rx).map(|(item, _permit)| item)
}
