//! The use cases: what the API and the jobs ask of boucle, one module per aggregate. A use
//! case takes the [`Caller`](crate::domain::Caller) and a validated command, owns the
//! transaction, the scope check, the audit record and the cache epochs, asks the domain for
//! every rule, and reads and writes through the store's repositories (typed read models in,
//! typed read models out). Handlers call exactly one use case.

pub mod actions;
pub mod capture;
pub mod feedback;
pub mod indicators;
pub mod keys;
pub mod locations;
pub mod moderation;
pub mod page;
pub mod reports;
pub mod results;
