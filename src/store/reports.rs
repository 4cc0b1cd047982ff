//! Published reports, their recipients and deliveries.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;
use uuid::Uuid;

use super::entities::{
    delivery, published_chunk, published_file, recipient, report, report_content,
};
use super::locations::subtree_ids;
use super::{Reach, Store, is_unique_violation, now_ms, sql, stored_code};
use crate::Error;
use crate::domain::Period;
use crate::domain::codes::{DeliveryStatus, ReportKind};

/// A published report: a file and the digest recorded with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub id: Uuid,
    pub location_id: Uuid,
    /// `YYYY-MM`.
    pub period: String,
    pub kind: ReportKind,
    pub path: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub created_at: i64,
}

impl TryFrom<report::Model> for Report {
    type Error = Error;

    fn try_from(m: report::Model) -> Result<Self, Error> {
        Ok(Self {
            kind: stored_code(
                ReportKind::from_code,
                format_args!("report {}", m.id),
                "kind",
                &m.kind,
            )?,
            id: m.id,
            location_id: m.location_id,
            period: m.period,
            path: m.path,
            sha256: m.sha256,
            size_bytes: u64::try_from(m.size_bytes).unwrap_or(0),
            created_at: m.created_at,
        })
    }
}

/// A report with its location's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportView {
    pub report: Report,
    pub location_code: String,
}

/// Someone who receives the reports of a location subtree by e-mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub location_id: Uuid,
    pub location_code: String,
    pub created_at: i64,
}

fn recipient_of(m: recipient::Model, location_code: String) -> Recipient {
    Recipient {
        id: m.id,
        email: m.email,
        name: m.name,
        location_id: m.location_id,
        location_code,
        created_at: m.created_at,
    }
}

/// A report version recorded as sent, or being sent, to a recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub report_id: Uuid,
    pub sha256: String,
    pub status: DeliveryStatus,
    pub message_id: Option<String>,
}

/// A report written to disk, to be recorded with its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedReport {
    pub location_id: Uuid,
    pub kind: ReportKind,
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub bytes: Vec<u8>,
}

/// Report contents per insert statement: about 70 KB each, so a statement stays small.
const CONTENTS_PER_INSERT: usize = 32;

/// The file name of a report's HTML twin beside its PDF (`CAF69.pdf` → `CAF69.html`).
pub fn html_twin_name(pdf_name: &str) -> String {
    format!("{}.html", pdf_name.trim_end_matches(".pdf"))
}

/// The name under which the database keeps a report's HTML twin: in its period's folder,
/// so that it is never listed as open data.
pub fn html_twin_key(period: &str, pdf_name: &str) -> String {
    format!("{period}/{}", html_twin_name(pdf_name))
}

/// How big a piece of a published file is, in the database and on the wire.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// A published file other than a report, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedFileView {
    pub name: String,
    pub period: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub updated_at: i64,
}

/// Writes a published file's row, replacing an earlier version in place. An upsert rather
/// than a delete and an insert: two runs of different months recording the same cumulated
/// file would otherwise both delete, then both insert (a duplicate key on PostgreSQL). The
/// row stays locked until the transaction ends, so the pieces written after it are never
/// interleaved with another writer's.
async fn upsert_file(
    txn: &impl ConnectionTrait,
    model: published_file::ActiveModel,
) -> Result<(), Error> {
    published_file::Entity::insert(model)
        .on_conflict(
            OnConflict::column(published_file::Column::Name)
                .update_columns([
                    published_file::Column::Period,
                    published_file::Column::Sha256,
                    published_file::Column::SizeBytes,
                    published_file::Column::Bytes,
                    published_file::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(txn)
        .await?;
    Ok(())
}

impl Store {
    /// Records a batch of rendered reports of `period` in one transaction, with their
    /// bytes: new ones are inserted, changed ones (path or content) updated with a new date
    /// and their bytes replaced, identical ones left alone (their bytes stored if they were
    /// recorded before the database kept them). The digest and the bytes served for it are
    /// committed together. The bytes are moved out of `rendered`, not copied.
    pub async fn upsert_reports(
        &self,
        period: Period,
        mut rendered: Vec<RenderedReport>,
    ) -> Result<(), Error> {
        let period_text = period.to_string();
        let txn = self.write_txn().await?;
        for chunk in rendered.chunks_mut(500) {
            let ids: Vec<Uuid> = chunk.iter().map(|r| r.location_id).collect();
            let existing: std::collections::HashMap<(Uuid, String), report::Model> =
                report::Entity::find()
                    .filter(report::Column::LocationId.is_in(ids))
                    .filter(report::Column::Period.eq(period_text.as_str()))
                    .all(&txn)
                    .await?
                    .into_iter()
                    .map(|r| ((r.location_id, r.kind.clone()), r))
                    .collect();
            let stored: std::collections::HashSet<Uuid> = report_content::Entity::find()
                .select_only()
                .column(report_content::Column::ReportId)
                .filter(
                    report_content::Column::ReportId
                        .is_in(existing.values().map(|r| r.id).collect::<Vec<_>>()),
                )
                .into_tuple::<Uuid>()
                .all(&txn)
                .await?
                .into_iter()
                .collect();
            let now = now_ms();
            let mut fresh = Vec::new();
            // The bytes to (re)write, by report id.
            let mut contents: Vec<report_content::ActiveModel> = Vec::new();
            let content = |id: Uuid, r: &mut RenderedReport| report_content::ActiveModel {
                report_id: Set(id),
                sha256: Set(r.sha256.clone()),
                bytes: Set(std::mem::take(&mut r.bytes)),
            };
            for r in chunk.iter_mut() {
                let size = i64::try_from(r.size).unwrap_or(i64::MAX);
                match existing.get(&(r.location_id, r.kind.code().to_owned())) {
                    Some(old) if old.sha256 == r.sha256 && old.path == r.path => {
                        if !stored.contains(&old.id) {
                            contents.push(content(old.id, r));
                        }
                    }
                    Some(old) => {
                        let mut row: report::ActiveModel = old.clone().into();
                        row.path = Set(r.path.clone());
                        row.sha256 = Set(r.sha256.clone());
                        row.size_bytes = Set(size);
                        row.created_at = Set(now);
                        row.update(&txn).await?;
                        contents.push(content(old.id, r));
                    }
                    None => {
                        let id = Uuid::now_v7();
                        fresh.push(report::ActiveModel {
                            id: Set(id),
                            location_id: Set(r.location_id),
                            period: Set(period_text.clone()),
                            kind: Set(r.kind.code().to_owned()),
                            path: Set(r.path.clone()),
                            sha256: Set(r.sha256.clone()),
                            size_bytes: Set(size),
                            created_at: Set(now),
                        });
                        contents.push(content(id, r));
                    }
                }
            }
            if !fresh.is_empty() {
                report::Entity::insert_many(fresh)
                    .exec_without_returning(&txn)
                    .await?;
            }
            if !contents.is_empty() {
                let ids: Vec<Uuid> = contents
                    .iter()
                    .filter_map(|c| c.report_id.try_as_ref().copied())
                    .collect();
                report_content::Entity::delete_many()
                    .filter(report_content::Column::ReportId.is_in(ids))
                    .exec(&txn)
                    .await?;
            }
            let mut contents = contents.into_iter().peekable();
            while contents.peek().is_some() {
                report_content::Entity::insert_many(contents.by_ref().take(CONTENTS_PER_INSERT))
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }

    /// Reports of the subtree of `root` (and of `period` when given), newest period first,
    /// then by location code; keyset on the report id.
    pub async fn list_reports(
        &self,
        root: Uuid,
        period: Option<Period>,
        limit: u64,
        after: Option<Uuid>,
    ) -> Result<Vec<ReportView>, Error> {
        let mut cond =
            Condition::all().add(report::Column::LocationId.in_subquery(subtree_ids(root)));
        if let Some(p) = period {
            cond = cond.add(report::Column::Period.eq(p.to_string()));
        }
        if let Some(after) = after {
            cond = cond.add(report::Column::Id.gt(after));
        }
        let models = report::Entity::find()
            .filter(cond)
            .order_by_asc(report::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        self.report_views(models).await
    }

    /// The bytes recorded with report `id` and their SHA-256; `None` for a report recorded
    /// before the database kept them (its file is then the only copy).
    pub async fn report_content(&self, id: Uuid) -> Result<Option<(String, Vec<u8>)>, Error> {
        Ok(report_content::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(|c| (c.sha256, c.bytes)))
    }

    /// Records a published file of `period` other than a report (the manifest, the open
    /// data) under its name, replacing an earlier version.
    pub async fn put_published_file(
        &self,
        name: &str,
        period: Period,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let txn = self.write_txn().await?;
        upsert_file(
            &txn,
            published_file::ActiveModel {
                name: Set(name.to_owned()),
                period: Set(period.to_string()),
                sha256: Set(crate::domain::digest::sha256_hex(bytes)),
                size_bytes: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
                bytes: Set(bytes.to_vec()),
                updated_at: Set(now_ms()),
            },
        )
        .await?;
        published_chunk::Entity::delete_many()
            .filter(published_chunk::Column::Name.eq(name))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Records the file at `path` under `name`, in pieces of [`CHUNK_BYTES`] read one at a
    /// time, with the SHA-256 and size its writer computed: if the file no longer matches
    /// them (rewritten meanwhile), nothing is recorded. Replaces an earlier version in the
    /// same transaction, so a reader sees the old file or the new one whole.
    pub async fn put_published_file_from(
        &self,
        name: &str,
        period: Period,
        path: &std::path::Path,
        sha256: &str,
        size: u64,
    ) -> Result<(), Error> {
        use sha2::Digest;
        use tokio::io::AsyncReadExt;
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?;
        let txn = self.write_txn().await?;
        upsert_file(
            &txn,
            published_file::ActiveModel {
                name: Set(name.to_owned()),
                period: Set(period.to_string()),
                sha256: Set(sha256.to_owned()),
                size_bytes: Set(i64::try_from(size).unwrap_or(i64::MAX)),
                bytes: Set(Vec::new()),
                updated_at: Set(now_ms()),
            },
        )
        .await?;
        published_chunk::Entity::delete_many()
            .filter(published_chunk::Column::Name.eq(name))
            .exec(&txn)
            .await?;
        let mut hasher = sha2::Sha256::new();
        let mut read_total = 0u64;
        let mut seq = 0i32;
        loop {
            let mut piece = Vec::with_capacity(CHUNK_BYTES);
            while piece.len() < CHUNK_BYTES {
                let n = (&mut file)
                    .take((CHUNK_BYTES - piece.len()) as u64)
                    .read_to_end(&mut piece)
                    .await
                    .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?;
                if n == 0 {
                    break;
                }
            }
            if piece.is_empty() {
                break;
            }
            hasher.update(&piece);
            read_total += piece.len() as u64;
            // Without RETURNING: the database would send each piece back.
            published_chunk::Entity::insert(published_chunk::ActiveModel {
                name: Set(name.to_owned()),
                seq: Set(seq),
                bytes: Set(piece),
            })
            .exec_without_returning(&txn)
            .await?;
            seq += 1;
        }
        if read_total != size || hex::encode(hasher.finalize()) != sha256 {
            return Err(Error::Unavailable(format!(
                "{} changed while it was recorded",
                path.display()
            )));
        }
        txn.commit().await?;
        Ok(())
    }

    /// The SHA-256 and size of every published file whose name starts with `prefix`.
    pub async fn published_digests(
        &self,
        prefix: &str,
    ) -> Result<HashMap<String, (String, u64)>, Error> {
        let rows: Vec<(String, String, i64)> = published_file::Entity::find()
            .select_only()
            .columns([
                published_file::Column::Name,
                published_file::Column::Sha256,
                published_file::Column::SizeBytes,
            ])
            .filter(published_file::Column::Name.starts_with(prefix))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(name, sha, size)| (name, (sha, u64::try_from(size).unwrap_or(0))))
            .collect())
    }

    /// Records small published files whole (reports' HTML twins), in one transaction,
    /// replacing earlier versions.
    pub async fn put_published_files(
        &self,
        period: Period,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<(), Error> {
        if files.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
        let now = now_ms();
        let txn = self.write_txn().await?;
        for chunk in names.chunks(500) {
            published_file::Entity::delete_many()
                .filter(published_file::Column::Name.is_in(chunk.to_vec()))
                .exec(&txn)
                .await?;
        }
        let mut rows = Vec::with_capacity(files.len());
        for (name, bytes) in files {
            rows.push(published_file::ActiveModel {
                name: Set(name),
                period: Set(period.to_string()),
                sha256: Set(crate::domain::digest::sha256_hex(&bytes)),
                size_bytes: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
                bytes: Set(bytes),
                updated_at: Set(now),
            });
        }
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let batch: Vec<_> = rows.by_ref().take(CONTENTS_PER_INSERT).collect();
            published_file::Entity::insert_many(batch)
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// A published file by name: its SHA-256 and bytes, whole (for the small ones: the
    /// manifest; large files are read piece by piece with [`Store::published_piece`]).
    pub async fn published_file(&self, name: &str) -> Result<Option<(String, Vec<u8>)>, Error> {
        let Some(file) = published_file::Entity::find_by_id(name.to_owned())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        if !file.bytes.is_empty() || file.size_bytes == 0 {
            return Ok(Some((file.sha256, file.bytes)));
        }
        let mut bytes = Vec::new();
        let mut seq = 0;
        while let Some(piece) = self.published_piece(name, seq).await? {
            bytes.extend_from_slice(&piece);
            seq += 1;
        }
        Ok(Some((file.sha256, bytes)))
    }

    /// Piece `seq` of a published file, or `None` past its end. A file recorded whole (by
    /// [`Store::put_published_file`]) is its piece 0.
    pub async fn published_piece(&self, name: &str, seq: i32) -> Result<Option<Vec<u8>>, Error> {
        if let Some(piece) = published_chunk::Entity::find_by_id((name.to_owned(), seq))
            .one(&self.db)
            .await?
        {
            return Ok(Some(piece.bytes));
        }
        if seq == 0 {
            return Ok(published_file::Entity::find_by_id(name.to_owned())
                .one(&self.db)
                .await?
                .filter(|f| !f.bytes.is_empty())
                .map(|f| f.bytes));
        }
        Ok(None)
    }

    /// Published open-data files by name, after `after`, of `period` when given.
    pub async fn list_published_files(
        &self,
        period: Option<Period>,
        limit: u64,
        after: Option<String>,
    ) -> Result<Vec<PublishedFileView>, Error> {
        let mut query = published_file::Entity::find()
            .select_only()
            .columns([
                published_file::Column::Name,
                published_file::Column::Period,
                published_file::Column::Sha256,
                published_file::Column::SizeBytes,
                published_file::Column::UpdatedAt,
            ])
            .order_by_asc(published_file::Column::Name)
            .limit(limit);
        if let Some(p) = period {
            query = query.filter(published_file::Column::Period.eq(p.to_string()));
        }
        if let Some(after) = after {
            query = query.filter(published_file::Column::Name.gt(after));
        }
        // A month's reports manifest (`2026-10/manifest.json`) is not open data.
        query = query.filter(published_file::Column::Name.not_like("%/%"));
        let rows: Vec<(String, String, String, i64, i64)> =
            query.into_tuple().all(&self.db).await?;
        Ok(rows
            .into_iter()
            .map(
                |(name, period, sha256, size, updated_at)| PublishedFileView {
                    name,
                    period,
                    sha256,
                    size_bytes: u64::try_from(size).unwrap_or(0),
                    updated_at,
                },
            )
            .collect())
    }

    /// One published file's description.
    pub async fn published_file_view(&self, name: &str) -> Result<PublishedFileView, Error> {
        let f = published_file::Entity::find_by_id(name.to_owned())
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::not_found("published file"))?;
        Ok(PublishedFileView {
            name: f.name,
            period: f.period,
            sha256: f.sha256,
            size_bytes: u64::try_from(f.size_bytes).unwrap_or(0),
            updated_at: f.updated_at,
        })
    }

    pub async fn get_report(&self, id: Uuid) -> Result<ReportView, Error> {
        let model = report::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::not_found("report"))?;
        self.report_views(vec![model])
            .await?
            .pop()
            .ok_or_else(|| Error::not_found("report"))
    }

    /// Every report of `period`.
    pub async fn reports_of_period(&self, period: Period) -> Result<Vec<ReportView>, Error> {
        let models = report::Entity::find()
            .filter(report::Column::Period.eq(period.to_string()))
            .all(&self.db)
            .await?;
        self.report_views(models).await
    }

    /// Reports of `period` whose location lies in the subtree of `root`.
    pub async fn reports_in_subtree(
        &self,
        root: Uuid,
        period: Period,
    ) -> Result<Vec<ReportView>, Error> {
        let models = report::Entity::find()
            .filter(report::Column::LocationId.in_subquery(subtree_ids(root)))
            .filter(report::Column::Period.eq(period.to_string()))
            .all(&self.db)
            .await?;
        let mut views = self.report_views(models).await?;
        // Summaries first, then by location code: what a reader of the subtree wants first.
        views.sort_by(|a, b| {
            (b.report.kind.code(), &a.location_code).cmp(&(a.report.kind.code(), &b.location_code))
        });
        Ok(views)
    }

    async fn report_views(&self, models: Vec<report::Model>) -> Result<Vec<ReportView>, Error> {
        let ids: Vec<Uuid> = models.iter().map(|m| m.location_id).collect();
        let codes = super::locations::codes(&self.db, ids).await?;
        models
            .into_iter()
            .map(|model| {
                Ok(ReportView {
                    location_code: codes.get(&model.location_id).cloned().unwrap_or_default(),
                    report: Report::try_from(model)?,
                })
            })
            .collect()
    }

    /// Every recipient (for delivery).
    pub async fn all_recipients(&self) -> Result<Vec<Recipient>, Error> {
        let models = recipient::Entity::find()
            .order_by_asc(recipient::Column::Id)
            .all(&self.db)
            .await?;
        with_codes(&self.db, models).await
    }

    /// Deliveries recorded (PENDING or SENT) to a recipient for any version of these reports.
    pub async fn deliveries_to(
        &self,
        recipient_id: Uuid,
        report_ids: &[Uuid],
    ) -> Result<Vec<Delivery>, Error> {
        if report_ids.is_empty() {
            return Ok(Vec::new());
        }
        delivery::Entity::find()
            .filter(delivery::Column::RecipientId.eq(recipient_id))
            .filter(delivery::Column::ReportId.is_in(report_ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| {
                Ok(Delivery {
                    status: stored_code(
                        DeliveryStatus::from_code,
                        format_args!("delivery {}", d.id),
                        "status",
                        &d.status,
                    )?,
                    report_id: d.report_id,
                    sha256: d.sha256,
                    message_id: d.message_id,
                })
            })
            .collect()
    }

    /// Records, before it is sent, that message `message_id` carries these report versions
    /// to the recipient (PENDING): committed first, so a crash while sending never lets a
    /// rerun send blindly again. Versions already recorded are left as they are.
    pub async fn record_pending_deliveries(
        &self,
        recipient_id: Uuid,
        reports: &[(Uuid, String)],
        method: &str,
        message_id: &str,
    ) -> Result<(), Error> {
        let now = now_ms();
        let txn = self.write_txn().await?;
        for (report_id, sha) in reports {
            txn.execute_raw(sql(
                self.backend(),
                "INSERT INTO delivery (id, recipient_id, report_id, sha256, method, delivered_at, status, message_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7) ON CONFLICT (recipient_id, report_id, sha256) DO NOTHING",
                vec![
                    Uuid::now_v7().into(),
                    recipient_id.into(),
                    (*report_id).into(),
                    sha.clone().into(),
                    method.into(),
                    now.into(),
                    message_id.into(),
                ],
            ))
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Message `message_id` has left: its versions are SENT. Answers how many PENDING
    /// versions it settled (0: no such pending message).
    pub async fn mark_delivered(&self, message_id: &str) -> Result<u64, Error> {
        let done = self
            .db
            .execute_raw(sql(
                self.backend(),
                "UPDATE delivery SET status = 'SENT', delivered_at = $2 WHERE message_id = $1 AND status = 'PENDING'",
                vec![message_id.into(), now_ms().into()],
            ))
            .await?;
        Ok(done.rows_affected())
    }

    /// Message `message_id` never left (its outbox file does not exist, or the SMTP relay's
    /// log says so): its PENDING versions are forgotten, to be sent by the next delivery.
    /// Answers how many it forgot (0: no such pending message).
    pub async fn forget_pending_delivery(&self, message_id: &str) -> Result<u64, Error> {
        let done = self
            .db
            .execute_raw(sql(
                self.backend(),
                "DELETE FROM delivery WHERE message_id = $1 AND status = 'PENDING'",
                vec![message_id.into()],
            ))
            .await?;
        Ok(done.rows_affected())
    }

    /// Every message recorded PENDING and never settled, oldest first: each was being sent
    /// when its run stopped, and through an SMTP relay nobody can tell whether it left.
    pub async fn pending_messages(&self) -> Result<Vec<PendingMessage>, Error> {
        let rows = self
            .db
            .query_all_raw(sql(
                self.backend(),
                "SELECT d.message_id, r.period, rc.email, COUNT(*) AS reports, MIN(d.delivered_at) AS since \
                 FROM delivery d JOIN report r ON r.id = d.report_id JOIN recipient rc ON rc.id = d.recipient_id \
                 WHERE d.status = 'PENDING' AND d.message_id IS NOT NULL \
                 GROUP BY d.message_id, r.period, rc.email ORDER BY since, d.message_id",
                vec![],
            ))
            .await?;
        rows.iter()
            .map(|row| {
                Ok(PendingMessage {
                    message_id: row.try_get("", "message_id")?,
                    period: row.try_get("", "period")?,
                    recipient: row.try_get("", "email")?,
                    reports: row.try_get("", "reports")?,
                    since_ms: row.try_get("", "since")?,
                })
            })
            .collect()
    }
}

/// A message recorded PENDING and never settled (see [`Store::pending_messages`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingMessage {
    pub message_id: String,
    pub period: String,
    /// The recipient's address.
    pub recipient: String,
    /// Report versions it carries.
    pub reports: i64,
    /// When it was recorded (epoch ms).
    pub since_ms: i64,
}

async fn with_codes(
    db: &impl ConnectionTrait,
    models: Vec<recipient::Model>,
) -> Result<Vec<Recipient>, Error> {
    let ids: Vec<Uuid> = models.iter().map(|m| m.location_id).collect();
    let codes = super::locations::codes(db, ids).await?;
    Ok(models
        .into_iter()
        .map(|m| {
            let code = codes.get(&m.location_id).cloned().unwrap_or_default();
            recipient_of(m, code)
        })
        .collect())
}

/// Stores a subscription; ALREADY_EXISTS when the address already receives the reports
/// of this location.
pub async fn insert_recipient(db: &impl ConnectionTrait, r: &Recipient) -> Result<(), Error> {
    let inserted = recipient::ActiveModel {
        id: Set(r.id),
        email: Set(r.email.clone()),
        name: Set(r.name.clone()),
        location_id: Set(r.location_id),
        created_at: Set(r.created_at),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(Error::AlreadyExists(
            "this address already receives this location's reports".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The recipient `id`, if any.
pub async fn find_recipient(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<Recipient>, Error> {
    let Some(model) = recipient::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(with_codes(db, vec![model]).await?.pop())
}

/// Recipients whose location lies in `reach`, oldest first, after id `after`.
pub async fn recipients(
    db: &impl ConnectionTrait,
    reach: &Reach,
    limit: u64,
    after: Option<Uuid>,
) -> Result<Vec<Recipient>, Error> {
    let mut cond = Condition::all();
    for root in reach.roots() {
        cond = cond.add(recipient::Column::LocationId.in_subquery(subtree_ids(root)));
    }
    if let Some(after) = after {
        cond = cond.add(recipient::Column::Id.gt(after));
    }
    let models = recipient::Entity::find()
        .filter(cond)
        .order_by_asc(recipient::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    with_codes(db, models).await
}

/// Removes a recipient and its delivery records.
pub async fn delete_recipient(db: &impl ConnectionTrait, id: Uuid) -> Result<(), Error> {
    delivery::Entity::delete_many()
        .filter(delivery::Column::RecipientId.eq(id))
        .exec(db)
        .await?;
    recipient::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
