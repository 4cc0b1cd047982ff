//! boucle-server: the gRPC services over the `boucle` library, authentication, and startup.

pub mod access;
pub mod auth;
pub mod calls;
pub mod client_fault;
pub mod config;
pub mod deadline;
pub mod exporter;
pub mod health;
pub mod overload;
pub mod peer;
pub mod public_cache;
pub mod rate;
pub mod services;
pub mod startup;
pub mod tls;

pub use config::{DatabaseArgs, ServeArgs};
pub use startup::{Application, incoming, shutdown_signal};
