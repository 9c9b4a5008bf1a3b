//! Encryption of personal data at rest, and blind indexes for looking it up.
//!
//! Each value is sealed with XChaCha20-Poly1305 under a named key and
//! stored as `v1.<key id>.<base64 nonce‖ciphertext>`, so keys can rotate:
//! old values stay readable under their key id until re-encrypted. The
//! associated data binds a value to its table, column, store and row, so a
//! ciphertext copied into another row or column does not decrypt.
//! Exact-match lookups (login by e-mail) use a keyed hash of the
//! normalised value instead of the plaintext. Keys come from configuration
//! or a key file, never from the database.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("encryption key {0} is not configured")]
    UnknownKey(String),
    #[error("keys must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("the active key {0} is not among the configured keys")]
    NoActiveKey(String),
    #[error("stored value is not in the expected format")]
    Malformed,
    #[error("stored value failed authentication (wrong key, row or column)")]
    Tampered,
}

/// Where a value lives; bound into its ciphertext.
#[derive(Debug, Clone, Copy)]
pub struct Slot<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub store_id: &'a str,
    pub row_id: &'a str,
}

impl Slot<'_> {
    fn aad(&self) -> String {
        format!("{}:{}:{}:{}", self.table, self.column, self.store_id, self.row_id)
    }
}

pub struct Keyring {
    active: String,
    keys: BTreeMap<String, XChaCha20Poly1305>,
    index_key: Vec<u8>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("active", &self.active)
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn decode_key(b64: &str) -> Result<[u8; 32], CryptoError> {
    B64.decode(b64.trim()).ok().and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok()).ok_or(CryptoError::BadKey)
}

impl Keyring {
    /// `keys` maps key ids to base64 32-byte keys; `active` seals new values;
    /// `index_key` (base64, 32 bytes) keys the blind indexes.
    pub fn new(active: &str, keys: &BTreeMap<String, String>, index_key: &str) -> Result<Keyring, CryptoError> {
        let mut ciphers = BTreeMap::new();
        for (id, b64) in keys {
            if id.is_empty() || id.contains('.') {
                return Err(CryptoError::BadKey);
            }
            ciphers.insert(id.clone(), XChaCha20Poly1305::new(&decode_key(b64)?.into()));
        }
        if !ciphers.contains_key(active) {
            return Err(CryptoError::NoActiveKey(active.to_string()));
        }
        Ok(Keyring { active: active.to_string(), keys: ciphers, index_key: decode_key(index_key)?.to_vec() })
    }

    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    /// Seals `plaintext` with the active key. `nonce` must be 24 fresh
    /// random bytes (the caller owns randomness so this stays pure).
    pub fn seal(&self, slot: Slot<'_>, plaintext: &str, nonce: [u8; 24]) -> String {
        let cipher = &self.keys[&self.active];
        let aad = slot.aad();
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: aad.as_bytes() })
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory data");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        format!("v1.{}.{}", self.active, B64.encode(blob))
    }

    pub fn open(&self, slot: Slot<'_>, stored: &str) -> Result<String, CryptoError> {
        let mut parts = stored.splitn(3, '.');
        let (Some("v1"), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Malformed);
        };
        let cipher = self.keys.get(key_id).ok_or_else(|| CryptoError::UnknownKey(key_id.to_string()))?;
        let blob = B64.decode(body).map_err(|_| CryptoError::Malformed)?;
        if blob.len() < 24 + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, sealed) = blob.split_at(24);
        let aad = slot.aad();
        let plain = cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: aad.as_bytes() })
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }

    /// The key id a stored value was sealed with.
    pub fn key_id_of(stored: &str) -> Option<&str> {
        stored.strip_prefix("v1.")?.split('.').next()
    }

    /// Keyed hash for exact-match lookups, scoped to a store and a purpose
    /// so equal values in different stores or fields do not correlate.
    pub fn blind_index(&self, store_id: &str, purpose: &str, normalised: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key).expect("HMAC takes any key length");
        mac.update(store_id.as_bytes());
        mac.update(b"\0");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(normalised.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(active: &str) -> Keyring {
        let mut keys = BTreeMap::new();
        keys.insert("k1".to_string(), B64.encode([1u8; 32]));
        keys.insert("k2".to_string(), B64.encode([2u8; 32]));
        Keyring::new(active, &keys, &B64.encode([9u8; 32])).unwrap()
    }

    const SLOT: Slot<'static> = Slot { table: "customers", column: "email", store_id: "str_a", row_id: "cus_1" };

    #[test]
    fn round_trip_and_format() {
        let r = ring("k1");
        let sealed = r.seal(SLOT, "ana@example.com", [7; 24]);
        assert!(sealed.starts_with("v1.k1."));
        assert!(!sealed.contains("ana"));
        assert_eq!(r.open(SLOT, &sealed).unwrap(), "ana@example.com");
    }

    #[test]
    fn values_are_bound_to_their_slot() {
        let r = ring("k1");
        let sealed = r.seal(SLOT, "ana@example.com", [7; 24]);
        let other_row = Slot { row_id: "cus_2", ..SLOT };
        let other_store = Slot { store_id: "str_b", ..SLOT };
        assert_eq!(r.open(other_row, &sealed), Err(CryptoError::Tampered));
        assert_eq!(r.open(other_store, &sealed), Err(CryptoError::Tampered));
    }

    #[test]
    fn old_keys_still_open_after_rotation() {
        let old = ring("k1").seal(SLOT, "x", [3; 24]);
        let rotated = ring("k2");
        assert_eq!(rotated.open(SLOT, &old).unwrap(), "x");
        assert_eq!(Keyring::key_id_of(&old), Some("k1"));
        assert!(rotated.seal(SLOT, "x", [3; 24]).starts_with("v1.k2."));
    }

    #[test]
    fn tampering_and_garbage_are_detected() {
        let r = ring("k1");
        let mut sealed = r.seal(SLOT, "hello", [5; 24]);
        let last = sealed.pop().unwrap();
        sealed.push(if last == 'A' { 'B' } else { 'A' });
        assert!(r.open(SLOT, &sealed).is_err());
        assert_eq!(r.open(SLOT, "plain text"), Err(CryptoError::Malformed));
        assert_eq!(r.open(SLOT, "v1.k9.AAAA"), Err(CryptoError::UnknownKey("k9".into())));
    }

    #[test]
    fn blind_index_is_keyed_and_scoped() {
        let r = ring("k1");
        let a = r.blind_index("str_a", "email", "ana@example.com");
        assert_eq!(a, r.blind_index("str_a", "email", "ana@example.com"));
        assert_ne!(a, r.blind_index("str_b", "email", "ana@example.com"));
        assert_ne!(a, r.blind_index("str_a", "phone", "ana@example.com"));
    }

    #[test]
    fn bad_configuration_is_refused() {
        let keys = BTreeMap::from([("k1".to_string(), "short".to_string())]);
        assert_eq!(Keyring::new("k1", &keys, &B64.encode([0u8; 32])).unwrap_err(), CryptoError::BadKey);
        let keys = BTreeMap::from([("k1".to_string(), B64.encode([1u8; 32]))]);
        assert_eq!(
            Keyring::new("k2", &keys, &B64.encode([0u8; 32])).unwrap_err(),
            CryptoError::NoActiveKey("k2".into())
        );
    }
}
