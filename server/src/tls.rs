//! TLS for the API (rustls with ring), optionally mutual: `--tls-cert`, `--tls-key`,
//! `--tls-client-ca`.
//!
//! The files are read at startup — a missing or unreadable file, a key that does not match
//! the certificate, a CA file without certificates, are refused then, naming the file — and
//! again on SIGHUP and whenever one of them changes (checked every [`POLL`]): certificates
//! are renewed without a restart. A reload builds a whole new configuration first and only
//! then takes it for new connections; a connection already open keeps the session it has,
//! and a reload that fails (a half-written file) keeps the previous configuration and logs
//! why. ALPN offers h2 and http/1.1, so grpc-web from browsers works over TLS too.
//!
//! Handshakes run in tasks of their own, bounded by [`HANDSHAKE_TIMEOUT`]: a peer that
//! opens a connection and sends nothing holds no accept loop and no slot.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use futures::Stream;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;

/// How often the files are checked for a change.
const POLL: Duration = Duration::from_secs(10);
/// Longest a client may take to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the server to take them.
const BACKLOG: usize = 128;

/// The files of the server's TLS identity.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Client certificates must be signed by one of these (mutual TLS).
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    fn paths(&self) -> impl Iterator<Item = &Path> {
        [Some(&self.cert), Some(&self.key), self.client_ca.as_ref()]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path)
    }

    /// What a change of the files is seen by: each one's modification time and size.
    fn stamp(&self) -> Vec<Option<(SystemTime, u64)>> {
        self.paths()
            .map(|p| {
                std::fs::metadata(p)
                    .ok()
                    .and_then(|m| Some((m.modified().ok()?, m.len())))
            })
            .collect()
    }
}

/// The configuration new connections get, and how to renew it.
pub struct Tls {
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
    stamp: std::sync::Mutex<Vec<Option<(SystemTime, u64)>>>,
}

impl Tls {
    /// Reads the files; an error names the file and what is wrong with it.
    pub fn load(files: TlsFiles) -> Result<Self, String> {
        let stamp = files.stamp();
        let config = build(&files)?;
        Ok(Self {
            files,
            current: RwLock::new(Arc::new(config)),
            stamp: std::sync::Mutex::new(stamp),
        })
    }

    fn acceptor(&self) -> TlsAcceptor {
        let config = self
            .current
            .read()
            .map(|c| Arc::clone(&c))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()));
        TlsAcceptor::from(config)
    }

    /// Reads the files again and, if they make a valid configuration, gives it to new
    /// connections.
    pub fn reload(&self, why: &str) {
        let stamp = self.files.stamp();
        if let Ok(mut seen) = self.stamp.lock() {
            *seen = stamp;
        }
        match build(&self.files) {
            Ok(config) => {
                let mut current = self
                    .current
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                *current = Arc::new(config);
                tracing::info!(reason = why, cert = %self.files.cert.display(), "TLS certificate reloaded");
            }
            Err(e) => {
                tracing::error!(reason = why, error = %e, "TLS reload refused: the previous certificate stays in use");
            }
        }
    }

    /// Reloads on SIGHUP and when a file changes; runs until aborted.
    pub async fn watch(self: Arc<Self>) {
        #[cfg(unix)]
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            #[cfg(unix)]
            let signalled = async {
                match hangup.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let signalled = std::future::pending::<Option<()>>();
            tokio::select! {
                _ = signalled => self.reload("SIGHUP"),
                _ = tick.tick() => {
                    let changed = self
                        .stamp
                        .lock()
                        .map(|seen| *seen != self.files.stamp())
                        .unwrap_or(false);
                    if changed {
                        self.reload("files changed");
                    }
                }
            }
        }
    }
}

fn certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{what} {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{what} {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(certs)
}

fn build(files: &TlsFiles) -> Result<ServerConfig, String> {
    let chain = certificates(&files.cert, "--tls-cert")?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("--tls-key {}: {e}", files.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match &files.client_ca {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in certificates(path, "--tls-client-ca")? {
                roots
                    .add(cert)
                    .map_err(|e| format!("--tls-client-ca {}: {e}", path.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("--tls-client-ca {}: {e}", path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        format!(
            "--tls-cert {} and --tls-key {}: {e}",
            files.cert.display(),
            files.key.display()
        )
    })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The connections of `listener`, each after its TLS handshake (Nagle off, as in
/// [`crate::startup::incoming`]). A failed handshake — a scanner, a client whose
/// certificate is refused — is logged at DEBUG and dropped.
pub fn incoming(
    listener: TcpListener,
    tls: Arc<Tls>,
) -> impl Stream<Item = std::io::Result<TlsStream<TcpStream>>> {
    let (ready, accepted) = mpsc::channel(BACKLOG);
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                () = ready.closed() => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: the next accept may work.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY refused");
            }
            let acceptor = tls.acceptor();
            let ready = ready.clone();
            tokio::spawn(async move {
                let peer = stream.peer_addr().ok();
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let _ = ready.send(Ok(tls)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(?peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(?peer, "TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(accepted)
}
