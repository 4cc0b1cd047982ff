//! End-to-end tests: a real server on 127.0.0.1:0, the generated tonic clients, a real
//! database (SQLite by default, PostgreSQL with TEST_DATABASE_URL).

mod abuse;
mod access;
mod access_matrix;
mod actions;
mod aggregation;
mod bad_input;
mod feedback;
mod lifecycle;
mod locations;
mod platform;
mod portal;
mod reports;
