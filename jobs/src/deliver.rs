//! E-mailing the reports of a period to the recipients of each location subtree: through an
//! SMTP relay, or as `.eml` files in an outbox folder when no relay is configured. A delivery
//! is recorded per report version (its SHA-256), so a rerun never sends the same PDF twice,
//! and a changed report is sent again. Recording is two-phase (PENDING before the message
//! leaves, SENT after), so that a crash mid-delivery never makes a rerun send twice.

use std::path::{Path, PathBuf};

use boucle::domain::Period;
use boucle::domain::codes::DeliveryStatus;
use boucle::store::Store;
use boucle::store::reports::Delivery;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::JobError;
use crate::export::write_atomically;
use crate::report::format::{of_period, period_long, typeset};

/// At most this many PDFs are attached to one message; the others are listed by name (they
/// are all available from the public portal).
pub const MAX_ATTACHMENTS: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    /// Plain SMTP (a relay on the local network).
    None,
    /// STARTTLS on the submission port.
    Starttls,
    /// Implicit TLS (SMTPS).
    Tls,
}

/// Where messages go.
#[derive(Clone, Debug)]
pub enum Transport {
    Smtp {
        host: String,
        port: u16,
        tls: TlsMode,
        credentials: Option<(String, String)>,
    },
    /// One `.eml` file per message in this folder.
    Outbox(PathBuf),
}

impl Transport {
    fn method(&self) -> &'static str {
        match self {
            Transport::Smtp { .. } => "SMTP",
            Transport::Outbox(_) => "OUTBOX",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub messages: usize,
    pub attachments: usize,
    /// Recipients with nothing new to receive.
    pub up_to_date: usize,
    /// Messages a previous run recorded but may or may not have handed to the SMTP relay
    /// before it stopped: not sent again (see `settle_pending`).
    pub uncertain: usize,
}

fn mail_error(e: impl std::fmt::Display) -> JobError {
    JobError::Io(std::io::Error::other(format!("mail: {e}")))
}

/// The outbox file of a message: named after its Message-ID, so a rerun can tell whether a
/// message recorded PENDING was written before a crash.
fn outbox_file(dir: &Path, message_id: &str) -> PathBuf {
    let local = message_id.split('@').next().unwrap_or(message_id);
    dir.join(format!("{local}.eml"))
}

/// Where this step's messages go, opened on the first message of the step.
enum Sender {
    Outbox(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Sender {
    /// For SMTP, connects and checks the relay first: an unreachable relay fails the step
    /// before any delivery is recorded, so nothing is left uncertain by it.
    async fn open(transport: &Transport) -> Result<Self, JobError> {
        let (host, port, tls, credentials) = match transport {
            Transport::Outbox(dir) => return Ok(Sender::Outbox(dir.clone())),
            Transport::Smtp {
                host,
                port,
                tls,
                credentials,
            } => (host, port, tls, credentials),
        };
        let mut builder = match tls {
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str()),
            TlsMode::Starttls => {
                let params = TlsParameters::new(host.clone()).map_err(mail_error)?;
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
                    .tls(Tls::Required(params))
            }
            TlsMode::Tls => {
                let params = TlsParameters::new(host.clone()).map_err(mail_error)?;
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
                    .tls(Tls::Wrapper(params))
            }
        }
        .port(*port);
        if let Some((user, password)) = credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let smtp = builder.build();
        match smtp.test_connection().await {
            Ok(true) => Ok(Sender::Smtp(smtp)),
            Ok(false) => Err(mail_error("the SMTP relay does not answer")),
            Err(e) => Err(mail_error(e)),
        }
    }

    /// Sends one message. On failure, also tells whether the message certainly did not
    /// leave: an outbox file is renamed into place or not at all; a relay that answered
    /// with an error code (4xx, 5xx) refused it. A broken connection or a timeout in the
    /// middle of the conversation leaves it uncertain.
    async fn send(&self, message: Message, message_id: &str) -> Result<(), (JobError, bool)> {
        match self {
            // Written to a temporary name and renamed: a mail pickup never sees half a message.
            Sender::Outbox(dir) => {
                write_atomically(&outbox_file(dir, message_id), &message.formatted())
                    .map_err(|e| (e, true))
            }
            Sender::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                let refused = e.is_transient() || e.is_permanent();
                (mail_error(e), refused)
            }),
        }
    }
}

/// A Message-ID that depends only on the recipient, the period and the report versions the
/// message carries: the same message rebuilt after a crash keeps its id.
/// It is under the sender's domain, as RFC 5322 asks of an id meant to be unique.
fn message_id(
    recipient: Uuid,
    period: Period,
    versions: &[(Uuid, String)],
    domain: &str,
) -> String {
    let mut hash = Sha256::new();
    for (report, sha) in versions {
        hash.update(report.as_bytes());
        hash.update(sha.as_bytes());
    }
    let digest = hex::encode(hash.finalize());
    format!("{}.{period}.{}@{domain}", recipient.simple(), &digest[..16])
}

/// `Auto-Submitted: auto-generated` (RFC 3834): the reports are sent by a program, so
/// vacation responders and other automatic replies stay silent.
#[derive(Clone, Debug)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// Whether `from` can be the sender of real mail: a relay refuses, or recipients' servers
/// reject, `localhost` and other names without a dot.
pub fn check_sender(from: &str) -> Result<(), String> {
    let mailbox: Mailbox = from
        .parse()
        .map_err(|e| format!("--mail-from {from:?} is not an address: {e}"))?;
    let domain = mailbox.email.domain();
    if domain.eq_ignore_ascii_case("localhost") || !domain.contains('.') {
        return Err(format!(
            "--mail-from {from:?}: a relay needs a real sender address (the default is only for the outbox)"
        ));
    }
    Ok(())
}

/// Settles the PENDING deliveries a crashed run left for a recipient. The outbox can be
/// checked: a message whose file exists was sent (it becomes SENT), one whose file does not
/// was not (forgotten, so this run sends it). An SMTP relay cannot be asked: such messages
/// are reported as uncertain and never sent again automatically (at most once; an operator
/// checks the relay's log for the Message-ID, then `boucle-jobs settle` records what it
/// says). Returns the number of uncertain messages.
async fn settle_pending(
    store: &Store,
    transport: &Transport,
    pending: &[Delivery],
) -> Result<usize, JobError> {
    let mut messages: Vec<&str> = pending
        .iter()
        .filter(|d| d.status == DeliveryStatus::Pending)
        .filter_map(|d| d.message_id.as_deref())
        .collect();
    messages.sort_unstable();
    messages.dedup();
    let mut uncertain = 0;
    for message_id in messages {
        match transport {
            Transport::Outbox(dir) if outbox_file(dir, message_id).exists() => {
                store.mark_delivered(message_id).await?;
            }
            Transport::Outbox(_) => {
                store.forget_pending_delivery(message_id).await?;
            }
            Transport::Smtp { .. } => {
                tracing::error!(%message_id, "a previous run may have sent this message before it stopped; not sent again (see `boucle-jobs uncertain` and `settle`)");
                uncertain += 1;
            }
        }
    }
    Ok(uncertain)
}

/// Sends every recipient the reports of its subtree for `period` that it has not received
/// in this version yet, with the agents' barometer of its location in the message's text
/// (the only place it leaves the database: see [`crate::report::barometer`]).
pub async fn deliver_period(
    store: &Store,
    period: Period,
    root: Option<Uuid>,
    transport: &Transport,
    from: &str,
) -> Result<Summary, JobError> {
    let from: Mailbox = from.parse().map_err(mail_error)?;
    let mut summary = Summary::default();
    let mut sender: Option<Sender> = None;
    for recipient in store.all_recipients().await? {
        if let Some(root) = root
            && !boucle::store::locations::in_scope(
                store.connection(),
                Some(root),
                recipient.location_id,
            )
            .await?
        {
            continue;
        }
        let reports = store
            .reports_in_subtree(recipient.location_id, period)
            .await?;
        let ids: Vec<Uuid> = reports.iter().map(|r| r.report.id).collect();
        let mut recorded = store.deliveries_to(recipient.id, &ids).await?;
        if recorded.iter().any(|d| d.status == DeliveryStatus::Pending) {
            summary.uncertain += settle_pending(store, transport, &recorded).await?;
            recorded = store.deliveries_to(recipient.id, &ids).await?;
        }
        let known: std::collections::HashSet<(Uuid, &str)> = recorded
            .iter()
            .map(|d| (d.report_id, d.sha256.as_str()))
            .collect();
        let pending: Vec<_> = reports
            .iter()
            .filter(|r| !known.contains(&(r.report.id, r.report.sha256.as_str())))
            .collect();
        if pending.is_empty() {
            summary.up_to_date += 1;
            continue;
        }
        let to: Mailbox = match format!("{} <{}>", recipient.name, recipient.email).parse() {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(recipient = %recipient.id, error = %e, "invalid recipient address, skipped");
                continue;
            }
        };
        let location = boucle::app::locations::find(
            store,
            &boucle::store::locations::LocationKey::Id(recipient.location_id),
        )
        .await?;
        let mut body = format!(
            "Bonjour,\n\nVoici les résultats Services Publics + {} de la structure « {} » et des structures qui lui sont rattachées.\n\n",
            of_period(&period.to_string()),
            location.location.name
        );
        let mut parts = Vec::new();
        for (i, r) in pending.iter().enumerate() {
            let name = Path::new(&r.report.path)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| format!("{}.pdf", r.location_code));
            if i < MAX_ATTACHMENTS {
                let bytes = std::fs::read(&r.report.path)?;
                parts.push(Attachment::new(name).body(
                    bytes,
                    ContentType::parse("application/pdf").map_err(mail_error)?,
                ));
            } else {
                body.push_str(&format!(
                    "- {name} (disponible sur le portail de résultats)\n"
                ));
            }
        }
        // The agents' barometer reaches the administration here only: never in a report.
        let barometer = crate::report::barometer::read(store, &location, period).await?;
        body.push('\n');
        body.push_str(&crate::report::barometer::text(&barometer));
        body.push_str("\nCe message est envoyé automatiquement par boucle.\n");
        let attached = pending.len().min(MAX_ATTACHMENTS);
        let mut multipart = MultiPart::mixed().singlepart(SinglePart::plain(typeset(&body)));
        for part in parts {
            multipart = multipart.singlepart(part);
        }
        let versions: Vec<(Uuid, String)> = pending
            .iter()
            .map(|r| (r.report.id, r.report.sha256.clone()))
            .collect();
        let message_id = message_id(recipient.id, period, &versions, from.email.domain());
        let message = Message::builder()
            .message_id(Some(format!("<{message_id}>")))
            .header(AutoSubmitted)
            .from(from.clone())
            .to(to)
            .subject(typeset(&format!(
                "Résultats Services Publics + — {} — {}",
                location.location.name,
                period_long(&period.to_string())
            )))
            .multipart(multipart)
            .map_err(mail_error)?;
        let open = match sender.take() {
            Some(open) => open,
            None => Sender::open(transport).await?,
        };
        // PENDING first, then send, then SENT: a crash anywhere never sends a message twice.
        store
            .record_pending_deliveries(recipient.id, &versions, transport.method(), &message_id)
            .await?;
        let sent = open.send(message, &message_id).await;
        sender = Some(open);
        match sent {
            Ok(()) => {
                store.mark_delivered(&message_id).await?;
            }
            Err((error, not_sent)) => {
                if not_sent {
                    store.forget_pending_delivery(&message_id).await?;
                }
                return Err(error);
            }
        }
        tracing::info!(recipient = %recipient.id, reports = pending.len(), attached, "reports delivered");
        summary.messages += 1;
        summary.attachments += attached;
    }
    Ok(summary)
}
