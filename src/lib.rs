//! boucle: the feedback loop of public services (« Services Publics + »).
//!
//! This library holds what the server and the jobs share:
//! - [`domain`]: the rules (validated types, personal-data detection, periods, roles), free
//!   of transport and storage;
//! - [`app`]: the use cases, one module per aggregate, between the API and the store;
//! - [`store`]: persistence with sea-orm, on SQLite or PostgreSQL;
//! - [`pb`]: the generated `boucle.v1` wire types and their conversions;
//! - [`demo`]: a deterministic demo data set;
//! - [`telemetry`]: logging setup;
//! - [`metrics`]: the server's Prometheus metrics.

pub mod app;
pub mod demo;
pub mod domain;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod metrics;
pub mod pb;
pub mod store;
pub mod telemetry;

pub use error::{Error, Result};
