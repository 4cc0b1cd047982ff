//! A browser's grpc-web call, written by hand over HTTP/1.1 as a page's script sends it
//! (`application/grpc-web+proto`, one length-prefixed message), and its answer read back
//! frame by frame: what the portal's generated client does, without tonic on the client.

use std::collections::HashMap;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The answer of one grpc-web call: its messages, and its trailers (`grpc-status`…), which
/// grpc-web carries in a final frame of the body.
#[derive(Debug)]
pub struct WebAnswer {
    pub http_status: u16,
    pub messages: Vec<Vec<u8>>,
    pub trailers: HashMap<String, String>,
}

impl WebAnswer {
    pub fn grpc_status(&self) -> Option<&str> {
        self.trailers.get("grpc-status").map(String::as_str)
    }
}

/// Calls `path` (`/boucle.v1.ResultsService/SearchLocations`) on `addr`
/// (`http://127.0.0.1:port` or `127.0.0.1:port`) with the encoded `message`.
pub async fn call(addr: &str, path: &str, message: &[u8]) -> std::io::Result<WebAnswer> {
    let address = addr.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let mut body = vec![0u8];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(message);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nOrigin: https://portail.example.fr\r\n\
         content-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\n\
         accept: application/grpc-web+proto\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse(&raw).ok_or_else(|| std::io::Error::other("unreadable grpc-web answer"))
}

fn parse(raw: &[u8]) -> Option<WebAnswer> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split])
        .ok()?
        .to_ascii_lowercase();
    let http_status = head.split_whitespace().nth(1)?.parse().ok()?;
    let rest = &raw[split + 4..];
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    let mut messages = Vec::new();
    let mut trailers = HashMap::new();
    // Headers-only answers (an error before any message) carry the status in the head.
    for line in head.lines() {
        if let Some((k, v)) = line.split_once(':')
            && k.starts_with("grpc-")
        {
            trailers.insert(k.trim().to_owned(), v.trim().to_owned());
        }
    }
    let mut at = 0;
    while at + 5 <= body.len() {
        let flag = body[at];
        let len = u32::from_be_bytes(body[at + 1..at + 5].try_into().ok()?) as usize;
        let frame = body.get(at + 5..at + 5 + len)?;
        if flag & 0x80 != 0 {
            for line in std::str::from_utf8(frame).ok()?.split("\r\n") {
                if let Some((k, v)) = line.split_once(':') {
                    trailers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                }
            }
        } else {
            messages.push(frame.to_vec());
        }
        at += 5 + len;
    }
    Some(WebAnswer {
        http_status,
        messages,
        trailers,
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line = rest.windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..line]).ok()?.trim(), 16).ok()?;
        rest = &rest[line + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}
