//! E-mailing the reports of a period to the recipients of each location subtree: through an
//! SMTP relay, or as `.eml` files in an outbox folder when no relay is configured. A delivery
//! is recorded per report version (its SHA-256), so a rerun never sends the same PDF twice,
//! and a changed report is sent again.

use std::path::{Path, PathBuf};

use boucle::domain::Period;
use boucle::store::Store;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use uuid::Uuid;

use crate::JobError;
use crate::report::format::{of_period, period_long};

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
}

fn mail_error(e: impl std::fmt::Display) -> JobError {
    JobError::Io(std::io::Error::other(format!("mail: {e}")))
}

async fn send(transport: &Transport, message: Message) -> Result<(), JobError> {
    match transport {
        Transport::Outbox(dir) => {
            std::fs::create_dir_all(dir)?;
            AsyncFileTransport::<Tokio1Executor>::new(dir)
                .send(message)
                .await
                .map_err(mail_error)?;
        }
        Transport::Smtp {
            host,
            port,
            tls,
            credentials,
        } => {
            let mut builder = match tls {
                TlsMode::None => {
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
                }
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
            builder.build().send(message).await.map_err(mail_error)?;
        }
    }
    Ok(())
}

/// Sends every recipient the reports of its subtree for `period` that it has not received
/// in this version yet.
pub async fn deliver_period(
    store: &Store,
    period: Period,
    root: Option<Uuid>,
    transport: &Transport,
    from: &str,
) -> Result<Summary, JobError> {
    let from: Mailbox = from.parse().map_err(mail_error)?;
    let mut summary = Summary::default();
    for recipient in store.all_recipients().await? {
        if let Some(root) = root
            && !store.in_scope(Some(root), recipient.location_id).await?
        {
            continue;
        }
        let mut pending = Vec::new();
        for r in store
            .reports_in_subtree(recipient.location_id, period)
            .await?
        {
            if !store
                .delivered(recipient.id, r.model.id, &r.model.sha256)
                .await?
            {
                pending.push(r);
            }
        }
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
        let location = store
            .find_location(
                None,
                &boucle::store::locations::LocationKey::Id(recipient.location_id),
            )
            .await?;
        let mut body = format!(
            "Bonjour,\n\nVoici les résultats Services Publics + {} pour {} et les structures qui lui sont rattachées.\n\n",
            of_period(&period.to_string()),
            location.model.name
        );
        let mut parts = Vec::new();
        for (i, r) in pending.iter().enumerate() {
            let name = Path::new(&r.model.path)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| format!("{}.pdf", r.location_code));
            if i < MAX_ATTACHMENTS {
                let bytes = std::fs::read(&r.model.path)?;
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
        body.push_str("\nCe message est envoyé automatiquement par boucle.\n");
        let attached = pending.len().min(MAX_ATTACHMENTS);
        let mut multipart = MultiPart::mixed().singlepart(SinglePart::plain(body));
        for part in parts {
            multipart = multipart.singlepart(part);
        }
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(format!(
                "Résultats Services Publics + — {} — {}",
                location.model.name,
                period_long(&period.to_string())
            ))
            .multipart(multipart)
            .map_err(mail_error)?;
        send(transport, message).await?;
        let versions: Vec<(Uuid, String)> = pending
            .iter()
            .map(|r| (r.model.id, r.model.sha256.clone()))
            .collect();
        store
            .record_deliveries(recipient.id, &versions, transport.method())
            .await?;
        tracing::info!(recipient = %recipient.id, reports = pending.len(), attached, "reports delivered");
        summary.messages += 1;
        summary.attachments += attached;
    }
    Ok(summary)
}
