//! Texts of the customer account pages: key, then en, de, es, pt, zh.

pub const ENTRIES: &[(&str, [&str; 5])] = &[];
