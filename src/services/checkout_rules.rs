//! The rules a store's checkout prices with (tax settings and rates,
//! shipping zones and methods, active promotions), read together and kept
//! a few seconds per store so pricing a cart costs no rule queries. This
//! node forgets them at once when staff change one; other nodes see the
//! change within the time to live.

use std::sync::Arc;
use std::time::Duration;

use super::promotions::{PromotionView, view_of};
use super::shipping::{Method, area_of, method_of};
use super::store_cache::StoreCache;
use super::tax_rules::{TaxRate, TaxSettings, rate_of, settings_of};
use super::{App, ServiceResult};
use crate::db::checkout_rules as sql;
use crate::domain::addresses::Address;
use crate::domain::shipping::ZoneArea;

pub struct Rules {
    pub tax: TaxSettings,
    pub rates: Vec<TaxRate>,
    /// (zone id, area), in the order zones are tried.
    pub zones: Vec<(String, ZoneArea)>,
    pub methods: Vec<Method>,
    /// Active promotions, highest priority first.
    pub promotions: Vec<PromotionView>,
}

pub type RulesCache = StoreCache<Rules>;

pub fn cache() -> RulesCache {
    StoreCache::new(Duration::from_secs(5))
}

/// Called after a rule changes on this node.
pub fn changed(app: &App, store_id: &str) {
    app.checkout_rules.forget(store_id);
}

pub async fn of_store(app: &App, store_id: &str) -> ServiceResult<Arc<Rules>> {
    if let Some(r) = app.checkout_rules.get(store_id) {
        return Ok(r);
    }
    let pool = app.db.pool();
    let rules = Arc::new(Rules {
        tax: settings_of(sql::tax_settings(pool, store_id).await?),
        rates: sql::tax_rates(pool, store_id).await?.into_iter().map(rate_of).collect(),
        zones: sql::zones(pool, store_id).await?.into_iter().map(|z| (z.id.clone(), area_of(&z))).collect(),
        methods: sql::methods(pool, store_id).await?.into_iter().filter_map(method_of).filter(|m| m.active).collect(),
        promotions: sql::promotions(pool, store_id)
            .await?
            .into_iter()
            .filter(|p| p.active)
            .filter_map(|p| view_of(p, &[]))
            .collect(),
    });
    app.checkout_rules.put(store_id, rules.clone());
    Ok(rules)
}

impl Rules {
    /// The rate for a class where the goods go: the region's own rate if
    /// there is one, else the country's.
    pub fn rate_for(&self, country: &str, region: &str, class: &str) -> Option<&TaxRate> {
        let region = region.trim().to_uppercase();
        let of = |r: &str| self.rates.iter().find(|x| x.country == country && x.region == r && x.tax_class == class);
        (!region.is_empty()).then(|| of(&region)).flatten().or_else(|| of(""))
    }

    /// Whether the store prices shipping in this currency at all. A store
    /// without methods leaves delivery out of checkout.
    pub fn ships_in(&self, currency: &str) -> bool {
        self.methods.iter().any(|m| m.currency == currency)
    }

    /// The methods offered to an address, in a currency: those of the
    /// first zone that covers it.
    pub fn methods_for(&self, to: &Address, currency: &str) -> Vec<&Method> {
        let Some((zone, _)) = self.zones.iter().find(|(_, a)| a.covers(&to.country, &to.region, &to.postal_code))
        else {
            return Vec::new();
        };
        self.methods.iter().filter(|m| m.zone_id == *zone && m.currency == currency).collect()
    }
}
