//! PDF transparency reports: `model` (what a report says), `build` (reading it from the
//! database), `render` (drawing it: data in, bytes out), `pdf` (the printpdf wrapper),
//! `files` (atomic writes and the manifest).

pub mod barometer;
pub mod build;
pub mod files;
pub mod format;
pub mod html;
pub mod model;
pub mod pdf;
#[cfg(test)]
pub(crate) mod pdf_tools;
pub mod render;
pub mod text;

use std::path::PathBuf;
use std::sync::Arc;

use boucle::domain::Period;
use boucle::store::Store;
use boucle::store::reports::{RenderedReport, html_twin_key};
use uuid::Uuid;

use crate::JobError;
use build::{Context, build};
use files::{ManifestEntry, write_if_changed, write_manifest};
use model::Kind;

/// What a report run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub written: usize,
    pub unchanged: usize,
    pub manifest: PathBuf,
}

/// The folder of a period's reports.
pub fn period_dir(out_dir: &std::path::Path, period: Period) -> PathBuf {
    out_dir.join("reports").join(period.to_string())
}

fn file_name(code: &str, kind: Kind) -> String {
    match kind {
        Kind::Location => format!("{code}.pdf"),
        Kind::Summary => format!("{code}-synthese.pdf"),
    }
}

/// Reports rendered between two trips to the database: their inputs are loaded in one
/// query per kind, they are drawn on every core, then recorded in one transaction.
const CHUNK: usize = 256;

/// Renders every report of `period` (for the subtree of `root`, or all): one per location,
/// plus a summary for every location that has children. Unchanged files are left alone;
/// the manifest lists every report of the period.
pub async fn report_period(
    store: &Store,
    period: Period,
    tz: chrono_tz::Tz,
    root: Option<Uuid>,
    out_dir: &std::path::Path,
    progress: crate::aggregate::Progress<'_>,
) -> Result<Summary, JobError> {
    let ctx = Context::load(store, tz).await?;
    let fonts = Arc::new(
        pdf::Fonts::load()
            .ok_or_else(|| JobError::Io(std::io::Error::other("embedded fonts do not parse")))?,
    );
    let dir = period_dir(out_dir, period);
    std::fs::create_dir_all(&dir)?;
    let dir = dir.canonicalize()?;
    crate::export::remove_stale_temporaries(&dir, crate::export::STALE_TEMPORARY)?;
    let mut targets: Vec<(Uuid, String, Kind)> = store
        .locations_for_aggregation(root)
        .await?
        .into_iter()
        .flat_map(|l| {
            let mut kinds = vec![(l.location.id, l.location.code.clone(), Kind::Location)];
            if ctx.children.contains_key(&l.location.id) {
                kinds.push((l.location.id, l.location.code.clone(), Kind::Summary));
            }
            kinds
        })
        .collect();
    targets.sort_by(|a, b| (&a.1, a.2.code()).cmp(&(&b.1, b.2.code())));
    let total = targets.len() as u64;
    let first = build::first_of_trend(period);
    let digest = store.month_digest(period.bounds_ms(tz), root).await?;
    let mut summary = Summary::default();
    let mut done = 0u64;
    for chunk in targets.chunks(CHUNK) {
        progress(done, total)?;
        let roots: Vec<Uuid> = chunk.iter().map(|t| t.0).collect();
        let mut figures_of = roots.clone();
        for (id, _, kind) in chunk {
            if *kind == Kind::Summary {
                figures_of.extend(ctx.children.get(id).into_iter().flatten());
            }
        }
        let inputs = store
            .report_inputs(&digest, &roots, &figures_of, first, period)
            .await?;
        let mut jobs = Vec::with_capacity(chunk.len());
        for (id, code, kind) in chunk {
            jobs.push((
                *id,
                file_name(code, *kind),
                *kind,
                build(&ctx, &inputs, *id, period, *kind)?,
            ));
        }
        let written = {
            let (fonts, dir) = (Arc::clone(&fonts), dir.clone());
            tokio::task::spawn_blocking(move || render_and_write(&fonts, &dir, jobs))
                .await
                .map_err(|e| JobError::Io(std::io::Error::other(e.to_string())))??
        };
        // The batch's new names are made durable once, before the database records them.
        if written.iter().any(|w| w.changed) {
            crate::export::sync_dir(&dir)?;
        }
        let mut rendered = Vec::with_capacity(written.len());
        let mut twins = Vec::with_capacity(written.len());
        for w in written {
            if w.changed {
                summary.written += 1;
            } else {
                summary.unchanged += 1;
            }
            let pdf = std::path::Path::new(&w.report.path)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            twins.push((html_twin_key(&period.to_string(), &pdf), w.html));
            rendered.push(w.report);
        }
        store.upsert_reports(period, rendered).await?;
        store.put_published_files(period, twins).await?;
        done += chunk.len() as u64;
    }
    // The manifest covers the whole period, whatever subtree this run rendered: each PDF
    // and its HTML twin.
    let mut entries = Vec::new();
    let twins = store.published_digests(&format!("{period}/")).await?;
    for r in store.reports_of_period(period).await? {
        let path = std::path::Path::new(&r.report.path);
        if path.parent() != Some(dir.as_path()) {
            continue;
        }
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some((sha256, size)) = twins.get(&html_twin_key(&period.to_string(), &file)) {
            entries.push(ManifestEntry {
                file: html_name(&file),
                sha256: sha256.clone(),
                size: *size,
                location_code: r.location_code.clone(),
                period: period.to_string(),
                kind: r.report.kind.code().to_owned(),
            });
        }
        entries.push(ManifestEntry {
            file,
            sha256: r.report.sha256.clone(),
            size: r.report.size_bytes,
            location_code: r.location_code.clone(),
            period: period.to_string(),
            kind: r.report.kind.code().to_owned(),
        });
    }
    summary.manifest = write_manifest(&dir, entries)?;
    // Beside the reports, in the database every replica reads.
    let manifest = std::fs::read(&summary.manifest)?;
    store
        .put_published_file(&format!("{period}/manifest.json"), period, &manifest)
        .await?;
    progress(total, total)?;
    Ok(summary)
}

/// A report drawn and on disk, with its HTML twin.
struct Written {
    report: RenderedReport,
    changed: bool,
    /// The HTML twin's bytes.
    html: Vec<u8>,
}

pub use boucle::store::reports::html_twin_name as html_name;

/// Draws and writes a batch of reports on every core (rendering is pure CPU work, and each
/// file is written atomically on its own); the results keep the batch's order.
fn render_and_write(
    fonts: &pdf::Fonts,
    dir: &std::path::Path,
    jobs: Vec<(Uuid, String, Kind, model::ReportModel)>,
) -> Result<Vec<Written>, JobError> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let draw = |i: usize, (id, name, kind, model): &(Uuid, String, Kind, model::ReportModel)| {
        let bytes = render::render(fonts, model);
        let (path, sha, changed) = write_if_changed(dir, name, &bytes)?;
        let html = html::render(model);
        let (_, _, html_changed) = write_if_changed(dir, &html_name(name), &html)?;
        Ok::<_, JobError>((
            i,
            Written {
                report: RenderedReport {
                    location_id: *id,
                    kind: *kind,
                    path: path.to_string_lossy().into_owned(),
                    sha256: sha,
                    size: bytes.len() as u64,
                    bytes,
                },
                changed: changed || html_changed,
                html,
            },
        ))
    };
    let mut done: Vec<(usize, Written)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else {
                            return Ok(mine);
                        };
                        mine.push(draw(i, job)?);
                    }
                })
            })
            .collect();
        let mut all = Vec::with_capacity(jobs.len());
        for handle in handles {
            let mine: Result<Vec<_>, JobError> = handle.join().unwrap_or_else(|_| {
                Err(JobError::Io(std::io::Error::other(
                    "rendering a report panicked",
                )))
            });
            all.extend(mine?);
        }
        Ok::<_, JobError>(all)
    })?;
    done.sort_unstable_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, w)| w).collect())
}

#[cfg(test)]
pub(crate) mod fixture {
    use super::model::*;

    fn figure(code: &str, title: &str, unit: &str, value: Option<f64>, sample: u64) -> KeyFigure {
        KeyFigure {
            figure: Figure {
                code: IndicatorCode::from_code(code).unwrap_or(IndicatorCode::Volume),
                suppressed: value.is_none(),
                ci: value.filter(|_| unit == "%").map(|v| (v - 9.5, v + 8.2)),
                value,
                sample,
            },
            title: title.into(),
            unit: unit.into(),
        }
    }

    /// A local site's October with every section filled, and a suppressed figure.
    pub fn local() -> ReportModel {
        ReportModel {
            kind: Kind::Location,
            header: Header {
                code: "CAF69-LYON".into(),
                name: "Accueil CAF Lyon Part-Dieu".into(),
                typology: "Caisse d'allocations familiales".into(),
                ancestors: vec!["Réseau CAF".into(), "CAF du Rhône".into()],
                postal_code: "69003".into(),
                city: "Lyon".into(),
                response_target_days: 15,
                min_sample: 10,
            },
            period: "2026-10".into(),
            timezone: "Europe/Paris".into(),
            figures: vec![
                figure("SATISFACTION_RATE", "Taux de satisfaction", "%", Some(66.7), 43),
                figure("NET_SATISFACTION", "Satisfaction nette", "points", Some(35.0), 43),
                figure("NPS", "Net Promoter Score", "points", None, 7),
                figure("EFFORT_EASY_RATE", "Facilité des démarches", "%", Some(60.5), 21),
                figure("VOLUME", "Nombre d'expériences", "count", Some(43.0), 43),
                figure("RESPONSE_RATE", "Taux de réponse", "%", Some(75.0), 36),
                figure("RESPONSE_DELAY_MEDIAN", "Délai médian de réponse", "jours", Some(4.5), 27),
                figure("RESPONSE_ON_TIME_RATE", "Réponses dans le délai annoncé", "%", Some(69.4), 36),
            ],
            trend: (0..12)
                .map(|i| TrendPoint {
                    period: format!("{}-{:02}", if i < 2 { 2025 } else { 2026 }, (i + 10) % 12 + 1),
                    satisfaction: if i == 4 { None } else { Some(55.0 + i as f64) },
                    volume: 20 + i * 2,
                })
                .collect(),
            channels: vec![("Au guichet".into(), 20), ("Téléphone".into(), 12), ("En ligne".into(), 11)],
            actions_done: vec![ActionLine {
                title: "Rappel par SMS quand le dossier avance".into(),
                engagement: "E4".into(),
                progress: 100,
                date: "2026-10-14".into(),
            }],
            actions_in_progress: vec![ActionLine {
                title: "Ouvrir un créneau le samedi matin".into(),
                engagement: "E2".into(),
                progress: 40,
                date: "2027-01-31".into(),
            }],
            reported: vec![Reported {
                title: "Taux de décroché".into(),
                unit: "%".into(),
                value: 81.5,
                target: Some(85.0),
                higher_is_better: true,
            }],
            verbatims: vec![Verbatim {
                satisfaction: "négatif".into(),
                title: "Attente trop longue".into(),
                story: "Deux heures d'attente debout ; rappelez-moi au [téléphone masqué]. L'œuvre de l'accueil « à refaire » — vraiment.".into(),
                pseudonym: "Camille".into(),
                date: "2026-10-05".into(),
                answers: vec![("L'équipe d'accueil".into(), "Nous avons ouvert un second guichet le lundi.".into())],
            }],
            children: Vec::new(),
        }
    }

    /// A network's summary at the top of its hierarchy, with `children` ranked children (one
    /// of them with a negative net satisfaction and a suppressed rate).
    pub fn network(children: usize) -> ReportModel {
        let mut model = local();
        model.kind = Kind::Summary;
        model.header.code = "CAF".into();
        model.header.name = "Réseau CAF".into();
        model.header.typology = "Réseau".into();
        model.header.ancestors = Vec::new();
        model.header.postal_code = String::new();
        model.header.city = String::new();
        model.reported.clear();
        model.verbatims.clear();
        model.children = (0..children)
            .map(|i| ChildRow {
                code: format!("CAF{i:02}"),
                name: format!("CAF du département {i:02}"),
                volume: 1_200 - i as u64 * 10,
                satisfaction: (i != 3).then_some(80.0 - i as f64),
                net_satisfaction: Some(10.0 - 4.0 * i as f64),
                nps: Some(12.0 - 2.0 * i as f64),
                response_rate: Some(70.0),
                median_delay: Some(1.5 + i as f64),
            })
            .collect();
        model
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::local;
    use super::pdf::Fonts;
    use super::render::render;

    #[test]
    fn the_same_model_gives_the_same_bytes() {
        let fonts = Fonts::load().unwrap_or_else(|| panic!("embedded fonts"));
        let a = render(&fonts, &local());
        let b = render(&fonts, &local());
        assert_eq!(a, b);
        assert!(a.starts_with(b"%PDF-"));
        let mut other = local();
        other.header.name.push('!');
        assert_ne!(render(&fonts, &other), a);
    }

    #[test]
    fn the_text_extracts_exactly_with_french_typography() {
        let fonts = Fonts::load().unwrap_or_else(|| panic!("embedded fonts"));
        let bytes = render(&fonts, &local());
        let Some(text) = super::pdf_tools::run("pdftotext", &["-layout"], &bytes) else {
            return;
        };
        // `_` a narrow no-break space (U+202F), `~` a no-break space (U+00A0): pdftotext
        // extracts both as plain spaces, so here they only mark where the text has them
        // (`format`'s and the HTML twin's tests check the characters themselves).
        let set = |s: &str| s.replace(['_', '~'], " ");
        for expected in [
            "Rapport de transparence — Services Publics +",
            "Accueil CAF Lyon Part-Dieu\nRéseau CAF › CAF du Rhône\n",
            "Résultats d’octobre 2026",
            "66,7_%",
            "+35,0~points",
            "sur 43~avis",
            "IC 95_% [57,2_; 74,9]",
            "sur 36~avis publiés",
            "sur 27~réponses publiées",
            "sur 7~notes de recommandation",
            "données insuffisantes",
            "objectif 15~jours",
            "Au guichet",
            "✓ Rappel par SMS quand le dossier avance (E4, le 14~octobre 2026)",
            "Taux de décroché~: 81,5_% — objectif 85,0_% non atteint",
            "L’œuvre de l’accueil «_à refaire_» —",
            "Réponse de L’équipe d’accueil~: Nous avons ouvert un second guichet le lundi.",
            "résultat dont l’effectif est inférieur à 10 n’est pas publié",
        ] {
            let expected = set(expected);
            assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
        }
        for wrong in ["'", "pts", "-5"] {
            assert!(!text.contains(wrong), "{wrong:?} in:\n{text}");
        }
        assert!(!text.contains("NaN"));
    }

    /// A network's summary names the network once in its header, and none of its pages is
    /// left with nothing but the footer, whatever the number of children.
    #[test]
    fn a_network_summary_names_it_once_and_has_no_empty_page() {
        let fonts = Fonts::load().unwrap_or_else(|| panic!("embedded fonts"));
        for children in [0, 3, 8, 12, 20, 30, 45] {
            let model = super::fixture::network(children);
            let bytes = render(&fonts, &model);
            let Some(text) = super::pdf_tools::run("pdftotext", &["-layout"], &bytes) else {
                return;
            };
            let pages: Vec<&str> = text
                .split('\x0c')
                .filter(|p| !p.trim().is_empty())
                .collect();
            for (i, page) in pages.iter().enumerate() {
                let lines = page.lines().filter(|l| !l.trim().is_empty()).count();
                assert!(
                    lines > 2,
                    "{children} children: page {} holds {lines} lines:\n{page}",
                    i + 1
                );
            }
            let header: Vec<&str> = pages[0].lines().take(8).collect();
            let named = header.iter().filter(|l| l.contains("Réseau CAF")).count();
            assert_eq!(named, 1, "{children} children:\n{}", header.join("\n"));
        }
    }

    #[test]
    fn fonts_are_embedded_and_the_file_is_valid_a4() {
        let fonts = Fonts::load().unwrap_or_else(|| panic!("embedded fonts"));
        let bytes = render(&fonts, &local());
        if let Some(list) = super::pdf_tools::run("pdffonts", &[], &bytes) {
            let rows: Vec<&str> = list.lines().skip(2).collect();
            assert_eq!(rows.len(), 2, "{list}");
            for row in rows {
                assert!(row.contains("DejaVuSans") && row.contains(" yes "), "{row}");
                let cols: Vec<&str> = row.split_whitespace().collect();
                // emb, sub, uni: embedded, and with a ToUnicode map (extractable text).
                assert_eq!(cols[cols.len() - 5], "yes", "embedded: {row}");
                assert_eq!(cols[cols.len() - 3], "yes", "unicode map: {row}");
            }
        }
        if let Some(info) = super::pdf_tools::run("pdfinfo", &[], &bytes) {
            assert!(info.contains("Pages:           2"), "{info}");
            assert!(info.contains("595.276 x 841.89 pts (A4)"), "{info}");
            assert!(
                info.contains("CreationDate:    Sun Nov  1 00:00:00 2026 UTC"),
                "dated by the period: {info}"
            );
        }
        if let Some(check) = super::pdf_tools::run("qpdf", &["--check"], &bytes) {
            assert!(
                check.contains("No syntax or stream encoding errors found"),
                "{check}"
            );
        }
    }

    #[test]
    fn a_text_outside_the_shared_font_subset_is_drawn_from_the_whole_face() {
        // The shared subset holds Latin-1 and French typography; a verbatim in another script
        // makes the file subset the whole face for itself.
        let fonts = Fonts::load().unwrap_or_else(|| panic!("embedded fonts"));
        let mut model = local();
        let story = &mut model.verbatims[0].story;
        *story = format!("Здравствуйте Ω ŋ. {story}");
        let bytes = render(&fonts, &model);
        assert_ne!(bytes, render(&fonts, &local()));
        let Some(text) = super::pdf_tools::run("pdftotext", &["-layout"], &bytes) else {
            return;
        };
        for expected in ["Здравствуйте", "Ω", "ŋ", "œuvre", "« à refaire »"] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn a_local_report_is_small_thanks_to_font_subsetting() {
        let fonts = Fonts::load().unwrap_or_else(|| panic!("embedded fonts"));
        let bytes = render(&fonts, &local());
        assert!(bytes.len() < 200_000, "{} bytes", bytes.len());
    }
}

#[cfg(test)]
mod write_fixture {
    /// `BOUCLE_WRITE_FIXTURE=/path.pdf cargo test -p boucle-jobs write_fixture` writes the
    /// fixture report for a look with PDF tools.
    #[test]
    fn write_fixture() {
        if let Ok(path) = std::env::var("BOUCLE_WRITE_FIXTURE") {
            let fonts = super::pdf::Fonts::load().unwrap_or_else(|| panic!("fonts"));
            let bytes = super::render::render(&fonts, &super::fixture::local());
            std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
