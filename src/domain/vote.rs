//! Votes on the usefulness of public answers, and what keeps a flood from moving them.
//!
//! A vote is keyed by the hash of a voter token the portal chooses (a browser-local random
//! id): voting again replaces one's vote. Tokens cost nothing to invent, so the token alone
//! bounds nothing: an address may cast at most [`VotePolicy::per_address`] votes on one
//! answer within [`VotePolicy::window_ms`], whatever tokens it sends. The server also rate
//! limits votes per address and per answer in memory (`rate::VoteLimiter`); this cap is the
//! part that holds across replicas and restarts, because it is counted in the database.

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::answer_delays::DAY_MS;

/// How many votes one address may cast on one answer, and over what period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VotePolicy {
    pub per_address: u64,
    pub window_ms: i64,
}

impl VotePolicy {
    /// `per_address` votes a day.
    pub fn daily(per_address: u64) -> Self {
        Self {
            per_address,
            window_ms: DAY_MS,
        }
    }

    /// Whether a new vote (not the replacement of one's own) is allowed after `already`
    /// votes from the same address on the same answer within the window.
    pub fn allows(&self, already: u64) -> crate::Result<()> {
        if already < self.per_address {
            Ok(())
        } else {
            Err(crate::Error::ResourceExhausted(format!(
                "at most {} votes on one answer from one address per {} h",
                self.per_address,
                self.window_ms / 3_600_000
            )))
        }
    }
}

/// What is stored of the address a vote came from: the hex SHA-256 of the answer's id and
/// the address. It tells whether two votes on one answer came from one address, and nothing
/// across answers.
pub fn address_hash(response_id: Uuid, address: IpAddr) -> String {
    let mut h = Sha256::new();
    h.update(response_id.as_bytes());
    h.update(address.to_string().as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_share_of_votes_on_an_answer_then_no_more() {
        let policy = VotePolicy::daily(3);
        assert!(policy.allows(0).is_ok());
        assert!(policy.allows(2).is_ok());
        assert!(matches!(
            policy.allows(3),
            Err(crate::Error::ResourceExhausted(_))
        ));
    }

    #[test]
    fn the_address_hash_differs_per_answer_and_per_address() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let ip: IpAddr = [192, 0, 2, 7].into();
        let other: IpAddr = [192, 0, 2, 8].into();
        assert_eq!(address_hash(a, ip), address_hash(a, ip));
        assert_ne!(address_hash(a, ip), address_hash(b, ip));
        assert_ne!(address_hash(a, ip), address_hash(a, other));
        assert_eq!(address_hash(a, ip).len(), 64);
    }
}
