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

/// A new id with the given prefix. Ids made by one process increase
/// strictly, even within one millisecond, so "newest first" by id is exact
/// on a node (and ordered by millisecond across nodes).
pub fn new_id(prefix: &str) -> String {
    static GENERATOR: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
    let id = {
        let mut guard = GENERATOR.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.get_or_insert_with(ulid::Generator::new).generate().unwrap_or_else(|_| Ulid::new())
    };
    format!("{prefix}_{}", id.to_string().to_lowercase())
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
    fn ids_sort_by_creation_even_within_a_millisecond() {
        let ids: Vec<String> = (0..1000).map(|_| new_id(EVENT)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
