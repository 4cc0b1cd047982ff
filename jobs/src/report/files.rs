//! Report files: written to a temporary name and renamed (a crash never leaves a partial
//! PDF), skipped when unchanged, listed in `manifest.json` with their SHA-256.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::JobError;
use crate::export::write_atomically;

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `bytes` as `dir/name` unless the file already holds exactly these bytes.
/// Returns the path, the SHA-256 and whether the file changed.
pub fn write_if_changed(
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<(PathBuf, String, bool), JobError> {
    let path = dir.join(name);
    let sha = sha256_hex(bytes);
    let same = std::fs::read(&path).is_ok_and(|existing| sha256_hex(&existing) == sha);
    if !same {
        write_atomically(&path, bytes)?;
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
