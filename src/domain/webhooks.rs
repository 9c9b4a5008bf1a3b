//! Webhook rules: how a delivery is signed (the Standard Webhooks scheme),
//! when a failed delivery is retried, and which events an endpoint wants.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::validation::FieldErrors;

pub const SECRET_PREFIX: &str = "whsec_";

/// Signs `{id}.{timestamp}.{body}` with HMAC-SHA256 and returns the value of
/// the `webhook-signature` header (`v1,<base64>`). The secret is
/// `whsec_<base64 key>`; a receiver verifies with the same function.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = B64.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// Why an incoming signed message is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature does not match")]
    BadSignature,
    #[error("the timestamp is outside the tolerance")]
    Stale,
}

/// Verifies an incoming message signed per Standard Webhooks: one of the
/// space-separated `v1,<base64>` signatures must match (compared in
/// constant time), and the timestamp (Unix seconds) must be within
/// `tolerance_secs` of `now_secs`, so a captured message cannot be
/// replayed later.
pub fn verify(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    signatures: &str,
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    use subtle::ConstantTimeEq;
    if (now_secs - timestamp).abs() > tolerance_secs {
        return Err(VerifyError::Stale);
    }
    let expected = sign(secret, msg_id, timestamp, body).ok_or(VerifyError::BadSignature)?;
    let matched = signatures.split(' ').any(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes())));
    if matched { Ok(()) } else { Err(VerifyError::BadSignature) }
}

/// Makes a secret from 24 random bytes supplied by the caller.
pub fn secret_from_bytes(bytes: &[u8; 24]) -> String {
    format!("{SECRET_PREFIX}{}", B64.encode(bytes))
}

/// Retry policy: exponential back-off with "full jitter" on the upper half,
/// so many failing deliveries do not retry in lock-step.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
}

/// What to do after a failed attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterFailure {
    RetryInMs(u64),
    Park,
}

impl RetryPolicy {
    /// `attempts` counts the attempts made so far (≥ 1); `jitter` is a
    /// uniform random number in `[0, 1)` scaled to 0..=1000 by the caller.
    pub fn after_failure(&self, attempts: u32, jitter_permille: u64) -> AfterFailure {
        if attempts >= self.max_attempts {
            return AfterFailure::Park;
        }
        let exp = self.base_delay_ms.saturating_mul(1u64 << (attempts - 1).min(30)).min(self.max_delay_ms);
        let half = exp / 2;
        AfterFailure::RetryInMs(half + half * jitter_permille.min(1000) / 1000)
    }
}

/// The patterns that subscribe to `event_type`: everything (`*`), the
/// type itself and each family it belongs to (`a.*` and `a.b.*` for `a.b.c`).
/// An endpoint gets the event when it lists one of them (see [`matches`]).
pub fn patterns_matching(event_type: &str) -> Vec<String> {
    let mut out = vec!["*".to_string(), event_type.to_string()];
    out.extend(event_type.match_indices('.').map(|(i, _)| format!("{}.*", &event_type[..i])));
    out
}

/// Event types an endpoint subscribes to: exact names (`store.updated`),
/// a family (`order.*`) or everything (`*`).
pub fn matches(patterns: &[String], event_type: &str) -> bool {
    patterns.iter().any(|p| {
        p == "*"
            || p == event_type
            || p.strip_suffix(".*")
                .is_some_and(|family| event_type.strip_prefix(family).is_some_and(|r| r.starts_with('.')))
    })
}

/// Validates an endpoint's URL and subscriptions.
pub fn validate_endpoint(url: &str, event_types: &[String]) -> Result<url::Url, FieldErrors> {
    let mut errs = FieldErrors::default();
    let parsed = url::Url::parse(url).ok();
    match &parsed {
        Some(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host_str().is_some() => {
            if !u.username().is_empty() || u.password().is_some() {
                errs.add("url", "invalid_url", "url must not contain credentials");
            }
        }
        _ => errs.add("url", "invalid_url", "url must be an absolute http(s) URL"),
    }
    if url.len() > 2000 {
        errs.add("url", "too_long", "url must be at most 2000 characters");
    }
    if event_types.is_empty() || event_types.len() > 50 {
        errs.add("event_types", "invalid_length", "event_types must list 1 to 50 patterns");
    }
    for (i, t) in event_types.iter().enumerate() {
        let ok = !t.is_empty()
            && t.len() <= 100
            && t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._*".contains(c));
        if !ok {
            errs.add(
                &format!("event_types[{i}]"),
                "invalid_format",
                "event types look like order.placed, order.* or *",
            );
        }
    }
    match parsed {
        Some(u) if errs.is_empty() => Ok(u),
        _ => Err(errs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_gets_an_event_exactly_when_it_lists_a_matching_pattern() {
        let patterns = ["*", "order.*", "order.placed", "order", "stock.status_changed", "a.b.*", "a.*", "or*"];
        for event in ["order.placed", "order.cancelled", "orders.placed", "stock.status_changed", "a.b.c", "x"] {
            let listed = patterns_matching(event);
            for p in patterns {
                let one = [p.to_string()];
                assert_eq!(matches(&one, event), listed.contains(&one[0]), "{p} for {event}");
            }
        }
        assert_eq!(patterns_matching("a.b.c"), ["*", "a.b.c", "a.*", "a.b.*"]);
    }

    #[test]
    fn signature_matches_standard_webhooks_reference() {
        // Test vector from the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn backoff_grows_caps_and_parks() {
        let p = RetryPolicy { max_attempts: 4, base_delay_ms: 1000, max_delay_ms: 3000 };
        assert_eq!(p.after_failure(1, 1000), AfterFailure::RetryInMs(1000));
        assert_eq!(p.after_failure(1, 0), AfterFailure::RetryInMs(500));
        assert_eq!(p.after_failure(2, 1000), AfterFailure::RetryInMs(2000));
        assert_eq!(p.after_failure(3, 1000), AfterFailure::RetryInMs(3000));
        assert_eq!(p.after_failure(4, 500), AfterFailure::Park);
    }

    #[test]
    fn patterns() {
        let p = vec!["order.*".to_string(), "store.updated".to_string()];
        assert!(matches(&p, "order.placed"));
        assert!(!matches(&p, "orders.placed"));
        assert!(matches(&p, "store.updated"));
        assert!(!matches(&p, "store.created"));
        assert!(matches(&["*".to_string()], "anything"));
    }

    #[test]
    fn endpoint_validation() {
        assert!(validate_endpoint("https://hooks.example.com/x", &["*".into()]).is_ok());
        assert!(validate_endpoint("ftp://x", &["*".into()]).is_err());
        assert!(validate_endpoint("https://u:p@x.com/", &["*".into()]).is_err());
        assert!(validate_endpoint("https://x.com/", &["DROP TABLE".into()]).is_err());
    }

    #[test]
    fn incoming_signatures_are_checked_with_a_time_window() {
        let secret = secret_from_bytes(&[7u8; 24]);
        let sig = sign(&secret, "evt_1", 1_000, b"{}").unwrap();
        assert_eq!(verify(&secret, "evt_1", 1_000, b"{}", &sig, 1_100, 300), Ok(()));
        assert_eq!(verify(&secret, "evt_1", 1_000, b"{}", &format!("v1,AAAA {sig}"), 1_000, 300), Ok(()));
        assert_eq!(verify(&secret, "evt_1", 1_000, b"{ }", &sig, 1_000, 300), Err(VerifyError::BadSignature));
        assert_eq!(verify(&secret, "evt_2", 1_000, b"{}", &sig, 1_000, 300), Err(VerifyError::BadSignature));
        assert_eq!(verify(&secret, "evt_1", 1_000, b"{}", &sig, 2_000, 300), Err(VerifyError::Stale));
    }
}
