//! Report files: written to a temporary name and renamed (a crash never leaves a partial
//! PDF), skipped when unchanged, listed in `manifest.json` with their SHA-256.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::JobError;
use crate::export::{write_atomically, write_renamed};

pub use boucle::domain::digest::sha256_hex;

/// Writes `bytes` as `dir/name` unless the file already holds exactly these bytes.
/// Returns the path, the SHA-256 and whether the file changed. The caller syncs `dir`
/// ([`crate::export::sync_dir`]) before recording the file.
pub fn write_if_changed(
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<(PathBuf, String, bool), JobError> {
    let path = dir.join(name);
    let sha = sha256_hex(bytes);
    let same = std::fs::read(&path).is_ok_and(|existing| sha256_hex(&existing) == sha);
    if !same {
        write_renamed(&path, bytes)?;
    }
    Ok((path, sha, !same))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ManifestEntry {
    pub file: String,
    pub sha256: String,
    pub size: u64,
    pub location_code: String,
    pub period: String,
    pub kind: String,
}

/// Writes `manifest.json` (entries sorted by file name) atomically.
pub fn write_manifest(dir: &Path, mut entries: Vec<ManifestEntry>) -> Result<PathBuf, JobError> {
    entries.sort_by(|a, b| a.file.cmp(&b.file));
    let mut bytes =
        serde_json::to_vec_pretty(&entries).map_err(|e| JobError::Io(std::io::Error::other(e)))?;
    bytes.push(b'\n');
    let path = dir.join("manifest.json");
    write_atomically(&path, &bytes)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crashed_write_never_shows_and_unchanged_files_are_left_alone() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (path, sha, changed) =
            write_if_changed(dir.path(), "A.pdf", b"version 1").unwrap_or_else(|e| panic!("{e}"));
        assert!(changed);
        assert_eq!(sha, sha256_hex(b"version 1"));
        let (_, _, changed) =
            write_if_changed(dir.path(), "A.pdf", b"version 1").unwrap_or_else(|e| panic!("{e}"));
        assert!(!changed, "identical bytes are not rewritten");

        // What a writer killed mid-write leaves: a temporary file beside the report. The
        // report itself still holds its previous complete version.
        std::fs::write(dir.path().join(".A.pdf.tmp-4242"), b"versi")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read(&path).unwrap_or_default(), b"version 1");
        let (_, _, changed) =
            write_if_changed(dir.path(), "A.pdf", b"version 2").unwrap_or_else(|e| panic!("{e}"));
        assert!(changed);
        assert_eq!(std::fs::read(&path).unwrap_or_default(), b"version 2");

        let manifest = write_manifest(
            dir.path(),
            vec![ManifestEntry {
                file: "A.pdf".into(),
                sha256: sha256_hex(b"version 2"),
                size: 9,
                location_code: "A".into(),
                period: "2026-10".into(),
                kind: "LOCATION".into(),
            }],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(manifest).unwrap_or_default();
        assert!(text.contains("\"file\": \"A.pdf\"") && !text.contains("tmp"));
        let ours = format!(".tmp-{}", std::process::id());
        let leftovers = std::fs::read_dir(dir.path())
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|f| f.file_name().to_string_lossy().contains(&ours))
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(leftovers, 0, "our own writes leave no temporary file");
    }

    #[test]
    fn temporaries_of_stopped_writers_are_swept_and_live_writers_kept() {
        use crate::export::remove_stale_temporaries;
        use std::time::{Duration, SystemTime};

        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let write = |name: &str, age: Duration| {
            let path = dir.path().join(name);
            std::fs::write(&path, b"x").unwrap_or_else(|e| panic!("{e}"));
            let file = std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap_or_else(|e| panic!("{e}"));
            file.set_modified(SystemTime::now() - age)
                .unwrap_or_else(|e| panic!("{e}"));
        };
        let hour = Duration::from_secs(3600);
        // A process that has exited, and one still running.
        let mut exited = std::process::Command::new("true")
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        exited.wait().unwrap_or_else(|e| panic!("{e}"));
        let mut running = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        // Left by killed writers, an hour ago.
        write(".A.pdf.tmp-4242", hour);
        write(".resultats-2026-10.csv.tmp-17", hour);
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|e| panic!("{e}"));
        // Left a moment ago on this machine by a writer that is gone: no need to wait.
        let dead = format!(".G.pdf.tmp-{}-{host}", exited.id());
        write(&dead, Duration::ZERO);
        // Writers still at work: another process, and this one.
        let live = format!(".B.pdf.tmp-{}-{host}", running.id());
        write(&live, Duration::ZERO);
        let own = format!(".H.pdf.tmp-{}-{host}", std::process::id());
        write(&own, Duration::ZERO);
        // A fresh one of another machine (or container) sharing the folder, whose
        // processes this one cannot see, and one without a host: only their age counts.
        let elsewhere = format!(".I.pdf.tmp-{}-another-host", exited.id());
        write(&elsewhere, Duration::ZERO);
        let hostless = format!(".J.pdf.tmp-{}", exited.id());
        write(&hostless, Duration::ZERO);
        // Not temporaries, however old: published files and look-alikes.
        for name in [
            "A.pdf",
            "manifest.json",
            ".hidden",
            ".C.pdf.tmp-",
            ".D.pdf.tmp-12a",
            "E.pdf.tmp-12",
            "..tmp-12",
        ] {
            write(name, hour);
        }
        std::fs::create_dir(dir.path().join(".F.tmp-9")).unwrap_or_else(|e| panic!("{e}"));

        let removed = remove_stale_temporaries(dir.path(), Duration::from_secs(600))
            .unwrap_or_else(|e| panic!("{e}"));
        let _ = running.kill();
        let _ = running.wait();
        assert_eq!(removed, 3);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let mut expected: Vec<String> = [
            "..tmp-12",
            ".C.pdf.tmp-",
            ".D.pdf.tmp-12a",
            ".F.tmp-9",
            ".hidden",
            "A.pdf",
            "E.pdf.tmp-12",
            "manifest.json",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([live, own, elsewhere, hostless])
        .collect();
        left.sort();
        expected.sort();
        assert_eq!(left, expected);
        // A folder not created yet holds nothing to sweep.
        assert_eq!(
            remove_stale_temporaries(&dir.path().join("absent"), Duration::ZERO)
                .unwrap_or_else(|e| panic!("{e}")),
            0
        );
    }
}
