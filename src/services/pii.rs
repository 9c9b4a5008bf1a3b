//! Sealing and opening personal data for the services. Rows hold only
//! ciphertext and blind indexes; services work with plaintext in memory.

use rand::RngCore;

use super::{App, ServiceError, ServiceResult};
use crate::domain::crypto::Slot;

/// Normalises an e-mail address for comparison and indexing.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl App {
    pub fn seal(&self, slot: Slot<'_>, plaintext: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        self.keyring.seal(slot, plaintext, nonce)
    }

    pub fn open(&self, slot: Slot<'_>, stored: &str) -> ServiceResult<String> {
        self.keyring.open(slot, stored).map_err(|e| {
            ServiceError::Internal(format!("cannot decrypt {}.{} of {}: {e}", slot.table, slot.column, slot.row_id))
        })
    }

    /// Blind index of an e-mail address in a store.
    pub fn email_index(&self, store_id: &str, email: &str) -> String {
        self.keyring.blind_index(store_id, "email", &normalise_email(email))
    }
}
