//! Carriers that deliver parcels. Shipping methods name one; shipments
//! record its tracking number. The built-in `manual` carrier is staff
//! handing parcels to any courier and typing the tracking number; an
//! integration (labels, tracking events) is another implementation of
//! [`Carrier`], added to [`ALL`]. Prices come from the methods' rate tables.

pub trait Carrier: Send + Sync {
    /// The code methods and shipments name it by.
    fn code(&self) -> &'static str;
    /// Whether a tracking number has this carrier's shape ("" means none given).
    fn accepts_tracking(&self, tracking_number: &str) -> bool;
    /// Where a customer follows a parcel, when the carrier offers a page.
    fn tracking_url(&self, tracking_number: &str) -> Option<String>;
}

/// Staff ship with any courier and type the tracking number.
pub struct Manual;

impl Carrier for Manual {
    fn code(&self) -> &'static str {
        "manual"
    }

    fn accepts_tracking(&self, tracking_number: &str) -> bool {
        tracking_number.len() <= 64
            && tracking_number.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
    }

    fn tracking_url(&self, _tracking_number: &str) -> Option<String> {
        None
    }
}

/// Every carrier this build knows.
pub const ALL: &[&dyn Carrier] = &[&Manual];

pub fn by_code(code: &str) -> Option<&'static dyn Carrier> {
    ALL.iter().copied().find(|c| c.code() == code)
}

pub fn codes() -> Vec<&'static str> {
    ALL.iter().map(|c| c.code()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manual_carrier_takes_plain_tracking_numbers() {
        let c = by_code("manual").unwrap();
        assert!(c.accepts_tracking("DHL-123 456"));
        assert!(c.accepts_tracking(""));
        assert!(!c.accepts_tracking("<script>"));
        assert!(by_code("pigeon").is_none());
        assert_eq!(codes(), vec!["manual"]);
    }
}
