//! Two HTTP/2 peers that are not tonic:
//!
//! - [`RawPeer`] writes frames by hand and ignores what the server asks (its stream limit),
//!   like a hostile client: it opens streams with HEADERS only and never sends a body, and
//!   records what the server answers on each (RST_STREAM, a response ending the stream,
//!   GOAWAY);
//! - [`one_message_per_frame`] calls a client-streaming method with the `h2` crate, each
//!   gRPC message in a DATA frame of its own, as grpcio and other non-tonic clients frame
//!   them (tonic packs several messages into one frame).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

/// What the server did, as seen by the raw peer.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// SETTINGS_MAX_CONCURRENT_STREAMS the server advertised.
    pub max_concurrent_streams: Option<u32>,
    /// Streams the server reset, with the error code.
    pub reset: HashMap<u32, u32>,
    /// Streams the server ended with a response (END_STREAM).
    pub answered: HashSet<u32>,
    /// The GOAWAY error code, if the server closed the connection.
    pub goaway: Option<u32>,
    /// The connection is closed.
    pub closed: bool,
}

impl Seen {
    /// Streams the server is done with, one way or another.
    pub fn ended(&self) -> usize {
        self.reset
            .keys()
            .chain(self.answered.iter())
            .collect::<HashSet<_>>()
            .len()
    }
}

pub struct RawPeer {
    out: mpsc::UnboundedSender<Bytes>,
    seen: Arc<Mutex<Seen>>,
    authority: String,
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(9 + payload.len());
    let len = payload.len() as u32;
    b.put_u8((len >> 16) as u8);
    b.put_u16(len as u16);
    b.put_u8(kind);
    b.put_u8(flags);
    b.put_u32(stream & 0x7fff_ffff);
    b.put_slice(payload);
    b.freeze()
}

/// An HPACK string literal, not Huffman-coded (lengths below 127).
fn literal(b: &mut BytesMut, s: &str) {
    assert!(s.len() < 127, "short literals only");
    b.put_u8(s.len() as u8);
    b.put_slice(s.as_bytes());
}

impl RawPeer {
    /// A peer that answers the server's pings, as any live client does.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        Self::connect_with(addr, true).await
    }

    /// A peer that never answers pings: a dead client whose connection stays open.
    pub async fn connect_deaf(addr: SocketAddr) -> std::io::Result<Self> {
        Self::connect_with(addr, false).await
    }

    async fn connect_with(addr: SocketAddr, answer_pings: bool) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (mut read, mut write) = stream.into_split();
        let (out, mut queue) = mpsc::unbounded_channel::<Bytes>();
        tokio::spawn(async move {
            while let Some(bytes) = queue.recv().await {
                if write.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
        let mut hello = BytesMut::from(PREFACE);
        hello.extend_from_slice(&frame(SETTINGS, 0, 0, &[]));
        let _ = out.send(hello.freeze());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (record, reply) = (seen.clone(), out.clone());
        tokio::spawn(async move {
            let mut header = [0u8; 9];
            loop {
                if read.read_exact(&mut header).await.is_err() {
                    break;
                }
                let len = (usize::from(header[0]) << 16)
                    | (usize::from(header[1]) << 8)
                    | usize::from(header[2]);
                let (kind, flags) = (header[3], header[4]);
                let stream =
                    u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff;
                let mut payload = vec![0u8; len];
                if read.read_exact(&mut payload).await.is_err() {
                    break;
                }
                let mut seen = record
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match kind {
                    SETTINGS if flags & ACK == 0 => {
                        for p in payload.chunks_exact(6) {
                            if u16::from_be_bytes([p[0], p[1]]) == 0x3 {
                                seen.max_concurrent_streams =
                                    Some(u32::from_be_bytes([p[2], p[3], p[4], p[5]]));
                            }
                        }
                        let _ = reply.send(frame(SETTINGS, ACK, 0, &[]));
                    }
                    PING if flags & ACK == 0 && answer_pings => {
                        let _ = reply.send(frame(PING, ACK, 0, &payload));
                    }
                    RST_STREAM if payload.len() == 4 => {
                        seen.reset.insert(
                            stream,
                            u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]),
                        );
                    }
                    HEADERS | DATA if flags & END_STREAM != 0 => {
                        seen.answered.insert(stream);
                    }
                    GOAWAY if payload.len() >= 8 => {
                        seen.goaway = Some(u32::from_be_bytes([
                            payload[4], payload[5], payload[6], payload[7],
                        ]));
                    }
                    _ => {}
                }
            }
            record
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .closed = true;
        });
        Ok(Self {
            out,
            seen,
            authority: addr.to_string(),
        })
    }

    /// Opens the streams `ids` on `path`: HEADERS only, no body, no END_STREAM, whatever the
    /// server's stream limit.
    pub fn open_without_body(&self, ids: impl IntoIterator<Item = u32>, path: &str) {
        let mut all = BytesMut::new();
        for id in ids {
            let mut block = BytesMut::new();
            block.put_u8(0x83); // :method POST (static index 3)
            block.put_u8(0x86); // :scheme http (static index 6)
            block.put_u8(0x04); // :path, literal value without indexing
            literal(&mut block, path);
            block.put_u8(0x01); // :authority
            literal(&mut block, &self.authority);
            block.put_slice(&[0x0f, 0x10]); // content-type (static index 31)
            literal(&mut block, "application/grpc");
            block.put_u8(0x00); // te: trailers, new name
            literal(&mut block, "te");
            literal(&mut block, "trailers");
            all.extend_from_slice(&frame(HEADERS, END_HEADERS, id, &block));
        }
        let _ = self.out.send(all.freeze());
    }

    pub fn seen(&self) -> Seen {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The answer to a call made with [`one_message_per_frame`].
pub struct Answer {
    pub grpc_status: Option<String>,
    pub grpc_message: Option<String>,
    /// The response message (without its 5-byte prefix).
    pub message: Bytes,
}

/// An HTTP/2 connection of the `h2` crate, for [`one_message_per_frame`].
pub async fn h2_connection(addr: SocketAddr) -> anyhow::Result<h2::client::SendRequest<Bytes>> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (client, connection) = h2::client::handshake(tcp).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Calls the client-streaming `path` with `messages` on `client`'s connection, each encoded
/// gRPC message sent in a DATA frame of its own, the way grpcio frames them.
pub async fn one_message_per_frame(
    client: h2::client::SendRequest<Bytes>,
    addr: SocketAddr,
    path: &str,
    key: &str,
    messages: impl IntoIterator<Item = Vec<u8>>,
) -> anyhow::Result<Answer> {
    let frames = messages.into_iter().map(|message| {
        let mut framed = BytesMut::with_capacity(5 + message.len());
        framed.put_u8(0);
        framed.put_u32(message.len() as u32);
        framed.put_slice(&message);
        framed.freeze()
    });
    send_frames(client, addr, path, Some(key), &[], frames).await
}

/// Calls `path` with a request body made of `frames` exactly as given (each in a DATA frame
/// of its own), with `headers` added: the way to send what tonic's client never would.
pub async fn send_frames(
    client: h2::client::SendRequest<Bytes>,
    addr: SocketAddr,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    frames: impl IntoIterator<Item = Bytes>,
) -> anyhow::Result<Answer> {
    let mut client = client.ready().await?;
    let mut request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let (response, mut send) = client.send_request(request.body(())?, false)?;
    for framed in frames {
        // Wait for the flow-control window like a real client, then send one frame.
        send.reserve_capacity(framed.len());
        while send.capacity() < framed.len() {
            match futures::future::poll_fn(|cx| send.poll_capacity(cx)).await {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => anyhow::bail!("stream closed while sending"),
            }
        }
        send.send_data(framed, false)?;
    }
    send.send_data(Bytes::new(), true)?;
    let response = response.await?;
    // A trailers-only answer (an error) carries its status in the headers.
    let headers = response.headers().clone();
    let mut body = response.into_body();
    let mut message = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        message.extend_from_slice(&chunk);
    }
    let trailers = body.trailers().await?.unwrap_or_default();
    let field = |name: &str| {
        trailers
            .get(name)
            .or_else(|| headers.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Ok(Answer {
        grpc_status: field("grpc-status"),
        grpc_message: field("grpc-message"),
        message: if message.len() >= 5 {
            message.freeze().slice(5..)
        } else {
            Bytes::new()
        },
    })
}
