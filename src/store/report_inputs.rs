//! What the monthly reports read, for a batch of locations at once. A report used to make a
//! dozen small queries of its own (figures, channels, actions, measurements, verbatims and
//! their answers, each through the listing used by the API); at 20,000 reports a month the
//! round trips cost more than drawing the PDFs. Here each kind of input is one query per
//! batch, grouped by location in Rust. The rules are those of the published listings: public
//! actions, published experiences and published answers only, redacted texts only.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Value,
};
use uuid::Uuid;

use super::aggregates::{COUNTED, Scope};
use super::entities::{action, aggregate, measurement};
use super::{Store, sql};
use crate::Error;
use crate::domain::Period;

/// Locations per query: far below both databases' limits on bound parameters.
const BATCH: usize = 500;

/// A published experience chosen as a verbatim, with its published answers (author, body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerbatimInput {
    pub id: Uuid,
    pub satisfaction: String,
    pub redacted_title: String,
    pub redacted_story: String,
    pub pseudonym: String,
    pub submitted_at: i64,
    pub answers: Vec<(String, String)>,
}

/// The inputs of the reports of a batch of locations, by location.
#[derive(Clone, Debug, Default)]
pub struct ReportInputs {
    /// SUBTREE figures of the requested periods, by period then indicator code.
    pub figures: HashMap<Uuid, Vec<aggregate::Model>>,
    /// Counted experiences of the month in the location's subtree, by channel code, largest
    /// first (ties by code).
    pub channels: HashMap<Uuid, Vec<(String, u64)>>,
    /// Public actions of the subtree that are in progress or were done in the month, by
    /// title then id.
    pub actions: HashMap<Uuid, Vec<action::Model>>,
    /// The location's own measurements of the month, by indicator code.
    pub measurements: HashMap<Uuid, Vec<measurement::Model>>,
    /// For each feeling, the newest published experiences of the month in the subtree that
    /// carry a story (up to three, newest first; the report shows the first).
    pub verbatims: HashMap<Uuid, Vec<VerbatimInput>>,
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn count(row: &sea_orm::QueryResult, column: &str) -> Result<u64, Error> {
    let v: Option<i64> = row.try_get("", column)?;
    Ok(v.unwrap_or(0).max(0) as u64)
}

impl Store {
    /// Runs the query `text(list)`, where `list` is the placeholders of `ids`, numbered after
    /// the `leading` values (`$1`… are the leading values, then the ids).
    async fn query_for_ids(
        &self,
        leading: Vec<Value>,
        ids: &[Uuid],
        text: impl FnOnce(&str) -> String,
    ) -> Result<Vec<sea_orm::QueryResult>, Error> {
        let list = placeholders(leading.len() + 1, ids.len());
        let mut values = leading;
        values.extend(ids.iter().map(|id| Value::from(*id)));
        Ok(self
            .db
            .query_all_raw(sql(self.backend(), &text(&list), values))
            .await?)
    }

    /// The report inputs of `period` for the locations `roots` (channels, actions,
    /// measurements, verbatims) and the SUBTREE figures of `figures_of` for the periods
    /// `from..=period` (a summary also needs its children's figures).
    pub async fn report_inputs(
        &self,
        roots: &[Uuid],
        figures_of: &[Uuid],
        from: Period,
        period: Period,
        month_ms: (i64, i64),
    ) -> Result<ReportInputs, Error> {
        let mut inputs = ReportInputs::default();
        // Each location once: a location queried in two chunks would get its rows twice.
        let (mut roots, mut figures_of) = (roots.to_vec(), figures_of.to_vec());
        for ids in [&mut roots, &mut figures_of] {
            ids.sort_unstable();
            ids.dedup();
        }
        for ids in figures_of.chunks(BATCH) {
            self.load_figures(&mut inputs, ids, from, period).await?;
        }
        for ids in roots.chunks(BATCH) {
            self.load_channels(&mut inputs, ids, month_ms).await?;
            self.load_actions(&mut inputs, ids, period).await?;
            self.load_measurements(&mut inputs, ids, period).await?;
            self.load_verbatims(&mut inputs, ids, month_ms).await?;
        }
        Ok(inputs)
    }

    async fn load_figures(
        &self,
        inputs: &mut ReportInputs,
        ids: &[Uuid],
        from: Period,
        to: Period,
    ) -> Result<(), Error> {
        let rows = aggregate::Entity::find()
            .filter(
                Condition::all()
                    .add(aggregate::Column::LocationId.is_in(ids.iter().copied()))
                    .add(aggregate::Column::Scope.eq(Scope::Subtree.code()))
                    .add(aggregate::Column::Period.gte(from.to_string()))
                    .add(aggregate::Column::Period.lte(to.to_string())),
            )
            .order_by_asc(aggregate::Column::LocationId)
            .order_by_asc(aggregate::Column::Period)
            .order_by_asc(aggregate::Column::IndicatorCode)
            .all(&self.db)
            .await?;
        for row in rows {
            inputs.figures.entry(row.location_id).or_default().push(row);
        }
        Ok(())
    }

    async fn load_channels(
        &self,
        inputs: &mut ReportInputs,
        ids: &[Uuid],
        (start, end): (i64, i64),
    ) -> Result<(), Error> {
        let rows = self
            .query_for_ids(vec![start.into(), end.into()], ids, |list| {
                format!(
                    "SELECT c.ancestor_id AS root, f.channel AS channel, COUNT(*) AS n \
                     FROM location_closure c JOIN feedback f ON f.location_id = c.descendant_id \
                     WHERE c.ancestor_id IN ({list}) AND f.submitted_at >= $1 AND f.submitted_at < $2 \
                     AND {COUNTED} GROUP BY c.ancestor_id, f.channel"
                )
            })
            .await?;
        for row in rows {
            let root: Uuid = row.try_get("", "root")?;
            let channel: String = row.try_get("", "channel")?;
            inputs
                .channels
                .entry(root)
                .or_default()
                .push((channel, count(&row, "n")?));
        }
        for list in inputs.channels.values_mut() {
            // Largest first; ties by code, so the order never depends on the database.
            list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        Ok(())
    }

    async fn load_actions(
        &self,
        inputs: &mut ReportInputs,
        ids: &[Uuid],
        period: Period,
    ) -> Result<(), Error> {
        let first = period.first_day().format("%Y-%m-%d").to_string();
        let next = period.next().first_day().format("%Y-%m-%d").to_string();
        // `public` is a boolean on both databases: bound, not spelled.
        let leading = vec![first.into(), next.into(), true.into()];
        let rows = self
            .query_for_ids(leading, ids, |list| {
                format!(
                    "SELECT c.ancestor_id AS root, a.id AS id FROM location_closure c \
                     JOIN action a ON a.location_id = c.descendant_id \
                     WHERE c.ancestor_id IN ({list}) AND a.public = $3 \
                     AND (a.status = 'IN_PROGRESS' \
                          OR (a.status = 'DONE' AND a.done_on >= $1 AND a.done_on < $2))"
                )
            })
            .await?;
        let mut by_root: Vec<(Uuid, Uuid)> = Vec::with_capacity(rows.len());
        for row in rows {
            by_root.push((row.try_get("", "root")?, row.try_get("", "id")?));
        }
        let mut models: HashMap<Uuid, action::Model> = HashMap::new();
        let mut wanted: Vec<Uuid> = by_root.iter().map(|(_, id)| *id).collect();
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(BATCH) {
            for a in action::Entity::find()
                .filter(action::Column::Id.is_in(chunk.iter().copied()))
                .all(&self.db)
                .await?
            {
                models.insert(a.id, a);
            }
        }
        for (root, id) in by_root {
            if let Some(a) = models.get(&id) {
                inputs.actions.entry(root).or_default().push(a.clone());
            }
        }
        for list in inputs.actions.values_mut() {
            list.sort_by(|a, b| (&a.title, a.id).cmp(&(&b.title, b.id)));
        }
        Ok(())
    }

    async fn load_measurements(
        &self,
        inputs: &mut ReportInputs,
        ids: &[Uuid],
        period: Period,
    ) -> Result<(), Error> {
        let rows = measurement::Entity::find()
            .filter(measurement::Column::LocationId.is_in(ids.iter().copied()))
            .filter(measurement::Column::Period.eq(period.to_string()))
            .order_by_asc(measurement::Column::IndicatorCode)
            .order_by_asc(measurement::Column::Id)
            .all(&self.db)
            .await?;
        for row in rows {
            inputs
                .measurements
                .entry(row.location_id)
                .or_default()
                .push(row);
        }
        Ok(())
    }

    async fn load_verbatims(
        &self,
        inputs: &mut ReportInputs,
        ids: &[Uuid],
        (start, end): (i64, i64),
    ) -> Result<(), Error> {
        // Stories are stored trimmed (validation), so a non-empty story has text; three per
        // feeling leave room for the Rust-side check that the report makes anyway.
        let rows = self
            .query_for_ids(vec![start.into(), end.into()], ids, |list| {
                format!(
                    "SELECT root, id, satisfaction, redacted_title, redacted_story, pseudonym, \
                     submitted_at FROM ( \
                       SELECT c.ancestor_id AS root, f.id AS id, f.satisfaction AS satisfaction, \
                       f.redacted_title AS redacted_title, f.redacted_story AS redacted_story, \
                       f.pseudonym AS pseudonym, f.submitted_at AS submitted_at, \
                       ROW_NUMBER() OVER (PARTITION BY c.ancestor_id, f.satisfaction \
                                          ORDER BY f.submitted_at DESC, f.id DESC) AS rn \
                       FROM location_closure c JOIN feedback f ON f.location_id = c.descendant_id \
                       WHERE c.ancestor_id IN ({list}) AND f.status = 'PUBLISHED' \
                       AND f.submitted_at >= $1 AND f.submitted_at < $2 AND f.redacted_story <> '' \
                     ) ranked WHERE rn <= 3 ORDER BY root, satisfaction, rn"
                )
            })
            .await?;
        let mut chosen: Vec<(Uuid, VerbatimInput)> = Vec::with_capacity(rows.len());
        for row in rows {
            chosen.push((
                row.try_get("", "root")?,
                VerbatimInput {
                    id: row.try_get("", "id")?,
                    satisfaction: row.try_get("", "satisfaction")?,
                    redacted_title: row.try_get("", "redacted_title")?,
                    redacted_story: row.try_get("", "redacted_story")?,
                    pseudonym: row.try_get("", "pseudonym")?,
                    submitted_at: row.try_get("", "submitted_at")?,
                    answers: Vec::new(),
                },
            ));
        }
        let mut feedback_ids: Vec<Uuid> = chosen.iter().map(|(_, v)| v.id).collect();
        feedback_ids.sort_unstable();
        feedback_ids.dedup();
        let mut answers: HashMap<Uuid, Vec<(String, String)>> = HashMap::new();
        for chunk in feedback_ids.chunks(BATCH) {
            let rows = self
                .query_for_ids(Vec::new(), chunk, |list| {
                    format!(
                        "SELECT feedback_id, author, body FROM response \
                         WHERE status = 'PUBLISHED' AND feedback_id IN ({list}) \
                         ORDER BY feedback_id, created_at, id"
                    )
                })
                .await?;
            for row in rows {
                answers
                    .entry(row.try_get("", "feedback_id")?)
                    .or_default()
                    .push((row.try_get("", "author")?, row.try_get("", "body")?));
            }
        }
        for (root, mut v) in chosen {
            v.answers = answers.get(&v.id).cloned().unwrap_or_default();
            inputs.verbatims.entry(root).or_default().push(v);
        }
        Ok(())
    }
}
