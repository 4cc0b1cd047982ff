//! What a report says, as plain data: built from the database by `build.rs`, drawn by
//! `render.rs`. Everything here is already decided (ordering, selection), so that the same
//! model always gives the same bytes.

pub use boucle::domain::codes::ReportKind as Kind;

#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub code: String,
    pub name: String,
    pub typology: String,
    /// Names of the structures above this one, from the network down to its parent; empty
    /// for a network, whose name the header shows once.
    pub ancestors: Vec<String>,
    pub postal_code: String,
    pub city: String,
    pub response_target_days: u32,
    pub min_sample: u32,
}

pub use boucle::domain::indicators::{Figure, IndicatorCode};

/// A figure with the catalogue's wording of its indicator when the report is built.
pub use boucle::store::indicators::LabelledFigure as KeyFigure;

#[derive(Clone, Debug, PartialEq)]
pub struct TrendPoint {
    /// `YYYY-MM`.
    pub period: String,
    pub satisfaction: Option<f64>,
    pub volume: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ActionLine {
    pub title: String,
    pub engagement: String,
    pub progress: u32,
    /// `YYYY-MM-DD`, done or due.
    pub date: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reported {
    pub title: String,
    pub unit: String,
    pub value: f64,
    pub target: Option<f64>,
    pub higher_is_better: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Verbatim {
    pub satisfaction: String,
    /// Redacted texts only.
    pub title: String,
    pub story: String,
    pub pseudonym: String,
    pub date: String,
    /// (author, body) of the published answers.
    pub answers: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChildRow {
    pub code: String,
    pub name: String,
    pub volume: u64,
    pub satisfaction: Option<f64>,
    pub net_satisfaction: Option<f64>,
    pub nps: Option<f64>,
    pub response_rate: Option<f64>,
    pub median_delay: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportModel {
    pub kind: Kind,
    pub header: Header,
    /// `YYYY-MM`.
    pub period: String,
    pub timezone: String,
    pub figures: Vec<KeyFigure>,
    pub trend: Vec<TrendPoint>,
    /// (channel label, counted experiences), largest first.
    pub channels: Vec<(String, u64)>,
    pub actions_done: Vec<ActionLine>,
    pub actions_in_progress: Vec<ActionLine>,
    pub reported: Vec<Reported>,
    pub verbatims: Vec<Verbatim>,
    /// Summary reports: the children, ranked.
    pub children: Vec<ChildRow>,
}
