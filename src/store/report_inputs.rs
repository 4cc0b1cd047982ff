//! What the monthly reports read, for a batch of locations at once. A report used to make a
//! dozen small queries of its own (figures, channels, actions, measurements, verbatims and
//! their answers, each through the listing used by the API); at 20,000 reports a month the
//! round trips cost more than drawing the PDFs. Here each kind of input is one query per
//! batch, grouped by location in Rust. The rules are those of the published listings: public
//! actions, published experiences and published answers only, redacted texts only.
//!
//! What depends on a whole subtree's experiences — the channel counts and the choice of the
//! verbatims — is read once per run ([`MonthDigest`]): one pass over the month for every
//! location's own experiences, then rolled up the hierarchy in Rust. Read per batch, the
//! summaries of the upper levels read the whole month once per level.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Value,
};
use uuid::Uuid;

use super::actions::Action;
use super::aggregates::{COUNTED, PUBLIC_AUDIENCE, Scope, StoredFigure, params, restriction};
use super::entities::{action, location_figures, measurement};
use super::indicators::Measurement;
use super::{Store, sql, stored_code};
use crate::Error;
use crate::domain::{Channel, Period, Satisfaction};

/// Locations per query: far below both databases' limits on bound parameters.
const BATCH: usize = 500;

/// A published experience chosen as a verbatim, with its published answers (author, body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerbatimInput {
    pub id: Uuid,
    pub satisfaction: Satisfaction,
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
    pub figures: HashMap<Uuid, Vec<StoredFigure>>,
    /// Counted experiences of the month in the location's subtree, by channel code, largest
    /// first (ties by code).
    pub channels: HashMap<Uuid, Vec<(Channel, u64)>>,
    /// Public actions of the subtree that are in progress or were done in the month, by
    /// title then id.
    pub actions: HashMap<Uuid, Vec<Action>>,
    /// The location's own measurements of the month, by indicator code.
    pub measurements: HashMap<Uuid, Vec<Measurement>>,
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

/// The `satisfaction` column of a row that also has `id`, typed.
fn satisfaction_of(row: &sea_orm::QueryResult) -> Result<Satisfaction, Error> {
    let id: Uuid = row.try_get("", "id")?;
    let code: String = row.try_get("", "satisfaction")?;
    stored_code(
        Satisfaction::from_code,
        format_args!("feedback {id}"),
        "satisfaction",
        &code,
    )
}

fn count(row: &sea_orm::QueryResult, column: &str) -> Result<u64, Error> {
    let v: Option<i64> = row.try_get("", column)?;
    Ok(v.unwrap_or(0).max(0) as u64)
}

/// A published experience eligible as a verbatim: its feeling, submission time and id (the
/// newest first, ties by id, as the published listing orders them).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Candidate {
    satisfaction: Satisfaction,
    submitted_at: i64,
    id: Uuid,
}

/// Verbatims kept per feeling: the report shows the first; the rest leave room for the
/// Rust-side checks the report makes anyway.
const VERBATIMS_PER_FEELING: usize = 3;

/// What the month's experiences say for every location's subtree, read once per report run.
#[derive(Clone, Debug, Default)]
pub struct MonthDigest {
    /// Counted experiences by channel code, largest first (ties by code).
    channels: HashMap<Uuid, Vec<(Channel, u64)>>,
    /// Chosen verbatims by feeling (ascending), newest first within a feeling.
    verbatims: HashMap<Uuid, Vec<Candidate>>,
}

impl MonthDigest {
    /// Adds `descendant`'s own candidates to `ancestor`'s, keeping the newest of each feeling.
    fn merge_candidates(target: &mut Vec<Candidate>, more: &[Candidate]) {
        target.extend_from_slice(more);
        target.sort_by(|a, b| {
            a.satisfaction
                .code()
                .cmp(b.satisfaction.code())
                .then(b.submitted_at.cmp(&a.submitted_at))
                .then(b.id.cmp(&a.id))
        });
        let mut kept: Vec<Candidate> = Vec::with_capacity(target.len());
        for c in target.drain(..) {
            let same = kept
                .iter()
                .rev()
                .take_while(|k| k.satisfaction == c.satisfaction)
                .count();
            if same < VERBATIMS_PER_FEELING {
                kept.push(c);
            }
        }
        *target = kept;
    }
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

    /// The [`MonthDigest`] of the month `(start, end)` (milliseconds) for every location (of
    /// the subtree of `root`): each location's own experiences are read once, grouped in the
    /// database, and summed (channels) or merged (the newest verbatims of each feeling) into
    /// every ancestor through the closure table, which is exact for both.
    pub async fn month_digest(
        &self,
        (start, end): (i64, i64),
        root: Option<Uuid>,
    ) -> Result<MonthDigest, Error> {
        let only = restriction("f.location_id", root.map(|_| 3));
        let values = params((start, end), root);
        let rows = self
            .db
            .query_all_raw(sql(
                self.backend(),
                &format!(
                    "SELECT f.location_id AS loc, f.channel AS channel, COUNT(*) AS n \
                     FROM feedback f WHERE f.submitted_at >= $1 AND f.submitted_at < $2 \
                     AND {COUNTED}{only} GROUP BY f.location_id, f.channel"
                ),
                values.clone(),
            ))
            .await?;
        let mut own_channels: HashMap<Uuid, Vec<(Channel, u64)>> = HashMap::new();
        for row in rows {
            let location: Uuid = row.try_get("", "loc")?;
            let code: String = row.try_get("", "channel")?;
            let channel = stored_code(
                Channel::from_code,
                format_args!("feedback of {location}"),
                "channel",
                &code,
            )?;
            own_channels
                .entry(location)
                .or_default()
                .push((channel, count(&row, "n")?));
        }
        let rows = self
            .db
            .query_all_raw(sql(
                self.backend(),
                &format!(
                    "SELECT loc, satisfaction, submitted_at, id FROM ( \
                       SELECT f.location_id AS loc, f.satisfaction AS satisfaction, \
                       f.submitted_at AS submitted_at, f.id AS id, \
                       ROW_NUMBER() OVER (PARTITION BY f.location_id, f.satisfaction \
                                          ORDER BY f.submitted_at DESC, f.id DESC) AS rn \
                       FROM feedback f WHERE f.status = 'PUBLISHED' AND {PUBLIC_AUDIENCE} \
                       AND f.submitted_at >= $1 AND f.submitted_at < $2 \
                       AND f.redacted_story <> ''{only} \
                     ) ranked WHERE rn <= {VERBATIMS_PER_FEELING}"
                ),
                values,
            ))
            .await?;
        let mut own_verbatims: HashMap<Uuid, Vec<Candidate>> = HashMap::new();
        for row in rows {
            own_verbatims
                .entry(row.try_get("", "loc")?)
                .or_default()
                .push(Candidate {
                    satisfaction: satisfaction_of(&row)?,
                    submitted_at: row.try_get("", "submitted_at")?,
                    id: row.try_get("", "id")?,
                });
        }
        let mut channel_sums: HashMap<Uuid, HashMap<Channel, u64>> = HashMap::new();
        let mut digest = MonthDigest::default();
        for (ancestor, descendant) in self.closure_pairs(&self.db, root).await? {
            if let Some(own) = own_channels.get(&descendant) {
                let sums = channel_sums.entry(ancestor).or_default();
                for (channel, n) in own {
                    *sums.entry(*channel).or_default() += n;
                }
            }
            if let Some(own) = own_verbatims.get(&descendant) {
                MonthDigest::merge_candidates(digest.verbatims.entry(ancestor).or_default(), own);
            }
        }
        for (location, sums) in channel_sums {
            let mut list: Vec<(Channel, u64)> = sums.into_iter().collect();
            // Largest first; ties by code, so the order never depends on the database.
            list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.code().cmp(b.0.code())));
            digest.channels.insert(location, list);
        }
        Ok(digest)
    }

    /// The report inputs of `period` for the locations `roots` (channels, actions,
    /// measurements, verbatims, the subtree-wide ones taken from `digest`) and the SUBTREE
    /// figures of `figures_of` for the periods `from..=period` (a summary also needs its
    /// children's figures).
    pub async fn report_inputs(
        &self,
        digest: &MonthDigest,
        roots: &[Uuid],
        figures_of: &[Uuid],
        from: Period,
        period: Period,
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
            self.load_actions(&mut inputs, ids, period).await?;
            self.load_measurements(&mut inputs, ids, period).await?;
        }
        for root in &roots {
            if let Some(list) = digest.channels.get(root) {
                inputs.channels.insert(*root, list.clone());
            }
        }
        self.load_verbatims(&mut inputs, digest, &roots).await?;
        Ok(inputs)
    }

    async fn load_figures(
        &self,
        inputs: &mut ReportInputs,
        ids: &[Uuid],
        from: Period,
        to: Period,
    ) -> Result<(), Error> {
        let rows = location_figures::Entity::find()
            .filter(
                Condition::all()
                    .add(location_figures::Column::LocationId.is_in(ids.iter().copied()))
                    .add(location_figures::Column::Scope.eq(Scope::Subtree.code()))
                    .add(location_figures::Column::Period.gte(from.to_string()))
                    .add(location_figures::Column::Period.lte(to.to_string())),
            )
            .order_by_asc(location_figures::Column::LocationId)
            .order_by_asc(location_figures::Column::Period)
            .all(&self.db)
            .await?;
        for figure in super::aggregates::expand_all(rows)? {
            inputs
                .figures
                .entry(figure.location_id)
                .or_default()
                .push(figure);
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
        let mut models: HashMap<Uuid, Action> = HashMap::new();
        let mut wanted: Vec<Uuid> = by_root.iter().map(|(_, id)| *id).collect();
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(BATCH) {
            for a in action::Entity::find()
                .filter(action::Column::Id.is_in(chunk.iter().copied()))
                .all(&self.db)
                .await?
            {
                models.insert(a.id, Action::try_from(a)?);
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
                .push(super::indicators::measurement_of(row));
        }
        Ok(())
    }

    /// The chosen verbatims of `roots` (see [`MonthDigest`]) with their texts and their
    /// published answers.
    async fn load_verbatims(
        &self,
        inputs: &mut ReportInputs,
        digest: &MonthDigest,
        roots: &[Uuid],
    ) -> Result<(), Error> {
        let mut wanted: Vec<Uuid> = roots
            .iter()
            .flat_map(|r| digest.verbatims.get(r).into_iter().flatten())
            .map(|c| c.id)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut texts: HashMap<Uuid, VerbatimInput> = HashMap::with_capacity(wanted.len());
        for chunk in wanted.chunks(BATCH) {
            let rows = self
                .query_for_ids(Vec::new(), chunk, |list| {
                    format!(
                        "SELECT id, satisfaction, redacted_title, redacted_story, pseudonym, \
                         submitted_at FROM feedback WHERE status = 'PUBLISHED' AND id IN ({list})"
                    )
                })
                .await?;
            for row in rows {
                let id: Uuid = row.try_get("", "id")?;
                texts.insert(
                    id,
                    VerbatimInput {
                        id,
                        satisfaction: satisfaction_of(&row)?,
                        redacted_title: row.try_get("", "redacted_title")?,
                        redacted_story: row.try_get("", "redacted_story")?,
                        pseudonym: row.try_get("", "pseudonym")?,
                        submitted_at: row.try_get("", "submitted_at")?,
                        answers: Vec::new(),
                    },
                );
            }
        }
        let mut chosen: Vec<(Uuid, VerbatimInput)> = Vec::new();
        for root in roots {
            for c in digest.verbatims.get(root).into_iter().flatten() {
                if let Some(v) = texts.get(&c.id) {
                    chosen.push((*root, v.clone()));
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn c(satisfaction: &str, submitted_at: i64, id: u128) -> Candidate {
        Candidate {
            satisfaction: Satisfaction::from_code(satisfaction).expect("a feeling"),
            submitted_at,
            id: Uuid::from_u128(id),
        }
    }

    #[test]
    fn merged_candidates_keep_the_newest_three_of_each_feeling() {
        let mut target = vec![
            c("POSITIVE", 10, 1),
            c("POSITIVE", 9, 2),
            c("NEGATIVE", 1, 3),
        ];
        let child = [
            c("POSITIVE", 11, 4),
            c("POSITIVE", 10, 5),
            c("POSITIVE", 2, 6),
            c("NEUTRAL", 5, 7),
        ];
        MonthDigest::merge_candidates(&mut target, &child);
        assert_eq!(
            target,
            vec![
                c("NEGATIVE", 1, 3),
                c("NEUTRAL", 5, 7),
                // Newest first; the tie at 10 goes to the larger id, as in the listing.
                c("POSITIVE", 11, 4),
                c("POSITIVE", 10, 5),
                c("POSITIVE", 10, 1),
            ]
        );
    }
}
