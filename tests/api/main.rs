//! Integration tests: each drives the real HTTP server against a real
//! database, on SQLite and on PostgreSQL. One binary, a module per area.

mod helpers;

mod access;
mod account_pages;
mod admin_catalog;
mod admin_pages;
mod books;
mod cached_reads;
mod catalog;
mod catalog_csv;
mod categories;
mod checkout_pricing;
mod cli;
mod collections;
mod customer_data;
mod digital_goods;
mod errors;
mod fulfilment;
mod idempotency;
mod inventory;
mod keys;
mod lifecycle;
mod media;
mod mfa;
mod observability;
mod order_edits;
mod orders;
mod pages;
mod pay_pages;
mod payments;
mod pricing;
mod privacy;
mod recovery;
mod returns;
mod risk;
mod search;
mod shop_pages;
mod stores;
mod tenancy;
mod webhooks;
