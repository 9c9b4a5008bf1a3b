//! Opaque, sortable, prefixed identifiers (`str_01j…`, `whk_01j…`).
//! The prefix tells a reader (and a log search) what kind of thing an id
//! names; the ULID body sorts by creation time.

use ulid::Ulid;

pub const STORE: &str = "str";
pub const STAFF: &str = "stf";
pub const CUSTOMER: &str = "cus";
pub const EVENT: &str = "evt";
pub const WEBHOOK: &str = "whk";
pub const DELIVERY: &str = "dlv";

/// A new id with the given prefix.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", Ulid::new().to_string().to_lowercase())
}

/// True when `candidate` is an id of the given kind. Used to turn a
/// malformed id in a URL into a plain "not found" before any query runs.
pub fn is_valid(prefix: &str, candidate: &str) -> bool {
    match candidate.split_once('_') {
        Some((p, body)) => p == prefix && body.len() == 26 && Ulid::from_string(body).is_ok(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_validate_only_for_their_own_prefix() {
        let id = new_id(WEBHOOK);
        assert!(is_valid(WEBHOOK, &id));
        assert!(!is_valid(EVENT, &id));
        assert!(!is_valid(WEBHOOK, "whk_notanid"));
        assert!(!is_valid(WEBHOOK, "whk_01' OR 1=1 --"));
    }

    #[test]
    fn ids_sort_by_creation() {
        let a = new_id(EVENT);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id(EVENT);
        assert!(a < b);
    }
}
