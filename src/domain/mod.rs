//! Domain: types that can only hold valid values, and the business rules
//! that need no I/O. Nothing here touches the database, the clock or HTTP.

pub mod access;
pub mod addresses;
pub mod attributes;
pub mod audit;
pub mod bank_statement;
pub mod catalog;
pub mod crypto;
pub mod digital;
pub mod ids;
pub mod inventory;
pub mod invoice_pdf;
pub mod invoices;
pub mod ledger;
pub mod locale;
pub mod media;
pub mod money;
pub mod orders;
pub mod payments;
pub mod pricing;
pub mod promotions;
pub mod quote;
pub mod reports;
pub mod returns;
pub mod richtext;
pub mod risk;
pub mod shipping;
pub mod stores;
pub mod tax;
pub mod totp;
pub mod validation;
pub mod webhooks;
