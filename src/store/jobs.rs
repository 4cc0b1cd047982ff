//! Coordination of job workers through the database: expiring leases (so that two workers
//! never process the same period at once, and a crashed worker does not block the next one
//! forever) and the record of every run.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::entities::job_run;
use super::{Store, now_ms, sql};
use crate::Error;

impl Store {
    /// Takes the lease `name` for `holder` until now + `ttl_ms`, if it is free or expired (or
    /// already ours: renewal). One statement decides, so two workers racing for the same
    /// lease cannot both win.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
    ) -> Result<bool, Error> {
        let now = now_ms();
        let result = self
            .db
            .execute_raw(sql(
                self.backend(),
                "INSERT INTO job_lease (name, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, \
                 expires_at = excluded.expires_at \
                 WHERE job_lease.expires_at < $3",
                vec![name.into(), holder.into(), now.into(), (now + ttl_ms).into()],
            ))
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Extends a lease we hold; false if it expired and another worker took it.
    pub async fn renew_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<bool, Error> {
        let result = self
            .db
            .execute_raw(sql(
                self.backend(),
                "UPDATE job_lease SET expires_at = $3 WHERE name = $1 AND holder = $2",
                vec![name.into(), holder.into(), (now_ms() + ttl_ms).into()],
            ))
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Gives the lease back (only if still ours).
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), Error> {
        self.db
            .execute_raw(sql(
                self.backend(),
                "DELETE FROM job_lease WHERE name = $1 AND holder = $2",
                vec![name.into(), holder.into()],
            ))
            .await?;
        Ok(())
    }

    /// Records the start of a step.
    pub async fn start_job_run(
        &self,
        period: &str,
        step: &str,
        holder: &str,
    ) -> Result<Uuid, Error> {
        let model = job_run::ActiveModel {
            id: Set(Uuid::now_v7()),
            period: Set(period.to_owned()),
            step: Set(step.to_owned()),
            status: Set("RUNNING".into()),
            holder: Set(holder.to_owned()),
            started_at: Set(now_ms()),
            finished_at: Set(None),
            error: Set(None),
        }
        .insert(&self.db)
        .await?;
        Ok(model.id)
    }

    /// Records the end of a step: SUCCEEDED, or FAILED with its error.
    pub async fn finish_job_run(&self, id: Uuid, error: Option<&str>) -> Result<(), Error> {
        let Some(run) = job_run::Entity::find_by_id(id).one(&self.db).await? else {
            return Err(Error::not_found("job run"));
        };
        let mut row: job_run::ActiveModel = run.into();
        row.status = Set(if error.is_some() {
            "FAILED"
        } else {
            "SUCCEEDED"
        }
        .into());
        row.finished_at = Set(Some(now_ms()));
        row.error = Set(error.map(str::to_owned));
        row.update(&self.db).await?;
        Ok(())
    }

    /// Whether `step` has succeeded at least once for `period`.
    pub async fn step_succeeded(&self, period: &str, step: &str) -> Result<bool, Error> {
        Ok(job_run::Entity::find()
            .filter(job_run::Column::Period.eq(period))
            .filter(job_run::Column::Step.eq(step))
            .filter(job_run::Column::Status.eq("SUCCEEDED"))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// The periods in which `step` succeeded at least once.
    pub async fn succeeded_periods(&self, step: &str) -> Result<Vec<String>, Error> {
        let runs = job_run::Entity::find()
            .filter(job_run::Column::Step.eq(step))
            .filter(job_run::Column::Status.eq("SUCCEEDED"))
            .order_by_asc(job_run::Column::Period)
            .all(&self.db)
            .await?;
        let mut periods: Vec<String> = runs.into_iter().map(|r| r.period).collect();
        periods.dedup();
        Ok(periods)
    }

    /// The earliest submission instant of any experience, if there is one.
    pub async fn first_submission_ms(&self) -> Result<Option<i64>, Error> {
        let row = self
            .db
            .query_one_raw(sql(
                self.backend(),
                "SELECT MIN(submitted_at) AS first FROM feedback",
                vec![],
            ))
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<Option<i64>>("", "first")?,
            None => None,
        })
    }
}
