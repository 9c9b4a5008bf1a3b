//! The audit log's hash chain: each entry's hash covers its own fields and
//! the previous entry's hash, so editing, removing or reordering any entry
//! breaks every hash after it.

use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields an entry's hash covers.
pub struct Entry<'a> {
    pub seq: i64,
    pub id: &'a str,
    pub at: i64,
    pub actor: &'a str,
    pub client_ip: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub summary: &'a str,
}

/// SHA-256 over the previous hash and the length-prefixed fields (the
/// prefixes make field boundaries unambiguous).
pub fn entry_hash(prev_hash: &str, e: &Entry<'_>) -> String {
    let mut h = Sha256::new();
    let seq = e.seq.to_string();
    let at = e.at.to_string();
    for field in [prev_hash, &seq, e.id, &at, e.actor, e.client_ip, e.action, e.target, e.summary] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(summary: &str) -> Entry<'_> {
        Entry {
            seq: 1,
            id: "aud_1",
            at: 5,
            actor: "stf_1",
            client_ip: "127.0.0.1",
            action: "staff.role_changed",
            target: "stf_2",
            summary,
        }
    }

    #[test]
    fn any_change_changes_the_hash() {
        let a = entry_hash(GENESIS, &entry("{}"));
        assert_eq!(a, entry_hash(GENESIS, &entry("{}")));
        assert_ne!(a, entry_hash(GENESIS, &entry("{ }")));
        assert_ne!(a, entry_hash(&a, &entry("{}")), "the chain position matters");
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let x = Entry { actor: "ab", client_ip: "c", ..entry("") };
        let y = Entry { actor: "a", client_ip: "bc", ..entry("") };
        assert_ne!(entry_hash(GENESIS, &x), entry_hash(GENESIS, &y));
    }
}
