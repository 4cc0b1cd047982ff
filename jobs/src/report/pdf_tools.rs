//! Test helpers around poppler-utils and qpdf (Debian packages). Tests use them when they
//! are installed; `.ci/run` installs them and sets `BOUCLE_REQUIRE_PDF_TOOLS=1`, which turns
//! their absence into a failure.

use std::io::Write;
use std::process::Command;

/// Runs `tool args… file` on `bytes`; `None` when the tool is not installed (and not required).
pub fn run(tool: &str, args: &[&str], bytes: &[u8]) -> Option<String> {
    let required = std::env::var("BOUCLE_REQUIRE_PDF_TOOLS").is_ok_and(|v| v == "1");
    if Command::new(tool).arg("-v").output().is_err()
        && Command::new(tool).arg("--version").output().is_err()
    {
        assert!(
            !required,
            "{tool} is required (BOUCLE_REQUIRE_PDF_TOOLS=1) but not installed"
        );
        eprintln!("note: {tool} not installed, check skipped");
        return None;
    }
    let mut file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("temp file: {e}"));
    file.write_all(bytes)
        .unwrap_or_else(|e| panic!("write: {e}"));
    let out = Command::new(tool)
        .args(args)
        .arg(file.path())
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
