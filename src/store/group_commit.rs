//! Group commit for captured experiences. Concurrent submissions are queued; a writer takes
//! every submission waiting at that moment (up to [`MAX_BATCH`]) and stores them in one
//! transaction (on PostgreSQL a single statement), so that one durable commit (one fsync)
//! serves the whole batch instead of one per experience. Nobody is answered before the
//! commit that holds their experience has returned: an acknowledged experience is stored
//! exactly as without batching.
//!
//! Idempotency is unchanged: rows whose `(api_key_id, request_id)` is already taken — by an
//! earlier request or by another row of the same batch — are skipped by `ON CONFLICT DO
//! NOTHING` and reported as conflicts, and the caller then replays the original. A batch
//! refused for a constraint (a row breaking a foreign key, say) is retried one row per
//! transaction, so one bad row never fails its neighbours; any other failure is every
//! row's, and is answered to all of them at once.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryTrait, Statement,
    TryIntoModel,
};
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::entities::{feedback, feedback_tag};

/// Most experiences per transaction: 27 parameters each stays far below both databases'
/// bind limits, and a batch this size commits in a few milliseconds.
pub const MAX_BATCH: usize = 256;
/// Submissions waiting beyond this make callers wait for room (back-pressure).
const QUEUE: usize = 4_096;

struct Pending {
    row: feedback::ActiveModel,
    tags: Vec<feedback_tag::ActiveModel>,
    /// `true` when stored, `false` when its request_id was already taken.
    reply: oneshot::Sender<Result<bool, DbErr>>,
}

/// The queue in front of the writers.
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("waiting", &self.waiting())
            .finish()
    }
}

impl GroupCommit {
    /// Starts the writers on the current runtime: one on SQLite (it has a single writer
    /// anyway), a few on PostgreSQL (whose own group commit overlaps their flushes).
    /// `sqlite_url`: the SQLite file the writer opens its own connection to (see
    /// [`super::connect_capture_writer`]); `None`: the writers use `db`.
    pub(crate) fn start(db: DatabaseConnection, sqlite_url: Option<String>) -> Self {
        let writers = match db.get_database_backend() {
            DbBackend::Sqlite => 1,
            _ => 4,
        };
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        let wrote = Arc::new(AtomicBool::new(false));
        for _ in 0..writers {
            tokio::spawn(writer(
                db.clone(),
                sqlite_url.clone(),
                receiver.clone(),
                wrote.clone(),
            ));
        }
        if sqlite_url.is_some() {
            tokio::spawn(checkpointer(db, queue.downgrade(), wrote));
        }
        Self { queue }
    }

    /// Submissions waiting for a writer.
    pub(crate) fn waiting(&self) -> usize {
        QUEUE - self.queue.capacity()
    }

    /// Stores one experience with its tags; `Ok(false)` when its request_id was taken.
    pub(crate) async fn insert(
        &self,
        row: feedback::ActiveModel,
        tags: Vec<feedback_tag::ActiveModel>,
    ) -> Result<bool, DbErr> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { row, tags, reply })
            .await
            .map_err(|_| DbErr::Custom("the capture writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbErr::Custom("the capture writer has stopped".into()))?
    }
}

async fn writer(
    shared: DatabaseConnection,
    sqlite_url: Option<String>,
    receiver: Arc<Mutex<mpsc::Receiver<Pending>>>,
    wrote: Arc<AtomicBool>,
) {
    let db = match sqlite_url {
        Some(url) => match super::connect_capture_writer(&url).await {
            Ok(own) => own,
            Err(e) => {
                // Slower (statement journals may spill to disk), never wrong.
                tracing::warn!(error = %e, "capture writer: own connection refused, using the pool");
                shared
            }
        },
        None => shared,
    };
    loop {
        let mut batch = Vec::new();
        {
            let mut receiver = receiver.lock().await;
            match receiver.recv().await {
                Some(first) => batch.push(first),
                // Every sender is gone: the store was dropped.
                None => return,
            }
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
        }
        crate::metrics::metrics()
            .capture_batch_size
            .observe(batch.len() as f64);
        commit(&db, batch).await;
        wrote.store(true, Ordering::Release);
    }
}

/// How often the WAL is checkpointed while the capture writer has its own connection.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// Checkpoints the WAL from a pooled connection while the capture writer (whose automatic
/// checkpoints are off, see [`super::connect_capture_writer`]) goes on committing. An
/// automatic checkpoint runs inside the commit that crosses the threshold, so every
/// submission of that batch, and of the batches queued behind it, waited for pages to be
/// copied and the database file synced. A PASSIVE checkpoint takes no write lock. Runs
/// only after the writer has written (`wrote`); stops with the queue (when the store is
/// dropped).
async fn checkpointer(
    db: DatabaseConnection,
    queue: mpsc::WeakSender<Pending>,
    wrote: Arc<AtomicBool>,
) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if queue.upgrade().is_none() {
            return;
        }
        if !wrote.swap(false, Ordering::AcqRel) {
            continue;
        }
        match checkpoint(&db).await {
            Ok(true) => {}
            Ok(false) => wrote.store(true, Ordering::Release),
            Err(e) => {
                tracing::debug!(error = %e, "WAL checkpoint failed");
                wrote.store(true, Ordering::Release);
            }
        }
    }
}

/// One PASSIVE checkpoint; `false` when it could not copy the whole WAL (a reader still
/// needed older frames). After `false` or an error the next tick tries again; the WAL only
/// grows meanwhile.
async fn checkpoint(db: &DatabaseConnection) -> Result<bool, DbErr> {
    let answer = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(PASSIVE)",
        ))
        .await?;
    let Some(row) = answer else {
        return Ok(false);
    };
    // The pragma answers (busy, frames in the WAL, frames checkpointed).
    let busy: i64 = row.try_get_by_index(0)?;
    let log: i64 = row.try_get_by_index(1)?;
    let done: i64 = row.try_get_by_index(2)?;
    Ok(busy == 0 && done >= log)
}

async fn commit(db: &DatabaseConnection, batch: Vec<Pending>) {
    match write(db, &batch).await {
        Ok(stored) => {
            for pending in batch {
                let _ = pending
                    .reply
                    .send(Ok(stored.contains(&id_of(&pending.row))));
            }
        }
        // Only a row can break a constraint: then each row is tried on its own. Anything else
        // (a lock, a lost connection, a full disk) would fail each row the same way, and
        // one transaction per row would divide the throughput by the batch size exactly
        // when the database is struggling: the whole batch gets the error instead.
        Err(e) if batch.len() > 1 && e.sql_err().is_some() => {
            tracing::warn!(error = %e, size = batch.len(), "capture batch refused: retrying row by row");
            for pending in batch {
                let single = [pending];
                let result = write(db, &single).await;
                let [pending] = single;
                let id = id_of(&pending.row);
                let _ = pending
                    .reply
                    .send(result.map(|stored| stored.contains(&id)));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, size = batch.len(), "capture batch failed");
            // DbErr is not Clone: the other rows get a copy that keeps its class (transient:
            // UNAVAILABLE, retriable with the same request ids; otherwise INTERNAL), so one
            // failure is answered alike to the whole batch, of which nothing was stored.
            let message = format!("capture batch failed: {e}");
            let transient = super::error::is_transient(&e);
            let mut batch = batch.into_iter();
            if let Some(first) = batch.next() {
                let _ = first.reply.send(Err(e));
            }
            for pending in batch {
                let copy = if transient {
                    DbErr::Conn(sea_orm::RuntimeErr::Internal(message.clone()))
                } else {
                    DbErr::Custom(message.clone())
                };
                let _ = pending.reply.send(Err(copy));
            }
        }
    }
}

fn id_of(row: &feedback::ActiveModel) -> Uuid {
    match &row.id {
        sea_orm::ActiveValue::Set(id) | sea_orm::ActiveValue::Unchanged(id) => *id,
        sea_orm::ActiveValue::NotSet => Uuid::nil(),
    }
}

/// Stores a batch: the rows (conflicts skipped), then the tags of the rows stored; answers
/// which rows were stored. All or nothing either way.
async fn write(db: &DatabaseConnection, batch: &[Pending]) -> Result<HashSet<Uuid>, DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => write_one_statement(db, batch).await,
        _ => write_in_transaction(db, batch).await,
    }
}

/// The rows with `RETURNING id`: the ids returned are the rows this statement stored (both
/// databases: SQLite ≥ 3.35); a row skipped by ON CONFLICT is not returned.
fn insert_rows(batch: &[Pending]) -> sea_orm::sea_query::InsertStatement {
    let mut insert = feedback::Entity::insert_many(batch.iter().map(|p| p.row.clone()))
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .into_query();
    insert.returning_col(feedback::Column::Id);
    insert
}

fn stored_ids(rows: &[sea_orm::QueryResult]) -> Result<HashSet<Uuid>, DbErr> {
    rows.iter()
        .map(|row| row.try_get::<Uuid>("", "id"))
        .collect()
}

/// PostgreSQL: one statement, so one round trip and no explicit transaction. The tags go in
/// a data-modifying CTE joined to the rows the INSERT returned, so a row skipped as a
/// conflict brings no tags; the statement commits as a whole (durably, before it returns)
/// or not at all. Four round trips per batch (BEGIN, rows, tags, COMMIT) became one.
async fn write_one_statement(
    db: &DatabaseConnection,
    batch: &[Pending],
) -> Result<HashSet<Uuid>, DbErr> {
    use sea_orm::sea_query::PostgresQueryBuilder;
    let (rows_sql, mut values) = insert_rows(batch).build(PostgresQueryBuilder);
    let mut tagged = Vec::new();
    let mut tags = Vec::new();
    for pending in batch {
        for tag in &pending.tags {
            // A tag row always has both columns set (`feedback::rows`); one without would be
            // an error, not a tag to skip.
            let tag = tag.clone().try_into_model()?;
            tagged.push(tag.feedback_id);
            tags.push(tag.tag);
        }
    }
    let text = if tags.is_empty() {
        rows_sql
    } else {
        let first = values.0.len() + 1;
        values.0.push(tagged.into());
        values.0.push(tags.into());
        format!(
            "WITH stored AS ({rows_sql}), \
             tagged AS (INSERT INTO feedback_tag (feedback_id, tag) \
                 SELECT t.feedback_id, t.tag \
                 FROM unnest(${first}::uuid[], ${}::text[]) AS t(feedback_id, tag) \
                 JOIN stored ON stored.id = t.feedback_id) \
             SELECT id FROM stored",
            first + 1
        )
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            text,
            values,
        ))
        .await?;
    stored_ids(&rows)
}

/// SQLite (no data-modifying CTE): one `BEGIN IMMEDIATE` transaction, the rows, their tags.
async fn write_in_transaction(
    db: &DatabaseConnection,
    batch: &[Pending],
) -> Result<HashSet<Uuid>, DbErr> {
    let txn = super::begin_write(db).await?;
    let stored = stored_ids(&txn.query_all(&insert_rows(batch)).await?)?;
    let tags: Vec<feedback_tag::ActiveModel> = batch
        .iter()
        .filter(|p| stored.contains(&id_of(&p.row)))
        .flat_map(|p| p.tags.iter().cloned())
        .collect();
    for chunk in tags.chunks(MAX_BATCH * 4) {
        feedback_tag::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(stored)
}
