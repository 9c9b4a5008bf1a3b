//! Texts of the admin access pages (staff, roles, API tokens, audit log):
//! key, then en, de, es, pt, zh.

pub const ENTRIES: &[(&str, [&str; 5])] = &[];
