//! Delivers outbox events to webhook endpoints: claims due deliveries under
//! a lease, POSTs the event signed per Standard Webhooks, records the
//! attempt, and schedules a retry with back-off or parks the delivery.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::{Notify, watch};

use crate::config::Config;
use crate::db::Db;
use crate::db::webhooks::{self as sql, AttemptOutcome, ClaimedDelivery};
use crate::domain::webhooks::{AfterFailure, RetryPolicy, sign};
use crate::services::now_ms;

const BATCH: i64 = 16;
const LEASE_MS: i64 = 60_000;

/// True for addresses a webhook must not reach unless explicitly allowed:
/// loopback, private ranges, link-local (cloud metadata), and the like.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]) // carrier-grade NAT
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// Resolves host names and drops private addresses, so a name that points
/// (or later re-points) inside the network cannot be used for SSRF.
struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.filter(|a| !is_private(a.ip())).collect();
            if addrs.is_empty() {
                return Err("host resolves only to private or loopback addresses".into());
            }
            let iter: Addrs = Box::new(addrs.into_iter());
            Ok(iter)
        })
    }
}

pub struct Worker {
    db: Db,
    client: reqwest::Client,
    policy: RetryPolicy,
    allow_private: bool,
    poll: Duration,
    owner: String,
}

impl Worker {
    pub fn new(db: Db, config: &Config) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.webhooks.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Oxcart-Webhooks/1");
        if !config.webhooks.allow_private_targets {
            builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
        }
        Ok(Worker {
            db,
            client: builder.build()?,
            policy: config.webhook_policy(),
            allow_private: config.webhooks.allow_private_targets,
            poll: Duration::from_millis(config.webhooks.poll_interval_ms.max(10)),
            owner: crate::domain::ids::new_id("wkr"),
        })
    }

    /// Runs until `shutdown` turns true. `wakeup` is notified after commits
    /// that queued deliveries, so they go out without waiting for a poll.
    pub async fn run(self, wakeup: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(owner = %self.owner, "webhook worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let now = now_ms();
            let batch = match sql::claim_due(&self.db, &self.owner, now, now + LEASE_MS, BATCH).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming webhook deliveries failed");
                    Vec::new()
                }
            };
            let full = batch.len() as i64 == BATCH;
            // Send the batch concurrently; each records its own outcome.
            futures::future::join_all(batch.iter().map(|d| self.deliver(d))).await;
            if full {
                continue;
            }
            tokio::select! {
                _ = wakeup.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(owner = %self.owner, "webhook worker stopped");
    }

    async fn deliver(&self, d: &ClaimedDelivery) {
        let attempt_no = d.attempts + 1;
        let started_at = now_ms();
        let clock = Instant::now();
        let result = self.send(d).await;
        let duration_ms = clock.elapsed().as_millis() as i64;
        let (status, error) = match &result {
            Ok(code) if (200..300).contains(code) => (Some(i64::from(*code)), None),
            Ok(code) => (Some(i64::from(*code)), Some(format!("endpoint answered {code}"))),
            Err(e) => (None, Some(e.clone())),
        };
        let (new_status, next_attempt_at) = if error.is_none() {
            ("delivered", started_at)
        } else {
            let jitter = rand::rng().random_range(0..=1000);
            match self.policy.after_failure(attempt_no as u32, jitter) {
                AfterFailure::RetryInMs(ms) => ("pending", now_ms() + ms as i64),
                AfterFailure::Park => ("parked", started_at),
            }
        };
        let outcome = AttemptOutcome {
            attempt_no,
            started_at,
            duration_ms,
            response_status: status,
            error: error.as_deref(),
            new_status,
            next_attempt_at,
        };
        match sql::record_attempt(&self.db, d, &self.owner, &outcome, now_ms()).await {
            Ok(true) => {
                metrics::counter!("webhook_attempts_total", "result" => new_status).increment(1);
                tracing::info!(delivery = %d.id, event = %d.event_id, attempt = attempt_no, status = new_status, "webhook attempt");
            }
            Ok(false) => {
                tracing::warn!(delivery = %d.id, "lease lost before the attempt was recorded")
            }
            Err(e) => {
                tracing::warn!(delivery = %d.id, error = %e, "recording webhook attempt failed")
            }
        }
    }

    /// POSTs the event; `Ok(status)` for any HTTP answer, `Err` for none.
    async fn send(&self, d: &ClaimedDelivery) -> Result<u16, String> {
        let url = url::Url::parse(&d.url).map_err(|e| format!("bad url: {e}"))?;
        if !self.allow_private
            && let Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) = url.host()
        {
            let ip: IpAddr =
                url.host_str().unwrap_or("").trim_matches(['[', ']']).parse().map_err(|_| "bad ip".to_string())?;
            if is_private(ip) {
                return Err("target address is private or loopback; refused".into());
            }
        }
        let timestamp = now_ms() / 1000;
        let signature =
            sign(&d.secret, &d.event_id, timestamp, d.payload.as_bytes()).ok_or("endpoint secret is malformed")?;
        let res = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.payload.clone())
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        Ok(res.status().as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }
}
