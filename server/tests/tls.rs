//! TLS of the real `boucle-server` binary, with certificates generated here (rcgen) and
//! clients that verify them: gRPC, health and grpc-web over TLS, a certificate renewed on
//! SIGHUP without dropping the connections already open, mutual TLS.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use common::{BIN, lines, sigterm, wait_for};

/// A certificate authority of the test.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate().expect("CA key");
        Self {
            issuer: CertifiedIssuer::self_signed(params, key).expect("CA"),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A leaf certificate for `names` (DNS names or IP addresses): (cert PEM, key PEM, DER).
    fn issue(&self, names: &[&str]) -> (String, String, CertificateDer<'static>) {
        let params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .expect("leaf params");
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("signed");
        (cert.pem(), key.serialize_pem(), cert.der().clone())
    }
}

/// Writes `text` to `path` the way a certificate manager does: a new file renamed over it.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

struct Server {
    child: Child,
    addr: String,
    stderr: Receiver<String>,
}

fn start(dir: &Path, extra: &[&str]) -> Server {
    let url = format!("sqlite://{}?mode=rwc", dir.join("tls.db").display());
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--database-url",
            &url,
        ])
        .args(["--tls-cert"])
        .arg(dir.join("cert.pem"))
        .args(["--tls-key"])
        .arg(dir.join("key.pem"))
        .args(extra)
        .env("RUST_LOG", "info,boucle_server::tls=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let stderr = lines(child.stderr.take().expect("stderr"));
    let ready = wait_for(&stderr, |l| l.contains("boucle-server listening"));
    let log: serde_json::Value = serde_json::from_str(&ready).expect("JSON");
    assert_eq!(log["tls"], true, "{ready}");
    let addr = log["addr"].as_str().expect("addr").to_owned();
    Server {
        child,
        addr,
        stderr,
    }
}

fn tls_client(ca: &Ca, identity: Option<(&str, &str)>) -> ClientTlsConfig {
    let mut config = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca.pem()))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        config = config.identity(Identity::from_pem(cert, key));
    }
    config
}

async fn channel(addr: &str, tls: ClientTlsConfig) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_shared(format!("https://{addr}"))
        .expect("endpoint")
        .tls_config(tls)?
        .timeout(Duration::from_secs(10))
        .connect()
        .await
}

async fn serving(channel: Channel) -> Result<i32, tonic::Status> {
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "boucle.v1.FeedbackService".into(),
        })
        .await
        .map(|r| r.into_inner().status)
}

/// A rustls client trusting `ca`, offering `alpn`.
fn rustls_client(ca: &Ca, alpn: &[u8]) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(ca.issuer.der().clone())
        .expect("CA into the roots");
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// A verified TLS connection to the server, and the certificate it presented.
async fn connect_tls(
    addr: &str,
    ca: &Ca,
    alpn: &[u8],
) -> (
    tokio_rustls::client::TlsStream<TcpStream>,
    CertificateDer<'static>,
) {
    let tcp = TcpStream::connect(addr).await.expect("TCP");
    let name = ServerName::try_from("localhost").expect("name");
    let tls = rustls_client(ca, alpn)
        .connect(name, tcp)
        .await
        .expect("a verified handshake");
    let presented = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .expect("a certificate")
        .clone()
        .into_owned();
    (tls, presented)
}

/// A health check over an open h2 connection.
async fn h2_check(sender: &mut h2::client::SendRequest<bytes::Bytes>) -> Result<(), String> {
    let request = http::Request::post("/grpc.health.v1.Health/Check")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .map_err(|e| e.to_string())?;
    let ready = sender.clone().ready().await.map_err(|e| e.to_string())?;
    *sender = ready;
    let (response, mut body) = sender
        .send_request(request, false)
        .map_err(|e| e.to_string())?;
    body.send_data(bytes::Bytes::from_static(&[0, 0, 0, 0, 0]), true)
        .map_err(|e| e.to_string())?;
    let response = response.await.map_err(|e| e.to_string())?;
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        chunk.map_err(|e| e.to_string())?;
    }
    let trailers = body.trailers().await.map_err(|e| e.to_string())?;
    match trailers.as_ref().and_then(|t| t.get("grpc-status")) {
        Some(status) if status == "0" => Ok(()),
        other => Err(format!("grpc-status {other:?}")),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_health_and_grpc_web_over_tls_and_a_renewal_keeps_open_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new("boucle test CA");
    let (cert_a, key_a, der_a) = ca.issue(&["localhost", "127.0.0.1"]);
    replace(&dir.path().join("cert.pem"), &cert_a);
    replace(&dir.path().join("key.pem"), &key_a);
    let mut server = start(dir.path(), &[]);

    // gRPC and health, verified against the CA.
    let grpc = channel(&server.addr, tls_client(&ca, None))
        .await
        .expect("a TLS channel");
    assert_eq!(
        serving(grpc.clone()).await.expect("health over TLS"),
        ServingStatus::Serving as i32
    );
    // A client that does not trust the CA is refused by its own verification.
    let stranger = Ca::new("another CA");
    assert!(
        channel(&server.addr, tls_client(&stranger, None))
            .await
            .is_err()
            || serving(
                channel(&server.addr, tls_client(&stranger, None))
                    .await
                    .expect("lazy")
            )
            .await
            .is_err()
    );
    // Plain text on the TLS port gets nothing.
    let plain = Endpoint::from_shared(format!("http://{}", server.addr))
        .expect("endpoint")
        .timeout(Duration::from_secs(5))
        .connect()
        .await;
    let plain_ok = match plain {
        Ok(ch) => serving(ch).await.is_ok(),
        Err(_) => false,
    };
    assert!(!plain_ok, "plain text is not served on the TLS port");

    // grpc-web over TLS and HTTP/1.1, as a browser sends it.
    let (mut web, presented) = connect_tls(&server.addr, &ca, b"http/1.1").await;
    assert_eq!(presented, der_a);
    web.write_all(
        b"POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\ncontent-length: 5\r\nconnection: close\r\n\r\n\0\0\0\0\0",
    )
    .await
    .expect("grpc-web request");
    let mut answer = Vec::new();
    let _ = web.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("grpc-status:0"), "{answer}");

    // An h2 connection opened before the renewal.
    let (before, _) = connect_tls(&server.addr, &ca, b"h2").await;
    let (mut sender, connection) = h2::client::handshake(before).await.expect("h2");
    tokio::spawn(connection);
    h2_check(&mut sender).await.expect("a call before");

    // Renewal: a new certificate from the same CA, then SIGHUP.
    let (cert_b, key_b, der_b) = ca.issue(&["localhost", "127.0.0.1"]);
    replace(&dir.path().join("key.pem"), &key_b);
    replace(&dir.path().join("cert.pem"), &cert_b);
    let hup = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .expect("SIGHUP");
    assert!(hup.success());
    wait_for(&server.stderr, |l| l.contains("TLS certificate reloaded"));
    let (_, presented) = connect_tls(&server.addr, &ca, b"h2").await;
    assert_eq!(presented, der_b, "new connections get the new certificate");
    assert_ne!(der_a, der_b);
    h2_check(&mut sender)
        .await
        .expect("the connection of before still works");
    assert_eq!(
        serving(grpc.clone())
            .await
            .expect("the TLS channel still works"),
        ServingStatus::Serving as i32
    );

    // A broken renewal (half-written file) is refused and the last good certificate stays.
    replace(
        &dir.path().join("cert.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64\n",
    );
    let hup = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .expect("SIGHUP");
    assert!(hup.success());
    wait_for(&server.stderr, |l| l.contains("TLS reload refused"));
    let (_, presented) = connect_tls(&server.addr, &ca, b"h2").await;
    assert_eq!(presented, der_b);

    // Without a signal: a changed file is seen by itself (within the 10 s poll).
    let (cert_c, key_c, der_c) = ca.issue(&["localhost", "127.0.0.1"]);
    replace(&dir.path().join("key.pem"), &key_c);
    replace(&dir.path().join("cert.pem"), &cert_c);
    let reloaded = wait_for(&server.stderr, |l| l.contains("TLS certificate reloaded"));
    assert!(reloaded.contains("files changed"), "{reloaded}");
    let (_, presented) = connect_tls(&server.addr, &ca, b"h2").await;
    assert_eq!(presented, der_c);

    sigterm(&server.child);
    assert!(server.child.wait().expect("wait").success());
}

#[tokio::test(flavor = "multi_thread")]
async fn mutual_tls_takes_only_clients_certified_by_the_client_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new("boucle server CA");
    let (cert, key, _) = ca.issue(&["localhost"]);
    replace(&dir.path().join("cert.pem"), &cert);
    replace(&dir.path().join("key.pem"), &key);
    let clients = Ca::new("internal apps CA");
    replace(&dir.path().join("clients.pem"), &clients.pem());
    let client_ca = dir.path().join("clients.pem");
    let client_ca = client_ca.to_str().expect("utf-8 path");
    let mut server = start(dir.path(), &["--tls-client-ca", client_ca]);

    let (app_cert, app_key, _) = clients.issue(&["guichet-kiosque"]);
    let app = channel(&server.addr, tls_client(&ca, Some((&app_cert, &app_key))))
        .await
        .expect("a certified app connects");
    assert_eq!(
        serving(app).await.expect("health"),
        ServingStatus::Serving as i32
    );

    let refused = async |identity: Option<(&str, &str)>| match channel(
        &server.addr,
        tls_client(&ca, identity),
    )
    .await
    {
        Err(_) => true,
        Ok(channel) => serving(channel).await.is_err(),
    };
    assert!(refused(None).await, "no client certificate");
    let rogue = Ca::new("rogue CA");
    let (rogue_cert, rogue_key) = {
        let (c, k, _) = rogue.issue(&["guichet-kiosque"]);
        (c, k)
    };
    assert!(
        refused(Some((&rogue_cert, &rogue_key))).await,
        "a certificate from another CA"
    );
    wait_for(&server.stderr, |l| l.contains("TLS handshake failed"));

    sigterm(&server.child);
    assert!(server.child.wait().expect("wait").success());
}

/// Unusable TLS files are refused at startup, naming the file.
#[test]
fn unusable_tls_files_are_refused_at_startup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--database-url", &url])
            .args(args)
            .output()
            .expect("run")
    };
    let missing = dir.path().join("absent.pem");
    let missing = missing.to_str().expect("utf-8");
    let out = run(&["--tls-cert", missing, "--tls-key", missing]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--tls-cert") && err.contains("absent.pem"),
        "{err}"
    );

    let ca = Ca::new("CA");
    let (cert, _, _) = ca.issue(&["localhost"]);
    let (_, other_key, _) = ca.issue(&["localhost"]);
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    replace(&cert_path, &cert);
    replace(&key_path, &other_key);
    let out = run(&[
        "--tls-cert",
        cert_path.to_str().expect("utf-8"),
        "--tls-key",
        key_path.to_str().expect("utf-8"),
    ]);
    assert!(!out.status.success(), "a key that is not the certificate's");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--tls-key"), "{err}");

    let out = run(&["--tls-cert", cert_path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "a certificate without its key");
}
