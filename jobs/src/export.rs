//! Publishing files safely: every file the jobs publish (open data, reports, manifests,
//! metrics) is written to a temporary name and renamed, so a reader never sees a partial
//! file, and the temporaries of a killed writer are swept before the next one writes.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::JobError;

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
    let tmp = temporary_name(path);
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// The temporary a writer of `path` fills before renaming it in: `.<name>.tmp-<pid>-<host>`
/// beside it, which [`remove_stale_temporaries`] recognises once its writer is gone.
pub fn temporary_name(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    dir.join(format!(
        ".{}.tmp-{}{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("export"),
        std::process::id(),
        this_host().map(|h| format!("-{h}")).unwrap_or_default()
    ))
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
        if sweep(&entry.path(), pid, host, older_than)? {
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(dir = %dir.display(), removed, "removed temporary files left by a stopped writer");
    }
    Ok(removed)
}

/// Deletes the temporary at `path`, written by `pid` on `host`, if it is stale (see
/// [`remove_stale_temporaries`]); whether it did. A temporary that is gone by the time it is
/// looked at — its writer, another worker, renamed or swept it since the directory was
/// listed — is not an error: two workers share the output folder, and one's listing often
/// holds the other's temporaries of a moment ago.
fn sweep(
    path: &Path,
    pid: u32,
    host: Option<&str>,
    older_than: std::time::Duration,
) -> Result<bool, JobError> {
    let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if gone(&e) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let age = metadata
        .modified()
        .ok()
        .and_then(|m| m.elapsed().ok())
        .unwrap_or_default();
    let writer_gone = host.is_some() && host == this_host() && process_is_gone(pid);
    if !(metadata.is_file() && (age >= older_than || writer_gone)) {
        return Ok(false);
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if gone(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Another worker renamed (or swept) a temporary between this one's listing of the
    /// folder and its look at the file: the sweep goes on. It failed the whole export step
    /// with « No such file or directory » when two daemons shared an output folder.
    #[test]
    fn a_temporary_gone_since_the_listing_is_not_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        let renamed = dir.path().join(".resultats.csv.tmp-4242-elsewhere");
        let swept = sweep(&renamed, 4242, Some("elsewhere"), std::time::Duration::ZERO);
        assert!(matches!(swept, Ok(false)), "{swept:?}");
        std::fs::write(&renamed, b"x").expect("write");
        let swept = sweep(&renamed, 4242, Some("elsewhere"), std::time::Duration::ZERO);
        assert!(
            matches!(swept, Ok(true)),
            "a stale one is still removed: {swept:?}"
        );
        assert!(!renamed.exists());
    }
}
