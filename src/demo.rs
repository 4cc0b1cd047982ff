//! Demo data (written below).
