//! Open data: the three datasets of Services Publics + — résultats, expériences,
//! structures — for a month and cumulated, each in three encodings (`encode`), with a
//! TableSchema per dataset and a DCAT catalogue (`catalogue`). Only published data: figures
//! that are not suppressed, experiences that are published, their redacted texts and
//! published answers, active structures. The same data gives the same bytes.
//!
//! Files (under `--out`; with `--location CODE`, each name takes `-CODE`):
//! `<dataset>-YYYY-MM.{csv,excel.csv,json}` for the month, `<dataset>.{csv,excel.csv,json}`
//! cumulated (every published month; every published experience; the current register),
//! `schema-<dataset>.json`, `catalogue.jsonld`.

pub mod catalogue;
pub mod encode;
pub mod fields;

use std::collections::HashMap;
use std::path::Path;

use boucle::domain::french;
use boucle::domain::indicators::IndicatorCode;
use boucle::domain::redaction::public_text;
use boucle::domain::{Audience, Period};
use boucle::store::Store;
use boucle::store::aggregates::StoredFigure;
use boucle::store::indicators::Catalogue;
use boucle::store::locations::LocationView;
use boucle::store::public::PublishedFilter;
use chrono_tz::Tz;
use uuid::Uuid;

use crate::JobError;
use encode::{Cell, DatasetWriter, Written};

/// What one export wrote.
#[derive(Clone, Debug, Default)]
pub struct Exported {
    pub files: Vec<Written>,
    /// Rows per dataset file stem (`resultats-2026-10`…).
    pub rows: Vec<(String, u64)>,
}

/// Locations whose figures are read per query while writing résultats. A location has up
/// to 14 groups of figures (the headline and each public's, for itself and its subtree)
/// of ~40 figures each, held twice while a chunk is read (stored JSON, then expanded), so
/// a chunk where every public answered is ~15 KB a location.
const FIGURES_CHUNK: usize = 200;

/// Experiences read per query while streaming them out.
const EXPERIENCE_PAGE: u64 = 1_000;

/// The date, in the reporting time zone, of an instant.
fn date(instant_ms: i64, tz: Tz) -> String {
    chrono::DateTime::from_timestamp_millis(instant_ms)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn structure_cells(view: &LocationView) -> [Cell; 6] {
    let l = &view.location;
    [
        Cell::text(l.code.clone()),
        Cell::text(l.typology.clone()),
        Cell::text(l.name.clone()),
        Cell::text(l.postal_code.clone()),
        Cell::text(l.city.clone()),
        Cell::text(view.parent_code.clone().unwrap_or_default()),
    ]
}

/// The published rows of one stored figure (none when suppressed or without a value).
fn resultat_row(
    view: &LocationView,
    f: &StoredFigure,
    catalogue: &Catalogue,
    updated: &str,
) -> Option<Vec<Cell>> {
    let figure = &f.figure;
    let value = figure.value.filter(|_| !figure.suppressed)?;
    let (title, unit) = catalogue.label(figure.code);
    let decimals = if is_count(figure.code) { 0 } else { 1 };
    let mut row = structure_cells(view).to_vec();
    row.extend([
        Cell::text(french::perimeter(f.scope)),
        Cell::text(french::public(f.audience)),
        Cell::text(figure.code.code()),
        Cell::text(title),
        Cell::rounded(value, decimals),
        Cell::text(french::unit(unit)),
        Cell::Integer(i64::try_from(figure.sample).unwrap_or(i64::MAX)),
        figure
            .ci
            .map_or(Cell::Empty, |(low, _)| Cell::rounded(low, decimals)),
        figure
            .ci
            .map_or(Cell::Empty, |(_, high)| Cell::rounded(high, decimals)),
        Cell::text(f.period.clone()),
        Cell::text(french::frequency(catalogue.frequency(figure.code))),
        Cell::text(updated),
    ]);
    Some(row)
}

/// Writes the résultats rows of `period` into `writers`; returns how many.
async fn write_resultats(
    store: &Store,
    period: Period,
    locations: &HashMap<Uuid, LocationView>,
    catalogue: &Catalogue,
    writers: &mut [&mut DatasetWriter],
) -> Result<u64, JobError> {
    // The results of a month are published on the 1st of the next one: a stable date, so
    // that a rerun on the same data writes the same bytes.
    let updated = period.next().first_day().format("%Y-%m-%d").to_string();
    // A few thousand locations at a time, in code order: memory follows the chunk, not the
    // register.
    let mut ordered: Vec<&LocationView> = locations.values().collect();
    ordered.sort_by(|a, b| a.location.code.cmp(&b.location.code));
    // Each public's own figures follow the headline; never the agents'.
    let publics: Vec<Audience> = Audience::ALL
        .iter()
        .copied()
        .filter(|a| a.is_public())
        .collect();
    let mut n = 0;
    for chunk in ordered.chunks(FIGURES_CHUNK) {
        let ids: Vec<Uuid> = chunk.iter().map(|l| l.location.id).collect();
        let mut figures = store.aggregates_of_locations(period, &ids).await?;
        figures.extend(
            store
                .audience_aggregates_of_locations(period, &ids, &publics)
                .await?,
        );
        let code = |id: &Uuid| locations.get(id).map(|l| l.location.code.as_str());
        let key = |f: &StoredFigure| {
            (
                code(&f.location_id),
                f.scope.code(),
                f.audience.map_or(0, |a| a as usize + 1),
                f.figure.code.code(),
            )
        };
        figures.sort_by(|a, b| key(a).cmp(&key(b)));
        for f in &figures {
            let Some(view) = locations.get(&f.location_id) else {
                continue;
            };
            if let Some(row) = resultat_row(view, f, catalogue, &updated) {
                for w in writers.iter_mut() {
                    w.write(&row)?;
                }
                n += 1;
            }
        }
    }
    Ok(n)
}

/// Writes the published experiences `filter` selects, newest first, page by page.
async fn write_experiences(
    store: &Store,
    filter: PublishedFilter,
    tz: Tz,
    locations: &HashMap<Uuid, LocationView>,
    writers: &mut [&mut DatasetWriter],
) -> Result<u64, JobError> {
    let mut after = None;
    let mut n = 0;
    loop {
        let page = boucle::store::public::published_feedback(
            store.connection(),
            filter,
            EXPERIENCE_PAGE,
            after,
        )
        .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.feedback.submitted_at, last.feedback.id));
        for view in &page {
            let m = &view.feedback;
            let Some(location) = locations.get(&m.location_id) else {
                continue;
            };
            let mut answers: Vec<_> = view.responses.iter().collect();
            answers.sort_by_key(|r| (r.published_at, r.id));
            let first = answers.first();
            let last_change = answers
                .iter()
                .filter_map(|r| r.published_at)
                .chain([m.updated_at])
                .max()
                .unwrap_or(m.updated_at);
            let tags: Vec<&str> = view.tags.iter().map(|t| french::tag(*t)).collect();
            let mut row = vec![Cell::text(m.id.to_string())];
            row.extend(structure_cells(location));
            row.extend([
                Cell::text(french::channel(m.channel)),
                Cell::text(french::satisfaction(m.satisfaction)),
                Cell::text(public_text(&m.redacted_title)),
                Cell::text(public_text(&m.redacted_story)),
                Cell::text(public_text(&m.redacted_proposal)),
                Cell::text(public_text(&m.pseudonym)),
                Cell::text(tags.join(" ; ")),
                Cell::text(m.occurred_on.clone().unwrap_or_default()),
                Cell::text(date(m.submitted_at, tz)),
                Cell::Integer(answers.len() as i64),
                Cell::text(
                    first
                        .and_then(|r| view.location_codes.get(&r.location_id).cloned())
                        .unwrap_or_default(),
                ),
                Cell::text(first.map(|r| public_text(&r.body)).unwrap_or_default()),
                Cell::text(
                    first
                        .and_then(|r| r.published_at)
                        .map(|t| date(t, tz))
                        .unwrap_or_default(),
                ),
                Cell::text(date(last_change, tz)),
            ]);
            for w in writers.iter_mut() {
                w.write(&row)?;
            }
            n += 1;
        }
        if (page.len() as u64) < EXPERIENCE_PAGE {
            break;
        }
    }
    Ok(n)
}

/// Writes the active structures, by code.
fn write_structures(
    locations: &HashMap<Uuid, LocationView>,
    updated: &str,
    writers: &mut [&mut DatasetWriter],
) -> Result<u64, JobError> {
    let mut active: Vec<&LocationView> = locations.values().filter(|l| l.location.active).collect();
    active.sort_by(|a, b| a.location.code.cmp(&b.location.code));
    for view in &active {
        let l = &view.location;
        let mut row = structure_cells(view).to_vec();
        row.extend([
            Cell::text(boucle::domain::search::departement(&l.postal_code).unwrap_or_default()),
            l.latitude.map_or(Cell::Empty, Cell::Number),
            l.longitude.map_or(Cell::Empty, Cell::Number),
            Cell::Integer(i64::from(view.effective_response_target_days)),
            Cell::text(updated),
        ]);
        for w in writers.iter_mut() {
            w.write(&row)?;
        }
    }
    Ok(active.len() as u64)
}

/// Exports the three datasets for `period` and cumulated, their schemas and the catalogue,
/// into `out_dir`; records each file in the database, which every replica serves from.
pub async fn export(
    store: &Store,
    period: Period,
    tz: Tz,
    root: Option<(Uuid, String)>,
    out_dir: &Path,
    base_url: Option<&url::Url>,
) -> Result<Exported, JobError> {
    crate::export::remove_stale_temporaries(out_dir, crate::export::STALE_TEMPORARY)?;
    let root_id = root.as_ref().map(|r| r.0);
    let suffix = root
        .as_ref()
        .map(|(_, code)| format!("-{code}"))
        .unwrap_or_default();
    // Inactive structures are not public: neither their figures nor their experiences.
    let locations: HashMap<Uuid, LocationView> = store
        .locations_for_aggregation(root_id)
        .await?
        .into_iter()
        .filter(|l| l.location.active)
        .map(|l| (l.location.id, l))
        .collect();
    let catalogue = boucle::app::indicators::catalogue(store).await?;
    let [resultats, experiences, structures] = fields::all();
    let mut out = Exported::default();
    let updated = period.next().first_day().format("%Y-%m-%d").to_string();

    // Résultats: the month, and every published month.
    let month_name = format!("resultats-{period}{suffix}");
    let all_name = format!("resultats{suffix}");
    let mut month = DatasetWriter::create(out_dir, &month_name, &resultats)?;
    let mut all = DatasetWriter::create(out_dir, &all_name, &resultats)?;
    let mut total = 0;
    for p in store.aggregated_periods().await? {
        let p: Period = p
            .parse()
            .map_err(|e| boucle::Error::Internal(format!("stored period {p}: {e}")))?;
        // Every published month, whichever month this run is for: a catch-up of an older
        // month rewrites the cumulated file with the same content as the latest run.
        let n = if p == period {
            let n = write_resultats(
                store,
                p,
                &locations,
                &catalogue,
                &mut [&mut month, &mut all],
            )
            .await?;
            out.rows.push((month_name.clone(), n));
            n
        } else {
            write_resultats(store, p, &locations, &catalogue, &mut [&mut all]).await?
        };
        total += n;
    }
    out.rows.push((all_name, total));
    out.files.extend(month.finish()?);
    out.files.extend(all.finish()?);

    // Expériences: submitted in the month, and every published one.
    let month_name = format!("experiences-{period}{suffix}");
    let mut month = DatasetWriter::create(out_dir, &month_name, &experiences)?;
    let n = write_experiences(
        store,
        PublishedFilter {
            root: root_id,
            submitted: Some(period.bounds_ms(tz)),
            updated_since: None,
        },
        tz,
        &locations,
        &mut [&mut month],
    )
    .await?;
    out.rows.push((month_name, n));
    out.files.extend(month.finish()?);
    let all_name = format!("experiences{suffix}");
    let mut all = DatasetWriter::create(out_dir, &all_name, &experiences)?;
    let n = write_experiences(
        store,
        PublishedFilter {
            root: root_id,
            ..Default::default()
        },
        tz,
        &locations,
        &mut [&mut all],
    )
    .await?;
    out.rows.push((all_name, n));
    out.files.extend(all.finish()?);

    // Structures: the register as the month's run found it, which is also the current one.
    let month_name = format!("structures-{period}{suffix}");
    let all_name = format!("structures{suffix}");
    let mut month = DatasetWriter::create(out_dir, &month_name, &structures)?;
    let mut all = DatasetWriter::create(out_dir, &all_name, &structures)?;
    let n = write_structures(&locations, &updated, &mut [&mut month, &mut all])?;
    out.rows.push((month_name, n));
    out.rows.push((all_name, n));
    out.files.extend(month.finish()?);
    out.files.extend(all.finish()?);

    // Schemas and the catalogue describe every file.
    for dataset in fields::all() {
        let path = out_dir.join(format!("schema-{}.json", dataset.stem));
        out.files
            .push(Written::bytes(&path, &catalogue::table_schema(&dataset))?);
    }
    // Each file is recorded from its temporary, then renamed into place: another month's
    // run rewriting a cumulated file meanwhile cannot make the record and the bytes differ.
    for file in &out.files {
        record(store, period, file).await?;
    }
    // The catalogue lists every month published so far, recorded ones included.
    let mut listed = out.files.clone();
    for known in store.list_published_files(None, 100_000, None).await? {
        if !listed.iter().any(|w| file_name(w) == known.name) && !known.name.ends_with(".jsonld") {
            listed.push(Written::recorded(
                out_dir.join(&known.name),
                known.size_bytes,
                known.sha256,
            ));
        }
    }
    listed.sort_by(|a, b| file_name(a).cmp(file_name(b)));
    let path = out_dir.join(format!("catalogue{suffix}.jsonld"));
    let catalogue_file =
        Written::bytes(&path, &catalogue::dcat(period, &suffix, &listed, base_url))?;
    record(store, period, &catalogue_file).await?;
    out.files.push(catalogue_file);
    for file in &mut out.files {
        file.publish()?;
    }
    crate::export::sync_dir(out_dir)?;
    Ok(out)
}

fn file_name(w: &Written) -> &str {
    w.path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}

async fn record(store: &Store, period: Period, file: &Written) -> Result<(), JobError> {
    store
        .put_published_file_from(
            file_name(file),
            period,
            file.current(),
            &file.sha256,
            file.size,
        )
        .await?;
    Ok(())
}

/// Whether an indicator's figures are counts (written as integers).
pub fn is_count(code: IndicatorCode) -> bool {
    code.definition().unit == "count"
}
