//! API key secrets. A secret is 32 random bytes (256 bits), so a fast hash is enough to
//! store it: there is nothing to brute-force, and SHA-256 keeps per-call verification cheap
//! (argon2 would cost tens of milliseconds on every RPC).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

const SECRET_PREFIX: &str = "bcl_";
const VISIBLE_PREFIX_LEN: usize = 12;

/// A freshly generated secret, to be shown once.
pub struct NewSecret {
    pub secret: secrecy::SecretString,
    pub hash: String,
    /// The first characters, stored in clear so that an admin can recognise a key.
    pub prefix: String,
}

pub fn generate() -> NewSecret {
    let mut bytes = [0u8; 32];
    // ThreadRng is a CSPRNG (ChaCha12) seeded and periodically reseeded from the OS.
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    NewSecret {
        hash: hash(&secret),
        prefix: secret.chars().take(VISIBLE_PREFIX_LEN).collect(),
        secret: secret.into(),
    }
}

/// Lower-case hex SHA-256 of the secret as sent by clients.
pub fn hash(secret: &str) -> String {
    super::digest::sha256_hex(secret.as_bytes())
}

/// Cheap shape check before any database lookup.
pub fn looks_like_secret(candidate: &str) -> bool {
    candidate.starts_with(SECRET_PREFIX) && candidate.len() == SECRET_PREFIX.len() + 43
}

/// A key hands out no more than its own reach: a scoped key cannot create an unscoped one
/// (a key for a scope inside the creator's is checked against the hierarchy).
pub fn check_grant(
    creator_scope: Option<uuid::Uuid>,
    new_scope: Option<uuid::Uuid>,
) -> crate::Result<()> {
    match (creator_scope, new_scope) {
        (Some(_), None) => Err(crate::Error::PermissionDenied(
            "a scoped key cannot create an unscoped key".into(),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_key_cannot_grant_the_whole_platform() {
        let scope = Some(uuid::Uuid::nil());
        assert!(check_grant(None, None).is_ok());
        assert!(check_grant(None, scope).is_ok());
        assert!(check_grant(scope, scope).is_ok());
        assert!(matches!(
            check_grant(scope, None),
            Err(crate::Error::PermissionDenied(_))
        ));
    }
    use secrecy::ExposeSecret;

    #[test]
    fn generated_secrets_are_unique_and_hash_to_their_stored_hash() {
        let a = generate();
        let b = generate();
        assert_ne!(a.secret.expose_secret(), b.secret.expose_secret());
        assert_eq!(hash(a.secret.expose_secret()), a.hash);
        assert!(looks_like_secret(a.secret.expose_secret()));
        assert!(a.secret.expose_secret().starts_with(&a.prefix));
    }

    #[test]
    fn secrets_do_not_print() {
        let a = generate();
        assert!(!format!("{:?}", a.secret).contains(&a.prefix[4..]));
    }
}
