//! Open data: the published results of a period, per location and indicator, as CSV
//! (UTF-8, RFC 4180) and JSON, with the columns of the Services Publics + « résultats »
//! export. Suppressed figures are absent, not zero. Files are written to a temporary name and
//! renamed, so a reader never sees a partial file; the same data gives the same bytes.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use boucle::domain::Period;
use boucle::store::Store;
use serde::Serialize;
use uuid::Uuid;

use crate::JobError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

/// One published figure (column names follow the SP+ « résultats » export).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub code_structure: String,
    pub typologie: String,
    pub structure: String,
    pub code_postal: String,
    pub commune: String,
    pub code_indicateur: String,
    pub indicateur: String,
    pub valeur: f64,
    pub unite: String,
    pub taille_echantillon: i64,
    pub intervalle_bas: Option<f64>,
    pub intervalle_haut: Option<f64>,
    pub periode: String,
    pub frequence: String,
    pub date_mise_a_jour: String,
}

/// The published rows of `period` (for the subtree of `root`), sorted by structure then
/// indicator.
pub async fn rows(store: &Store, period: Period, root: Option<Uuid>) -> Result<Vec<Row>, JobError> {
    let locations: HashMap<Uuid, _> = store
        .locations_for_aggregation(root)
        .await?
        .into_iter()
        .map(|l| (l.location.id, l.location))
        .collect();
    let catalogue = boucle::app::indicators::catalogue(store).await?;
    // The results of a month are published on the 1st of the next one: a stable date, so
    // that a rerun on the same data writes the same bytes.
    let updated = period.next().first_day().format("%Y-%m-%d").to_string();
    let mut out = Vec::new();
    for a in store.aggregates_of_period(period, root).await? {
        let f = &a.figure;
        let (Some(value), false) = (f.value, f.suppressed) else {
            continue;
        };
        let Some(location) = locations.get(&a.location_id) else {
            continue;
        };
        let (title, unit) = catalogue.label(f.code);
        out.push(Row {
            code_structure: location.code.clone(),
            typologie: location.typology.clone(),
            structure: location.name.clone(),
            code_postal: location.postal_code.clone(),
            commune: location.city.clone(),
            code_indicateur: f.code.code().to_owned(),
            indicateur: title.to_owned(),
            valeur: value,
            unite: unit.to_owned(),
            taille_echantillon: i64::try_from(f.sample).unwrap_or(i64::MAX),
            intervalle_bas: f.ci.map(|c| c.0),
            intervalle_haut: f.ci.map(|c| c.1),
            periode: period.to_string(),
            frequence: catalogue.frequency(f.code).code().to_owned(),
            date_mise_a_jour: updated.clone(),
        });
    }
    out.sort_by(|a, b| {
        (&a.code_structure, &a.code_indicateur).cmp(&(&b.code_structure, &b.code_indicateur))
    });
    Ok(out)
}

pub fn to_csv(rows: &[Row]) -> Result<Vec<u8>, JobError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        writer
            .serialize(row)
            .map_err(|e| JobError::Io(std::io::Error::other(e)))?;
    }
    if rows.is_empty() {
        // Still give the header, so that an empty month is a valid, self-describing file.
        writer
            .write_record([
                "code_structure",
                "typologie",
                "structure",
                "code_postal",
                "commune",
                "code_indicateur",
                "indicateur",
                "valeur",
                "unite",
                "taille_echantillon",
                "intervalle_bas",
                "intervalle_haut",
                "periode",
                "frequence",
                "date_mise_a_jour",
            ])
            .map_err(|e| JobError::Io(std::io::Error::other(e)))?;
    }
    writer
        .into_inner()
        .map_err(|e| JobError::Io(std::io::Error::other(e.to_string())))
}

pub fn to_json(rows: &[Row]) -> Result<Vec<u8>, JobError> {
    let mut bytes =
        serde_json::to_vec_pretty(rows).map_err(|e| JobError::Io(std::io::Error::other(e)))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, then
/// syncs the folder: a reader never sees a partial file, and after a power cut the file is
/// either the old one or the whole new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), JobError> {
    write_renamed(path, bytes)?;
    sync_dir(path.parent().unwrap_or_else(|| Path::new(".")))
}

/// [`write_atomically`] without the directory sync, for many files in one directory: the
/// caller calls [`sync_dir`] once after them, before it records them anywhere.
pub fn write_renamed(path: &Path, bytes: &[u8]) -> Result<(), JobError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("export"),
        std::process::id(),
        this_host().map(|h| format!("-{h}")).unwrap_or_default()
    ));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// How old another process's temporary file must be before [`remove_stale_temporaries`]
/// deletes it. A live writer fills and renames its temporary within seconds; one that old
/// belongs to a writer that was killed (or stopped on a lost lease) before its rename.
pub const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(600);

/// Deletes the temporaries that [`write_renamed`] leaves behind when its process dies
/// before the rename (`.<name>.tmp-<pid>-<host>`), in `dir` (not below): at once when they
/// were written on this machine (same host name; containers have their own) by a process
/// that is gone, otherwise once older than `older_than` (another machine's or container's
/// writer, whose processes this one cannot see; a temporary without a host; a system
/// without `/proc`). Nothing else is touched: a name must match that shape exactly. Returns
/// how many went. A step calls it once, before writing into `dir`.
pub fn remove_stale_temporaries(
    dir: &Path,
    older_than: std::time::Duration,
) -> Result<usize, JobError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((pid, host)) = temporary_writer(name) else {
            continue;
        };
        let metadata = entry.metadata()?;
        let age = metadata
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .unwrap_or_default();
        let writer_gone = host.is_some() && host == this_host() && process_is_gone(pid);
        if metadata.is_file() && (age >= older_than || writer_gone) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                // Gone meanwhile (another worker swept it): nothing to do.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    if removed > 0 {
        tracing::info!(dir = %dir.display(), removed, "removed temporary files left by a stopped writer");
    }
    Ok(removed)
}

/// The writer of a temporary named `.<name>.tmp-<pid>[-<host>]`, as [`write_renamed`] names
/// them: its pid and, when written, its host; `None` for any other name.
fn temporary_writer(name: &str) -> Option<(u32, Option<&str>)> {
    let (target, writer) = name.strip_prefix('.')?.rsplit_once(".tmp-")?;
    let (pid, host) = match writer.split_once('-') {
        Some((pid, host)) if !host.is_empty() => (pid, Some(host)),
        Some(_) => return None,
        None => (writer, None),
    };
    if target.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((pid.parse().ok()?, host))
}

/// This machine's host name as temporaries carry it (letters, digits, dots and dashes), from
/// `/proc` (Linux: per UTS namespace, so per container); `None` elsewhere.
fn this_host() -> Option<&'static str> {
    static HOST: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let raw = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
        let host: String = raw
            .trim()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
            .collect();
        (!host.is_empty()).then_some(host)
    })
    .as_deref()
}

/// Whether no process `pid` runs on this machine: only where `/proc` tells (Linux), and
/// never for this process itself.
fn process_is_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    pid != std::process::id() && proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

/// Makes the names created or renamed in `dir` durable: a rename is only on disk once its
/// directory is synced, and a power cut could otherwise leave the old file (or none) behind
/// names the database already records.
pub fn sync_dir(dir: &Path) -> Result<(), JobError> {
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Exports `period` in `format` into `out_dir`; returns the file written.
pub async fn export(
    store: &Store,
    period: Period,
    root: Option<(Uuid, String)>,
    format: Format,
    out_dir: &Path,
) -> Result<PathBuf, JobError> {
    let rows = rows(store, period, root.as_ref().map(|r| r.0)).await?;
    let (bytes, ext) = match format {
        Format::Csv => (to_csv(&rows)?, "csv"),
        Format::Json => (to_json(&rows)?, "json"),
    };
    let name = match &root {
        Some((_, code)) => format!("resultats-{period}-{code}.{ext}"),
        None => format!("resultats-{period}.{ext}"),
    };
    remove_stale_temporaries(out_dir, STALE_TEMPORARY)?;
    let path = out_dir.join(&name);
    write_atomically(&path, &bytes)?;
    // Beside the reports, in the database every replica reads.
    store.put_published_file(&name, period, &bytes).await?;
    Ok(path)
}
