//! Oxcart: one service that runs an online business end to end.
//!
//! Layers, each a folder: `domain` (pure rules and types), `services` (use
//! cases), `db` (SQL on SQLite or PostgreSQL), and the adapters `http`
//! (JSON API, operations endpoints), `web` (server-rendered pages), `cli`
//! and `workers`; `search` is the derived full-text index. See `../shared/DESIGN.md`.

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod i18n;
pub mod keys;
pub mod providers;
pub mod search;
pub mod services;
pub mod startup;
pub mod web;
pub mod workers;
