//! The rules of boucle, free of transport and storage: validated types, personal-data
//! detection, periods, authorization rules. Imports neither tonic nor sea_orm.

pub mod action;
pub mod answer;
pub mod answer_delays;
pub mod api_key;
pub mod audiences;
pub mod auth;
pub mod codes;
pub mod digest;
pub mod feedback;
pub mod french;
pub mod history;
pub mod indicators;
pub mod location;
pub mod moderation;
pub mod page;
pub mod period;
pub mod redaction;
#[cfg(test)]
mod redaction_corpus;
pub mod search;
pub mod symmetry;
pub mod validation;
pub mod vote;

pub use auth::{Caller, Permission, Role};
pub use codes::{
    ActionStatus, Audience, Channel, ModerationStatus, PersonalDataKind, RejectReason,
    Satisfaction, Tag,
};
pub use period::Period;

#[cfg(test)]
mod tests {
    /// The architecture invariant, checked: no file of the domain, nor the error type it
    /// returns, names tonic or sea_orm (or sqlx, under them).
    #[test]
    fn the_domain_imports_neither_tonic_nor_sea_orm() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![root.join("error.rs")];
        let mut dirs = vec![root.join("domain")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}")) {
                let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 15, "the domain was read");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
            for crate_name in ["tonic", "sea_orm", "sqlx"] {
                assert!(
                    !text.contains(&format!("{crate_name}::")),
                    "{} names {crate_name}",
                    file.display()
                );
            }
        }
    }
}
