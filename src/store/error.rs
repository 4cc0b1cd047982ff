//! From the database's errors to [`crate::Error`]: the one place that classifies them.

/// Pool exhaustion, lost connections and SQLite's "database is locked" are transient:
/// UNAVAILABLE tells clients to retry (with the same request_id). Everything else is a bug
/// or a broken invariant: INTERNAL.
pub(crate) fn is_transient(err: &sea_orm::DbErr) -> bool {
    match err {
        sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => true,
        sea_orm::DbErr::Exec(e) | sea_orm::DbErr::Query(e) => {
            let text = e.to_string();
            text.contains("database is locked") || text.contains("database table is locked")
        }
        _ => false,
    }
}

impl From<sea_orm::DbErr> for crate::Error {
    /// Transient failures ([`is_transient`]) are UNAVAILABLE, the rest INTERNAL.
    fn from(err: sea_orm::DbErr) -> Self {
        if is_transient(&err) {
            crate::Error::Unavailable(err.to_string())
        } else {
            crate::Error::Database(err.to_string())
        }
    }
}
