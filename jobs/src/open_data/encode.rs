//! Writing a dataset in its three encodings at once, row by row, with flat memory:
//!
//! - `<name>.csv`: RFC 4180, UTF-8 without BOM, commas, CRLF, decimal point
//!   (data.gouv.fr's recommendation, what TableSchema validators read by default);
//! - `<name>.excel.csv`: what a spreadsheet opens as-is in a French locale, like the SP+
//!   portal's own exports: UTF-8 with a BOM, semicolons, decimal comma;
//! - `<name>.json`: an array of objects keyed by column, numbers as JSON numbers, absent
//!   values as `null`.
//!
//! Each file is written under a temporary name and renamed when whole (see
//! `crate::export::write_renamed`), and hashed while it is written.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::fields::{Dataset, Kind};
use crate::JobError;

/// One value of a row, in its column's kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Integer(i64),
    Number(f64),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    }

    /// A number rounded to `decimals`, an integer when it has no fraction.
    pub fn rounded(value: f64, decimals: i32) -> Cell {
        let scale = 10f64.powi(decimals);
        let v = (value * scale).round() / scale;
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            Cell::Integer(v as i64)
        } else {
            Cell::Number(v)
        }
    }

    fn csv(&self, decimal_comma: bool) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Integer(n) => n.to_string(),
            Cell::Number(v) if decimal_comma => v.to_string().replace('.', ","),
            Cell::Number(v) => v.to_string(),
            Cell::Empty => String::new(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Text(s) => serde_json::Value::String(s.clone()),
            Cell::Integer(n) => (*n).into(),
            Cell::Number(v) => serde_json::Number::from_f64(*v)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Cell::Empty => serde_json::Value::Null,
        }
    }
}

/// A file being written: its final path, its temporary one, and its digest so far.
struct Pending<W: Write> {
    path: PathBuf,
    tmp: PathBuf,
    out: Hashing<W>,
}

/// Counts and hashes what passes through.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn open(path: &Path) -> Result<Pending<BufWriter<File>>, JobError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = crate::export::temporary_name(path);
    let file = File::create(&tmp)?;
    Ok(Pending {
        path: path.to_owned(),
        tmp,
        out: Hashing {
            inner: BufWriter::with_capacity(256 * 1024, file),
            hasher: Sha256::new(),
            size: 0,
        },
    })
}

/// A written file: its path, size and SHA-256; until [`Written::publish`], its bytes wait
/// complete and synced under a temporary name beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    tmp: Option<PathBuf>,
}

impl Written {
    /// Writes `bytes` (a schema, the catalogue) to a synced temporary for `path`.
    pub fn bytes(path: &Path, bytes: &[u8]) -> Result<Self, JobError> {
        let mut p = open(path)?;
        p.out.write_all(bytes)?;
        finish(p)
    }

    /// A file recorded by an earlier run, as the catalogue lists it.
    pub fn recorded(path: PathBuf, size: u64, sha256: String) -> Self {
        Self {
            path,
            size,
            sha256,
            tmp: None,
        }
    }

    /// Where its bytes are now: the temporary until published, which no other writer
    /// touches, so what is read there is exactly what was hashed.
    pub fn current(&self) -> &Path {
        self.tmp.as_deref().unwrap_or(&self.path)
    }

    /// Renames it into place (the caller syncs the folder after a batch).
    pub fn publish(&mut self) -> Result<(), JobError> {
        if let Some(tmp) = self.tmp.take() {
            std::fs::rename(&tmp, &self.path)?;
        }
        Ok(())
    }
}

fn finish(p: Pending<BufWriter<File>>) -> Result<Written, JobError> {
    let Pending { path, tmp, out } = p;
    let Hashing {
        inner,
        hasher,
        size,
    } = out;
    let file = inner
        .into_inner()
        .map_err(|e| JobError::Io(e.into_error()))?;
    file.sync_all()?;
    drop(file);
    Ok(Written {
        path,
        size,
        sha256: hex::encode(hasher.finalize()),
        tmp: Some(tmp),
    })
}

/// The three encodings of one dataset file, written together.
pub struct DatasetWriter {
    kinds: Vec<Kind>,
    names: Vec<&'static str>,
    csv: csv::Writer<Hashing<BufWriter<File>>>,
    csv_paths: (PathBuf, PathBuf),
    excel: csv::Writer<Hashing<BufWriter<File>>>,
    excel_paths: (PathBuf, PathBuf),
    json: Pending<BufWriter<File>>,
    rows: u64,
}

fn csv_writer(
    p: Pending<BufWriter<File>>,
    delimiter: u8,
) -> (csv::Writer<Hashing<BufWriter<File>>>, (PathBuf, PathBuf)) {
    let Pending { path, tmp, out } = p;
    (
        csv::WriterBuilder::new()
            .delimiter(delimiter)
            .terminator(csv::Terminator::CRLF)
            .from_writer(out),
        (path, tmp),
    )
}

fn csv_error(e: csv::Error) -> JobError {
    JobError::Io(std::io::Error::other(e))
}

impl DatasetWriter {
    /// Starts `<dir>/<name>.csv`, `.excel.csv` and `.json` for `dataset`, headers written.
    pub fn create(dir: &Path, name: &str, dataset: &Dataset) -> Result<Self, JobError> {
        let names: Vec<&'static str> = dataset.fields.iter().map(|f| f.name).collect();
        let (mut csv, csv_paths) = csv_writer(open(&dir.join(format!("{name}.csv")))?, b',');
        let mut excel_file = open(&dir.join(format!("{name}.excel.csv")))?;
        // The BOM tells a spreadsheet the file is UTF-8.
        excel_file.out.write_all("\u{feff}".as_bytes())?;
        let (mut excel, excel_paths) = csv_writer(excel_file, b';');
        csv.write_record(&names).map_err(csv_error)?;
        excel.write_record(&names).map_err(csv_error)?;
        let mut json = open(&dir.join(format!("{name}.json")))?;
        json.out.write_all(b"[")?;
        Ok(Self {
            kinds: dataset.fields.iter().map(|f| f.kind).collect(),
            names,
            csv,
            csv_paths,
            excel,
            excel_paths,
            json,
            rows: 0,
        })
    }

    /// Appends one row (its cells in the dataset's column order).
    pub fn write(&mut self, row: &[Cell]) -> Result<(), JobError> {
        if row.len() != self.names.len() {
            return Err(JobError::Io(std::io::Error::other(format!(
                "a row of {} cells for {} columns",
                row.len(),
                self.names.len()
            ))));
        }
        debug_assert!(row.iter().zip(&self.kinds).all(|(c, k)| matches!(
            (c, k),
            (Cell::Empty, _)
                | (Cell::Text(_), Kind::String | Kind::Date | Kind::YearMonth)
                | (Cell::Integer(_), Kind::Integer | Kind::Number)
                | (Cell::Number(_), Kind::Number)
        )));
        self.csv
            .write_record(row.iter().map(|c| c.csv(false)))
            .map_err(csv_error)?;
        self.excel
            .write_record(row.iter().map(|c| c.csv(true)))
            .map_err(csv_error)?;
        let object: serde_json::Map<String, serde_json::Value> = self
            .names
            .iter()
            .zip(row)
            .map(|(n, c)| ((*n).to_owned(), c.json()))
            .collect();
        let out = &mut self.json.out;
        out.write_all(if self.rows == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, &object).map_err(|e| JobError::Io(e.into()))?;
        self.rows += 1;
        Ok(())
    }

    /// Makes the three files whole and synced, still under their temporary names.
    pub fn finish(self) -> Result<Vec<Written>, JobError> {
        let mut written = Vec::with_capacity(3);
        for (writer, (path, tmp)) in [(self.csv, self.csv_paths), (self.excel, self.excel_paths)] {
            let out = writer
                .into_inner()
                .map_err(|e| JobError::Io(std::io::Error::other(e.to_string())))?;
            written.push(finish(Pending { path, tmp, out })?);
        }
        let mut json = self.json;
        json.out.write_all(b"\n]\n")?;
        written.push(finish(json)?);
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_stay_integers_and_decimals_follow_the_encoding() {
        assert_eq!(Cell::rounded(135.0, 1), Cell::Integer(135));
        assert_eq!(Cell::rounded(66.666_666, 1), Cell::Number(66.7));
        assert_eq!(Cell::rounded(-0.04, 1), Cell::Integer(0));
        assert_eq!(Cell::Number(66.7).csv(false), "66.7");
        assert_eq!(Cell::Number(66.7).csv(true), "66,7");
        assert_eq!(Cell::Integer(135).json(), serde_json::json!(135));
        assert_eq!(Cell::text(""), Cell::Empty);
    }

    #[test]
    fn three_encodings_of_the_same_rows() {
        let dir = tempfile::tempdir().expect("dir");
        let dataset = Dataset {
            stem: "t",
            title: "t",
            description: "t",
            fields: ["code_structure", "valeur"]
                .map(|name| {
                    let resultats = super::super::fields::resultats();
                    resultats
                        .fields
                        .into_iter()
                        .find(|f| f.name == name)
                        .unwrap_or_else(|| panic!("{name}"))
                })
                .to_vec(),
        };
        let mut w = DatasetWriter::create(dir.path(), "t-2026-10", &dataset).expect("create");
        w.write(&[Cell::text("A;1, \"x\""), Cell::Number(12.5)])
            .expect("row");
        w.write(&[Cell::text("B"), Cell::Empty]).expect("row");
        let mut written = w.finish().expect("finish");
        assert_eq!(written.len(), 3);
        for w in &mut written {
            w.publish().expect("publish");
        }
        let read = |name: &str| std::fs::read(dir.path().join(name)).expect("file");
        assert_eq!(
            String::from_utf8(read("t-2026-10.csv")).expect("utf-8"),
            "code_structure,valeur\r\n\"A;1, \"\"x\"\"\",12.5\r\nB,\r\n"
        );
        assert_eq!(
            String::from_utf8(read("t-2026-10.excel.csv")).expect("utf-8"),
            "\u{feff}code_structure;valeur\r\n\"A;1, \"\"x\"\"\";12,5\r\nB;\r\n"
        );
        let json: serde_json::Value =
            serde_json::from_slice(&read("t-2026-10.json")).expect("json");
        assert_eq!(
            json,
            serde_json::json!([
                {"code_structure": "A;1, \"x\"", "valeur": 12.5},
                {"code_structure": "B", "valeur": null}
            ])
        );
        for w in &written {
            let bytes = std::fs::read(&w.path).expect("file");
            assert_eq!(w.size, bytes.len() as u64);
            assert_eq!(w.sha256, boucle::domain::digest::sha256_hex(&bytes));
        }
        // Nothing temporary left.
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 3);
    }
}
