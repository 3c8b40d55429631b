//! Random tokens, and the hashes secrets are kept as when they only need comparing (API keys,
//! AsisteClick's access token, Meta's verify token). They are full-entropy or chosen by
//! integrators for machines, so SHA-256 suffices; a slow password hash would only cost every
//! request.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// `bytes` random bytes as lowercase hex (URL keys, claim tokens, public keys).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// What a secret is stored as.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `given` is the secret behind `stored`, compared in constant time.
pub fn matches_hash(given: &str, stored: &str) -> bool {
    same(&hash(given), stored)
}

/// Whether two secrets (signatures, hashes) are equal, in time that does not depend on where
/// they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_its_hash_and_nothing_else() {
        let stored = hash("token-de-asisteclick");
        assert!(matches_hash("token-de-asisteclick", &stored));
        assert!(!matches_hash("token-de-asisteclicK", &stored));
        assert!(!matches_hash("", &stored));
        assert_eq!(random_hex(20).len(), 40);
        assert_ne!(random_hex(20), random_hex(20));
    }
}
